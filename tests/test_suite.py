"""Suite loading and validation: every mistake named with file, key, value and what is allowed."""

import os

import pytest

from bench.suite import load_suite
from bench.validation import SuiteError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def errors_of(path):
    with pytest.raises(SuiteError) as caught:
        load_suite(path)
    return caught.value.problems


def test_minimal_suite_takes_defaults_from_the_problem(write_suite):
    suite = load_suite(write_suite("problems: [curve]\noptimizers: [adam]\n"))
    (curve,) = suite.problems
    assert suite.name == "suite"
    assert curve.axis("activation") == ("tanh",)
    assert curve.budget.steps == 1000 and curve.budget.eval_every == 20
    assert suite.seeds == (0,)
    assert suite.optimizers[0].lr is None  # resolved by the plan from the problem's grid


def test_unknown_optimizer_names_file_key_allowed_and_near_miss(write_suite):
    path = write_suite("problems: [linear]\noptimizers: {adma: {lr: [0.1]}}\n")
    (message,) = errors_of(path)
    assert message.startswith(path + ": optimizers.adma: unknown optimizer 'adma'")
    assert "allowed: sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw" in message
    assert "did you mean 'adam'?" in message


def test_every_mistake_is_reported_at_once(write_suite):
    path = write_suite(
        """
        problems: {curve: {activation: [tanhh]}, lenett: {}}
        optimizers: {sgd: {lr: [-1, fast], momentom: 0.9}}
        budget: {steps: 10, epochs: 2}
        batch: zero
        devices: [cpu]
        """
    )
    problems = errors_of(path)
    joined = "\n".join(problems)
    assert (
        "problems.curve.activation[0]: unknown value 'tanhh'" in joined and "did you mean 'tanh'?" in joined
    )
    assert "problems.lenett: unknown problem 'lenett'" in joined and "did you mean 'lenet'?" in joined
    assert "optimizers.sgd.lr[0]: must be greater than 0, got -1" in joined
    assert "optimizers.sgd.lr[1]: expected a number, got 'fast'" in joined
    assert "optimizers.sgd.momentom: unknown key 'momentom'" in joined
    assert "budget: give either steps or epochs, not both" in joined
    assert "batch: expected 'full' or a batch size" in joined
    assert "devices: unknown key 'devices'" in joined and "did you mean 'device'?" in joined
    assert len(problems) >= 8


def test_yaml_exponent_without_dot_is_accepted_as_a_number(write_suite):
    # YAML 1.1 reads 1e-3 as a string; a user means a number.
    suite = load_suite(write_suite("problems: [linear]\noptimizers: {sgd: {lr: [1e-3, 0.1]}}\n"))
    assert suite.optimizers[0].lr == (0.001, 0.1)


def test_axis_set_on_a_problem_that_has_no_such_thing_is_refused(write_suite):
    path = write_suite(
        "problems: {linear: {activation: relu, implementation: [numpy]}, lenet: {implementation: numpy}}\noptimizers: [sgd]\n"
    )
    joined = "\n".join(errors_of(path))
    assert "problems.linear.activation: problem 'linear' has no activation to set" in joined
    assert "problems.lenet.implementation: 'numpy' is not implemented for 'lenet'; allowed: torch" in joined


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "the suite is empty"),
        ("- a\n- b\n", "a suite is a mapping of keys"),
        ("problems: [linear]\nproblems: [curve]\noptimizers: [sgd]\n", "key 'problems' is given twice"),
        ("problems: [linear\n", "not valid YAML"),
        ("problems: !!python/object/apply:os.system [echo hi]\n", "not valid YAML"),
        ("optimizers: [sgd]\n", "problems: missing"),
        ("problems: [linear]\noptimizers: [sgd]\nseeds: [1, 1]\n", "a seed is listed twice"),
        ("problems: [linear]\noptimizers: [sgd]\nseeds: [0]\nrepeats: 2\n", "either seeds or repeats"),
        (
            "problems: [linear]\noptimizers: [sgd]\ndevice: gpu\n",
            "unknown device 'gpu'; allowed: cpu, cuda, cuda:N, auto",
        ),
        ("problems: [linear]\noptimizers: {adam: {betas: [0.9]}}\n", "expected two numbers in [0, 1)"),
        ("problems: {lenet: {options: {data: imagenet}}}\noptimizers: [sgd]\n", "allowed: digits, mnist"),
        (
            "problems: [linear]\noptimizers: [sgd]\nexclude: [{problem: linear, colour: red}]\n",
            "exclude[0].colour: unknown key",
        ),
        ("problems: [linear]\noptimizers: [sgd]\ndropout: 1.5\n", "a dropout rate is in [0, 1)"),
        ("problems: [linear]\noptimizers: [sgd]\nthreads: [1, 0]\n", "threads[1]: must be at least 1, got 0"),
        (
            "problems: {linear: {threads: all}}\noptimizers: [sgd]\n",
            "problems.linear.threads: expected a whole number, got 'all'",
        ),
        (
            "problems: [linear]\noptimizers: [sgd]\ntelemetry: {sources: [jtop]}\n",
            "telemetry.sources[0]: unknown value 'jtop'",
        ),
        (
            "problems: [linear]\noptimizers: [sgd]\ntelemetry: {sources: [auto, host]}\n",
            "telemetry: 'auto' and 'none' stand alone in sources",
        ),
    ],
)
def test_malformed_suites_get_a_clear_message(write_suite, text, expected):
    path = write_suite(text)
    joined = "\n".join(errors_of(path))
    assert path in joined
    assert expected in joined


