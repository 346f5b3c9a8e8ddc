"""The trend figure of one nightly series: its nights, the nights left out, the flagged breaks
and the levels either side."""

import pytest

pytest.importorskip("pandas", reason="history needs pandas (optbench[report])")
pytest.importorskip("ruptures", reason="history needs ruptures (optbench[report])")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bench.compare.history import find_changes, load_series  # noqa: E402
from bench.report import palette  # noqa: E402
from bench.report.figures.trend import trend_figure  # noqa: E402
from tests.test_history_runs import write_nights  # noqa: E402


def _one(series, changes, metric):
    rows = series[(series["metric"] == metric) & series["configuration"].str.startswith("linear sgd")]
    mine = changes[(changes["metric"] == metric) & changes["configuration"].str.startswith("linear sgd")]
    return rows, mine


def test_a_step_with_its_levels_and_the_left_out_nights(tmp_path):
    results = write_nights(tmp_path, 13, slower_from=7, power_modes={2: "5W"})
    series = load_series(results, "nightly")
    rows, mine = _one(series, find_changes(series), "step_time")
    assert list(mine["night"]) == [7]
    fig = trend_figure(rows, mine)
    (ax,) = fig.axes
    gids = {artist.get_gid() for artist in ax.get_children()}
    assert {"kept", "left-out", "step-7", "before-7", "after-7"} <= gids
    (kept,) = [line for line in ax.get_lines() if line.get_gid() == "kept"]
    assert kept.get_color() == palette.colour("sgd")
    assert list(kept.get_xdata()) == [n for n in range(13) if n != 2]
    after = [c for c in ax.collections if c.get_gid() == "after-7"][0]
    (segment,) = after.get_segments()
    assert segment[0][1] == pytest.approx(mine["level_after"].iloc[0]) and segment[1][0] == 12
    assert ax.get_xlabel() == "night" and "linear sgd" in ax.get_title()
    # The ratio sits at the top, left of the line: the nights before a rise are the low ones, so
    # it covers none of the raised nights right after it (where it sat first).
    (ratio,) = [text for text in ax.texts if text.get_gid() == "ratio-7"]
    assert ratio.xy == (6.5, 1) and ratio.get_ha() == "right"
    assert ratio.get_text() == f"x{mine['ratio'].iloc[0]:.3f}"
    assert ax.yaxis.get_major_formatter()(6e-5, 0) == "60 µs"  # step times ticked with their unit
    plt.close(fig)


def test_no_change_draws_the_series_alone(tmp_path):
    results = write_nights(tmp_path, 10)
    series = load_series(results, "nightly")
    rows, mine = _one(series, find_changes(series), "final_loss")
    assert mine.empty
    fig = trend_figure(rows, mine)
    gids = {artist.get_gid() for artist in fig.axes[0].get_children()}
    assert "kept" in gids and not any(str(g).startswith(("step-", "creep-")) for g in gids)
    plt.close(fig)
