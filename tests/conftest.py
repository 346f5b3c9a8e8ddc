import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "tests", "golden")


def golden_run(version):
    """The golden results directory written by schema ``version`` (see tests/golden/README.md)."""
    return os.path.join(GOLDEN, f"schema-{version}")


def golden_record(index=0, **changes):
    """A real record as the newest schema writes it (a line of the golden directory), with
    ``changes``: test records are never assembled from the field names, so a renamed or
    retyped field fails the tests instead of following along."""
    from bench.record import SCHEMA_VERSION, TrialRecord

    with open(os.path.join(golden_run(SCHEMA_VERSION), "trials.jsonl")) as lines:
        data = json.loads(lines.read().splitlines()[index])
    config = dict(data["config"], **changes.pop("config", {}))
    return TrialRecord.from_json_dict(dict(data, config=config, **changes))


@pytest.fixture(scope="session", autouse=True)
def history_cache(tmp_path_factory):
    """history's per-night cache (bench/compare/night_cache.py) in this session's own directory,
    for the tests and the CLI they run: never the user's, never one an earlier session left."""
    directory = str(tmp_path_factory.mktemp("optbench-cache"))
    before = os.environ.get("OPTBENCH_CACHE_DIR")
    os.environ["OPTBENCH_CACHE_DIR"] = directory
    yield directory
    if before is None:
        del os.environ["OPTBENCH_CACHE_DIR"]
    else:
        os.environ["OPTBENCH_CACHE_DIR"] = before


@pytest.fixture
def write_suite(tmp_path):
    """Write a throwaway suite file and return its path."""

    def write(text, name="suite.yaml"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return str(path)

    return write


def run_cli(*args, cwd=None, timeout=300):
    """Run `python -m bench ARGS` as a user would, returning the CompletedProcess."""
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHONWARNINGS="default")
    return subprocess.run(
        [sys.executable, "-m", "bench"] + list(args),
        cwd=cwd or ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,  # text= is Python 3.7+; the tests also run on 3.6
        timeout=timeout,
    )


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU; none on this machine")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)
