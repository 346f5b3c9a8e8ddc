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


def test_divergence_numerics_and_timeouts_are_statuses_and_the_sweep_goes_on(tmp_path):
    """One sweep, in a real process: a trial that blows up, one whose loss overflows to inf
    (float32 at lr 1e30), one that runs out of time, each between trials that finish: every
    trial is recorded with its status and reason, and the run exits 0."""
    suite = tmp_path / "statuses.yaml"
    suite.write_text(
        "problems: {linear-noisy: {steps: 400}, curve: {steps: 10000000, time_limit: 1}, linear: {steps: 50}}\n"
        "optimizers: {sgd: {lr: [0.01, 1.0e+30, 0.001]}}\ntelemetry: {sources: none}\n"
        "exclude: [{problem: linear-noisy, lr: [1.0e+30, 0.001]}, {problem: curve, lr: [0.01, 1.0e+30]}]\n"
    )
    done = run_cli("run", str(suite), "--results", str(tmp_path / "results"), "--run-id", "run")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "trials: 2 diverged, 2 ok, 1 timeout" in done.stdout
    records = store.read_trials(str(tmp_path / "results" / "statuses" / "run"))
    got = [(r.config["problem"], r.config["lr"], r.status.value, r.reason or "") for r in records]
    assert [g[:3] for g in got] == [
        ("linear-noisy", 0.01, "diverged"), ("curve", 0.001, "timeout"), ("linear", 0.01, "ok"),
        ("linear", 1e30, "diverged"), ("linear", 0.001, "ok"),
    ]  # fmt: skip
    assert "exceeded" in got[0][3] and "time limit of 1 s reached" in got[1][3]
    assert got[3][3].startswith("loss became inf by step")


@pytest.mark.cuda
def test_on_cuda_an_out_of_memory_trial_releases_the_cache_before_the_next_trial():
    """A real CUDA out-of-memory: the model holds 4 GiB on the GPU, then asks for 64 TiB. The
    trial is out_of_memory; the 4 GiB its frames held go back to the device (torch's caching
    allocator would keep them reserved), so the next trial starts with the GPU as before."""
    import dataclasses

    import torch
    from test_trainer import spec

    from bench.problems import PROBLEMS
    from bench.record import Status
    from bench.trainer import run_trial

    def too_big(model_spec):
        ballast = torch.empty(4 << 30, dtype=torch.uint8, device="cuda")  # noqa: F841 -- held till the raise
        torch.empty(1 << 46, dtype=torch.uint8, device="cuda")
        raise AssertionError("a 64 TiB allocation succeeded")

    torch.cuda.init()
    reserved_before = torch.cuda.memory_reserved()
    problem = dataclasses.replace(PROBLEMS["linear"], make_model=too_big)
    failed = run_trial(spec(device="cuda"), problem, problem.make_data(0, {}))
    assert failed.outcome.status == Status.OUT_OF_MEMORY, failed.outcome.reason
    assert "out of memory" in failed.outcome.reason.lower()
    assert torch.cuda.memory_reserved() - reserved_before < 64 << 20  # not the 4 GiB
    following = run_trial(spec(device="cuda"), PROBLEMS["linear"], PROBLEMS["linear"].make_data(0, {}))
    assert following.outcome.status == Status.OK, following.outcome.reason
