"""Choosing an executor (the suite's ``executor:`` and run's options), ``local --jobs N`` in real
processes, and what the device half does without dask. The dask executor itself, with real
dask: tests/test_dask_executor.py."""

import json
import os
import subprocess
import sys
import time

import pytest
from conftest import ROOT, run_cli

from bench.executors import worker_facts
from bench.executors.choice import ExecutorChoice, with_overrides

SUITE = """
problems: {linear: {steps: 150}, curve: {steps: 80}}
optimizers: {sgd: {lr: [0.01, 0.1]}, adam: {lr: [0.01]}}
repeats: 2
telemetry: {sources: none}
"""


def _records(run_dir):
    with open(os.path.join(run_dir, "trials.jsonl")) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _learned(records):
    """What each trial learned: a function of its seed alone, whoever ran it."""
    return {r["trial_id"]: (r["status"], r["steps"], r["final_loss"], r["best_loss"]) for r in records}


def test_jobs_runs_in_processes_learns_what_one_process_learns_and_marks_every_time_contended(tmp_path):
    suite = tmp_path / "jobs.yaml"
    suite.write_text(SUITE)
    results = str(tmp_path / "results")
    alone = run_cli("run", str(suite), "--results", results, "--run-id", "alone")
    assert alone.returncode == 0, alone.stderr
    # Each worker process samples telemetry of its own (psutil's host source, everywhere).
    shared = run_cli(
        "run", str(suite), "--results", results, "--run-id", "shared", "--jobs", "2", "--telemetry", "host"
    )
    assert shared.returncode == 0, shared.stderr
    assert "executor: local, 2 processes" in shared.stderr
    assert "warning: 2 trials at a time share this machine" in shared.stderr
    local, pooled = _records(tmp_path / "results/jobs/alone"), _records(tmp_path / "results/jobs/shared")
    assert len(pooled) == len({r["trial_id"] for r in pooled}) == 12
    assert _learned(pooled) == _learned(local)
    assert all(r["timing_shared"] == "contended" and r["environment"] is None for r in pooled)
    assert all(
        r["telemetry"]["trial_id"] == r["trial_id"] and "power_mean_w" in r["telemetry"] for r in pooled
    )
    # The default is unchanged: timed alone, on the manifest's machine.
    assert all(r["timing_shared"] is None and r["environment"] is None for r in local)
    assert "executor" not in json.load(open(str(tmp_path / "results/jobs/alone/manifest.json")))
    manifest = json.load(open(str(tmp_path / "results/jobs/shared/manifest.json")))
    assert manifest["executor"]["kind"] == "local" and manifest["executor"]["processes"] == 2
    assert manifest["finished_at"]


def test_the_suite_chooses_the_executor_and_the_command_line_overrides_it(write_suite, tmp_path):
    suite = write_suite(SUITE + "executor: {kind: local, jobs: 2}\n", name="chosen.yaml")
    done = run_cli("run", suite, "--results", str(tmp_path / "r"), "--jobs", "1")
    assert done.returncode == 0 and "executor:" not in done.stderr, done.stderr  # in-process, as ever
    assert all(r["timing_shared"] is None for r in _records(next((tmp_path / "r" / "chosen").iterdir())))


@pytest.mark.parametrize(
    "options, message",
    [
        (
            ["--executor", "local", "--scheduler", "tcp://127.0.0.1:1"],
            "--scheduler is for --executor dask, not local",
        ),
        (
            ["--scheduler", "tcp://127.0.0.1:1", "--jobs", "2"],
            "with --scheduler the workers are the scheduler's",
        ),
        (["--jobs", "0"], "--jobs must be at least 1, got 0"),
    ],
)
def test_options_that_cannot_go_together_exit_2_with_nothing_recorded(
    write_suite, tmp_path, options, message
):
    done = run_cli("run", write_suite(SUITE), "--results", str(tmp_path / "r"), *options)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "r").exists()


def test_an_unreachable_scheduler_exits_2_naming_it(write_suite, tmp_path):
    pytest.importorskip("distributed", reason="needs optbench[dask] to try the connection")
    # PYTHONPATH kept, for a dask installed with pip --target (docs/DISTRIBUTED.md, Python 3.6)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    command = [
        "run",
        write_suite(SUITE),
        "--results",
        str(tmp_path / "r"),
        "--scheduler",
        "tcp://127.0.0.1:9",
    ]
    done = subprocess.run([sys.executable, "-m", "bench"] + command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=300)  # fmt: skip
    assert done.returncode == 2 and "cannot reach the dask scheduler at tcp://127.0.0.1:9" in done.stderr, (
        done.stderr
    )
    assert not (tmp_path / "r").exists()


