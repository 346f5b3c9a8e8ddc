"""Figure 9, learned weight and bias on the linear problems, on real results."""

import pytest

pytest.importorskip("pandas", reason="the report needs pandas (optbench[report])")
pytest.importorskip("seaborn", reason="the report needs seaborn (optbench[report])")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import report_fixtures as rf  # noqa: E402

from bench.analysis import choice  # noqa: E402
from bench.report import palette  # noqa: E402
from bench.report.figures import OVERVIEW, learned  # noqa: E402


@pytest.fixture(scope="session")
def rich(tmp_path_factory):
    return rf.rich_data(tmp_path_factory)


def test_each_seed_of_each_best_configuration_against_truth_and_optimum(rich):
    items = learned.build(rich)
    try:
        assert [(i.name, i.section) for i in items] == [
            ("learned-linear", "linear"), ("learned-linear-noisy", "linear-noisy"),
            ("learned-linear-multi", "linear-multi"),
        ]  # fmt: skip
        figure = rf.item(items, "learned-linear").figure
        (ax,) = figure.axes
        assert [t.get_text() for t in ax.get_xticklabels()] == ["w", "b"]
        chosen = {key: s.configuration for key, s in choice.best_configurations(rich.trials).items()}
        for optimizer in ("sgd", "momentum", "adam"):
            seeds = rich.trials[rich.trials["configuration"] == chosen["linear", optimizer]]
            (weights,) = rf.artists(figure, f"seeds-{optimizer}-w")
            (biases,) = rf.artists(figure, f"seeds-{optimizer}-b")
            assert sorted(weights.get_offsets()[:, 1]) == sorted(s["weight"][0][0] for s in seeds["learned"])
            assert sorted(biases.get_offsets()[:, 1]) == sorted(s["bias"][0] for s in seeds["learned"])
            assert rf.rgb(weights.get_facecolor()[0]) == rf.rgb(palette.colour(optimizer))
        # y = 3x + 0.8: the truth, dashed
        (truth_w,) = rf.artists(figure, "truth-w")
        (truth_b,) = rf.artists(figure, "truth-b")
        assert truth_w.get_segments()[0][0][1] == 3.0 and truth_b.get_segments()[0][0][1] == 0.8
        assert truth_w.get_linestyle()[0][1] is not None  # dashed
        optimum = rich.trials.loc[rich.trials["problem"] == "linear", "learned"].iloc[0]["optimum"]
        (optimum_w,) = rf.artists(figure, "optimum-w")
        assert optimum_w.get_segments()[0][0][1] == pytest.approx(optimum["weight"][0][0])
    finally:
        rf.close(items)


def test_a_multi_output_map_shows_every_weight_and_bias(rich):
    items = learned.build(rich)
    try:
        figure = rf.item(items, "learned-linear-multi").figure
        (ax,) = figure.axes
        labels = [t.get_text() for t in ax.get_xticklabels()]
        # nn.Linear(3, 4): a 4 x 3 weight and 4 biases
        assert labels == [f"w[{i},{j}]" for i in range(1, 5) for j in range(1, 4)] + [
            f"b[{i}]" for i in range(1, 5)
        ]
        chosen = {key: s.configuration for key, s in choice.best_configurations(rich.trials).items()}
        seeds = rich.trials[rich.trials["configuration"] == chosen["linear-multi", "adam"]]
        (points,) = rf.artists(figure, "seeds-adam-w[4,2]")
        assert sorted(points.get_offsets()[:, 1]) == sorted(s["weight"][3][1] for s in seeds["learned"])
        (truth,) = rf.artists(figure, "truth-b[3]")
        assert truth.get_segments()[0][0][1] == seeds["learned"].iloc[0]["truth"]["bias"][2]
    finally:
        rf.close(items)


def test_diverged_seeds_are_left_out_and_counted():
    items = learned.build(rf.golden_data())
    try:
        noisy = rf.item(items, "learned-linear-noisy")  # sgd diverged on both seeds
        assert rf.artists(noisy.figure, "seeds-sgd-w") == []
        assert "sgd (2 failed, not shown)" in [t.get_text() for t in noisy.figure.legends[0].get_texts()]
        assert noisy.note.endswith("Left out, diverged or failed: sgd 2.")
        (adam,) = rf.artists(noisy.figure, "seeds-adam-w")
        assert len(adam.get_offsets()) == 2
    finally:
        rf.close(items)


def test_no_linear_problem_is_a_note():
    golden = rf.golden_data()
    (item,) = learned.build(rf.without(golden, ["linear", "linear-noisy"]))
    assert item.figure is None and item.section == OVERVIEW
    assert item.note.startswith("This run has no linear problem")
