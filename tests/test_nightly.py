"""`optbench nightly` end to end: real nights of real suites, as the timer runs them."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, run_cli
from nightly_fixtures import WINDOW_SUITE, night_record, nightly, record_lines, run_dirs, summary_of

from bench.nightly.analysis_gate import missing

analysis = pytest.mark.skipif(missing() is not None, reason=f"the analysis half: {missing()}")


@analysis
@pytest.mark.slow
def test_a_smoke_night_end_to_end_and_a_second_night_resumes_nothing(tmp_path):
    results, baselines = tmp_path / "results", str(tmp_path / "baselines")
    base = run_cli("run", "smoke", "--results", str(results), "--run-id", "base")
    assert base.returncode == 0, base.stderr
    saved = run_cli(
        "baseline", "save", str(results / "smoke" / "base"), "--name", "main", "--baselines", baselines
    )
    assert saved.returncode == 0, saved.stderr

    first = nightly("smoke", "--baseline", "main", "--baselines", baselines, "--until", "06:00", results=results,
                    now="2026-12-01T22:00")  # fmt: skip
    # one seed a side: the rank test can never reach alpha, so "insufficient data", exit 3 (never a pass)
    assert first.returncode == 3, first.stderr
    run_dir = str(results / "smoke" / "2026-12-01")
    told = summary_of(run_dir)
    assert told["verdict"] == "insufficient data" and told["exit_code"] == 3
    assert told["night"] == "2026-12-01" and told["window_end"] == "2026-12-02T06:00:00"
    assert told["trials"] == {"planned": 77, "recorded": 77, "by_status": {"ok": 77}, "ran_tonight": 77,
                              "finished": True}  # fmt: skip
    assert (
        told["compare"]["verdict"] == "insufficient data" and "baseline main" in told["compare"]["baseline"]
    )
    assert told["compare"]["insufficient"] and not told["compare"]["regressions"]
    assert told["compare"]["unmatched"] == [0, 0] and told["compare"]["not_comparable"] == []
    assert told["history"]["nights"] == 2 and "needs 9" in told["history"]["note"]  # base, then this night
    assert os.path.exists(told["report"]) and told["report"].endswith("smoke/2026-12-01/index.html")
    # the report says which night each trial ran in: one night here (a window's deferred trials:
    # tests/test_nightly_window.py)
    with open(os.path.join(os.path.dirname(told["report"]), "tables", "trials.csv")) as handle:
        assert {row["night"] for row in csv.DictReader(handle)} == {"2026-12-01"}
    assert "2026-12-01: 77 trials" in open(told["report"]).read()
    assert told["deferred"] == [] and told["not_run"] == [] and told["partial_telemetry"] == []
    markdown = open(os.path.join(run_dir, "summary.md")).read()
    assert markdown.startswith("# optbench nightly: smoke, night 2026-12-01: insufficient data (exit 3)")
    assert "## Against the baseline: insufficient data" in markdown and markdown in first.stdout

    second = nightly("smoke", "--baseline", "main", "--baselines", baselines, "--until", "06:00", results=results,
                     now="2026-12-02T22:00")  # fmt: skip
    assert second.returncode == 3, second.stderr
    assert "night 2026-12-02: new run" in second.stderr and "resuming" not in second.stderr
    again = str(results / "smoke" / "2026-12-02")
    assert summary_of(again)["trials_by_night"] == {"2026-12-02": 77}
    assert [n["night"] for n in night_record(again)["nights"]] == ["2026-12-02"]
    assert [n["night"] for n in night_record(run_dir)["nights"]] == [
        "2026-12-01"
    ]  # the first night's run untouched


REGRESSION_SUITE = """
name: {name}
problems:
  linear: {{steps: 150, lr: {{sgd: {lr}}}}}