def _without_dask(*argv):
    """optbench in a process where importing dask fails, as on a Python without optbench[dask]."""
    code = (
        "import sys\n"
        "for name in ('dask', 'distributed'): sys.modules[name] = None\n"
        "from bench.cli import main\n"
        f"code = main({list(argv)!r})\n"
        "print('dask imported' if any(sys.modules.get(n) for n in ('dask', 'distributed')) else 'no dask')\n"
        "sys.exit(code)\n"
    )
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=300)  # fmt: skip


def test_without_dask_local_runs_and_dask_is_one_clear_error(write_suite, tmp_path):
    suite = write_suite(SUITE)
    local = _without_dask("run", suite, "--results", str(tmp_path / "r"))
    assert local.returncode == 0 and "no dask" in local.stdout, local.stderr
    chosen = _without_dask("run", suite, "--results", str(tmp_path / "d"), "--executor", "dask")
    assert chosen.returncode == 2, chosen.stderr
    assert (
        "executor dask needs dask.distributed" in chosen.stderr
        and "pip install 'optbench[dask]'" in chosen.stderr
    )
    assert "Traceback" not in chosen.stderr and not (tmp_path / "d").exists()


def test_overrides_replace_the_suites_choice_field_by_field():
    suite = ExecutorChoice(kind="dask", scheduler="tcp://a:8786", workers=(("device", ("cuda",)),))
    assert with_overrides(suite) == suite
    assert with_overrides(suite, scheduler="tcp://b:8786").scheduler == "tcp://b:8786"
    assert with_overrides(suite, kind="local") == ExecutorChoice()  # the dask settings do not carry over
    assert with_overrides(ExecutorChoice(), jobs=3).contended
    assert with_overrides(ExecutorChoice(), scheduler="tcp://b:8786").kind == "dask"
    assert with_overrides(suite, allow_mismatch=True).allow_mismatch


def test_version_differences_separate_what_must_match_from_what_should():
    client = {"python": "3.11.7", "torch": "2.13.0", "optbench": "0.2.0", "numpy": "2.1", "git_commit": "a"}
    assert worker_facts.differences(client, dict(client)) == ([], [])
    must, should = worker_facts.differences(client, dict(client, torch="1.10.2", python="3.6.15"))
    assert must == ["python_minor: 3.6 there, 3.11 here", "torch: 1.10.2 there, 2.13.0 here"]
    assert should == []  # a different minor version is said once, not again as a patch level
    must, should = worker_facts.differences(client, dict(client, python="3.11.2", numpy="1.26"))
    assert must == [] and should == ["python: 3.11.2 there, 3.11.7 here", "numpy: 1.26 there, 2.1 here"]


def test_cells_go_only_to_workers_that_can_run_them():
    gpu = {
        "device": "cuda",
        "board": "NVIDIA Jetson Nano Developer Kit",
        "power_mode": "MAXN",
        "host": "nano1",
    }
    cpu = dict(gpu, device="cpu", board="none", power_mode="none", host="ws")
    assert worker_facts.can_run_device("cuda", gpu, {"gpus": ["NVIDIA Tegra X1"]})
    assert not worker_facts.can_run_device("cuda", cpu, {"gpus": []})
    assert not worker_facts.can_run_device("cuda:1", gpu, {"gpus": ["NVIDIA Tegra X1"]})
    assert worker_facts.can_run_device("cpu", gpu, {}) and worker_facts.can_run_device("auto", cpu, {})
    wanted = (("power_mode", ("MAXN", "5W")),)
    assert worker_facts.matches(wanted, gpu) and not worker_facts.matches(wanted, cpu)


