"""The power mode: read from the board (here a stand-in `nvpmodel` on PATH, printing what
JetPack's prints), recorded in night.json, and required with --require-power-mode."""

import json
import os
import stat
import sys

import pytest
from conftest import run_cli
from nightly_fixtures import night_record, nightly

from bench.nightly import power
from bench.nightly.analysis_gate import missing

SUITE = """
name: pm
problems:
  linear: {steps: 20}
optimizers: {sgd: {lr: [0.05]}}
telemetry: {sources: none}
"""


def fake_nvpmodel(tmp_path, name, number):
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    script = folder / "nvpmodel"
    script.write_text(f"#!/bin/sh\necho 'NV Power Mode: {name}'\necho {number}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(folder)


def test_nvpmodel_output_is_parsed_and_modes_match_by_name_or_id():
    assert power.parse_nvpmodel("NV Power Mode: MAXN\n0\n") == {"id": 0, "name": "MAXN"}
    assert power.parse_nvpmodel("NVPM WARN: ...\nNV Power Mode: 5W\n1\n") == {"id": 1, "name": "5W"}
    assert power.parse_nvpmodel("nothing here") is None
    assert power.same_mode("maxn", {"id": 0, "name": "MAXN"}) and power.same_mode(
        "0", {"id": 0, "name": "MAXN"}
    )
    assert not power.same_mode("5W", {"id": 0, "name": "MAXN"}) and not power.same_mode("MAXN", None)


def test_another_mode_than_required_refuses_to_run_naming_both(tmp_path, write_suite, monkeypatch):
    suite = write_suite(SUITE, name="pm.yaml")
    monkeypatch.setenv("PATH", fake_nvpmodel(tmp_path, "5W", 1) + os.pathsep + os.environ["PATH"])
    refused = nightly(
        suite, "--require-power-mode", "MAXN", results=tmp_path / "results", now="2026-12-01T22:00"
    )
    assert refused.returncode == 3, refused.stderr
    assert "--require-power-mode MAXN: the board is in power mode 5W (id 1)" in refused.stderr
    assert "the night did not run" in refused.stderr and "Traceback" not in refused.stderr
    assert not os.path.exists(str(tmp_path / "results" / "pm"))


@pytest.mark.skipif(missing() is not None, reason=f"saving a baseline needs the analysis half: {missing()}")
def test_the_required_mode_runs_and_is_recorded_and_a_baseline_in_another_mode_is_refused(
    tmp_path, write_suite, monkeypatch
):
    suite = write_suite(SUITE, name="pm.yaml")
    monkeypatch.setenv("PATH", fake_nvpmodel(tmp_path, "MAXN", 0) + os.pathsep + os.environ["PATH"])
    results = tmp_path / "results"
    done = nightly(suite, "--require-power-mode", "maxn", results=results, now="2026-12-01T22:00")
    assert done.returncode == 0, done.stderr
    (session,) = night_record(str(results / "pm" / "2026-12-01"))["nights"][0]["sessions"]
    # no jtop service here: read by `nvpmodel -q`
    assert session["board"] == {"power_mode": {"id": 0, "name": "MAXN"}, "jetson_clocks": None,
                                "source": "nvpmodel -q", "reason": None}  # fmt: skip
    # A baseline measured in 5W cannot be compared with a MAXN night: refused before running.
    baselines = tmp_path / "baselines"
    assert run_cli("baseline", "save", str(results / "pm" / "2026-12-01"), "--name", "low", "--baselines",
                   str(baselines)).returncode == 0  # fmt: skip
    path = baselines / "low.json"
    saved = json.loads(path.read_text())
    for machine in saved["machines"]:
        machine["power_mode"] = {"id": 1, "name": "5W"}
    path.write_text(json.dumps(saved))
    refused = nightly(suite, "--require-power-mode", "MAXN", "--baseline", "low", "--baselines", str(baselines),
                      results=results, now="2026-12-02T22:00")  # fmt: skip
    assert refused.returncode == 3
    assert "the baseline was measured in power mode 5W (id 1)" in refused.stderr
    assert not os.path.exists(str(results / "pm" / "2026-12-02"))


def test_a_mode_that_cannot_be_read_is_not_assumed(tmp_path, write_suite, monkeypatch):
    suite = write_suite(SUITE, name="pm.yaml")
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty) + os.pathsep + os.path.dirname(os.path.realpath(sys.executable)))
    refused = nightly(suite, "--require-power-mode", "MAXN", results=tmp_path / "results")
    assert refused.returncode == 3
    assert (
        "cannot read the board's power mode" in refused.stderr
        and "nvpmodel is not installed" in refused.stderr
    )
