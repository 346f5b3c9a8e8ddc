"""The nightly time window: which night a moment belongs to, the order cells run in, what a
budget defers, and two real nights that share one run between them."""

import csv
import datetime
import os

import pytest
from conftest import run_cli
from nightly_fixtures import WINDOW_SUITE, night_record, nightly, record_lines, summary_of

from bench import estimate
from bench.nightly import night
from bench.nightly.analysis_gate import missing
from bench.nightly.baseline import match_key
from bench.nightly.window import Window, order
from bench.plan import make_plan
from bench.suite import load_suite


def at(text):
    return datetime.datetime.strptime(text, "%Y-%m-%d %H:%M")


def test_a_night_is_named_by_the_date_its_window_began():
    six = night.parse_until("06:00")
    assert night.night_of(at("2026-12-01 22:00"), six) == "2026-12-01"
    assert night.night_of(at("2026-12-02 03:00"), six) == "2026-12-01"  # after a brown-out: the same night
    assert night.night_of(at("2026-12-02 06:00"), six) == "2026-12-02"  # the window has ended
    assert night.night_of(at("2026-12-02 10:00"), six) == "2026-12-02"  # a missed night caught up at boot
    assert night.night_end("2026-12-01", six) == at("2026-12-02 06:00")
    assert night.night_of(at("2026-12-02 11:59"), night.DEFAULT_BOUNDARY) == "2026-12-01"


def test_until_budget_and_now_are_parsed_or_refused_naming_what_is_allowed():
    assert night.parse_until("6:30") == datetime.time(6, 30)
    assert night.parse_budget("5h") == 5 * 3600
    assert night.parse_budget("1h30m") == 5400
    assert night.parse_budget("90m") == 5400
    assert night.parse_budget("45s") == 45
    assert night.parse_budget("12.5") == 12.5
    with pytest.raises(night.NightError, match=r"--until '25:00': a local time of day, HH:MM"):
        night.parse_until("25:00")
    for bad in ("5 hours", "", "0", "h"):
        with pytest.raises(night.NightError, match="--budget"):
            night.parse_budget(bad)
    with pytest.raises(night.NightError, match="--now 'tonight': a local time YYYY-MM-DDTHH:MM"):
        night.parse_now("tonight")


def _plan(write_suite, name="win"):
    return make_plan(load_suite(write_suite(WINDOW_SUITE.format(name=name), name=name + ".yaml")))


def _estimator(trials, seconds):
    """Earlier nights as an estimator: ``seconds(trial)`` for every trial's kind."""
    found = estimate.Estimator()
    for trial in trials:
        found.add(trial.config(), seconds(trial))
    return found


def test_the_baselines_cells_come_first_then_the_rest_each_cheapest_first(write_suite):
    plan = _plan(write_suite)
    linear = {match_key(t.config()) for t in plan.trials if t.problem == "linear"}
    cost = {"linear": 2.0, "curve": 1.0}  # the baseline's cells are the dearer ones here
    planned = order(plan.trials, _estimator(plan.trials, lambda t: cost[t.problem]), frozenset(linear))
    problems = [p.trial.problem for p in planned]
    assert problems == ["linear"] * 4 + ["curve"] * 8
    assert all(p.for_baseline == (p.trial.problem == "linear") and p.known for p in planned)
    # no baseline: the cheapest first; equal estimates keep the suite's order
    planned = order(plan.trials, _estimator(plan.trials, lambda t: cost[t.problem]))
    assert [p.trial.problem for p in planned] == ["curve"] * 8 + ["linear"] * 4
    assert [p.trial for p in planned[:8]] == [t for t in plan.trials if t.problem == "curve"]


def test_a_cell_never_run_before_is_priced_at_the_median_of_the_others(write_suite):
    plan = _plan(write_suite)
    known = estimate.Estimator()
    for trial in plan.trials:
        if trial.problem == "curve":
            known.add(trial.config(), 3.0 if trial.optimizer == "sgd" else 5.0)
    planned = order(plan.trials, known)
    linear = [p for p in planned if p.trial.problem == "linear"]
    assert linear and all(not p.known and p.estimate_s == 4.0 for p in linear)


def test_the_window_starts_what_fits_and_defers_the_rest_on_the_estimate_clock(write_suite):
    plan = _plan(write_suite)
    cost = {"linear": 1.0, "curve": 2.0}
    clock = night.NightClock(at("2026-12-01 22:00"), by_estimate=True)
    end = at("2026-12-01 22:00") + datetime.timedelta(seconds=4 * 1.0 + 3 * 2.0 + 1.0)  # 4 linear, 3.5 curve
    linear = frozenset(match_key(t.config()) for t in plan.trials if t.problem == "linear")
    started = []
    window = Window(_estimator(plan.trials, lambda t: cost[t.problem]), linear, clock, end, started.append)
    ran = list(window(list(plan.trials)))
    assert [t.problem for t in ran] == ["linear"] * 4 + ["curve"] * 3
    assert len(window.deferred) == 5 and all(p.trial.problem == "curve" for p in window.deferred)
    assert [p.trial for p in started] == ran
    assert clock.now() == at("2026-12-01 22:00") + datetime.timedelta(
        seconds=10
    )  # what the started trials cost
    # the wall clock: each decision reads the monotonic clock, injected here
    ticks = iter([0.0, 0.0, 3.5, 7.0])
    wall = night.NightClock(at("2026-12-01 22:00"), monotonic=lambda: next(ticks))
    end = at("2026-12-01 22:00") + datetime.timedelta(seconds=5)
    window = Window(_estimator(plan.trials, lambda t: 1.0), frozenset(), wall, end)
    assert len(list(window(list(plan.trials[:3])))) == 2  # at 3.5 s a 1 s trial fits; at 7 s none


