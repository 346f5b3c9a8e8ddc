"""Figures 1, 5 and 6 (convergence, performance profiles, tuning cost) on loaded results."""

import io

import pytest

pytest.importorskip("seaborn", reason="the report needs seaborn (optbench[report])")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from analysis_results import record, sweep_run, write_run  # noqa: E402
from conftest import golden_run  # noqa: E402

from bench.analysis import convergence as curves_analysis  # noqa: E402
from bench.report import palette  # noqa: E402
from bench.report.data import load_report_data  # noqa: E402
from bench.report.figures import OVERVIEW, FigureItem, convergence, profiles, tuning  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def golden():
    return load_report_data(golden_run(2), baseline_dir=golden_run(1))


@pytest.fixture(scope="module")
def golden_alone():
    return load_report_data(golden_run(2))


def _drawn(item: FigureItem):
    assert item.figure is not None, item.note
    item.figure.savefig(io.BytesIO(), format="png")  # it renders
    return item.figure


def _legend(figure):
    legends = figure.legends or [ax.get_legend() for ax in figure.axes if ax.get_legend()]
    return [text.get_text() for text in legends[0].get_texts()]


def test_convergence_one_item_per_problem_two_panels_median_and_band(golden_alone):
    items = {item.name: item for item in convergence.build(golden_alone)}
    assert list(items) == [
        "convergence-linear",
        "convergence-linear-noisy",
        "convergence-curve",
        "convergence-lenet",
    ]
    assert all(item.section == item.name[len("convergence-") :] for item in items.values())
    figure = _drawn(items["convergence-linear"])
    by_step, by_time = figure.axes
    assert by_step.get_xlabel() == "step" and by_time.get_xlabel() == "training time (s)"
    assert len(by_step.get_lines()) == 3  # sgd, adam and the target (linear's target is a loss)
    assert _legend(figure) == ["sgd (lr 0.1)", "adam (lr 0.05)", "target 0.0001"]
    assert [line.get_color() for line in by_step.get_lines()[:2]] == [
        palette.colour("sgd"),
        palette.colour("adam"),
    ]
    assert by_step.get_yscale() == "log"  # from about 10 down to 0.007
    assert tuple(figure.get_size_inches()) == (8.0, 4.5)
    lenet = _drawn(items["convergence-lenet"])
    assert (
        lenet.axes[0].get_yscale() == "linear" and len(lenet.axes[0].get_lines()) == 2
    )  # accuracy target: no line
    assert _legend(_drawn(items["convergence-curve"])) == [
        "sgd (lr 0.05, activation tanh)",
        "adam (lr 0.01, activation tanh)",
    ]
    assert "sgd: 2 of 2 seeds diverged" in items["convergence-linear-noisy"].note


def test_convergence_band_spans_the_seeds_quartiles(golden_alone):
    frame = curves_analysis.best_curves(golden_alone.trials, golden_alone.curves)
    own = frame[(frame["problem"] == "lenet") & (frame["optimizer"] == "sgd") & frame["loss_median"].notna()]
    figure = convergence.plot_convergence(frame[frame["problem"] == "lenet"], "lenet")
    band = figure.axes[0].collections[0].get_paths()[0].vertices  # sgd's, drawn first
    assert band[:, 1].min() == pytest.approx(own["loss_q25"].min())
    assert band[:, 1].max() == pytest.approx(own["loss_q75"].max())


def test_convergence_with_a_baseline_draws_it_dashed_in_the_same_colours(golden):
    (curve,) = [item for item in convergence.build(golden) if item.name == "convergence-curve"]
    by_step = _drawn(curve).axes[0]
    dashed = [line for line in by_step.get_lines() if line.get_linestyle() == "--"]
    assert [line.get_label() for line in dashed] == [
        "sgd (lr 0.05, activation tanh), baseline", "adam (lr 0.01, activation tanh), baseline",
    ]  # fmt: skip
    assert [line.get_color() for line in dashed] == [palette.colour("sgd"), palette.colour("adam")]
    assert "baseline run (golden/schema1)" in curve.note


def test_convergence_of_a_problem_with_no_curves_is_left_out_with_a_note(tmp_path):
    run = write_run(tmp_path / "skipped", [record(seed=s, loss=None, status="skipped") for s in range(2)])
    (item,) = convergence.build(load_report_data(run))
    assert item.figure is None and item.note == "every trial was skipped for linear: no curves to draw"


def test_profiles_time_drawn_energy_left_out_without_power(golden_alone):
    items = {item.name: item for item in profiles.build(golden_alone)}
    assert list(items) == ["profile-time", "profile-energy"]
    assert all(item.section == OVERVIEW for item in items.values())
    figure = _drawn(items["profile-time"])
    (ax,) = figure.axes
    assert len(ax.get_lines()) == 2 and _legend(figure) == ["sgd", "adam"]
    assert ax.get_xlim() == (1.0, 4.0) and "1 problem" in ax.get_title()
    assert (
        "Left out (no optimizer's median reached the target): lenet, linear, linear-noisy."
        in items["profile-time"].note
    )
    energy = items["profile-energy"]
    assert energy.figure is None and "no energy measured" in energy.note


def test_profiles_energy_drawn_where_measured(tmp_path):
    records = [
        record(problem=p, optimizer=o, seed=s, loss=0.01, to_target=t, energy=2 * t, energy_to_target=t)
        for p in ("p1", "p2") for s in range(2) for o, t in (("sgd", 1.0 + s), ("adam", 2.0 + s))
    ]  # fmt: skip
    items = {
        item.name: item for item in profiles.build(load_report_data(write_run(tmp_path / "energy", records)))
    }
    figure = _drawn(items["profile-energy"])
    assert "energy" in figure.axes[0].get_xlabel() and len(figure.axes[0].get_lines()) == 2


def test_tuning_left_out_where_each_optimizer_tried_one_rate(golden_alone):
    items = tuning.build(golden_alone)
    assert [item.name for item in items] == [
        "tuning-linear",
        "tuning-linear-noisy",
        "tuning-curve",
        "tuning-lenet",
    ]
    assert all(item.figure is None and "single learning rate" in item.note for item in items)


def test_tuning_one_line_per_optimizer_on_a_real_sweep(tmp_path_factory):
    items = {item.name: item for item in tuning.build(load_report_data(sweep_run(tmp_path_factory)))}
    assert list(items) == ["tuning-linear", "tuning-curve"]
    linear = items["tuning-linear"]
    assert linear.section == "linear"
    figure = _drawn(linear)
    (ax,) = figure.axes
    assert len(ax.get_lines()) == 3
    assert _legend(figure) == ["sgd (3 rates, 1 failed)", "momentum (3 rates)", "adam (3 rates)"]
    assert list(ax.get_xticks()) == [1, 2, 3]
    assert "sgd: with k <= 1 all the rates drawn may have failed" in linear.note
    assert "The sweeps cost: sgd 3 rates" in linear.note


def test_tuning_y_scale_is_log_only_across_decades(tmp_path):
    def run(name, losses):
        records = [
            record(optimizer="sgd", lr=lr, seed=0, loss=loss) for lr, loss in zip((0.01, 0.1, 1.0), losses)
        ]
        return load_report_data(write_run(tmp_path / name, records))

    (wide,) = tuning.build(run("wide", (1.0, 0.1, 0.001)))
    (narrow,) = tuning.build(run("narrow", (1.0, 0.5, 0.1)))
    assert _drawn(wide).axes[0].get_yscale() == "log"
    assert _drawn(narrow).axes[0].get_yscale() == "linear"
    assert "lower is better" in _drawn(narrow).axes[0].get_ylabel()
