"""Figure 10, step times per problem and optimizer with unstable trials flagged, on real results."""

import pytest

pytest.importorskip("pandas", reason="the report needs pandas (optbench[report])")
pytest.importorskip("seaborn", reason="the report needs seaborn (optbench[report])")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import report_fixtures as rf  # noqa: E402

from bench.report import palette  # noqa: E402
from bench.report.figures import sensitivity, steptimes  # noqa: E402


@pytest.fixture(scope="session")
def powered(tmp_path_factory):
    return rf.powered_data(tmp_path_factory)


@pytest.fixture(scope="module")
def items(powered):
    built = steptimes.build(powered)
    yield built
    rf.close(built)


def test_a_point_per_trial_at_its_median_and_unstable_ones_in_their_own_marker(items, powered):
    item = rf.item(items, "steptimes-curve")
    (ax,) = item.figure.axes
    assert ax.get_ylabel() == "median step time per trial (ms)"
    trials = powered.trials[powered.trials["problem"] == "curve"]
    unstable = trials[trials["stability"] == "unstable"]
    assert len(unstable) > 0  # the scripted background load overlapped some curve trials
    for optimizer in ("sgd", "adam"):
        mine = trials[trials["optimizer"] == optimizer]
        for stability in ("stable", "unstable"):
            chosen = mine[mine["stability"] == stability]
            drawn = rf.artists(item.figure, f"{stability}-{optimizer}")
            if chosen.empty:
                assert drawn == []
                continue
            (points,) = drawn
            assert sorted(points.get_offsets()[:, 1]) == pytest.approx(
                sorted(chosen["step_time_median_s"] * 1e3)
            )
            marker_ = "X" if stability == "unstable" else "o"
            assert points.get_paths()[0].vertices.shape == _marker_path(marker_).vertices.shape
            assert rf.rgb(points.get_facecolor()[0]) == rf.rgb(palette.colour(optimizer))
    assert f"{len(unstable)} trials with unstable timing (X)" in item.note
    assert f"unstable ({len(unstable)})" in [t.get_text() for t in item.figure.legends[0].get_texts()]
    assert "the records keep those two figures, not every step" in item.note


def _marker_path(marker):
    from matplotlib.markers import MarkerStyle

    return MarkerStyle(marker).get_path()


def test_each_trials_iqr_is_its_error_bar(items, powered):
    item = rf.item(items, "steptimes-linear")
    (ax,) = item.figure.axes
    trials = powered.trials[powered.trials["problem"] == "linear"]
    bars = [c for c in ax.collections if type(c).__name__ == "LineCollection"]
    lengths = sorted(seg[1][1] - seg[0][1] for c in bars for seg in c.get_segments())
    assert lengths == pytest.approx(sorted(trials["step_time_iqr_s"] * 1e3))


def test_too_few_steps_to_judge_is_a_hollow_marker():
    items = steptimes.build(rf.golden_data())
    try:
        item = rf.item(items, "steptimes-lenet")  # 40 timed steps: too few to judge (50 needed)
        for optimizer in ("sgd", "adam"):
            (points,) = rf.artists(item.figure, f"unknown-{optimizer}")
            assert len(points.get_offsets()) == 2
            assert len(points.get_facecolor()) == 0 or points.get_facecolor()[0][3] == 0  # hollow
        assert "No trial's timing was unstable." in item.note
    finally:
        rf.close(items)


def test_the_same_optimizer_has_the_same_colour_in_two_figures(items, powered):
    curve = rf.item(items, "steptimes-curve").figure
    others = sensitivity.build(powered)
    try:
        lr_curve = rf.item(others, "sensitivity-curve").figure
        for optimizer in ("sgd", "adam"):
            (steps,) = rf.artists(curve, f"stable-{optimizer}")
            seeds = rf.artists(lr_curve, f"seeds-{optimizer}")
            assert {rf.rgb(s.get_facecolor()[0]) for s in seeds} == {rf.rgb(steps.get_facecolor()[0])}
        assert rf.rgb(palette.colour("sgd")) != rf.rgb(palette.colour("adam"))
    finally:
        rf.close(others)