@pytest.mark.skipif(
    missing() is not None, reason=f"the baseline and compare need the analysis half: {missing()}"
)
@pytest.mark.slow
def test_a_budget_for_half_the_cells_runs_the_baseline_first_and_the_next_night_finishes(
    write_suite, tmp_path
):
    results, baselines = tmp_path / "results", str(tmp_path / "baselines")
    suite = write_suite(WINDOW_SUITE.format(name="win"), name="win.yaml")
    # The baseline: a run of the linear cells alone (another suite, the same configurations).
    base_suite = write_suite(WINDOW_SUITE.format(name="base").replace("  curve: {steps: 60, activation: [tanh, relu]}\n", ""),
                             name="base.yaml")  # fmt: skip
    base = run_cli("run", base_suite, "--results", str(results), "--run-id", "b")
    assert base.returncode == 0, base.stderr
    saved = run_cli(
        "baseline", "save", str(results / "base" / "b"), "--name", "main", "--baselines", baselines
    )
    assert saved.returncode == 0, saved.stderr
    # An earlier night, whole, for the estimates.
    first = nightly(suite, results=results, now="2026-11-30T22:00")
    assert first.returncode == 0, first.stderr
    plan = make_plan(load_suite(suite))
    estimator = estimate.from_previous_runs(str(results / "win"))
    cost = {t.trial_id: estimator.trial(t) for t in plan.trials}
    linear = [t.trial_id for t in plan.trials if t.problem == "linear"]
    curve = sorted((t.trial_id for t in plan.trials if t.problem == "curve"), key=lambda i: cost[i])
    budget = sum(cost[i] for i in linear) + sum(cost[i] for i in curve[:4]) + 0.5 * cost[curve[4]]

    tonight = nightly(suite, "--baseline", "main", "--baselines", baselines, "--budget", repr(budget), "--clock",
                      "estimate", results=results, now="2026-12-01T22:00")  # fmt: skip
    assert tonight.returncode == 3, tonight.stderr  # 2 seeds a side: insufficient data, never a pass
    run_dir = str(results / "win" / "2026-12-01")
    ran = [r["trial_id"] for r in record_lines(run_dir)]
    assert ran[:4] and set(ran[:4]) == set(linear)  # the baseline's cells first
    assert ran[4:] == curve[:4]  # then the cheapest of the rest, until the budget
    deferred = night_record(run_dir)["nights"][-1]["deferred"]
    assert [d["trial_id"] for d in deferred] == curve[4:] and not any(d["for_baseline"] for d in deferred)
    told = summary_of(run_dir)
    assert told["verdict"] == "insufficient data" and told["trials"]["finished"] is False
    assert [d["trial_id"] for d in told["deferred"]] == curve[
        4:
    ] and "deferred to the next night" in tonight.stdout

    following = nightly(
        suite, "--baseline", "main", "--baselines", baselines, results=results, now="2026-12-02T22:00"
    )
    assert following.returncode == 3, following.stderr
    assert "continuing " + run_dir in following.stderr
    assert [r["trial_id"] for r in record_lines(run_dir)][8:] == curve[4:]  # only what was deferred
    assert night.trial_nights(run_dir) == dict([(i, "2026-12-01") for i in linear + curve[:4]] +
                                               [(i, "2026-12-02") for i in curve[4:]])  # fmt: skip
    told = summary_of(run_dir)
    assert told["trials"]["finished"] and told["trials"]["ran_tonight"] == 4 and told["deferred"] == []
    assert told["trials_by_night"] == {"2026-12-01": 8, "2026-12-02": 4}
    # the report says which night each trial ran in
    with open(os.path.join(str(tmp_path), "reports", "win", "2026-12-01", "tables", "trials.csv")) as handle:
        rows = list(csv.DictReader(handle))
    assert {r["trial_id"]: r["night"] for r in rows} == night.trial_nights(run_dir)
    assert len(os.listdir(str(results / "win"))) == 2  # the first night's, and this one spanning two nights


def test_the_earlier_of_until_and_budget_ends_the_window_and_a_restart_keeps_it(write_suite, tmp_path):
    suite = write_suite(
        WINDOW_SUITE.format(name="ends").replace("seeds: [0, 1]", "seeds: [0]"), name="ends.yaml"
    )
    results = tmp_path / "results"
    # --budget 5h from 22:00 ends before --until 06:00: the window ends at 03:00
    first = nightly(suite, "--until", "06:00", "--budget", "5h", results=results, now="2026-12-01T22:00")
    assert first.returncode == 0, first.stderr
    run_dir = str(results / "ends" / "2026-12-01")
    assert night_record(run_dir)["nights"][0]["window_end"] == "2026-12-02T03:00:00"
    assert "window: until 2026-12-02T03:00:00 (local)" in first.stderr
    # restarted at 01:00 within that night with a longer budget: its window was fixed at the start
    again = nightly(suite, "--until", "06:00", "--budget", "10h", results=results, now="2026-12-02T01:00")
    assert again.returncode == 0, again.stderr
    assert "night 2026-12-01 restarted: resuming " + run_dir in again.stderr
    assert "window: until 2026-12-02T03:00:00 (local)" in again.stderr
    (tonight,) = night_record(run_dir)["nights"]
    assert tonight["window_end"] == "2026-12-02T03:00:00" and len(tonight["sessions"]) == 2
    # the next night, --until 06:00 ends before a 10 h budget
    following = nightly(suite, "--until", "06:00", "--budget", "10h", results=results, now="2026-12-02T22:00")
    assert following.returncode == 0, following.stderr
    assert (
        night_record(str(results / "ends" / "2026-12-02"))["nights"][0]["window_end"] == "2026-12-03T06:00:00"
    )
