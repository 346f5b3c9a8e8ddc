"""The stability verdict on a trial's timing: known answers, the trainer's use of it, and
where a user sees it."""

import io

import pytest
from conftest import golden_record

from bench import stability, summary
from bench.progress import Progress
from bench.record import Stability


def test_steady_steps_summing_to_their_count_are_stable():
    median, iqr = stability.step_time_summary([0.010, 0.011, 0.009, 0.010] * 15)
    assert median == pytest.approx(0.010) and iqr == pytest.approx(0.001)
    assert stability.judge(median, iqr, 60, 60 * 0.0102) == (Stability.STABLE, None)


def test_widely_spread_steps_are_unstable_and_the_reason_says_by_how_much():
    times = [0.010] * 30 + [0.020] * 30  # IQR 0.010 over a median of 0.015: 67%
    median, iqr = stability.step_time_summary(times)
    verdict, reason = stability.judge(median, iqr, len(times), sum(times))
    assert verdict is Stability.UNSTABLE
    assert "spread 67%" in reason and "limit 25%" in reason


def test_a_steady_median_with_long_stalls_is_unstable_through_its_sum():
    # What a busy 2-core machine does to a 2-thread trial: most steps as usual, a few stalled.
    times = [0.0005] * 795 + [0.7] * 5
    median, iqr = stability.step_time_summary(times)
    assert iqr == 0.0  # the spread alone would not see it
    verdict, reason = stability.judge(median, iqr, len(times), sum(times))
    assert verdict is Stability.UNSTABLE and "stalls dominate the sums" in reason and "9.7x" in reason


def test_too_few_steps_cannot_be_judged():
    assert stability.judge(0.01, 0.0, 49, 0.49)[0] is Stability.UNKNOWN
    assert stability.judge(0.01, 0.0, 50, 0.50)[0] is Stability.STABLE
    assert stability.judge(None, None, 0, 0.0)[0] is Stability.UNKNOWN
    assert stability.step_time_summary([]) == (None, None)
    assert stability.step_time_summary([1.0, 2.0, 3.0])[1] is None  # no IQR under 4 samples


def test_the_trainer_judges_its_own_step_times_and_records_the_verdict(monkeypatch):
    from test_trainer import spec

    from bench import trainer
    from bench.problems import PROBLEMS

    asked = []

    def judge(*args):
        asked.append(args)
        return Stability.UNSTABLE, "judged"

    monkeypatch.setattr(trainer, "judge", judge)
    trial = spec(steps=60, eval_every=20)
    outcome = trainer.run_trial(
        trial, PROBLEMS["linear"], PROBLEMS["linear"].make_data(trial.seed, {})
    ).outcome
    # Judged once, on the trial's own step-time summary and its training time.
    assert asked == [(outcome.step_time_median_s, outcome.step_time_iqr_s, 60, outcome.train_time_s)]
    assert outcome.stability is Stability.UNSTABLE and outcome.stability_reason == "judged"


def test_the_progress_line_and_the_end_of_run_table_say_when_timing_was_unstable():
    from bench.plan import Plan

    unstable = golden_record(stability="unstable", stability_reason="step times spread 40% (limit 25%)")
    out = io.StringIO()
    progress = Progress(Plan(suite=None, trials=(), notes=()), [], out, _NoEstimate())
    progress.end(None, unstable)
    assert "unstable" in out.getvalue() and "timing unstable: step times spread 40%" in out.getvalue()
    steady = golden_record(index=1, stability="stable", stability_reason=None)
    table = summary.render([unstable, steady])  # seeds 0 and 1 of one configuration
    assert "1/2 unstable" in table
    assert "timing: 1 of 2 trials unstable" in table


class _NoEstimate:
    def add(self, config, seconds):
        pass

    def total(self, specs):
        return 0.0, 0

    def total_of(self, kinds):
        return 0.0, 0
