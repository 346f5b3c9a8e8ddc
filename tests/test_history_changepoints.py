"""Change points on synthetic 60-night series (issue 16): a 10% step at night 40, a
0.3%-per-night creep and a flat series, each at 2% night-to-night noise, over several noise
seeds: the changes are flagged at the right nights on every seed, and nothing on the flat ones."""

import random

import pytest

pytest.importorskip("pandas", reason="history needs pandas (optbench[report])")
pytest.importorskip("ruptures", reason="history needs ruptures (optbench[report])")

from bench.compare import changepoints
from bench.compare.changepoints import Kind

NIGHTS = 60
NOISE = 0.02  # standard deviation, as a fraction of the level
SEEDS = range(10)


def series(seed, step_at=None, creep=0.0, level=2.5e-4):
    rng = random.Random(seed)
    values = []
    for night in range(NIGHTS):
        drift = (1.10 if step_at is not None and night >= step_at else 1.0) * (1 + creep) ** night
        values.append(level * drift * (1 + rng.gauss(0, NOISE)))
    return values


@pytest.mark.parametrize("seed", SEEDS)
def test_a_ten_percent_step_is_flagged_at_its_night(seed):
    found = changepoints.changes(series(seed, step_at=40))
    assert [c.kind for c in found] == [Kind.STEP], found
    step = found[0]
    assert abs(step.index - 40) <= 1
    assert 1.06 < step.ratio < 1.14 and step.p_value < changepoints.ALPHA


@pytest.mark.parametrize("seed", SEEDS)
def test_slow_creep_is_flagged_as_creep(seed):
    found = changepoints.changes(series(100 + seed, creep=0.003))
    creeps = [c for c in found if c.kind is Kind.CREEP]
    assert len(creeps) == 1, found
    assert creeps[0].index == NIGHTS - changepoints.WINDOW
    assert creeps[0].level_after > creeps[0].level_before * (1 + changepoints.MIN_EFFECT)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_flat_noisy_series_has_no_change(seed):
    assert changepoints.changes(series(200 + seed)) == []


def test_a_step_down_is_a_step_and_not_creep():
    values = [1.0 if night < 30 else 0.8 for night in range(40)]  # no noise at all
    found = changepoints.changes(values)
    assert [(c.kind, c.index) for c in found] == [(Kind.STEP, 30)]
    assert found[0].ratio == pytest.approx(0.8)


def test_a_constant_series_has_no_change():
    assert changepoints.changes([0.5] * 20) == []


def test_noise_estimate_ignores_a_step():
    rng = random.Random(1)
    values = [rng.gauss(0, 1) + (10 if i >= 30 else 0) for i in range(60)]
    assert 0.7 < changepoints.noise_sigma(values) < 1.3


def test_too_short_for_a_break():
    assert changepoints.changes([1.0, 1.0, 1.0, 2.0, 2.0]) == []


def _ruptures_l2_breaks(values):
    """Pelt's breaks with ruptures' own l2 cost, the penalty as candidate_breaks sets it."""
    import math
    import statistics

    import numpy
    import ruptures

    level = abs(statistics.median(values)) or 1.0
    signal = numpy.asarray(values, dtype=float) / level
    penalty = (
        changepoints.PENALTY_FACTOR
        * max(changepoints.noise_sigma(list(signal)), changepoints.NOISE_FLOOR) ** 2
    )
    penalty *= math.log(len(values))
    algo = ruptures.Pelt(model="l2", min_size=changepoints.MIN_SIZE, jump=1).fit(signal.reshape(-1, 1))
    return [b for b in algo.predict(pen=penalty) if b < len(values)]


def test_the_prefix_sum_cost_proposes_the_breaks_ruptures_l2_does():
    # Noisy steps, creep and flat series at several lengths, and noiseless ones (a loss),
    # where the penalty is tiny and rounding in the prefix sums would show first.
    cases = [series(300 + seed, step_at=40)[:n] for seed in range(20) for n in (12, 41, 60)]
    cases += [series(400 + seed, creep=0.003) for seed in range(20)]
    cases += [series(500 + seed) for seed in range(20)]
    cases += [[0.8 if night >= 30 else 1.0 for night in range(n)] for n in (9, 31, 60)]
    cases += [[0.1] * 20, [1e-4 * (1 + 0.5 * (night >= 10)) for night in range(25)]]
    differ = [
        values for values in cases if changepoints.candidate_breaks(values) != _ruptures_l2_breaks(values)
    ]
    assert differ == []
    assert any(changepoints.candidate_breaks(values) for values in cases)  # not vacuous: breaks were proposed
