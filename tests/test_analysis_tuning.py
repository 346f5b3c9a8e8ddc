"""Tuning cost and the expected best score after k random learning rates (bench.analysis.tuning)."""

import itertools
import math
import statistics

import pytest

pytest.importorskip("pandas", reason="the analysis half needs pandas (optbench[report])")

from analysis_results import LENET, load_trials, record, sweep_run, write_run  # noqa: E402

from bench.analysis import tuning  # noqa: E402


@pytest.mark.parametrize(
    "scores", [[0.1, 0.2, 0.4], [3.0, 1.0, 1.0, 2.0, 0.5], [0.3, math.inf, 0.1, math.inf]]
)
def test_the_expected_minimum_is_the_mean_over_every_draw(scores):
    for k in range(1, len(scores) + 1):
        draws = [min(draw) for draw in itertools.combinations(scores, k)]
        expected = statistics.mean(draws) if all(math.isfinite(d) for d in draws) else math.inf
        assert tuning.expected_minimum(scores, k) == pytest.approx(expected)


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    """linear: sgd at rates with medians 0.1, 0.2, 0.4 and one diverged rate; each seed took a
    known time and energy. lenet (accuracy): adam at two rates, accuracies 0.9 and 0.8."""
    records = []
    for seed in range(3):
        for lr, loss in ((0.01, 0.4), (0.1, 0.1), (0.3, 0.2)):
            records.append(
                record(optimizer="sgd", lr=lr, seed=seed, loss=loss, train_time=lr * 10, energy=lr * 100)
            )
        records.append(record(optimizer="sgd", lr=3.0, seed=seed, loss=None, status="diverged", train_time=0.5,
                              energy=5.0))  # fmt: skip
        for lr, accuracy in ((0.001, 0.8), (0.01, 0.9)):
            records.append(record(problem="lenet", base=LENET, optimizer="adam", lr=lr, seed=seed, loss=0.3,
                                  metric=accuracy, train_time=2.0))  # fmt: skip
    return load_trials(write_run(tmp_path_factory.mktemp("tuning") / "run", records))


def test_expected_best_by_number_of_rates_tried(known):
    table = tuning.expected_best(known)
    assert list(table.columns) == tuning.EXPECTED_COLUMNS
    sgd = table[table["optimizer"] == "sgd"].set_index("k")
    assert list(sgd.index) == [1, 2, 3, 4] and (sgd["lrs"] == 4).all() and (sgd["quantity"] == "loss").all()
    assert math.isinf(sgd.loc[1, "expected_best"]) and sgd.loc[1, "p_all_failed"] == pytest.approx(1 / 4)
    # two of {0.1, 0.2, 0.4, failed}: the minimum over the 6 pairs, none of them all-failed
    assert sgd.loc[2, "expected_best"] == pytest.approx((0.1 * 3 + 0.2 * 2 + 0.4) / 6)
    assert sgd.loc[2, "p_all_failed"] == 0.0
    assert sgd.loc[4, "expected_best"] == pytest.approx(0.1)


def test_an_accuracy_problem_reports_the_metric_higher_is_better(known):
    adam = tuning.expected_best(known).query("problem == 'lenet'").set_index("k")
    assert (adam["quantity"] == "accuracy").all() and adam["higher_is_better"].all()
    assert adam.loc[1, "expected_best"] == pytest.approx(0.85) and adam.loc[
        2, "expected_best"
    ] == pytest.approx(0.9)


def test_the_sweep_costs_every_rate_and_seed_beside_its_best_cell(known):
    cost = tuning.tuning_cost(known)
    assert list(cost.columns) == tuning.COST_COLUMNS
    sgd = cost[cost["optimizer"] == "sgd"].iloc[0]
    assert sgd["lr"] == 0.1 and sgd["lrs"] == 4 and sgd["sweep_trials"] == 12 and sgd["best_trials"] == 3
    assert sgd["sweep_train_time_s"] == pytest.approx(
        3 * (0.1 + 1.0 + 3.0 + 0.5)
    )  # the diverged rate was paid
    assert sgd["best_train_time_s"] == pytest.approx(3 * 1.0)
    assert sgd["sweep_wall_time_s"] == pytest.approx(3 * (0.1 + 1.0 + 3.0 + 0.5) + 12 * 0.5)
    assert sgd["sweep_energy_j"] == pytest.approx(3 * (1.0 + 10.0 + 30.0 + 5.0))
    assert sgd["best_energy_j"] == pytest.approx(30.0)
    assert sgd["sweep_to_best"] == pytest.approx(4.6 / 1.0)
    adam = cost[cost["optimizer"] == "adam"].iloc[0]
    assert math.isnan(adam["sweep_energy_j"]) and math.isnan(adam["best_energy_j"])  # not measured


def test_on_a_real_sweep(tmp_path_factory):
    trials = load_trials(sweep_run(tmp_path_factory))
    cost = tuning.tuning_cost(trials)
    assert len(cost) == 6 and (cost["lrs"] == 3).all() and (cost["sweep_trials"] == 9).all()
    for row in cost.to_dict("records"):
        own = trials[(trials["problem"] == row["problem"]) & (trials["optimizer"] == row["optimizer"])]
        assert row["sweep_train_time_s"] == pytest.approx(own["train_time_s"].sum())
        assert row["sweep_train_time_s"] >= row["best_train_time_s"] > 0
        assert math.isnan(row["sweep_energy_j"])  # the sweep ran without telemetry
    expected = tuning.expected_best(trials)
    assert len(expected) == 6 * 3
    for _, own in expected.groupby(["problem", "optimizer"]):
        values = list(own.sort_values("k")["expected_best"])
        assert values == sorted(values, reverse=True)  # more rates tried never hurts
