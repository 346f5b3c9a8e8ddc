"""Each optimizer's best curves over seeds (bench.analysis.convergence)."""

import pytest

pytest.importorskip("pandas", reason="the analysis half needs pandas (optbench[report])")

from analysis_results import record, sweep_run, write_run  # noqa: E402

from bench.analysis import choice, convergence, load  # noqa: E402

# step, time_s, loss, eval_loss, metric: an evaluation at 0 and 2, batch losses at 1 and 2
SEEDS = {
    0: [(0, 0.0, None, 4.0, 0.4), (1, 0.10, 1.0, None, None), (2, 0.20, 0.5, 0.6, 0.06)],
    1: [(0, 0.0, None, 4.0, 0.4), (1, 0.12, 2.0, None, None), (2, 0.22, 0.7, 0.8, 0.08)],
    2: [(0, 0.0, None, 4.0, 0.4), (1, 0.30, 10.0, None, None)],  # diverged after step 1
}


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    records, curves = [], {}
    for seed, rows in SEEDS.items():
        good = record(optimizer="sgd", lr=0.1, seed=seed, loss=0.5, status="diverged" if seed == 2 else "ok")
        worse = record(optimizer="sgd", lr=0.01, seed=seed, loss=5.0)  # not the best rate: not drawn
        records += [good, worse]
        curves[good.trial_id] = rows
        curves[worse.trial_id] = [(0, 0.0, None, 4.0, 0.4), (1, 0.1, 3.0, None, None)]
    run = write_run(tmp_path_factory.mktemp("convergence") / "run", records, curves)
    return load.load(run)


def test_quantiles_come_from_the_seeds_values_not_from_a_mean(known):
    frame = convergence.best_curves(*known)
    assert list(frame.columns) == convergence.COLUMNS
    assert set(frame["lr"]) == {0.1}  # only the best configuration's curves
    step = frame.set_index("step")
    # batch losses 1, 2, 10 at step 1: median 2, quartiles 1.5 and 6 (the mean, 4.33, appears nowhere)
    assert step.loc[1, "loss_median"] == 2.0
    assert step.loc[1, "loss_q25"] == pytest.approx(1.5) and step.loc[1, "loss_q75"] == pytest.approx(6.0)
    assert step.loc[1, "time_s"] == pytest.approx(0.12) and step.loc[1, "seeds"] == 3
    assert step.loc[0, "eval_loss_median"] == 4.0 and step.loc[0, "metric_q75"] == pytest.approx(0.4)
    assert (
        step[["loss_median", "loss_q25", "loss_q75"]].loc[0].isna().all()
    )  # no batch loss at an evaluation-only step


def test_a_diverged_seed_ends_early_and_the_count_of_seeds_says_so(known):
    step = convergence.best_curves(*known).set_index("step")
    assert step.loc[2, "seeds"] == 2  # seed 2 stopped after step 1
    assert step.loc[2, "loss_median"] == pytest.approx(0.6)  # of the survivors' 0.5 and 0.7
    assert step.loc[2, "eval_loss_q25"] == pytest.approx(0.65) and step.loc[
        2, "eval_loss_q75"
    ] == pytest.approx(0.75)


def test_on_a_real_sweep_one_best_curve_per_optimizer_and_problem(tmp_path_factory):
    trials, curves = load.load(sweep_run(tmp_path_factory))
    frame = convergence.best_curves(trials, curves)
    best = choice.best_per_optimizer(trials).set_index(["problem", "optimizer"])["lr"]
    lrs = frame.groupby(["problem", "optimizer"])["lr"].unique()
    assert len(lrs) == 6
    for key, values in lrs.items():
        assert list(values) == [best[key]]
    assert (frame["seeds"] <= 3).all()
    logged = frame[frame["loss_median"].notna()]
    assert (logged["loss_q25"] <= logged["loss_median"]).all() and (
        logged["loss_median"] <= logged["loss_q75"]
    ).all()
    assert frame.groupby(["problem", "optimizer"])["step"].apply(lambda s: s.is_monotonic_increasing).all()
