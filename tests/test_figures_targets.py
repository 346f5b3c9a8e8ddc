"""Figure 4, time and energy to target, on results written by the real runner and store."""

import pytest

pytest.importorskip("pandas", reason="the report needs pandas (optbench[report])")
pytest.importorskip("seaborn", reason="the report needs seaborn (optbench[report])")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import report_fixtures as rf  # noqa: E402

from bench import ranking
from bench.analysis import (
    choice,  # noqa: E402
    summary,  # noqa: E402
)
from bench.report import palette  # noqa: E402
from bench.report.figures import targets  # noqa: E402


@pytest.fixture(scope="session")
def powered(tmp_path_factory):
    return rf.powered_data(tmp_path_factory)


@pytest.fixture(scope="module")
def items(powered):
    built = targets.build(powered)
    yield built
    for i in built:
        if i.figure is not None:
            plt.close(i.figure)


def test_best_configuration_per_optimizer_is_the_rankings_choice(powered):
    trials = powered.trials
    chosen = {key: s.configuration for key, s in choice.best_configurations(trials).items()}
    for (problem, optimizer), configuration in chosen.items():
        mine = trials[(trials["problem"] == problem) & (trials["optimizer"] == optimizer)]
        standings = ranking.rank(mine.to_dict("records"))[problem]
        assert configuration == standings[0].configuration
    # and the overall winner is one of them: the same rule as the summary's
    for row in summary.best_per_problem(trials).itertuples():
        assert chosen[row.problem, row.optimizer] == row.configuration


def test_seeds_as_points_median_over_those_that_reached_and_counts_in_the_labels(items, powered):
    item = rf.item(items, "targets-linear")
    time_ax, energy_ax = item.figure.axes
    assert time_ax.get_ylabel() == "training time to target (s)"
    assert energy_ax.get_ylabel() == "energy to target (J)"
    trials = powered.trials
    chosen = {key: s.configuration for key, s in choice.best_configurations(trials).items()}
    labels = [t.get_text() for t in time_ax.get_xticklabels()]
    for optimizer in ("sgd", "momentum", "adam"):
        seeds = trials[trials["configuration"] == chosen["linear", optimizer]]
        reached = seeds[seeds["steps_to_target"].notna()]
        assert f"{optimizer}\n{len(reached)}/{len(seeds)} reached" in labels
        points = rf.artists(item.figure, f"seeds-{optimizer}")
        assert len(points) == 2  # one per panel
        assert sorted(points[0].get_offsets()[:, 1]) == sorted(reached["time_to_target_s"])
        assert sorted(points[1].get_offsets()[:, 1]) == pytest.approx(sorted(reached["energy_to_target_j"]))
        bars = rf.artists(item.figure, f"median-{optimizer}")
        if len(reached):
            (segment,) = bars[0].get_segments()
            assert segment[0][1] == pytest.approx(reached["time_to_target_s"].median())
            assert rf.rgb(bars[0].get_color()[0]) == rf.rgb(palette.colour(optimizer))
        else:
            assert bars == []
    # the scripted board draws 4 W under sgd: energy to target is 4 W x the time to it
    sgd = rf.artists(item.figure, "seeds-sgd")
    assert sorted(sgd[1].get_offsets()[:, 1]) == pytest.approx(
        [4.0 * t for t in sorted(sgd[0].get_offsets()[:, 1])]
    )


def test_failed_seeds_are_counted_in_the_label():
    items = targets.build(rf.golden_data())
    try:
        (ax,) = rf.item(items, "targets-linear-noisy").figure.axes  # sgd diverged on both seeds
        assert [t.get_text() for t in ax.get_xticklabels()] == [
            "sgd\n0/2 reached, 2 failed",
            "adam\n1/2 reached",
        ]
    finally:
        for i in items:
            if i.figure is not None:
                plt.close(i.figure)


def test_a_problem_no_seed_reached_is_a_note(items):
    lenet = rf.item(items, "targets-lenet")
    assert lenet.figure is None
    assert lenet.note == (
        "No seed of any optimizer's best configuration reached the target (test accuracy > 0.95) on lenet."
    )


def test_without_energy_only_the_time_panel():
    items = targets.build(rf.golden_data())
    curve = rf.item(items, "targets-curve")
    try:
        (ax,) = curve.figure.axes
        assert ax.get_ylabel() == "training time to target (s)"
        assert curve.title == "curve: time to reach test mse < 0.01"
        assert "Energy was not measured in this run." in curve.note
        assert [t.get_text() for t in ax.get_xticklabels()] == ["sgd\n0/2 reached", "adam\n2/2 reached"]
    finally:
        for i in items:
            if i.figure is not None:
                plt.close(i.figure)
