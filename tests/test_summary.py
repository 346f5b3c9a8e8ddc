"""The ranking rule (bench.ranking), the end-of-run table built on it, and the analysis half's
agreement with that table on the same records."""

import pytest
from conftest import golden_record, golden_run

from bench import ranking, store, summary

ACCURACY = {"quantity": "metric", "value": 0.9, "direction": "above"}
LOSS = {"quantity": "loss", "value": 0.1, "direction": "below"}


def record(problem, optimizer, seed, loss, metric=None, to_target=None, target=LOSS, status="ok"):
    config = {"problem": problem, "optimizer": optimizer, "lr": 0.1, "activation": "none", "batch": "full",
              "seed_index": seed}  # fmt: skip
    return golden_record(
        trial_id=f"{problem}-{optimizer}-{seed}", config=config, status=status, final_loss=loss,
        final_metric=metric, time_to_target_s=to_target, steps_to_target=None if to_target is None else 10,
        target=target,
    )  # fmt: skip


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


def test_a_configuration_that_diverges_on_most_seeds_does_not_win_on_its_one_good_seed():
    records = [
        record("curve", "sgd", 0, 0.001), record("curve", "sgd", 1, None, status="diverged"),
        record("curve", "sgd", 2, 5.0, status="diverged"),  # blew up, but its last loss was finite
        record("curve", "adam", 0, 0.02), record("curve", "adam", 1, 0.03), record("curve", "adam", 2, 0.01),
    ]  # fmt: skip
    (row,) = summary.best_per_problem(records)
    assert row["optimizer"] == "adam"
    standings = ranking.rank([ranking.trial_row(r) for r in records])["curve"]
    assert [s.score for s in standings] == [0.02, ranking.WORST]


def test_ties_in_accuracy_go_to_the_faster_and_a_seed_that_never_reached_counts_as_slowest():
    rows = [
        record("lenet", "sgd", 0, 0.3, metric=0.95, to_target=1.0, target=ACCURACY),
        record("lenet", "sgd", 1, 0.3, metric=0.95, target=ACCURACY),  # never reached
        record("lenet", "sgd", 2, 0.3, metric=0.95, target=ACCURACY),
        record("lenet", "adam", 0, 0.3, metric=0.95, to_target=3.0, target=ACCURACY),
        record("lenet", "adam", 1, 0.3, metric=0.95, to_target=3.0, target=ACCURACY),
        record("lenet", "adam", 2, 0.3, metric=0.95, target=ACCURACY),
    ]  # fmt: skip
    (row,) = summary.best_per_problem(rows)
    assert row["optimizer"] == "adam"  # median time 3 s against sgd's never


@pytest.mark.parametrize("version", [1, 2])
def test_the_end_of_run_table_and_the_analysis_half_pick_the_same_winners(version):
    pytest.importorskip("pandas", reason="the analysis half needs pandas (optbench[report])")
    from bench.analysis import load
    from bench.analysis import summary as analysis_summary

    records = store.read_trials(golden_run(version))
    device_half = {
        (r["problem"], r["optimizer"], r["lr"], r["activation"]) for r in summary.best_per_problem(records)
    }
    trials, _ = load.load(golden_run(version))
    table = analysis_summary.best_per_problem(trials)
    analysis_half = set(zip(table["problem"], table["optimizer"], table["lr"], table["activation"]))
    assert analysis_half == device_half
    # Known answers on the golden run (see tests/golden/golden.yaml): Adam wins the noisy line
    # (SGD at 0.01 diverges there) and LeNet; Tanh, not the linear model, wins the curve.
    assert ("linear-noisy", "adam", 0.5, "none") in device_half
    assert ("curve", "adam", 0.01, "tanh") in device_half
    assert len(device_half) == 4


def test_a_problem_tried_with_several_option_sets_is_ranked_once_per_set():
    # A round bowl and a narrow valley are different problems: sgd wins the first here, adam the
    # second, and pooled together one of them would be hidden.
    def quadratic(optimizer, condition, loss):
        found = record("quadratic", optimizer, 0, loss)
        config = dict(found.config, options={"condition": condition, "start": [1.0, 1.0]})
        return golden_record(trial_id=f"q-{optimizer}-{condition}", config=config, status="ok", final_loss=loss,
                             final_metric=None, time_to_target_s=None, steps_to_target=None, target=LOSS)  # fmt: skip

    records = [quadratic("sgd", 1.0, 0.01), quadratic("adam", 1.0, 0.2), quadratic("sgd", 1000.0, 0.9),
               quadratic("adam", 1000.0, 0.3), record("linear", "sgd", 0, 0.5)]  # fmt: skip
    assert ranking.problem_labels([r.config for r in records]) == [
        "quadratic (condition 1)",
        "quadratic (condition 1)",
        "quadratic (condition 1000)",
        "quadratic (condition 1000)",
        "linear",
    ]  # the start is the same everywhere: not part of the name
    winners = {row["problem"]: row["optimizer"] for row in summary.best_per_problem(records)}
    assert winners == {
        "quadratic (condition 1)": "sgd",
        "quadratic (condition 1000)": "adam",
        "linear": "sgd",
    }
    pytest.importorskip("pandas")
    from bench.analysis import load

    trials = load._trials(records)
    assert sorted(set(trials["problem"])) == [
        "linear",
        "quadratic (condition 1)",
        "quadratic (condition 1000)",
    ]
