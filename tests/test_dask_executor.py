"""The dask executor with real dask: a scheduler and worker processes started here on loopback
(`dask scheduler`, `dask worker --resources trial=1`), `optbench run --scheduler` as a user runs
it, and the records it writes. A worker SIGKILLed mid-trial has its trial re-queued and recorded
once; the client SIGKILLed mid-sweep resumes without re-running what it had recorded.

Skipped where dask.distributed is absent (the Jetson Nano's Python 3.6 stack: docs/DISTRIBUTED.md).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, run_cli

distributed = pytest.importorskip(
    "distributed", reason="the dask executor needs optbench[dask] (dask.distributed)"
)

# 16 short trials (tens of milliseconds each): what matters is each one recorded once.
SUITE = """
problems: {linear: {steps: 200}, curve: {steps: 100}}
optimizers: {sgd: {lr: [0.01, 0.1]}, adam: {lr: [0.01, 0.05]}}
repeats: 2
telemetry: {sources: none}
"""
# 8 trials of a few tenths of a second here, so that a kill lands inside one.
LONG_SUITE = """
problems: {linear: {steps: 1500, eval_every: 1500}}
optimizers: {sgd: {lr: [0.001, 0.002, 0.003, 0.004]}, adam: {lr: [0.001, 0.002, 0.003, 0.004]}}
telemetry: {sources: none}
"""
# ROOT first; the rest kept: a dask installed with pip --target is found there (docs/DISTRIBUTED.md).
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])),
           PYTHONWARNINGS="default")  # fmt: skip
STARTUP_S = 60


def _dask(*args, **popen):
    return subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_" + args[0]] + list(args[1:]), cwd=ROOT, env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **popen)  # fmt: skip


def _workers(client):
    """Every worker's address; distributed since 2025 lists 5 unless asked for all."""
    try:
        return client.scheduler_info(n_workers=-1)["workers"]
    except TypeError:
        return client.scheduler_info()["workers"]


def _start_worker(scheduler_file):
    # No nanny: a SIGKILL of this process is the worker's death, not a restart.
    return _dask("worker", "--scheduler-file", scheduler_file, "--host", "127.0.0.1", "--nthreads", "1",
                 "--no-nanny", "--no-dashboard", "--memory-limit", "0", "--resources", "trial=1")  # fmt: skip


def _optbench(*args):
    """`optbench ARGS` in a process of its own, with ENV (the dask it finds)."""
    return subprocess.run([sys.executable, "-m", "bench"] + list(args), cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=STARTUP_S * 3)  # fmt: skip


