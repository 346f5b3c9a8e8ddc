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


def test_several_runs_load_into_one_frame_with_a_run_column_and_telemetry_loads_with_its_dtypes():
    from conftest import golden_run

    from bench.analysis import load

    trials, curves = load.load_runs([golden_run(1), golden_run(2)])
    assert sorted(trials["run"].unique()) == ["golden/schema1", "golden/schema2"]
    assert len(trials) == 48 and (trials.groupby("run").size() == 24).all()
    assert set(curves["run"]) == {"golden/schema1", "golden/schema2"}
    assert str(curves["step"].dtype) == "int64" and str(curves["time_s"].dtype) == "float64"
    assert str(trials["final_loss"].dtype) == "float64" and trials["threads"].tolist()[:1] == [2]
    telemetry = load.load_telemetry(golden_run(2))
    assert list(telemetry.columns) == ["time_s", "source", "name", "value"]
    assert set(telemetry["source"]) == {"host"} and str(telemetry["value"].dtype) == "float64"
    windows = [t["window_start_s"] for t in load.load(golden_run(2))[0]["telemetry"] if t]
    assert telemetry["time_s"].min() <= min(windows)  # one clock for samples and trial windows
