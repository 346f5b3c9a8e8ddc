"""The registry of telemetry sources is the one place that knows them."""

import ast
import os
import subprocess
import sys

import pytest
from conftest import ROOT, run_cli

from bench import suite_values
from bench.telemetry import KNOWN_SOURCES, TelemetryConfig, config, open_recorder, registry
from bench.telemetry.sources.base import Source, Unavailable


def test_registry_is_consistent():
    assert registry.registry_problems() == []


def test_everything_else_reads_the_registry():
    assert KNOWN_SOURCES == registry.NAMES == ("jetson", "tegrastats", "nvml", "rapl", "host")
    assert {s.name: s.default_interval_s for s in registry.SOURCES} == config.DEFAULT_INTERVAL_S
    assert {s.name: s.min_interval_s for s in registry.SOURCES} == config.MIN_INTERVAL_S
    assert suite_values.TELEMETRY_SOURCES == registry.CHOICES
    for spec in registry.SOURCES:
        assert TelemetryConfig(interval_s=1e-6).interval_for(spec.name) == spec.min_interval_s


def test_cli_help_lists_the_registered_sources():
    shown = run_cli("run", "--help")
    assert shown.returncode == 0, shown.stderr
    assert "comma list of " + ", ".join(registry.NAMES) in " ".join(shown.stdout.split())


def _string_constants(path):
    with open(path) as f:
        tree = ast.parse(f.read())
    for node in ast.walk(tree):
        if sys.version_info < (3, 8) and isinstance(node, ast.Str):  # Python 3.6's parser
            yield node.lineno, node.s
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def test_no_source_is_special_cased_by_name_outside_the_registry():
    """Only the registry and each source's own module may spell a source's name."""
    telemetry = os.path.join(ROOT, "bench", "telemetry")
    files = [os.path.join(telemetry, f) for f in os.listdir(telemetry) if f.endswith(".py")]
    files += [os.path.join(ROOT, "bench", "suite_values.py"), os.path.join(ROOT, "bench", "cli.py")]
    found = []
    for path in files:
        if os.path.basename(path) == "registry.py":
            continue
        for line, text in _string_constants(path):
            if text in registry.NAMES:
                found.append(f"{os.path.relpath(path, ROOT)}:{line}: {text!r}")
    assert found == []
    # ... and the check sees names where they are: each source's own module spells its name
    jetson = os.path.join(telemetry, "sources", "jetson.py")
    assert "jetson" in [text for _, text in _string_constants(jetson)]


def test_only_the_sources_in_use_are_imported():
    code = (
        "import sys, bench.suite, bench.cli\n"
        "from bench.telemetry import TelemetryConfig, open_recorder\n"
        "rec = open_recorder(TelemetryConfig(sources=('host',)))\n"
        "print(sorted(m for m in sys.modules if m.startswith('bench.telemetry.sources.')))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'jtop'))\n"
    )
    out = subprocess.check_output([sys.executable, "-c", code], cwd=ROOT, universal_newlines=True)
    modules, heavy = out.splitlines()
    assert modules == "['bench.telemetry.sources.base', 'bench.telemetry.sources.host']"
    assert heavy == "[]"  # (pynvml is no test: torch.cuda imports it)


class Stub(Source):
    def __init__(self, name, works=True):
        super().__init__(0.5)
        self.name = name
        self.works = works
        self.opened = False

    def open(self):
        self.opened = True
        if not self.works:
            raise Unavailable(self.name + " is not here")

    def run(self, emit, stop):
        stop.wait()


@pytest.mark.parametrize("jetson_works", [True, False])
def test_in_auto_mode_tegrastats_steps_aside_for_jetson(jetson_works):
    jetson, tegrastats = Stub("jetson", works=jetson_works), Stub("tegrastats")
    rec = open_recorder(TelemetryConfig(sources=("auto",)), sources=[jetson, tegrastats])
    rec.start()
    rec.close()
    entry = rec.manifest_info()["sources"]["tegrastats"]
    if jetson_works:
        assert not tegrastats.opened and entry["active"] is False
        assert entry["reason"] == "not needed: the jetson source is active"
    else:
        assert tegrastats.opened and entry["active"] is True


def test_asked_for_by_name_both_run():
    jetson, tegrastats = Stub("jetson"), Stub("tegrastats")
    rec = open_recorder(TelemetryConfig(sources=("jetson", "tegrastats")), sources=[jetson, tegrastats])
    rec.start()
    rec.close()
    assert rec.manifest_info()["active"] == ["jetson", "tegrastats"]


def test_an_unregistered_source_is_refused():
    with pytest.raises(ValueError, match="unknown telemetry source 'mystery'; known: jetson, tegrastats"):
        open_recorder(TelemetryConfig(sources=("host",)), sources=[Stub("mystery")])
