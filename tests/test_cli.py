"""End to end: the CLI in a subprocess, a suite file in, a results directory out."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import torch
from conftest import ROOT, run_cli

from bench.record import SCHEMA_VERSION

SMOKE = os.path.join(ROOT, "suites", "smoke.yaml")
pytestmark = pytest.mark.slow


def run_dirs(results, suite):
    base = os.path.join(str(results), suite)
    return sorted(os.path.join(base, d) for d in os.listdir(base))


def trial_lines(run_dir):
    with open(os.path.join(run_dir, "trials.jsonl")) as trials:
        return [json.loads(line) for line in trials if line.endswith("\n")]


def test_smoke_suite_end_to_end_then_resume_runs_nothing_twice(tmp_path):
    done = run_cli("run", SMOKE, "--results", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    (run_dir,) = run_dirs(tmp_path, "smoke")
    records = trial_lines(run_dir)
    assert len(records) == 77  # 7 optimizers x (3 linear + 2 curve + lenet + classifier + 4 landscapes)
    assert {r["status"] for r in records} == {"ok"}
    lenet = next(r for r in records if r["config"]["problem"] == "lenet")
    assert lenet["data"]["train_samples"] == 256 and "digits" in lenet["data"]["data"]
    assert "[77/77]" in done.stderr
    for problem in ("linear", "linear-noisy", "linear-multi", "curve", "lenet", "classifier"):
        assert "\n" + problem + " " in done.stdout  # a row of the summary table
    manifest = json.load(open(os.path.join(run_dir, "manifest.json")))
    assert (
        manifest["schema"] == SCHEMA_VERSION and manifest["trials_planned"] == 77 and manifest["finished_at"]
    )
    assert manifest["environment"]["torch"] == torch.__version__
    curves = open(os.path.join(run_dir, "curves.csv")).read().splitlines()
    assert curves[0] == "trial_id,step,time_s,loss,eval_loss,metric"
    assert len(curves) == 1 + 77 * 21  # steps 0..20 for every trial
    shown = run_cli("show", run_dir)
    try:
        import pandas  # noqa: F401 -- the analysis half is an extra
    except ImportError:
        assert shown.returncode == 2 and "the analysis half needs pandas" in shown.stderr
        assert "copy the results directory to a workstation" in shown.stderr
    else:
        assert shown.returncode == 0, shown.stderr
        assert all(problem in shown.stdout for problem in ("linear-noisy", "lenet", "classifier"))
        assert "trials: 77 ok" in shown.stdout
    again = run_cli("run", SMOKE, "--results", str(tmp_path), "--run-id", os.path.basename(run_dir))
    assert again.returncode == 0, again.stderr
    assert "77 of 77 trials already recorded" in again.stderr
    assert len(trial_lines(run_dir)) == 77


def wait_for(condition, timeout=120.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


# Six quick trials, then one that cannot finish early: a step budget far beyond its time
# limit. A test that kills the run once six trials are recorded therefore catches it inside
# the seventh, however fast or slow the machine, instead of racing it to the end.
QUICK_THEN_STUCK = """
problems: {linear: {steps: 50}, curve: {steps: 10000000, time_limit: %s}}
optimizers: {sgd: {lr: [0.01, 0.02, 0.05]}}
repeats: 2
exclude: [{problem: curve, lr: [0.02, 0.05]}, {problem: curve, seed: 1}]
"""


def start_run(suite, results, *extra):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.Popen(
        [sys.executable, "-m", "bench", "run", suite, "--results", str(results)] + list(extra),
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
    )  # fmt: skip


def recorded_lines(path):
    return len(open(path).readlines()) if os.path.exists(path) else 0


def test_killed_mid_run_then_run_again_resumes_and_completes(tmp_path, write_suite):
    # The stuck trial times out after 4 s, so that the resumed run can finish it.
    suite = write_suite(QUICK_THEN_STUCK % 4, name="many.yaml")
    results = tmp_path / "results"
    victim = start_run(suite, results)
    trials = lambda: os.path.join(run_dirs(results, "many")[0], "trials.jsonl")  # noqa: E731
    assert wait_for(lambda: os.path.exists(str(results / "many")) and recorded_lines(trials()) >= 6)
    victim.send_signal(signal.SIGKILL)  # as abrupt as a power cut, for the process
    victim.communicate()
    assert len(trial_lines(run_dirs(results, "many")[0])) == 6  # killed inside the stuck one
    resumed = run_cli("run", suite, "--results", str(results))
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stderr and "6 of 7 trials already recorded" in resumed.stderr
    (run_dir,) = run_dirs(results, "many")
    records = trial_lines(run_dir)
    ids = [r["trial_id"] for r in records]
    assert len(ids) == len(set(ids)) == 7
    assert records[-1]["config"]["problem"] == "curve" and records[-1]["status"] == "timeout"
    with open(os.path.join(run_dir, "manifest.json")) as handle:
        manifest = json.load(handle)
    assert manifest["resumed"] == 1 and len(manifest["resumptions"]) == 1 and manifest["finished_at"]


@pytest.mark.parametrize("signum, code, said", [(signal.SIGINT, 130, "interrupted"),
                                                (signal.SIGTERM, 143, "terminated (SIGTERM)")])  # fmt: skip
def test_ctrl_c_and_sigterm_stop_cleanly_keeping_every_finished_trial(
    tmp_path, write_suite, signum, code, said
):
    # SIGTERM is what systemd sends a nightly job at the end of its window: handled as Ctrl-C.
    suite = write_suite(QUICK_THEN_STUCK % 600, name="many.yaml")
    results = tmp_path / "results"
    victim = start_run(suite, results)
    trials = lambda: os.path.join(run_dirs(results, "many")[0], "trials.jsonl")  # noqa: E731
    assert wait_for(lambda: os.path.exists(str(results / "many")) and recorded_lines(trials()) >= 6)
    victim.send_signal(signum)
    _, err = victim.communicate(timeout=60)
    assert victim.returncode == code, err
    assert f"{said}: every finished trial is recorded; run again to resume" in err and "Traceback" not in err
    (run_dir,) = run_dirs(results, "many")
    assert len(trial_lines(run_dir)) == 6
    with open(os.path.join(run_dir, "manifest.json")) as handle:
        assert json.load(handle)["finished_at"] is None  # closed cleanly, and known unfinished


def test_two_runs_at_once_into_two_directories_both_complete(tmp_path, write_suite):
    suite = write_suite(
        "problems: {linear: {steps: 30}}\noptimizers: {sgd: {lr: [0.01, 0.05]}}\nrepeats: 3\n"
    )
    results = tmp_path / "results"
    first, second = start_run(suite, results, "--run-id", "one"), start_run(suite, results, "--run-id", "two")
    for process in (first, second):
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    for run_id in ("one", "two"):
        assert len(trial_lines(str(results / "suite" / run_id))) == 6


def test_a_second_run_into_the_same_directory_is_refused(tmp_path, write_suite):
    # The first run cannot finish (its stuck trial has 10 minutes): it holds the lock
    # until this test kills it, however long the second takes to start.
    suite = write_suite(QUICK_THEN_STUCK % 600, name="many.yaml")
    results = tmp_path / "results"
    first = start_run(suite, results, "--run-id", "shared")
    try:
        assert wait_for(lambda: os.path.exists(str(results / "many" / "shared" / "trials.jsonl")))
        second = run_cli("run", suite, "--results", str(results), "--run-id", "shared")
        assert first.poll() is None  # still running: the refusal below is the lock's doing
        assert second.returncode == 2
        assert f"is being written by another optbench run (pid {first.pid})" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        first.kill()
        first.communicate()


def test_a_bad_suite_exits_2_with_file_key_and_suggestion_and_no_traceback(write_suite, tmp_path):
    path = write_suite("problems: [linear]\noptimizers: {adma: {lr: [0.1]}}\nbatch: [full, -3]\n")
    results = tmp_path / "results"
    done = run_cli("run", path, "--results", str(results))
    assert done.returncode == 2
    assert "2 mistakes in the suite" in done.stderr
    assert (
        path + ": optimizers.adma: unknown optimizer 'adma'" in done.stderr
        and "did you mean 'adam'?" in done.stderr
    )
    assert path + ": batch[1]: expected 'full' or a batch size" in done.stderr
    assert "Traceback" not in done.stderr
    assert not os.path.exists(str(results))  # nothing written


def test_a_missing_data_set_stops_before_any_trial(write_suite, tmp_path):
    missing = str(tmp_path / "no-mnist-here")
    path = write_suite(
        "problems: {lenet: {options: {data: mnist, data_dir: %s}}}\noptimizers: [sgd]\n" % missing
    )
    done = run_cli("run", path, "--results", str(tmp_path / "results"))
    assert done.returncode == 2
    assert "problems.lenet.options" in done.stderr and missing in done.stderr
    assert "Traceback" not in done.stderr
    assert not os.path.exists(str(tmp_path / "results"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the behaviour on a machine without CUDA")
def test_cuda_without_a_gpu_is_refused_up_front_or_recorded_as_skipped(write_suite, tmp_path):
    path = write_suite("problems: [linear]\noptimizers: {sgd: {lr: 0.1}}\ndevice: [cpu, cuda]\n")
    refused = run_cli("run", path, "--results", str(tmp_path))
    assert refused.returncode == 2
    assert "the suite asks for devices this machine lacks" in refused.stderr and "cuda:" in refused.stderr
    skipped = run_cli("run", path, "--results", str(tmp_path), "--skip-missing-devices")
    assert skipped.returncode == 0, skipped.stderr
    (run_dir,) = run_dirs(tmp_path, "suite")
    statuses = sorted((r["config"]["device"], r["status"]) for r in trial_lines(run_dir))
    assert statuses == [("cpu", "ok"), ("cuda", "skipped")]


def test_plan_and_list(write_suite):
    path = write_suite(
        "problems: [linear, curve]\noptimizers: {sgd: {lr: [0.1, 0.2]}}\nactivation: [none, tanh]\nrepeats: 2\n"
    )
    plan = run_cli("plan", path, "--trials")
    assert plan.returncode == 0, plan.stderr
    assert ": 12 trials" in plan.stdout  # linear 2 lr x 2 seeds; curve 2 lr x 2 act x 2 seeds
    assert "estimate: none yet" in plan.stdout
    assert (
        len(
            [
                line
                for line in plan.stdout.splitlines()
                if line.startswith("  linear-") or line.startswith("  curve-")
            ]
        )
        == 12
    )
    listed = run_cli("list")
    assert listed.returncode == 0
    for name in ("linear-noisy", "lenet", "nesterov", "adamw", "tanh", "numpy"):
        assert name in listed.stdout


def test_telemetry_can_be_switched_off_or_refused_from_the_command_line(write_suite, tmp_path):
    path = write_suite("problems: [linear]\noptimizers: {sgd: {lr: 0.1}}\n")
    bad = run_cli("run", path, "--results", str(tmp_path), "--telemetry", "jtop")
    assert bad.returncode == 2
    assert (
        "--telemetry jtop" in bad.stderr
        and "allowed: jetson, tegrastats, nvml, rapl, host, auto, none" in bad.stderr
    )
    off = run_cli("run", path, "--results", str(tmp_path), "--telemetry", "none")
    assert off.returncode == 0, off.stderr
    (run_dir,) = run_dirs(tmp_path, "suite")
    assert [r["telemetry"] for r in trial_lines(run_dir)] == [None]
    assert not os.path.exists(os.path.join(run_dir, "telemetry.csv"))


def test_a_run_id_that_is_not_a_plain_name_is_refused_before_anything_is_written(
    write_suite, tmp_path, capsys
):
    # A '/' in --run-id made nested directories; '..' wrote outside results/<suite>/.
    from bench import cli

    path = write_suite("problems: [linear]\noptimizers: {sgd: {lr: 0.1}}\n")
    for run_id in ("../../escaped", "a/b", "..", ".", ""):
        code = cli.main(["run", path, "--results", str(tmp_path / "results"), "--run-id", run_id])
        assert code == 2
        err = capsys.readouterr().err
        assert f"error: --run-id {run_id!r}: expected a plain name" in err and "Traceback" not in err, err
    assert not os.path.exists(str(tmp_path / "results")) and not os.path.exists(str(tmp_path / "escaped"))


def test_resume_with_nothing_to_resume_is_refused(write_suite, tmp_path):
    path = write_suite("problems: [linear]\noptimizers: {sgd: {lr: 0.1}}\n")
    done = run_cli("run", path, "--results", str(tmp_path), "--resume")
    assert done.returncode == 2
    assert "--resume: no earlier run of suite suite" in done.stderr


def test_a_diverged_linear_trial_is_recorded_where_it_stopped(write_suite, tmp_path):
    # SGD at lr 0.01 on the unscaled noisy line blows up to inf/NaN weights.
    path = write_suite("problems: {linear-noisy: {steps: 400}}\noptimizers: {sgd: {lr: 0.01}}\n")
    done = run_cli("run", path, "--results", str(tmp_path), "--telemetry", "none")
    assert done.returncode == 0, done.stderr
    (record,) = trial_lines(run_dirs(tmp_path, "suite")[0])
    assert record["status"] == "diverged" and record["steps"] <= 25 and "exceeded" in record["reason"]
    assert record["final_loss"] is None or record["final_loss"] > 1e6  # where it stopped
    assert record["learned"]["truth"] == {"weight": [[2.0]], "bias": [1.0]}


def test_warm_up_runs_before_the_first_trial_and_records_nothing(write_suite, tmp_path):
    path = write_suite("problems: [linear]\noptimizers: {sgd: {lr: 0.1}}\nwarmup: 1\n")
    done = run_cli("run", path, "--results", str(tmp_path), "--telemetry", "none")
    assert done.returncode == 0, done.stderr
    assert "warming up for 1 s" in done.stderr
    (run_dir,) = run_dirs(tmp_path, "suite")
    assert len(trial_lines(run_dir)) == 1


def test_device_auto_is_recorded_as_resolved_and_plan_estimates_from_earlier_runs(write_suite, tmp_path):
    path = write_suite("problems: [linear]\noptimizers: {sgd: {lr: [0.1, 0.2]}}\ndevice: auto\n")
    done = run_cli("run", path, "--results", str(tmp_path), "--telemetry", "none")
    assert done.returncode == 0, done.stderr
    records = trial_lines(run_dirs(tmp_path, "suite")[0])
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert [(r["config"]["device"], r["device"]) for r in records] == [("auto", expected)] * 2
    plan = run_cli("plan", path, "--results", str(tmp_path))
    assert plan.returncode == 0, plan.stderr
    assert re.search(r"^estimate: (under 1s|\d+s)$", plan.stdout, re.MULTILINE), plan.stdout


def test_real_data_set_formats_run_end_to_end(write_suite, tmp_path):
    """LeNet on MNIST's IDX files and the classifier on CIFAR-10's binary batches, written
    small by the tests in the real formats, through the suite's options."""
    from test_datasets import make_cifar, make_mnist

    make_mnist(tmp_path / "mnist", gz=True)
    make_cifar(tmp_path / "cifar" / "cifar-10-batches-bin")
    path = write_suite(
        f"""
        problems:
          lenet: {{batch: 8, options: {{data: mnist, data_dir: {tmp_path / "mnist"}}}}}
          classifier: {{batch: 8, options: {{data: cifar10, data_dir: {tmp_path / "cifar"}}}}}
        optimizers: {{adam: {{lr: 0.001}}}}
        budget: {{steps: 10, eval_every: 5}}
        """
    )
    done = run_cli("run", path, "--results", str(tmp_path / "results"), "--telemetry", "none")
    assert done.returncode == 0, done.stderr
    records = {r["config"]["problem"]: r for r in trial_lines(run_dirs(tmp_path / "results", "suite")[0])}
    assert records["lenet"]["status"] == records["classifier"]["status"] == "ok"
    assert (
        records["lenet"]["data"]["data"].startswith("mnist")
        and records["lenet"]["data"]["train_samples"] == 40
    )
    assert (
        records["classifier"]["data"]["data"].startswith("cifar10")
        and records["classifier"]["data"]["test_samples"] == 8
    )


def test_each_trial_runs_with_the_threads_its_configuration_says(write_suite, tmp_path):
    path = write_suite(
        "problems: [linear]\noptimizers: {sgd: {lr: 0.1}}\nthreads: [2, 1]\nbudget: {steps: 5}\n"
    )
    done = run_cli("run", path, "--results", str(tmp_path))
    assert done.returncode == 0, done.stderr
    (run_dir,) = run_dirs(tmp_path, "suite")
    pairs = [(r["config"]["threads"], r["num_threads"]) for r in trial_lines(run_dir)]
    assert pairs == [(2, 2), (1, 1)]  # set before each trial, whatever the one before had
