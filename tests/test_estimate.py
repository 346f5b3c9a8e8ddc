"""Duration estimates and the run's ETA: medians by kind, kept current as trials finish."""

import io

from conftest import golden_record

from bench import estimate
from bench.plan import make_plan
from bench.progress import Progress
from bench.suite import load_suite


def plan_of(write_suite):
    text = "problems: {linear: {steps: 20}, curve: {steps: 20}}\noptimizers: {sgd: {lr: [0.1, 0.2]}}\nseeds: [0, 1]\n"
    return make_plan(load_suite(write_suite(text)))


def test_the_estimate_follows_each_added_time_and_falls_back_to_the_problem(write_suite):
    plan = plan_of(write_suite)
    linear = [t for t in plan.trials if t.problem == "linear"]
    curve = [t for t in plan.trials if t.problem == "curve"]
    found = estimate.Estimator()
    assert found.trial(linear[0]) is None and found.total(plan.trials) == (0.0, 8)
    config = dict(linear[0].config())
    found.add(config, 1.0)
    assert found.trial(linear[1]) == 1.0
    found.add(config, 3.0)  # the median kept for the kind must not go stale
    assert found.trial(linear[1]) == 2.0
    found.add(dict(config, steps=99), 10.0)  # another kind of the same problem
    assert found.trial(linear[1]) == 2.0  # its own kind still decides
    assert found.total(plan.trials) == (2.0 * 4, 4)  # curve: nothing comparable yet
    found.add(dict(curve[0].config()), 5.0)
    assert found.total(plan.trials) == (2.0 * 4 + 5.0 * 4, 0)


def test_the_eta_counts_what_is_left_whichever_trial_finishes(write_suite):
    plan = plan_of(write_suite)
    out = io.StringIO()
    progress = Progress(plan, list(plan.trials), out, estimate.Estimator())
    # Out of the plan's order, as a pool of workers finishes them: the last trial first.
    for n, trial in enumerate(reversed(plan.trials), start=1):
        record = golden_record(
            config=dict(trial.config()), wall_time_s=2.0, stability="stable", stability_reason=None
        )
        progress.end(trial, record)
        left = len(plan.trials) - n
        line = out.getvalue().splitlines()[-1]
        if left:
            seconds, unknown = progress.estimator.total_of(progress.left)
            assert sum(count for _, count in progress.left.values()) == left
            assert seconds + 2.0 * unknown == 2.0 * left  # known kinds at 2 s each
            assert "ETA " in line
        else:
            assert "ETA" not in line and not progress.left
