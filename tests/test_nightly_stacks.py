"""The two halves in two Pythons: the night runs on the Nano's stack (Python 3.6, no pandas),
says which steps it left and how to run them; a workstation copies the results and runs
`optbench nightly SUITE --report-only`, which finishes the summary."""

import os
import shlex
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT, run_cli
from nightly_fixtures import summary_of

from bench.nightly.analysis_gate import missing

SUITE = """
name: lin
problems:
  linear: {steps: 100}
optimizers: {sgd: {lr: [0.05]}}
seeds: [0, 1, 2, 3, 4, 5]
budget: {eval_every: 50}
telemetry: {sources: none}
"""


def device_python():
    """An interpreter without the analysis half: this one where it lacks it (the Nano stage of
    CI), else the Nano stack's venv (.ci/nano-venv.sh, or OPTBENCH_NANO_VENV)."""
    if missing() is not None:
        return sys.executable
    venv = os.environ.get("OPTBENCH_NANO_VENV")
    if not venv:
        try:
            venv = subprocess.check_output(["bash", os.path.join(ROOT, ".ci", "nano-venv.sh")],
                                           universal_newlines=True, stderr=subprocess.DEVNULL, timeout=900).strip()  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            return None
    python = os.path.join(venv, "bin", "python")
    return python if os.path.exists(python) else None


