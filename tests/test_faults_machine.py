"""The machine failing under a run, for real: a full disk, a read-only results directory, and
memory running out under a limit.

A tiny tmpfs fills up mid-run; a read-only bind mount refuses the first write. Either way the
run exits 2 with one clear line, no traceback, every record already written still reads,
and once space is freed a plain `optbench run` resumes and completes: each trial recorded
exactly once. The tests mount filesystems, so they need root (CI runs as root); elsewhere
they skip, saying so.
"""

import json
import os
import subprocess

import pytest
from conftest import run_cli

from bench import store

# 40 trials of 400 steps: each writes ~400 curve rows (about 25 kB), so 200 kB fills mid-run.
SUITE = """
problems: {linear: {steps: 400}}
optimizers: {sgd: {lr: [0.001, 0.002, 0.005, 0.01, 0.02]}, adam: {lr: [0.001, 0.002, 0.005]}}
repeats: 5
telemetry: {sources: none}
"""


def _mount(*args) -> None:
    subprocess.run(["mount"] + list(args), check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture
def mounts():
    """mount(...) for the test, each undone afterwards; skips where mounting is impossible."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs or a read-only bind mount needs root (CI runs as root)")
    done = []

    def mount(*args, target):
        try:
            _mount(*args, target)
        except (OSError, subprocess.CalledProcessError) as error:
            pytest.skip(f"cannot mount here: {getattr(error, 'stderr', b'') or error}")
        done.append(target)

    yield mount
    for target in reversed(done):
        subprocess.run(["umount", "-l", target], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _suite(tmp_path) -> str:
    path = tmp_path / "disk.yaml"
    path.write_text(SUITE)
    return str(path)


def test_a_full_disk_mid_run_is_one_clear_line_and_the_run_resumes_once_space_is_freed(tmp_path, mounts):
    results = tmp_path / "results"
    results.mkdir()
    mounts("-t", "tmpfs", "-o", "size=200k", "tmpfs", target=str(results))
    full = run_cli("run", _suite(tmp_path), "--results", str(results))
    assert full.returncode == 2, full.stderr
    assert (
        "No space left on device" in full.stderr and "every trial recorded before it is kept" in full.stderr
    )
    assert "Traceback" not in full.stderr
    (run_dir,) = [os.path.join(str(results), "disk", d) for d in os.listdir(str(results / "disk"))]
    kept = store.read_trials(run_dir)  # what was written still reads (a torn tail is cut on resume)
    assert 0 < len(kept) < 40
    _mount("-o", "remount,size=20m", str(results))
    resumed = run_cli("run", _suite(tmp_path), "--results", str(results))
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming {run_dir}" in resumed.stderr
    records = store.read_trials(run_dir)
    lines = [json.loads(line) for line in open(os.path.join(run_dir, "trials.jsonl")) if line.strip()]
    assert len(records) == 40 and len({r["trial_id"] for r in lines}) == len(lines) == 40  # each once
    assert all(r.status.value == "ok" for r in records)


def test_a_read_only_results_directory_is_refused_with_one_clear_line(tmp_path, mounts):
    results = tmp_path / "results"
    results.mkdir()
    mounts("--bind", str(results), target=str(results))
    _mount("-o", "remount,bind,ro", str(results))
    refused = run_cli("run", _suite(tmp_path), "--results", str(results))
    assert refused.returncode == 2, refused.stderr
    assert "Read-only file system" in refused.stderr and "Traceback" not in refused.stderr
    assert os.listdir(str(results)) == []


def test_out_of_memory_under_a_memory_limit_is_a_status_and_the_sweep_goes_on(tmp_path):
    """A 50,000-wide MLP (10 GB a layer) in a process limited to 6 GB of address space: the
    allocation fails, the trial is recorded as out_of_memory, and the next problem runs."""
    import resource
    import sys

    from conftest import ROOT

    suite = tmp_path / "oom.yaml"
    suite.write_text("problems: {curve: {steps: 5, options: {hidden: 50000}}, linear: {steps: 20}}\n"
                     "optimizers: {sgd: {lr: [0.1]}}\ntelemetry: {sources: none}\n")  # fmt: skip

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))

    done = subprocess.run(
        [sys.executable, "-m", "bench", "run", str(suite), "--results", str(tmp_path / "results")],
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT), preexec_fn=limit, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, universal_newlines=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (run_dir,) = [
        str(tmp_path / "results" / "oom" / d) for d in os.listdir(str(tmp_path / "results" / "oom"))
    ]
    statuses = {r.config["problem"]: r.status.value for r in store.read_trials(run_dir)}
    assert statuses == {"curve": "out_of_memory", "linear": "ok"}
