"""Expanding suites into trials: counts, meaningless cells, include/exclude, ids and seeds."""

from bench.plan import TrialSpec, make_plan
from bench.suite import load_suite


def plan_of(write_suite, text):
    return make_plan(load_suite(write_suite(text)))


def test_grid_is_the_product_of_the_axes(write_suite):
    plan = plan_of(
        write_suite,
        """
        problems: {curve: {activation: [none, tanh]}}
        optimizers: {sgd: {lr: [0.1, 0.2]}, adam: {lr: [0.01]}}
        seeds: [0, 1, 2]
        batch: [full, 16]
        """,
    )
    assert len(plan.trials) == (2 + 1) * 2 * 3 * 2
    assert len({t.trial_id for t in plan.trials}) == len(plan.trials)


def test_activation_collapses_on_a_linear_model_and_the_plan_says_nothing_was_lost(write_suite):
    plan = plan_of(
        write_suite, "problems: [linear, curve]\noptimizers: {sgd: {lr: [0.1]}}\nactivation: [relu, tanh]\n"
    )
    linear = [t for t in plan.trials if t.problem == "linear"]
    curve = [t for t in plan.trials if t.problem == "curve"]
    assert [t.activation for t in linear] == ["none"]
    assert sorted(t.activation for t in curve) == ["relu", "tanh"]


def test_implementations_missing_for_a_problem_are_dropped_with_a_note(write_suite):
    plan = plan_of(
        write_suite,
        "problems: [linear, lenet]\noptimizers: {sgd: {lr: [0.1]}}\nimplementation: [torch, numpy]\n",
    )
    assert sorted((t.problem, t.implementation) for t in plan.trials) == [
        ("lenet", "torch"), ("linear", "numpy"), ("linear", "torch"),
    ]  # fmt: skip
    assert plan.notes == ("1 cells dropped: implementation numpy does not exist for lenet",)


def test_learning_rates_resolve_suite_then_problem_then_optimizer(write_suite):
    plan = plan_of(
        write_suite,
        """
        problems: {linear-noisy: {}, curve: {lr: {adam: [0.05]}}}
        optimizers: {sgd: {}, adam: {}, rmsprop: {lr: [0.003]}}
        """,
    )
    lrs = {}
    for t in plan.trials:
        lrs.setdefault((t.problem, t.optimizer), []).append(t.lr)
    assert lrs[("linear-noisy", "sgd")] == [1e-5, 1e-4, 1e-3]  # the problem's grid
    assert lrs[("curve", "adam")] == [0.05]  # the problem's lr in the suite
    assert lrs[("curve", "rmsprop")] == [0.003]  # the optimizer's lr in the suite
    assert lrs[("curve", "sgd")] == [0.01, 0.1, 0.5]  # the problem's default grid


def test_include_and_exclude(write_suite):
    plan = plan_of(
        write_suite,
        """
        problems: [linear, curve]
        optimizers: {sgd: {lr: [0.1, 0.5]}, adam: {lr: [0.01]}}
        include: [{problem: curve}, {optimizer: adam}]
        exclude: [{problem: curve, lr: 0.5}]
        """,
    )
    cells = sorted((t.problem, t.optimizer, t.lr) for t in plan.trials)
    assert cells == [("curve", "adam", 0.01), ("curve", "sgd", 0.1), ("linear", "adam", 0.01)]
    assert "3 cells dropped by the suite's include/exclude" in plan.notes


def test_seed_is_shared_across_optimizers_and_differs_across_seeds(write_suite):
    plan = plan_of(
        write_suite, "problems: [curve]\noptimizers: {sgd: {lr: [0.1]}, adam: {lr: [0.01]}}\nseeds: [0, 1]\n"
    )
    seeds = {(t.optimizer, t.seed_index): t.seed for t in plan.trials}
    assert seeds[("sgd", 0)] == seeds[("adam", 0)]
    assert seeds[("sgd", 0)] != seeds[("sgd", 1)]
    assert all(0 <= s < 2**31 for s in seeds.values())


GOLDEN_SPEC = TrialSpec(
    problem="linear", optimizer="sgd", lr=0.1, hyper=(), activation="none", device="cpu",
    batch="full", dropout=0.0, batch_norm=False, implementation="torch", threads=1, seed_index=0,
    steps=300, epochs=None, time_limit_s=120.0, eval_every=10, log_every=1, options=(),
)  # fmt: skip


def test_trial_id_and_seed_are_stable_across_versions_and_machines():
    # Golden values: a change here orphans every recorded result, so it must be deliberate
    # (and come with a results schema version bump). Schema 2 added threads to the
    # configuration, so to the id; the seed, drawn from the data's identity, stayed.
    assert GOLDEN_SPEC.trial_id == "linear-56ab61cbadd0"
    assert GOLDEN_SPEC.seed == 557210878


def test_random_order_is_deterministic_and_interleaved_alternates(write_suite):
    text = (
        "problems: [linear]\noptimizers: {{sgd: {{lr: [0.1, 0.2]}}, adam: {{lr: [0.01, 0.02]}}}}\norder: {}\n"
    )
    first = plan_of(write_suite, text.format("random"))
    again = plan_of(write_suite, text.format("random"))
    assert [t.trial_id for t in first.trials] == [t.trial_id for t in again.trials]
    interleaved = plan_of(write_suite, text.format("interleaved"))
    assert [t.optimizer for t in interleaved.trials] == ["sgd", "adam", "sgd", "adam"]


def test_threads_is_an_axis_default_one_and_part_of_the_trial_id(write_suite):
    default = plan_of(write_suite, "problems: [linear]\noptimizers: {sgd: {lr: [0.1]}}\n")
    assert [t.threads for t in default.trials] == [1]
    swept = plan_of(
        write_suite,
        "problems: {linear: {}, curve: {threads: 2}}\noptimizers: {sgd: {lr: [0.1]}}\nthreads: [1, 4]\n",
    )
    by_problem = {}
    for trial in swept.trials:
        by_problem.setdefault(trial.problem, []).append(trial)
    assert [t.threads for t in by_problem["linear"]] == [1, 4]
    assert [t.threads for t in by_problem["curve"]] == [2]  # the problem's own setting wins
    one, four = by_problem["linear"]
    assert one.trial_id != four.trial_id and one.seed == four.seed  # same data, another setting
    assert one.trial_id == default.trials[0].trial_id
    assert "threads=4" in four.label() and "threads" not in one.label()
