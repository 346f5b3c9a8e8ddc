"""The analysis half's aggregation, on small hand-built frames with known answers."""

import pytest

pd = pytest.importorskip("pandas", reason="the analysis half needs pandas (optbench[report])")

from bench import ranking  # noqa: E402
from bench.analysis import summary  # noqa: E402

BELOW = {"quantity": "loss", "value": 0.1, "direction": "below"}
ABOVE = {"quantity": "metric", "value": 0.9, "direction": "above"}


def trial(problem, optimizer, lr, seed, final_loss, metric=None, to_target=None, status="ok", target=BELOW):
    config = dict(problem=problem, optimizer=optimizer, lr=lr, hyper={}, activation="none", device="cpu",
                  batch="full", dropout=0.0, batch_norm=False, implementation="torch", threads=1)  # fmt: skip
    return dict(
        config, hyper="[]", seed_index=seed, configuration=ranking.configuration_key(config), stability="stable",
        status=status, final_loss=final_loss, final_metric=metric, steps_to_target=None if to_target is None else 10,
        time_to_target_s=to_target, step_time_median_s=0.001, energy_train_j=None, energy_to_target_j=None,
        target=target,
    )  # fmt: skip


def test_medians_and_iqr_over_seeds_and_the_shares():
    frame = pd.DataFrame([
        trial("linear", "sgd", 0.1, 0, 1.0, to_target=2.0),
        trial("linear", "sgd", 0.1, 1, 3.0),
        trial("linear", "sgd", 0.1, 2, 2.0, to_target=4.0),
        trial("linear", "sgd", 0.1, 3, 10.0, status="diverged"),
    ])  # fmt: skip
    (row,) = summary.per_configuration(frame).to_dict("records")
    assert row["seeds"] == 4
    assert row["final_loss_median"] == 2.5  # of 1, 2, 3, 10
    assert row["final_loss_iqr"] == pytest.approx(4.75 - 1.75)  # pandas' linear quartiles
    assert row["time_to_target_median_s"] == 3.0
    assert row["reached_share"] == 0.5 and row["diverged_share"] == 0.25


def test_best_is_lowest_median_loss_or_highest_median_accuracy_ties_by_time():
    frame = pd.DataFrame([
        trial("linear", "sgd", 0.1, 0, 0.5), trial("linear", "sgd", 0.1, 1, 0.7),
        trial("linear", "adam", 0.01, 0, 0.6), trial("linear", "adam", 0.01, 1, 0.2),
        trial("lenet", "sgd", 0.1, 0, 0.3, metric=0.95, to_target=5.0, target=ABOVE),
        trial("lenet", "adam", 0.002, 0, 0.1, metric=0.95, to_target=2.0, target=ABOVE),
        trial("lenet", "adagrad", 0.01, 0, 0.05, metric=0.90, target=ABOVE),
    ])  # fmt: skip
    best = {row["problem"]: row for row in summary.best_per_problem(frame).to_dict("records")}
    assert best["linear"]["optimizer"] == "adam"  # median 0.4 against 0.6
    assert best["lenet"]["optimizer"] == "adam"  # same accuracy as sgd, reached sooner
