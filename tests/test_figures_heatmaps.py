"""Figure 3, the optimizer x activation / batch / regularisation heatmaps, on real results."""

import pytest

pytest.importorskip("pandas", reason="the report needs pandas (optbench[report])")
pytest.importorskip("seaborn", reason="the report needs seaborn (optbench[report])")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import report_fixtures as rf  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

from bench import ranking  # noqa: E402
from bench.report import palette  # noqa: E402
from bench.report.figures import OVERVIEW, heatmaps  # noqa: E402


@pytest.fixture(scope="session")
def rich(tmp_path_factory):
    return rf.rich_data(tmp_path_factory)


@pytest.fixture(scope="module")
def items(rich):
    built = heatmaps.build(rich)
    yield built
    rf.close(built)


def _expected_cell(trials, problem, optimizer, **axes):
    """What a cell must show, worked out here from the trials: the ranking's best
    configuration among the cell's trials, its median final test metric and its rate."""
    cell = trials[(trials["problem"] == problem) & (trials["optimizer"] == optimizer)]
    for axis, value in axes.items():
        cell = cell[cell[axis] == value]
    best = ranking.best(cell.to_dict("records"))[problem].configuration
    chosen = cell[cell["configuration"] == best]
    return chosen["final_metric"].median(), chosen["lr"].iloc[0]


def _cell_texts(figure):
    ax = figure.axes[0]
    return [t.get_text() for t in ax.texts]


def test_items_per_axis_and_problem(items):
    assert [(i.name, i.section) for i in items] == [
        ("heatmap-activation-curve", "curve"),
        ("heatmap-batch-lenet", "lenet"),
        ("heatmap-regularisation-lenet", "lenet"),
    ]
    assert all(i.figure is not None for i in items)


def test_optimizer_by_activation_on_curve_annotated_on_a_log_scale(items, rich):
    figure = rf.item(items, "heatmap-activation-curve").figure
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["none", "relu", "tanh", "sigmoid"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["sgd", "adam"]
    assert [rf.rgb(t.get_color()) for t in ax.get_yticklabels()] == [
        rf.rgb(palette.colour("sgd")), rf.rgb(palette.colour("adam")),
    ]  # fmt: skip
    assert isinstance(ax.collections[0].norm, LogNorm)  # test MSEs span decades
    texts = _cell_texts(figure)
    assert len(texts) == 8  # 2 optimizers x 4 activations, every cell annotated
    for optimizer in ("sgd", "adam"):
        for activation in ("none", "relu", "tanh", "sigmoid"):
            value, lr = _expected_cell(rich.trials, "curve", optimizer, activation=activation)
            assert f"{value:.3g}\nlr {lr:g}" in texts
    # the tutorial's lesson at a glance: without an activation the best cell is worse than with tanh
    none, _ = _expected_cell(rich.trials, "curve", "adam", activation="none")
    tanh, _ = _expected_cell(rich.trials, "curve", "adam", activation="tanh")
    assert none > 10 * tanh


def test_lenet_regularisation_held_at_one_batch_mode_and_named_in_the_caption(items, rich):
    item = rf.item(items, "heatmap-regularisation-lenet")
    ax = item.figure.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "dropout 0\nno batch norm", "dropout 0\nbatch norm", "dropout 0.25\nno batch norm",
        "dropout 0.25\nbatch norm",
    ]  # fmt: skip
    assert "Held at batch 32." in item.note  # both batch modes ran as often: the first planned
    assert not isinstance(ax.collections[0].norm, LogNorm)  # accuracies: a linear scale
    value, lr = _expected_cell(rich.trials, "lenet", "adam", batch="32", dropout=0.25, batch_norm=True)
    assert f"{value:.3g}\nlr {lr:g}" in _cell_texts(item.figure)
    batch = rf.item(items, "heatmap-batch-lenet")
    assert [t.get_text() for t in batch.figure.axes[0].get_xticklabels()] == ["32", "full"]
    assert "Held at dropout 0, no batch norm." in batch.note


def test_an_axis_with_one_value_or_an_absent_problem_is_a_note():
    golden = rf.golden_data()
    items = heatmaps.build(golden)
    try:
        assert rf.item(items, "heatmap-activation-curve").figure is not None  # none and tanh
        for kind in ("batch", "regularisation"):
            item = rf.item(items, f"heatmap-{kind}-lenet")
            assert item.figure is None and "single" in item.note and item.section == "lenet"
    finally:
        rf.close(items)
    items = heatmaps.build(rf.without(golden, ["curve"]))
    try:
        item = rf.item(items, "heatmap-activation-curve")
        assert (
            item.figure is None and item.note == "This run has no curve problem." and item.section == OVERVIEW
        )
    finally:
        rf.close(items)
