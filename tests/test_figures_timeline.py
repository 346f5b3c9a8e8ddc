"""Figure 8, power and temperature over the run with the trials marked, on real results."""

import pytest

pytest.importorskip("pandas", reason="the report needs pandas (optbench[report])")
pytest.importorskip("seaborn", reason="the report needs seaborn (optbench[report])")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import report_fixtures as rf  # noqa: E402

from bench.report import palette  # noqa: E402
from bench.report.figures import OVERVIEW, timeline  # noqa: E402


@pytest.fixture(scope="session")
def powered(tmp_path_factory):
    return rf.powered_data(tmp_path_factory)


@pytest.fixture(scope="module")
def item(powered):
    (built,) = timeline.build(powered)
    yield built
    plt.close(built.figure)


def test_power_and_temperature_panels_from_every_sample_as_png(item, powered):
    assert (item.name, item.section, item.format) == ("timeline", OVERVIEW, "png")
    power_ax, temperature_ax = item.figure.axes
    assert power_ax.get_ylabel() == "power (W)" and temperature_ax.get_ylabel() == "temperature (°C)"
    assert temperature_ax.get_xlabel() == "time since the run's first sample (s)"
    samples = powered.telemetry
    total = samples[samples["name"] == "power_w.total"]
    (line,) = rf.artists(item.figure, "power-jetson-power_w.total")
    assert list(line.get_ydata()) == list(total["value"])
    assert list(line.get_xdata()) == pytest.approx(list(total["time_s"] - samples["time_s"].min()))
    assert (
        rf.artists(item.figure, "power-jetson-power_w.CPU") == []
    )  # the total says it; rails only without one
    zones = {a.get_gid() for a in item.figure.findobj(lambda a: str(a.get_gid()).startswith("temperature-"))}
    assert zones == {"temperature-jetson-temp_c.CPU", "temperature-jetson-temp_c.GPU"}


def test_each_trial_shaded_in_its_optimizers_colour_and_throttled_ones_marked(item, powered):
    trials = powered.trials
    origin = powered.telemetry["time_s"].min()
    for optimizer in ("sgd", "momentum", "adam"):
        mine = trials[trials["optimizer"] == optimizer]
        shades = rf.artists(item.figure, f"windows-{optimizer}")
        assert len(shades) == 2  # one per panel
        expected = sorted(
            (t["window_start_s"] - origin, t["window_end_s"] - t["window_start_s"]) for t in mine["telemetry"]
        )
        assert [v for span in _spans(shades[0]) for v in span] == pytest.approx(
            [v for s in expected for v in s]
        )
        assert rf.rgb(shades[0].get_facecolor()[0]) == rf.rgb(palette.colour(optimizer))
    throttled = trials[trials["throttled"] == True]  # noqa: E712 -- the column holds True, False or None
    assert len(throttled) > 0  # the scripted board passes its trip point late in the run
    marks = rf.artists(item.figure, "throttled")
    assert [len(m.get_offsets()) for m in marks] == [len(throttled)] * 2
    middles = sorted((t["window_start_s"] + t["window_end_s"]) / 2 - origin for t in throttled["telemetry"])
    assert sorted(marks[0].get_offsets()[:, 0]) == pytest.approx(middles)
    assert f"{len(throttled)} trials throttled" in item.note
    assert f"throttled ({len(throttled)} trials)" in [
        t.get_text() for t in item.figure.legends[0].get_texts()
    ]


def _spans(collection):
    """(x, width) of each rectangle a broken_barh drew, sorted."""
    return sorted(
        (p.vertices[:, 0].min(), p.vertices[:, 0].max() - p.vertices[:, 0].min())
        for p in collection.get_paths()
    )


def test_no_power_or_temperature_samples_is_a_note(tmp_path_factory):
    (golden,) = timeline.build(rf.golden_data())
    assert golden.figure is None
    assert golden.note == "The run's telemetry (host) has no power or temperature samples."
    (rich,) = timeline.build(rf.rich_data(tmp_path_factory))
    assert rich.figure is None and rich.note == "The run recorded no telemetry."


def test_a_source_lost_mid_trial_is_greyed_and_the_trials_telemetry_marked_partial(powered):
    """A recorded gap (jtop died for a while, the run went on) as a trial's record holds it
    (bench.telemetry.figures.trial_figures' "gaps"): the time without samples greyed, that
    trial cross-hatched as partial by the nightly summary's rule, and the note saying so."""
    import dataclasses

    trials = powered.trials.copy()
    k = len(trials) // 2
    telemetry = dict(trials["telemetry"].iloc[k])
    start, end = telemetry["window_start_s"], telemetry["window_end_s"]
    gap = {"source": "jetson", "start_s": start + 0.25 * (end - start), "end_s": start + 0.75 * (end - start),
           "reason": "jtop service stopped", "overlap_s": 0.5 * (end - start)}  # fmt: skip
    telemetry["gaps"] = [gap]
    trials["telemetry"] = [telemetry if i == k else t for i, t in enumerate(trials["telemetry"])]
    (built,) = timeline.build(dataclasses.replace(powered, trials=trials))
    try:
        origin = powered.telemetry["time_s"].min()
        greyed = rf.artists(built.figure, "telemetry-gaps")
        assert len(greyed) == 2 and len(_spans(greyed[0])) == 1  # both panels, the one gap
        assert list(_spans(greyed[0])[0]) == pytest.approx(
            [gap["start_s"] - origin, gap["end_s"] - gap["start_s"]]
        )
        (hatched, _) = rf.artists(built.figure, "partial-windows")
        assert (
            list(_spans(hatched)[0]) == pytest.approx([start - origin, end - start])
            and len(_spans(hatched)) == 1
        )
        assert "Telemetry partial for 1 trial (cross-hatched)" in built.note
        assert "Grey: no samples (jetson: jtop service stopped)." in built.note
        legend = [t.get_text() for t in built.figure.legends[0].get_texts()]
        assert "no jetson samples" in legend and "partial telemetry (1 trial)" in legend
    finally:
        plt.close(built.figure)


def test_a_whole_run_without_gaps_marks_nothing_partial(item):
    assert (
        rf.artists(item.figure, "telemetry-gaps") == [] and rf.artists(item.figure, "partial-windows") == []
    )
    assert "partial" not in item.note.lower()
