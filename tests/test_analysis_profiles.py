"""Performance profiles over problems, time and energy (bench.analysis.profiles)."""

import math

import pytest

pytest.importorskip("pandas", reason="the analysis half needs pandas (optbench[report])")

from analysis_results import load_trials, record, sweep_run, write_run  # noqa: E402
from conftest import golden_run  # noqa: E402

from bench.analysis import profiles  # noqa: E402


def _reach(problem, optimizer, seed, seconds, joules=None, **more):
    energy = None if joules is None else 10.0 * (seed + 1)
    return record(problem=problem, optimizer=optimizer, seed=seed, loss=0.01, to_target=seconds, energy=energy,
                  energy_to_target=joules, **more)  # fmt: skip


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    """p1: sgd in 1 s, adam in 2 s (medians over seeds). p2: sgd never (2 seeds of 3), adam in
    3 s. p3: no one reaches the target. Energies are twice the seconds, except adam's on p1."""
    records = []
    for seed in range(3):
        records.append(_reach("p1", "sgd", seed, [1.0, 0.5, 1.5][seed], joules=[2.0, 1.0, 3.0][seed]))
        records.append(_reach("p1", "adam", seed, 2.0, joules=8.0))
        records.append(_reach("p2", "sgd", seed, [1.0, None, None][seed], joules=[2.0, None, None][seed]))
        records.append(
            _reach("p2", "adam", seed, 3.0, joules=6.0, stability="unstable" if seed == 0 else "stable")
        )
        records.append(_reach("p3", "sgd", seed, None, joules=None))
        records.append(_reach("p3", "adam", seed, None, joules=None))
    return load_trials(write_run(tmp_path_factory.mktemp("profiles") / "run", records))


def test_ratios_to_the_best_median_per_problem(known):
    ratios = profiles.profile_ratios(known).set_index(["problem", "optimizer"])
    assert list(profiles.profile_ratios(known).columns) == profiles.RATIO_COLUMNS
    assert set(ratios.index.get_level_values("problem")) == {"p1", "p2"}  # p3: no one solved it
    assert ratios.loc[("p1", "sgd"), "value"] == 1.0 and ratios.loc[("p1", "sgd"), "ratio"] == 1.0
    assert ratios.loc[("p1", "adam"), "ratio"] == pytest.approx(2.0)
    assert math.isinf(ratios.loc[("p2", "sgd"), "value"])  # median of 1 s and two that never got there
    assert ratios.loc[("p2", "adam"), "ratio"] == 1.0 and ratios.loc[("p2", "adam"), "unstable_seeds"] == 1


def test_profiles_count_the_problems_within_tau(known):
    profile = profiles.performance_profiles(known)
    assert list(profile.columns) == profiles.PROFILE_COLUMNS
    assert (profile["problems"] == 2).all()
    at = profile.set_index(["optimizer", "tau"])["fraction"]
    assert at[("sgd", 1.0)] == 0.5 and at[("sgd", 4.0)] == 0.5
    assert at[("adam", 1.0)] == 0.5 and at[("adam", 1.99)] == 0.5 and at[("adam", 2.0)] == 1.0
    assert profile["tau"].min() == 1.0 and profile["tau"].max() == 4.0


def test_energy_profile_where_energy_was_measured(known):
    ratios = profiles.profile_ratios(known, "energy").set_index(["problem", "optimizer"])
    assert ratios.loc[("p1", "adam"), "ratio"] == pytest.approx(4.0)  # 8 J against sgd's median 2 J
    profile = profiles.performance_profiles(known, "energy").set_index(["optimizer", "tau"])["fraction"]
    assert profile[("adam", 3.99)] == 0.5 and profile[("adam", 4.0)] == 1.0


def test_nothing_to_profile_gives_an_empty_frame_and_the_reason(tmp_path):
    golden = load_trials(golden_run(2))  # host telemetry only: no power
    assert profiles.performance_profiles(golden, "energy").empty
    assert "no energy measured" in profiles.why_empty(golden, "energy")
    never = load_trials(
        write_run(tmp_path / "never", [_reach("p", "sgd", s, None, joules=None) for s in range(2)])
    )
    empty = profiles.performance_profiles(never)
    assert empty.empty and list(empty.columns) == profiles.PROFILE_COLUMNS
    assert "no trial reached" in profiles.why_empty(never)


def test_on_a_real_sweep_fractions_only_grow_with_tau(tmp_path_factory):
    trials = load_trials(sweep_run(tmp_path_factory))
    profile = profiles.performance_profiles(trials)
    if profile.empty:  # tiny budgets: no optimizer may reach a target on this machine
        assert profiles.why_empty(trials) is not None or profiles.profile_ratios(trials).empty
        return
    for _, own in profile.groupby("optimizer"):
        fractions = list(own.sort_values("tau")["fraction"])
        assert fractions == sorted(fractions) and fractions[0] >= 0.0 and fractions[-1] <= 1.0
    assert set(profile["optimizer"]) == {"sgd", "momentum", "adam"}
