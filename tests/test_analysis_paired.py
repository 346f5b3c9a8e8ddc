"""Seed-by-seed comparison of optimizers (bench.analysis.paired): exact tests checked against
brute-force enumeration, and verdicts on results written by the real store."""

import itertools
import math

import pytest

pytest.importorskip("pandas", reason="the analysis half needs pandas (optbench[report])")

from analysis_results import load_trials, record, sweep_run, write_run  # noqa: E402

from bench.analysis import paired  # noqa: E402


def brute_sign(wins, losses):
    n = wins + losses
    observed = abs(wins - n / 2)
    extreme = sum(math.comb(n, b) for b in range(n + 1) if abs(b - n / 2) >= observed)
    return extreme / 2**n


def brute_wilcoxon(differences):
    nonzero = [d for d in differences if d != 0]
    ranks = paired._midranks([abs(d) for d in nonzero])
    expected = sum(ranks) / 2
    observed = abs(sum(r for r, d in zip(ranks, nonzero) if d > 0) - expected)
    patterns = list(itertools.product([0, 1], repeat=len(nonzero)))
    extreme = sum(
        1
        for signs in patterns
        if abs(sum(r for r, s in zip(ranks, signs) if s) - expected) >= observed - 1e-9
    )
    return extreme / len(patterns)


@pytest.mark.parametrize(
    "wins,losses,p", [(3, 0, 0.25), (5, 0, 0.0625), (6, 0, 0.03125), (4, 1, 0.375), (0, 0, 1.0)]
)
def test_the_sign_test_is_exact(wins, losses, p):
    assert paired.sign_test(wins, losses) == pytest.approx(p)
    assert paired.sign_test(wins, losses) == pytest.approx(min(1.0, brute_sign(wins, losses)))
    assert paired.sign_test(losses, wins) == paired.sign_test(wins, losses)


@pytest.mark.parametrize(
    "differences",
    [
        [1, 2, 3, 4, 5, 6],  # all one way: 2 / 2**6
        [1, -2, 3, 4, 5, 6, 7],
        [0.5, 0.5, -0.5, 2, 3, 3, math.inf],  # tied magnitudes and a failure (infinitely worse)
        [1, -1, 2, -2, 0, 3],  # a tie (zero) is left out
    ],
)
def test_the_signed_rank_test_matches_enumerating_every_sign_pattern(differences):
    # symmetric null distribution: "as or more extreme" on both sides is the two-sided p
    assert paired.wilcoxon_test(differences) == pytest.approx(min(1.0, brute_wilcoxon(differences)))
    assert paired.wilcoxon_test([1, 2, 3, 4, 5, 6]) == pytest.approx(2 / 64)


def _scores(tmp_path, name, winner_losses, other_losses, other="sgd", statuses=None):
    records = []
    for seed, (mine, theirs) in enumerate(zip(winner_losses, other_losses)):
        records.append(record(optimizer="adam", lr=0.01, seed=seed, loss=mine))
        status = (statuses or {}).get(seed, "ok")
        if theirs is not None:
            records.append(record(optimizer=other, lr=0.1, seed=seed, loss=theirs, status=status))
    return load_trials(write_run(tmp_path / name, records))


def test_three_seeds_all_won_is_not_significant_and_says_so(tmp_path):
    trials = _scores(tmp_path, "three", [0.1, 0.2, 0.3], [0.4, 0.5, 0.6])
    (row,) = paired.compare_optimizers(trials).to_dict("records")
    assert (row["problem"], row["optimizer"], row["winner"]) == ("linear", "sgd", "adam")
    assert (row["seeds"], row["wins"], row["losses"], row["ties"]) == (3, 3, 0, 0)
    assert row["test"] == paired.SIGN and row["p_value"] == pytest.approx(0.25) and not row["significant"]
    assert row["verdict"] == "adam beats sgd on 3/3 seeds (sign test, p = 0.25: not significant at 3 seeds)"
    assert list(paired.compare_optimizers(trials).columns) == paired.COLUMNS


def test_six_seeds_use_the_signed_rank_test(tmp_path):
    trials = _scores(tmp_path, "six", [0.1] * 6, [0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
    (row,) = paired.compare_optimizers(trials).to_dict("records")
    assert row["test"] == paired.WILCOXON and row["p_value"] == pytest.approx(2 / 64)
    assert row["sign_p_value"] == pytest.approx(2 / 64) and row["significant"]
    assert row["verdict"] == "adam beats sgd on 6/6 seeds (Wilcoxon signed-rank, p = 0.031)"


def test_pairs_are_by_seed_and_a_diverged_seed_loses(tmp_path):
    # the winner by median is adam (0.2 against 0.3), but seed 2 goes to sgd; seed 1 sgd diverged
    trials = _scores(tmp_path, "pairs", [0.2, 0.3, 0.2], [0.3, 0.05, 0.1], statuses={1: "diverged"})
    (row,) = paired.compare_optimizers(trials).to_dict("records")
    assert (row["wins"], row["losses"], row["ties"]) == (2, 1, 0)
    assert row["verdict"].startswith("adam beats sgd on 2/3 seeds (sign test, p = 1")


def test_ties_and_missing_seeds(tmp_path):
    trials = _scores(tmp_path, "ties", [0.1, 0.2, 0.3, 0.1], [0.1, 0.2, 0.3, None])  # sgd lacks seed 3
    (row,) = paired.compare_optimizers(trials).to_dict("records")
    assert (row["seeds"], row["wins"], row["losses"], row["ties"]) == (3, 0, 0, 3)
    assert row["p_value"] == 1.0
    assert row["verdict"].startswith("adam and sgd not distinguishable with 3 seeds")


def test_on_a_real_sweep_each_loser_is_compared_with_the_winner_on_three_seeds(tmp_path_factory):
    trials = load_trials(sweep_run(tmp_path_factory))
    table = paired.compare_optimizers(trials)
    assert len(table) == 4  # 2 problems x the 2 optimizers that did not win
    assert (table["seeds"] == 3).all() and (table["wins"] + table["losses"] + table["ties"] == 3).all()
    assert (table["test"] == paired.SIGN).all()
    assert table["verdict"].str.contains("3 seeds").all()
    assert (table["optimizer"] != table["winner"]).all()