def test_missing_file_and_oversized_file(tmp_path):
    missing = str(tmp_path / "nope.yaml")
    assert "cannot read suite" in errors_of(missing)[0]
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * (1 << 20) + "\n")
    assert "a suite may be at most" in errors_of(str(big))[0]


def test_repeats_and_hyper_grids(write_suite):
    suite = load_suite(
        write_suite(
            "problems: [linear]\noptimizers: {adam: {betas: [[0.9, 0.999], [0.8, 0.99]]}, momentum: {momentum: [0.5, 0.9]}}\nrepeats: 3\n"
        )
    )
    assert suite.seeds == (0, 1, 2)
    adam, momentum = suite.optimizers
    assert adam.hyper == (("betas", ((0.9, 0.999), (0.8, 0.99))),)
    assert momentum.hyper == (("momentum", (0.5, 0.9)),)


def test_shipped_suites_are_valid():
    for name in ("nightly-nano", "smoke", "tutorial"):
        suite = load_suite(os.path.join(ROOT, "suites", name + ".yaml"))
        assert suite.name == name


def test_an_unknown_suite_name_lists_the_suites_and_suggests_the_nearest(tmp_path):
    from bench.suite import suite_by_name

    (tmp_path / "tutorial.yaml").write_text("problems: [linear]\noptimizers: [sgd]\n")
    (tmp_path / "smoke.yaml").write_text("problems: [linear]\noptimizers: [sgd]\n")
    assert suite_by_name("tutorial", search=str(tmp_path)) == str(tmp_path / "tutorial.yaml")
    with pytest.raises(SuiteError) as caught:
        suite_by_name("tutorail", search=str(tmp_path))
    (message,) = caught.value.problems
    assert message.startswith("tutorail: no such suite file")
    assert "smoke, tutorial (did you mean 'tutorial'?)" in message


def test_slowdown_is_a_non_negative_number_outside_the_trial_ids(write_suite):
    from bench.plan import make_plan

    plain = make_plan(load_suite(write_suite("problems: [linear]\noptimizers: [sgd]\n", name="a.yaml")))
    slowed = make_plan(
        load_suite(write_suite("problems: [linear]\noptimizers: [sgd]\nslowdown: 0.2\n", name="b.yaml"))
    )
    assert slowed.suite.slowdown == 0.2 and plain.suite.slowdown == 0.0
    assert [t.trial_id for t in slowed.trials] == [t.trial_id for t in plain.trials]
    path = write_suite("problems: [linear]\noptimizers: [sgd]\nslowdown: -1\n", name="c.yaml")
    assert "slowdown: must be at least 0.0" in "\n".join(errors_of(path))


def test_a_regressions_block_is_checked_when_the_suite_loads_and_stays_out_of_trial_ids(write_suite):
    from bench.plan import make_plan

    base = "problems: [linear]\noptimizers: [sgd]\n"
    plain = make_plan(load_suite(write_suite(base, name="a.yaml")))
    gated = load_suite(
        write_suite(base + "regressions: {alpha: 0.05, checks: [step_time:5%]}\n", name="b.yaml")
    )
    assert gated.document["regressions"] == {"alpha": 0.05, "checks": ["step_time:5%"]}
    assert [t.trial_id for t in make_plan(gated).trials] == [t.trial_id for t in plain.trials]
    for block, expected in [
        ("{checks: [speed:5%]}", "regressions: checks: unknown metric 'speed'; allowed: step_time"),
        ("{alpha: 3}", "regressions: alpha: alpha must be a number between 0 and 0.5, got 3"),
        ("{threshold: 5}", "regressions: unknown key 'threshold'; allowed: alpha, checks, allow_different"),
        ("[step_time:5%]", "regressions: a policy is a mapping with alpha, checks"),
        ("{checks: [step_time:five]}", "the effect is a percentage, like step_time:5%"),
    ]:
        path = write_suite(base + f"regressions: {block}\n", name="bad.yaml")
        (message,) = errors_of(path)
        assert message.startswith(path + ": regressions") and expected in message, message