def _stop(process):
    if process.poll() is None:
        process.kill()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """(scheduler address, a client of our own, scheduler file) for a scheduler and two workers."""
    scheduler_file = str(tmp_path_factory.mktemp("dask") / "scheduler.json")
    processes = [_dask("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                       "--scheduler-file", scheduler_file)]  # fmt: skip
    try:
        deadline = time.time() + STARTUP_S
        while not os.path.exists(scheduler_file) and time.time() < deadline and processes[0].poll() is None:
            time.sleep(0.1)
        assert os.path.exists(scheduler_file), (
            f"the dask scheduler did not start (exit {processes[0].poll()})"
        )
        processes += [_start_worker(scheduler_file) for _ in range(2)]
        client = distributed.Client(scheduler_file=scheduler_file, timeout=STARTUP_S)
        client.wait_for_workers(2, timeout=STARTUP_S)
        with open(scheduler_file) as handle:
            address = json.load(handle)["address"]
        yield address, client, scheduler_file
        client.close()
    finally:
        for process in reversed(processes):
            _stop(process)


def _records(run_dir):
    path = os.path.join(run_dir, "trials.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle.read().split("\n") if line.strip()]


def _planned(suite):
    done = run_cli("plan", suite, "--trials")
    assert done.returncode == 0, done.stderr
    return {
        line.split()[0]
        for line in done.stdout.splitlines()
        if line.startswith("  ") and "-" in line.split()[0]
    }


def _each_once(run_dir, suite):
    records = _records(run_dir)
    ids = [r["trial_id"] for r in records]
    assert len(ids) == len(set(ids)), "a trial recorded twice"
    assert set(ids) == _planned(suite)
    return records


def test_a_sweep_over_two_workers_records_each_trial_once_with_its_workers_fingerprint(cluster, tmp_path):
    address, _, _ = cluster
    suite = tmp_path / "spread.yaml"
    suite.write_text(SUITE)
    done = _optbench(
        "run", str(suite), "--results", str(tmp_path / "results"), "--scheduler", address, "--run-id", "r"
    )
    assert done.returncode == 0, done.stderr
    assert "executor: dask, scheduler " + address in done.stderr
    # Two workers on one machine time each other: said at the start, and in every record.
    assert "2 workers share the machine" in done.stderr
    run_dir = str(tmp_path / "results" / "spread" / "r")
    records = _each_once(run_dir, str(suite))
    assert all(r["status"] == "ok" for r in records)
    manifest = json.load(open(os.path.join(run_dir, "manifest.json")))
    checked = manifest["executor"]["checked_workers"]
    assert len(checked) == 2 and all(w["environment"]["torch"] for w in checked.values())
    assert all(w["tags"]["device"] in ("cpu", "cuda") for w in checked.values())
    assert manifest["finished_at"]
    assert all(r["environment"]["python"] and r["environment"]["host"] for r in records)
    assert all(r["timing_shared"] == "contended" for r in records)


def test_a_worker_killed_mid_trial_has_its_trial_rerun_elsewhere_and_recorded_once(cluster, tmp_path):
    address, client, scheduler_file = cluster
    suite = tmp_path / "kill-worker.yaml"
    suite.write_text(LONG_SUITE)
    before = set(_workers(client))
    victim = _start_worker(scheduler_file)
    try:
        client.wait_for_workers(3, timeout=STARTUP_S)
        run = subprocess.Popen(
            [sys.executable, "-m", "bench", "run", str(suite), "--results", str(tmp_path / "results"),
             "--scheduler", address, "--run-id", "r"],
            cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
        )  # fmt: skip
        (victim_address,) = set(_workers(client)) - before
        killed_key, deadline = None, time.time() + STARTUP_S
        while killed_key is None and time.time() < deadline and run.poll() is None:
            keys = client.processing(workers=[victim_address]).get(victim_address) or []
            trials = [k for k in keys if str(k).startswith("optbench-")]  # not its self-description
            killed_key = trials[0] if trials else None
            time.sleep(0.01)
        assert killed_key is not None, "the victim never ran a trial"
        victim.send_signal(signal.SIGKILL)
        try:
            _, err = run.communicate(timeout=STARTUP_S * 2)
        except subprocess.TimeoutExpired:
            run.kill()
            _, err = run.communicate()
            raise AssertionError("the sweep did not finish after its worker died: " + err) from None
        assert run.returncode == 0, err
    finally:
        _stop(victim)
    records = _each_once(str(tmp_path / "results" / "kill-worker" / "r"), str(suite))
    # The key is optbench-<trial id>-<nonce>: the killed trial was run again, to the end.
    trial_id = str(killed_key).split("-", 1)[1].rsplit("-", 1)[0]
    (killed,) = [r for r in records if r["trial_id"] == trial_id]
    assert killed["status"] == "ok" and killed["steps"] == 1500
    assert all(r["status"] == "ok" for r in records)


def test_the_client_killed_mid_sweep_resumes_without_rerunning_what_it_recorded(cluster, tmp_path):
    address, _, _ = cluster
    suite = tmp_path / "kill-client.yaml"
    suite.write_text(LONG_SUITE)
    run_dir = str(tmp_path / "results" / "kill-client" / "r")
    command = [sys.executable, "-m", "bench", "run", str(suite), "--results", str(tmp_path / "results"),
               "--scheduler", address, "--run-id", "r"]  # fmt: skip
    client_process = subprocess.Popen(
        command, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.time() + STARTUP_S
    while len(_records(run_dir)) < 2 and time.time() < deadline and client_process.poll() is None:
        time.sleep(0.02)
    client_process.send_signal(signal.SIGKILL)
    client_process.wait(timeout=30)
    before = _records(run_dir)
    assert 2 <= len(before) < 8, "the kill landed outside the sweep"
    done = _optbench(*command[3:])
    assert done.returncode == 0, done.stderr
    assert f"{len(before)} of 8 trials already recorded" in done.stderr
    after = _each_once(run_dir, str(suite))
    assert after[: len(before)] == before  # kept as they were, not run again
    assert json.load(open(os.path.join(run_dir, "manifest.json")))["resumed"] == 1


def test_a_worker_with_another_optbench_is_refused_by_name_unless_allowed(cluster, tmp_path):
    """A real worker running another optbench (a copy of this one with another version) joins;
    the run stops before any trial, naming it and the difference; --allow-mismatch runs anyway."""
    _, client, scheduler_file = cluster
    other = tmp_path / "other"
    shutil.copytree(os.path.join(ROOT, "bench"), str(other / "bench"))
    init = other / "bench" / "__init__.py"
    init.write_text(init.read_text().replace('__version__ = "', '__version__ = "0.0.0-other-'))
    before = set(_workers(client))
    env = dict(ENV, PYTHONPATH=os.pathsep.join([str(other), ENV["PYTHONPATH"]]))
    stranger = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", scheduler_file, "--host",
         "127.0.0.1", "--nthreads", "1", "--no-nanny", "--no-dashboard", "--memory-limit", "0",
         "--resources", "trial=1"],
        cwd=str(tmp_path), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        client.wait_for_workers(len(before) + 1, timeout=STARTUP_S)
        (address,) = set(_workers(client)) - before
        suite = tmp_path / "versions.yaml"
        suite.write_text("problems: {linear: {steps: 50}}\noptimizers: {sgd: {lr: [0.01, 0.1]}}\ntelemetry: {sources: none}\n")  # fmt: skip
        results = str(tmp_path / "results")
        refused = _optbench("run", str(suite), "--results", results, "--scheduler", cluster[0])
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
        assert f"{address} (" in refused.stderr and "optbench: 0.0.0-other-" in refused.stderr, refused.stderr
        assert not os.path.exists(results)  # stopped before any trial, with nothing recorded
        allowed = _optbench(
            "run", str(suite), "--results", results, "--scheduler", cluster[0], "--allow-mismatch"
        )
        assert allowed.returncode == 0, allowed.stderr
        assert "(allowed by --allow-mismatch)" in allowed.stderr
    finally:
        _stop(stranger)
