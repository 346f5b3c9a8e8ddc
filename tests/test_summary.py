"""The device half's end-of-run table (no pandas): best configuration per problem."""

from bench import summary
from bench.record import SCHEMA_VERSION, TrialRecord, field_names

ACCURACY = {"quantity": "metric", "value": 0.9, "direction": "above"}
LOSS = {"quantity": "loss", "value": 0.1, "direction": "below"}


def record(problem, optimizer, seed, loss, metric=None, to_target=None, target=LOSS, status="ok"):
    values = {name: None for name in field_names()}
    values.update(
        schema=SCHEMA_VERSION, trial_id=f"{problem}-{optimizer}-{seed}", suite="s", run_id="r",
        config={"problem": problem, "optimizer": optimizer, "lr": 0.1, "activation": "none", "batch": "full", "seed_index": seed},
        seed=seed, status=status, final_loss=loss, final_metric=metric, time_to_target_s=to_target,
        steps_to_target=None if to_target is None else 10, target=target, metric_name="mse",
    )  # fmt: skip
    return TrialRecord(**values)


def test_best_per_problem_by_median_over_seeds_with_time_as_tie_break():
    records = [
        record("linear", "sgd", 0, 0.5), record("linear", "sgd", 1, 0.7), record("linear", "sgd", 2, 0.1),
        record("linear", "adam", 0, 0.6), record("linear", "adam", 1, 0.2), record("linear", "adam", 2, 0.3),
        record("lenet", "sgd", 0, 0.3, metric=0.95, to_target=5.0, target=ACCURACY),
        record("lenet", "adam", 0, 0.1, metric=0.95, to_target=2.0, target=ACCURACY),
        record("lenet", "adagrad", 0, 0.05, metric=0.90, target=ACCURACY),
        record("lenet", "rmsprop", 0, None, status="skipped", target=ACCURACY),
    ]  # fmt: skip
    best = {row["problem"]: row for row in summary.best_per_problem(records)}
    assert best["linear"]["optimizer"] == "adam" and best["linear"]["final_loss"] == 0.3  # median 0.3 < 0.5
    assert best["lenet"]["optimizer"] == "adam"  # as accurate as sgd, and sooner
    table = summary.render(records)
    assert "trials: 9 ok, 1 skipped" in table
