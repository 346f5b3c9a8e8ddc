"""Figure 2, learning-rate sensitivity, on results written by the real runner."""

import pytest

pytest.importorskip("pandas", reason="the report needs pandas (optbench[report])")
pytest.importorskip("seaborn", reason="the report needs seaborn (optbench[report])")
import matplotlib  # noqa: E402

matplotlib.use("Agg")

import report_fixtures as rf  # noqa: E402

from bench import ranking  # noqa: E402
from bench.report import palette  # noqa: E402
from bench.report.figures import sensitivity  # noqa: E402


@pytest.fixture(scope="session")
def rich(tmp_path_factory):
    return rf.rich_data(tmp_path_factory)


@pytest.fixture(scope="module")
def items(rich):
    built = sensitivity.build(rich)
    yield built
    rf.close(built)


def test_one_item_per_problem_in_its_section(items):
    assert [i.name for i in items] == [
        "sensitivity-linear", "sensitivity-linear-noisy", "sensitivity-linear-multi", "sensitivity-curve",
        "sensitivity-lenet",
    ]  # fmt: skip
    assert [i.section for i in items] == ["linear", "linear-noisy", "linear-multi", "curve", "lenet"]


def test_every_seed_a_point_near_its_rate_and_diverged_runs_as_x_at_the_top(items, rich):
    item = rf.item(items, "sensitivity-linear-noisy")
    trials = rich.trials[rich.trials["problem"] == "linear-noisy"]
    (ax,) = item.figure.axes
    assert ax.get_xscale() == "log"
    for optimizer in ("sgd", "momentum", "adam"):
        mine = trials[trials["optimizer"] == optimizer]
        ok = mine[mine["status"] == "ok"]
        (points,) = rf.artists(item.figure, f"seeds-{optimizer}")
        offsets = points.get_offsets()
        assert len(offsets) == len(ok)  # each seed that ran to the end, one point
        assert sorted(offsets[:, 1]) == sorted(ok["final_loss"])
        for x in offsets[:, 0]:  # spread sideways a little, never onto the next rate
            assert min(abs(x / lr - 1) for lr in ok["lr"]) < 0.35
        assert rf.rgb(points.get_facecolor()[0]) == rf.rgb(palette.colour(optimizer))
    # sgd and momentum diverge at 0.01, all three seeds: six x's at the top of the axis
    failed = {o: rf.artists(item.figure, f"failed-{o}") for o in ("sgd", "momentum", "adam")}
    assert failed["adam"] == []
    for optimizer in ("sgd", "momentum"):
        (marks,) = failed[optimizer]
        offsets = marks.get_offsets()
        assert len(offsets) == 3
        assert all(y == 0.96 for y in offsets[:, 1])  # in axes fraction: the top
        assert all(abs(x / 0.01 - 1) < 0.35 for x in offsets[:, 0])
    assert "diverged or failed (6)" in [t.get_text() for t in item.figure.legends[0].get_texts()]
    assert "6 trials diverged or failed (momentum at 0.01: 3; sgd at 0.01: 3)" in item.note


def test_the_median_line_goes_through_the_medians_over_seeds(items, rich):
    item = rf.item(items, "sensitivity-linear")
    trials = rich.trials[rich.trials["problem"] == "linear"]
    for optimizer in ("sgd", "momentum", "adam"):
        (line,) = rf.artists(item.figure, f"median-{optimizer}")
        expected = trials[trials["optimizer"] == optimizer].groupby("lr")["final_loss"].median()
        assert list(line.get_xdata()) == list(expected.index)
        assert list(line.get_ydata()) == pytest.approx(list(expected))


def test_a_panel_per_activation_and_a_log_axis_where_losses_span_decades(items):
    item = rf.item(items, "sensitivity-curve")
    axes = [ax for ax in item.figure.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == [
        "activation none", "activation relu", "activation tanh", "activation sigmoid",
    ]  # fmt: skip
    assert all(ax.get_yscale() == "log" and ax.get_xscale() == "log" for ax in axes)
    assert axes[0].get_ylabel() == "final training loss"
    assert all(
        f"{lr:g}" in [t.get_text() for t in axes[0].get_xticklabels()] for lr in (0.001, 0.01, 0.05, 0.2)
    )


def test_accuracy_problems_plot_the_metric_and_one_rate_each_is_left_out(items, rich):
    lenet = rf.item(items, "sensitivity-lenet")
    assert lenet.figure is None and "single learning rate" in lenet.note
    column, label, higher = sensitivity.quality(rich.trials[rich.trials["problem"] == "lenet"])
    assert (column, label, higher) == ("final_metric", "final test accuracy", True)
    assert ranking.higher_is_better(rich.trials[rich.trials["problem"] == "lenet"]["target"].iloc[0])


def test_the_golden_run_has_one_rate_per_optimizer_so_every_item_is_a_note():
    items = sensitivity.build(rf.golden_data())
    assert [i.figure for i in items] == [None] * 4
    assert all("single learning rate" in i.note for i in items)
