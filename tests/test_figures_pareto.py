"""Figure 7, final quality against energy or time with the Pareto front, on real results."""

import math

import pytest

pytest.importorskip("pandas", reason="the report needs pandas (optbench[report])")
pytest.importorskip("seaborn", reason="the report needs seaborn (optbench[report])")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import report_fixtures as rf  # noqa: E402

from bench import ranking  # noqa: E402
from bench.report import palette  # noqa: E402
from bench.report.figures import pareto  # noqa: E402


@pytest.fixture(scope="session")
def powered(tmp_path_factory):
    return rf.powered_data(tmp_path_factory)


@pytest.fixture(scope="module")
def items(powered):
    built = pareto.build(powered)
    yield built
    for i in built:
        if i.figure is not None:
            plt.close(i.figure)


def _flat(pairs):
    """(x, y) pairs, sorted, as one flat list (what pytest.approx compares)."""
    return [v for pair in sorted(tuple(p) for p in pairs) for v in pair]


def test_the_front_is_the_points_nothing_beats_on_both():
    cost = [1.0, 2.0, 3.0, 2.0, 4.0]
    loss = [5.0, 3.0, 3.0, 4.0, 1.0]
    assert pareto.pareto_front(cost, loss, higher_is_better=False) == [True, True, False, False, True]
    accuracy = [0.5, 0.7, 0.7, 0.6, 0.9]
    assert pareto.pareto_front(cost, accuracy, higher_is_better=True) == [True, True, False, False, True]


def test_every_configuration_a_point_coloured_by_optimizer_with_the_front_drawn(items, powered):
    item = rf.item(items, "pareto-curve")
    (ax,) = item.figure.axes
    assert ax.get_xlabel() == "energy of training, median over seeds (J)"
    assert ax.get_ylabel() == "final training loss, median over seeds (lower is better)"
    trials = powered.trials[powered.trials["problem"] == "curve"]
    for optimizer in ("sgd", "adam"):
        mine = trials[trials["optimizer"] == optimizer]
        medians = mine.groupby("configuration").agg(
            cost=("energy_train_j", "median"), loss=("final_loss", "median")
        )
        (points,) = rf.artists(item.figure, f"configurations-{optimizer}")
        assert _flat(points.get_offsets()) == pytest.approx(_flat(medians.itertuples(index=False)))
        assert rf.rgb(points.get_facecolor()[0]) == rf.rgb(palette.colour(optimizer))
    # the front: worked out here from every configuration's medians
    everything = trials.groupby("configuration").agg(
        cost=("energy_train_j", "median"), loss=("final_loss", "median")
    )
    front = [
        (c, v)
        for c, v in everything.itertuples(index=False)
        if not any(
            c2 <= c and v2 <= v and (c2, v2) != (c, v) for c2, v2 in everything.itertuples(index=False)
        )
    ]
    (circled,) = rf.artists(item.figure, "front-points")
    assert _flat(circled.get_offsets()) == pytest.approx(_flat(front))
    (line,) = rf.artists(item.figure, "front")
    assert list(line.get_xdata()) == sorted(c for c, _ in front)
    assert line.get_drawstyle() == "steps-post"


def test_configurations_that_failed_on_most_seeds_are_left_out_and_counted(items, powered):
    item = rf.item(items, "pareto-linear-noisy")
    trials = powered.trials[powered.trials["problem"] == "linear-noisy"]
    standings = ranking.rank(trials.to_dict("records"))["linear-noisy"]
    failed = [s for s in standings if math.isinf(s.score)]
    assert len(failed) == 2  # sgd and momentum at 0.01
    drawn = sum(
        len(a.get_offsets())
        for o in ("sgd", "momentum", "adam")
        for a in rf.artists(item.figure, f"configurations-{o}")
    )
    assert drawn == len(standings) - 2
    assert "2 configurations left out: failed on most seeds, or unmeasured." in item.note


def test_training_time_stands_in_where_no_energy_was_measured():
    items = pareto.build(rf.golden_data())
    try:
        lenet = rf.item(items, "pareto-lenet")
        (ax,) = lenet.figure.axes
        assert ax.get_xlabel() == "training time, median over seeds (s)"
        assert ax.get_ylabel() == "final test accuracy, median over seeds (higher is better)"
        assert "This run measured no energy" in lenet.note
        noisy = rf.item(items, "pareto-linear-noisy")  # sgd diverged on both seeds: adam alone
        assert rf.artists(noisy.figure, "configurations-sgd") == []
        (adam,) = rf.artists(noisy.figure, "configurations-adam")
        assert len(adam.get_offsets()) == 1
    finally:
        for i in items:
            if i.figure is not None:
                plt.close(i.figure)