optimizers: [sgd]
seeds: [0, 1, 2, 3, 4, 5]
budget: {{eval_every: 50}}
telemetry: {{sources: none}}
"""


@analysis
def test_a_regression_turns_the_night_red(write_suite, tmp_path):
    # A lower learning rate trains linear worse on every seed: what a change that broke
    # training would look like, matched to the baseline's cells without the lr.
    results, baselines = tmp_path / "results", str(tmp_path / "baselines")
    good = write_suite(REGRESSION_SUITE.format(name="reg", lr=0.5), name="good.yaml")
    worse = write_suite(REGRESSION_SUITE.format(name="reg", lr=0.1), name="worse.yaml")
    assert run_cli("run", good, "--results", str(results / "good"), "--run-id", "b").returncode == 0
    saved = run_cli(
        "baseline", "save", str(results / "good" / "reg" / "b"), "--name", "main", "--baselines", baselines
    )
    assert saved.returncode == 0, saved.stderr
    policy = tmp_path / "policy.yaml"
    policy.write_text("checks: [final_loss]\nignore: [lr]\n")
    done = nightly(worse, "--baseline", "main", "--baselines", baselines, "--policy", str(policy), results=results,
                   now="2026-12-01T22:00")  # fmt: skip
    assert done.returncode == 1, done.stderr
    told = summary_of(str(results / "reg" / "2026-12-01"))
    assert told["verdict"] == "regressed" and told["compare"]["verdict"] == "regressed"
    (cell,) = told["compare"]["regressions"]
    assert cell["metric"] == "final_loss" and cell["ratio"] > 1.1 and cell["problem"] == "linear"
    assert "- regressed: linear sgd" in done.stdout


def _popen_night(suite, results, now):
    env = dict(os.environ, PYTHONPATH=ROOT)
    argv = [sys.executable, "-m", "bench", "nightly", suite, "--results", str(results), "--until", "06:00",
            "--now", now]  # fmt: skip
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _kill_after_records(process, run_dir, count, deadline_s=240):
    """Kill the night (as a power cut would) once ``count`` trials are recorded; the number recorded then."""
    deadline = time.time() + deadline_s
    path = os.path.join(run_dir, "trials.jsonl")
    while time.time() < deadline and process.poll() is None:
        if os.path.exists(path) and len(record_lines(run_dir)) >= count:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    return len(record_lines(run_dir))


@pytest.mark.slow
def test_a_night_killed_midway_resumes_within_its_window_and_never_the_next_night(write_suite, tmp_path):
    # Long enough trials (a second or so each) that the kill lands mid-night.
    suite = write_suite(WINDOW_SUITE.format(name="cut").replace("steps: 60", "steps: 1500"), name="cut.yaml")
    results = tmp_path / "results"
    run_dir = str(results / "cut" / "2026-12-01")
    recorded = _kill_after_records(_popen_night(suite, results, "2026-12-01T22:00"), run_dir, 2)
    assert 2 <= recorded < 12, "the night finished before it could be cut off"
    assert json.load(open(os.path.join(run_dir, "manifest.json")))["finished_at"] is None

    restarted = nightly(
        suite, "--until", "06:00", results=results, now="2026-12-02T03:00"
    )  # within the window
    assert restarted.returncode == 0, restarted.stderr
    assert "night 2026-12-01 restarted: resuming " + run_dir in restarted.stderr
    ids = [r["trial_id"] for r in record_lines(run_dir)]
    assert len(ids) == len(set(ids)) == 12  # nothing run twice, nothing lost
    (tonight,) = night_record(run_dir)["nights"]
    assert [s["trials_before"] for s in tonight["sessions"]] == [0, recorded]
    assert summary_of(run_dir)["trials_by_night"] == {"2026-12-01": 12}

    # The next night is cut off too, and not restarted within its window: the night after
    # starts a run of its own, and says so; the unfinished one is left as it was.
    cut = str(results / "cut" / "2026-12-02")
    left = _kill_after_records(_popen_night(suite, results, "2026-12-02T22:00"), cut, 1)
    assert 1 <= left < 12
    following = nightly(suite, "--until", "06:00", results=results, now="2026-12-03T22:00")
    assert following.returncode == 0, following.stderr
    assert f"the unfinished run {cut} belongs to an earlier night and is not continued" in following.stderr
    assert len(record_lines(cut)) == left and len(record_lines(str(results / "cut" / "2026-12-03"))) == 12
    assert len(run_dirs(results, "cut")) == 3


def test_bad_input_exits_2_naming_the_thing_and_what_is_allowed(tmp_path, write_suite):
    suite = write_suite(WINDOW_SUITE.format(name="bad"), name="bad.yaml")
    cases = [
        (["no-such-suite"], "no-such-suite: no such suite file"),
        (
            [suite, "--baseline", "nope", "--baselines", str(tmp_path)],
            "--baseline 'nope': not a saved baseline",
        ),
        ([suite, "--until", "6pm"], "--until '6pm': a local time of day, HH:MM"),
        ([suite, "--budget", "all night"], "--budget 'all night': a duration like 5h"),
        ([suite, "--keep", "0"], "--keep 0: keep at least the newest run whole"),
        (["--report-only", suite], "no nightly run of suite bad under"),
        ([suite, "--run-id", "x"], "--run-id goes with --report-only"),
        (
            [suite, "--policy", str(tmp_path / "nope.yaml")],
            "nope.yaml: no such policy file",
        ),  # not after the night
    ]
    for args, message in cases:
        done = nightly(*args, results=tmp_path / "results")
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not os.path.exists(str(tmp_path / "results" / "bad"))  # nothing ran


def test_the_nano_nights_suite_states_its_estimated_duration_in_plan(tmp_path):
    planned = run_cli("plan", "nightly-nano", "--results", str(tmp_path), cwd=str(tmp_path))
    assert planned.returncode == 0, planned.stderr
    assert "nightly-nano" in planned.stdout and ": 445 trials" in planned.stdout
    # marked as an estimate, with what it was scaled from and by which factor (docs/NIGHTLY.md)
    described = " ".join(planned.stdout.split())
    assert "Expected on a Nano: about 30 minutes -- an ESTIMATE, not yet measured on a board" in described
    assert "55 s of trials per seed measured on a 2-core x86 VM" in described
    assert "times 6 for a Cortex-A57 core" in described