def test_the_night_on_the_nano_stack_leaves_the_analysis_and_a_workstation_finishes_it(tmp_path):
    python = device_python()
    if python is None:
        pytest.skip("no Python without the analysis half here (the Nano stack's venv is not built)")
    (tmp_path / "lin.yaml").write_text(SUITE)
    board = tmp_path / "board"
    board.mkdir()
    env = dict(os.environ, PYTHONPATH=ROOT)
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "checks: [final_loss, steps_to_target]\n"
    )  # what a seed decides, not the machine's clock
    if missing() is not None:
        pytest.skip("the baseline is saved by the analysis half, which this Python lacks")
    # The baseline: a run on the board's stack (another torch is "not comparable"), saved by the
    # analysis half, as a workstation would save it from the board's copied results.
    first = subprocess.run([python, "-m", "bench", "run", str(tmp_path / "lin.yaml"), "--results",
                            str(tmp_path / "base-results"), "--run-id", "b"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True)  # fmt: skip
    assert first.returncode == 0, first.stderr
    saved = run_cli("baseline", "save", str(tmp_path / "base-results" / "lin" / "b"), "--name", "base",
                    "--baselines", str(tmp_path))  # fmt: skip
    assert saved.returncode == 0, saved.stderr

    night = subprocess.Popen(
        [python, "-m", "bench", "nightly", str(tmp_path / "lin.yaml"), "--now", "2026-12-01T22:00", "--baseline",
         str(tmp_path / "base.json"), "--policy", str(policy)],
        cwd=str(board), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
    )  # fmt: skip
    out, err = night.communicate(timeout=600)
    assert night.returncode == 0, err  # the device half's part done, as planned: not a failure
    assert "left for another Python" in err and "Traceback" not in err
    run_dir = str(board / "results" / "lin" / "2026-12-01")
    told = summary_of(run_dir)
    assert told["verdict"] == "analysis left for another Python" and told["exit_code"] == 0
    left = told["left_for_analysis"]
    assert left["steps"] == ["report", "compare", "history"]
    assert "Python 3.8" in left["why"] or "optbench[report]" in left["why"]
    rsync, command = left["command"].splitlines()
    assert rsync.startswith("rsync -a ") and rsync.endswith(":{}/ results/".format(board / "results"))
    assert told["trials"]["recorded"] == 6 and "compare" not in told and "report" not in told

    # The workstation: the results copied over, then the command the summary gave.
    workstation = tmp_path / "workstation"
    shutil.copytree(str(board / "results"), str(workstation / "results"))
    argv = shlex.split(command)
    assert argv[:2] == ["optbench", "nightly"] and "--report-only" in argv
    done = subprocess.run([sys.executable, "-m", "bench"] + argv[1:], cwd=str(workstation), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)  # fmt: skip
    assert done.returncode == 0, done.stderr  # the same seeds, the same losses: no regression
    told = summary_of(str(workstation / "results" / "lin" / "2026-12-01"))
    assert told["verdict"] == "no regression" and told["compare"]["verdict"] == "no change"
    assert "left_for_analysis" not in told and os.path.exists(told["report"])


def analysis_python38():
    """Python 3.8 with the report extra, as on a Nano's Ubuntu 18.04 beside its 3.6
    (.ci/py38-analysis-venv.sh, or OPTBENCH_PY38_VENV); None where it cannot be built."""
    venv = os.environ.get("OPTBENCH_PY38_VENV")
    if not venv:
        try:
            venv = subprocess.check_output(["bash", os.path.join(ROOT, ".ci", "py38-analysis-venv.sh")],
                                           universal_newlines=True, stderr=subprocess.DEVNULL, timeout=900).strip()  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            return None
    python = os.path.join(venv, "bin", "python")
    return python if os.path.exists(python) else None


def _unit_command(service, key):
    (line,) = [entry for entry in service.splitlines() if entry.startswith(key + "=")]
    argv = shlex.split(line[len(key) + 1 :].replace("%%", "%").replace("$$", "$"))
    assert argv[:2] == ["/bin/sh", "-c"] and len(argv) == 3, argv
    return argv[2]


def test_arrangement_a_the_boards_python_3_8_finishes_each_night_from_the_timer(tmp_path):
    """Both halves on the board: the timer's night on the stock 3.6, then (ExecStartPost) the
    report, compare and history on Ubuntu 18.04's python3.8; installed with --analysis-python."""
    if missing() is not None:
        pytest.skip("run from the current Python's test run, which has the analysis half")
    night_python, python38 = device_python(), analysis_python38()
    if night_python is None or python38 is None:
        pytest.skip("the Nano stack's venv or the Python 3.8 analysis venv is not built here")
    (tmp_path / "lin.yaml").write_text(SUITE)
    board = tmp_path / "board"
    board.mkdir()
    env = dict(os.environ, PYTHONPATH=ROOT)
    policy = tmp_path / "policy.yaml"
    policy.write_text("checks: [final_loss, steps_to_target]\n")  # what a seed decides, not the load here

    def run(argv):
        return subprocess.run(argv, cwd=str(board), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=600)  # fmt: skip

    # The first night, by hand, kept as the baseline by the 3.8 environment (README step 1).
    first = run(
        [night_python, "-m", "bench", "nightly", str(tmp_path / "lin.yaml"), "--now", "2026-12-01T22:00"]
    )
    assert first.returncode == 0 and "left for another Python" in first.stderr, first.stderr
    saved = run([python38, "-m", "bench", "baseline", "save", "results/lin/2026-12-01", "--name", "main"])
    assert saved.returncode == 0, saved.stderr

    # Installed from the 3.6 environment, with the 3.8 one for the analysis.
    installed = run([night_python, "-m", "bench", "nightly", str(tmp_path / "lin.yaml"), "--install-timer",
                     "--unit-dir", "units", "--user", "nano", "--baseline", "main", "--policy", str(policy), "--analysis-python", python38])  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    # a suite given by its path is named by it: optbench-nightly-<the path, made a unit name>
    (service_path,) = (board / "units").glob("optbench-nightly-*lin.yaml.service")
    service = service_path.read_text()
    night, analysis = _unit_command(service, "ExecStart"), _unit_command(service, "ExecStartPost")
    assert f" {night_python} -m bench nightly " in night and f" {python38} -m bench nightly " in analysis
    assert "--report-only" in analysis and "--baseline main" in analysis and "--until" not in analysis
    if shutil.which("systemd-analyze"):
        timer_path = str(service_path)[: -len(".service")] + ".timer"
        verified = run(["systemd-analyze", "verify", str(service_path), timer_path])
        assert verified.returncode == 0 and verified.stderr == "", verified.stderr
    assert f"{night} && {analysis}" in installed.stdout  # the cron line: both, the second if the first passed

    # The service's two commands, as systemd runs them (the night's clock aside: tonight is 2 December).
    tonight = run(
        ["/bin/sh", "-c", night.replace(" --baseline main", " --baseline main --now 2026-12-02T22:00")]
    )
    assert tonight.returncode == 0  # on 3.6: the analysis left for the next command
    run_dir = str(board / "results" / "lin" / "2026-12-02")
    assert summary_of(run_dir)["verdict"] == "analysis left for another Python"
    finished = run(["/bin/sh", "-c", analysis])
    assert finished.returncode == 0, open(str(board / "logs" / "nightly-lin.log")).read()[-3000:]
    told = summary_of(run_dir)
    assert told["verdict"] == "no regression" and told["compare"]["verdict"] == "no change"
    assert (
        told["history"]["nights"] == 2 and os.path.exists(told["report"]) and "left_for_analysis" not in told
    )
    # a Python that lacks the analysis half is refused when the timer is installed, not on the first morning
    refused = run([night_python, "-m", "bench", "nightly", str(tmp_path / "lin.yaml"), "--install-timer",
                   "--unit-dir", "units2", "--user", "nano", "--analysis-python", night_python])  # fmt: skip
    assert refused.returncode == 2 and "--analysis-python " + night_python in refused.stderr
    assert "Python 3.8 or newer" in refused.stderr and not os.path.exists(str(board / "units2"))


def test_every_analysis_command_on_the_nano_stack_says_what_to_install_without_a_traceback(tmp_path):
    python = device_python()
    if python is None:
        pytest.skip("no Python without the analysis half here (the Nano stack's venv is not built)")
    (tmp_path / "lin.yaml").write_text(SUITE.replace("steps: 100", "steps: 5"))
    env = dict(os.environ, PYTHONPATH=ROOT)
    ran = subprocess.run([python, "-m", "bench", "run", str(tmp_path / "lin.yaml"), "--results", str(tmp_path / "r"),
                          "--run-id", "a"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    run = str(tmp_path / "r" / "lin" / "a")
    for command in (["show", run], ["report", run], ["compare", run, run],
                    ["baseline", "save", run, "--name", "b", "--baselines", str(tmp_path)],
                    ["history", str(tmp_path / "r")]):  # fmt: skip
        told = subprocess.run([python, "-m", "bench"] + command, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True)  # fmt: skip
        assert told.returncode == 2, (command, told.stderr)
        assert "Traceback" not in told.stderr and "optbench[report]" in told.stderr, (command, told.stderr)
