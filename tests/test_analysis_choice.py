"""Best learning rate per setting and best configuration per optimizer (bench.analysis.choice),
on results written by the real store and runner."""

import math

import pytest

pytest.importorskip("pandas", reason="the analysis half needs pandas (optbench[report])")

from analysis_results import load_trials, record, sweep_run, write_run  # noqa: E402
from conftest import golden_run  # noqa: E402

from bench import ranking  # noqa: E402
from bench.analysis import choice, summary  # noqa: E402

WORST = math.inf


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    """sgd at three rates (medians 0.5, 0.2 and a rate diverging on two seeds of three) with
    two activations; adam at one rate."""
    records = []
    for seed, (low, mid, high) in enumerate([(0.5, 0.1, 0.05), (0.6, 0.3, None), (0.4, 0.2, None)]):
        records.append(record(optimizer="sgd", lr=0.01, seed=seed, loss=low))
        records.append(record(optimizer="sgd", lr=0.1, seed=seed, loss=mid))
        diverged = high is None
        records.append(
            record(optimizer="sgd", lr=1.0, seed=seed, loss=high, status="diverged" if diverged else "ok")
        )
        records.append(record(optimizer="sgd", lr=0.1, seed=seed, loss=0.9 + seed, activation="tanh"))
        records.append(record(optimizer="sgd", lr=0.3, seed=seed, loss=0.8, activation="tanh"))
        records.append(record(optimizer="adam", lr=0.01, seed=seed, loss=0.25))
    return load_trials(write_run(tmp_path_factory.mktemp("choice") / "run", records))


def test_best_rate_per_setting_with_its_runner_up(known):
    table = choice.best_learning_rates(known)
    assert list(table.columns) == choice.BEST_LR_COLUMNS
    rows = {(r["optimizer"], r["activation"]): r for r in table.to_dict("records")}
    assert set(rows) == {("sgd", "none"), ("sgd", "tanh"), ("adam", "none")}
    plain = rows[("sgd", "none")]
    assert plain["lr"] == 0.1 and plain["score_median"] == pytest.approx(0.2) and plain["seeds"] == 3
    assert plain["runner_up_lr"] == 0.01 and plain["runner_up_score_median"] == pytest.approx(0.5)
    assert plain["lrs_tried"] == 3  # the diverging rate (median: worst) was tried, and ranks last
    tanh = rows[("sgd", "tanh")]
    assert tanh["lr"] == 0.3 and tanh["score_median"] == pytest.approx(0.8)  # 0.1 has median 1.9
    adam = rows[("adam", "none")]
    assert (
        adam["lrs_tried"] == 1
        and math.isnan(adam["runner_up_lr"])
        and math.isnan(adam["runner_up_score_median"])
    )


def test_best_per_optimizer_is_the_ranking_restricted_to_that_optimizer(known):
    best = choice.best_per_optimizer(known)
    rows = {r["optimizer"]: r for r in best.to_dict("records")}
    assert set(rows) == {"sgd", "adam"}
    assert rows["sgd"]["lr"] == 0.1 and rows["sgd"]["activation"] == "none"
    assert rows["sgd"]["score_median"] == pytest.approx(0.2)
    for optimizer, row in rows.items():
        own = known[known["optimizer"] == optimizer].to_dict("records")
        assert row["configuration"] == ranking.best(own)["linear"].configuration


def test_on_a_real_sweep_every_setting_ranks_its_whole_grid(tmp_path_factory):
    trials = load_trials(sweep_run(tmp_path_factory))
    table = choice.best_learning_rates(trials)
    assert len(table) == 6  # 2 problems x 3 optimizers, one setting each
    assert (table["lrs_tried"] == 3).all()
    grids = {"sgd": {0.01, 0.1, 3.0}, "momentum": {0.001, 0.01, 0.1}, "adam": {0.001, 0.01, 0.1}}
    for row in table.to_dict("records"):
        assert row["lr"] in grids[row["optimizer"]] and row["runner_up_lr"] in grids[row["optimizer"]]
        assert row["lr"] != row["runner_up_lr"] and row["score_median"] <= row["runner_up_score_median"]
        assert not (row["optimizer"] == "sgd" and row["lr"] == 3.0)  # it diverged
    # each optimizer's best cell agrees with the ranking over its trials, and the winner with summary's
    best = choice.best_per_optimizer(trials)
    assert list(best["optimizer"]) == ["sgd", "momentum", "adam"] * 2  # the declared order
    for row in best.to_dict("records"):
        mine = trials[(trials["optimizer"] == row["optimizer"])].to_dict("records")
        assert row["configuration"] == ranking.best(mine)[row["problem"]].configuration
    winners = summary.best_per_problem(trials)
    for row in winners.to_dict("records"):
        same = best[(best["problem"] == row["problem"]) & (best["configuration"] == row["configuration"])]
        assert len(same) == 1


def test_skipped_trials_are_not_ranked():
    trials = load_trials(golden_run(2))
    table = choice.best_learning_rates(trials)
    assert set(table["device"]) == {"cpu"}  # the skipped cuda trials are no setting
    assert len(choice.best_per_optimizer(trials)) == 8  # 4 problems x 2 optimizers