def test_compare_sees_every_machine_a_runs_records_name_and_never_mixes_them(tmp_path):
    """A dask run's records each name the machine that ran them (``environment``); compare takes
    those machines, not the client's, and refuses a run spread over two boards against one."""
    pytest.importorskip("pandas", reason="compare needs optbench[report]")
    suite = tmp_path / "machines.yaml"
    suite.write_text(
        "problems: {linear: {steps: 50}}\noptimizers: {sgd: {lr: [0.01, 0.1]}}\ntelemetry: {sources: none}\n"
    )
    results = tmp_path / "results"
    for run_id in ("here", "fleet"):
        done = run_cli("run", str(suite), "--results", str(results), "--run-id", run_id)
        assert done.returncode == 0, done.stderr
    fleet = results / "machines" / "fleet" / "trials.jsonl"
    records = [json.loads(line) for line in fleet.read_text().splitlines()]
    manifest = json.loads((results / "machines" / "fleet" / "manifest.json").read_text())
    # As a dask run over two boards writes them: the same records, each with its worker's machine.
    boards = [
        dict(manifest["environment"], host=f"nano{i}", cpu="ARMv8 Processor rev 1 (v8l)") for i in (1, 2)
    ]
    boards[1]["board"] = "NVIDIA Jetson Orin Nano"
    fleet.write_text(
        "".join(json.dumps(dict(r, environment=boards[i % 2])) + "\n" for i, r in enumerate(records))
    )
    done = run_cli("compare", str(results / "machines" / "here"), str(results / "machines" / "fleet"))
    assert done.returncode == 3, done.stdout + done.stderr
    assert "ARMv8 Processor rev 1 (v8l)" in done.stdout + done.stderr
    assert "NVIDIA Jetson Orin Nano" in done.stdout + done.stderr


def test_sigterm_stops_a_jobs_run_at_once_with_its_worker_processes(tmp_path):
    """systemd's stop: the trials in flight are abandoned (a trial can last minutes), the worker
    processes end with the run, what was recorded stays."""
    psutil = pytest.importorskip("psutil")
    suite = tmp_path / "slow.yaml"
    # Trials of minutes (2 million steps, 10 minutes allowed): a stop that waited for them would
    # outlast communicate's minute below.
    suite.write_text("problems: {linear: {steps: 2000000, eval_every: 2000000}}\nbudget: {time_limit: 600}\n"
                     "optimizers: {sgd: {lr: [0.01, 0.02, 0.03]}}\ntelemetry: {sources: none}\n")  # fmt: skip
    run = subprocess.Popen([sys.executable, "-m", "bench", "run", str(suite), "--results", str(tmp_path / "r"),
                            "--jobs", "2"], cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, universal_newlines=True)  # fmt: skip
    deadline = time.time() + 120
    while time.time() < deadline and not list((tmp_path / "r").glob("slow/*/trials.jsonl")):
        time.sleep(0.05)  # the pool is up and the run directory open: trials are training
    time.sleep(1.0)
    workers = psutil.Process(run.pid).children(recursive=True)
    assert len(workers) >= 2
    run.terminate()
    _, err = run.communicate(timeout=60)
    assert run.returncode == 143 and "terminated (SIGTERM)" in err, err
    psutil.wait_procs(workers, timeout=10)
    assert not [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]


def test_a_jobs_worker_killed_stops_the_run_with_what_it_recorded_and_a_rerun_finishes(tmp_path):
    """A worker process SIGKILLed (as the kernel's OOM killer does) breaks the process pool: the
    run stops (exit 2) without recording the trials in flight as failures, and resumes."""
    psutil = pytest.importorskip("psutil")
    suite = tmp_path / "oom.yaml"
    # Trials of about a second: the sweep is far from its end when the first is recorded.
    suite.write_text("problems: {linear: {steps: 3000, eval_every: 3000}}\n"
                     "optimizers: {sgd: {lr: [0.01, 0.02, 0.03, 0.04, 0.05, 0.06]}}\ntelemetry: {sources: none}\n")  # fmt: skip
    command = ["run", str(suite), "--results", str(tmp_path / "r"), "--run-id", "x", "--jobs", "2"]
    run = subprocess.Popen([sys.executable, "-m", "bench"] + command, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, universal_newlines=True)  # fmt: skip
    trials = tmp_path / "r" / "oom" / "x" / "trials.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and not (trials.exists() and trials.read_text().count("\n") >= 1):
        time.sleep(0.02)
    children = psutil.Process(run.pid).children(recursive=True)
    # A worker, not multiprocessing's resource tracker (spawned beside them on Python 3.8+).
    (victim, *_) = [c for c in children if "resource_tracker" not in " ".join(c.cmdline())]
    victim.kill()
    _, err = run.communicate(timeout=120)
    recorded = _records(str(tmp_path / "r" / "oom" / "x"))
    assert run.returncode == 2 and "a worker process died" in err and "Traceback" not in err, err
    assert recorded and all(r["status"] == "ok" for r in recorded)
    done = run_cli(*command)
    assert done.returncode == 0, done.stderr
    after = _records(str(tmp_path / "r" / "oom" / "x"))
    assert after[: len(recorded)] == recorded and len({r["trial_id"] for r in after}) == len(after) == 6
