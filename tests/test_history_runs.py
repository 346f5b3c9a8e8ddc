"""history on real results directories: runs written by the store itself (RunWriter with
golden records), one run per night with increasing start times."""

import json
import os
import random

import pytest

pytest.importorskip("pandas", reason="history needs pandas (optbench[report])")
pytest.importorskip("ruptures", reason="history needs ruptures (optbench[report])")

from bench.compare.history import HistoryError, history, load_series
from bench.compare.history_command import history_command
from bench.store import RunWriter
from tests.conftest import golden_record, golden_run

SGD, ADAM = (0, 1), (4, 5)  # golden records: linear with sgd, then adam, seeds 0 and 1
STEP_S, TRAIN_S = 6e-5, 0.012


def manifest_of(run_id, night, nvpmodel=None):
    with open(os.path.join(golden_run(2), "manifest.json")) as handle:
        manifest = json.load(handle)
    manifest.update(run_id=run_id, suite="nightly", started_at=f"2026-12-{night + 1:02d}T02:00:00+00:00")
    manifest["environment"] = dict(manifest["environment"], git_commit=f"{night:02d}" * 20)
    manifest["telemetry"] = dict(manifest["telemetry"], nvpmodel=nvpmodel)
    return manifest


def write_nights(results, nights, slower_from=None, slowdown=1.2, throttled=(), power_modes=None, shared=()):
    """``nights`` runs of suite 'nightly' (sgd and adam on linear, two seeds): times with 1%
    noise; sgd's 20% slower from night ``slower_from``; sgd's seed 0 throttled (and 30%
    slower) on the nights in ``throttled``; sgd's seeds trained in a vectorised batch (and 30%
    slower) on the nights in ``shared``."""
    rng = random.Random(7)
    for night in range(nights):
        # Named so that directory order is not night order: history must sort by started_at.
        run_id = f"night-{night:02d}"
        mode = {"id": 0, "name": (power_modes or {}).get(night, "MAXN")}
        writer = RunWriter(
            str(results / "nightly" / f"r{(night * 7) % nights}-{run_id}"), manifest_of(run_id, night, mode)
        )
        for indices in (SGD, ADAM):
            for index in indices:
                factor = 1 + rng.gauss(0, 0.01)
                if indices == SGD and slower_from is not None and night >= slower_from:
                    factor *= slowdown
                original = golden_record(index)
                telemetry = dict(original.telemetry)
                if indices == SGD and index == 0 and night in throttled:
                    telemetry["throttled"] = True
                    factor *= 1.3
                batched = indices == SGD and night in shared
                factor *= 1.3 if batched else 1.0
                record = golden_record(
                    index,
                    run_id=run_id,
                    step_time_median_s=STEP_S * factor,
                    train_time_s=TRAIN_S * factor,
                    telemetry=telemetry,
                    stability="stable",  # steady nights; the golden line's own verdict is beside the point
                    stability_reason=None,
                    timing_shared="batched" if batched else None,
                )
                writer.append(record, [])
        writer.close()
    return str(results)


def test_a_slower_step_time_from_night_7_is_flagged(tmp_path, capsys):
    results = write_nights(tmp_path, 10, slower_from=7)
    changes = history(results)
    slower = changes[changes["configuration"].str.startswith("linear sgd")]
    assert set(slower["metric"]) == {"step_time", "train_time"}
    assert list(slower["kind"]) == ["step", "step"] and list(slower["night"]) == [7, 7]
    row = slower.iloc[0]
    assert (row["run_before"], row["run_after"]) == ("night-06", "night-07")
    assert (row["commit_before"], row["commit_after"]) == ("06" * 20, "07" * 20)
    assert row["ratio"] == pytest.approx(1.2, rel=0.03) and row["regression"]
    assert row["p_value"] < 0.01
    assert not changes["configuration"].str.startswith("linear adam").any()  # unchanged: not flagged

    assert history_command(results, "nightly", "text") == 1
    out = capsys.readouterr().out
    assert "night-06 -> night-07" in out and "0606060606 -> 0707070707" in out
    assert "regression" in out

    assert history_command(results, None, "json") == 1
    data = json.loads(capsys.readouterr().out)
    assert {c["run_after"] for c in data["changes"]} == {"night-07"}
    assert history_command(results, None, "markdown") == 1
    assert "| step_time | linear sgd lr 0.1 |" in capsys.readouterr().out


def test_no_change_exits_0(tmp_path, capsys):
    results = write_nights(tmp_path, 10)
    assert history_command(results, "nightly", "text") == 0
    assert capsys.readouterr().out.startswith("no change in 6 series over 10 nights")


def test_throttled_and_other_power_mode_nights_are_left_out_and_counted(tmp_path, capsys):
    # Three throttled nights at the end, 30% slower: counted in, they would be a step.
    results = write_nights(tmp_path, 13, throttled=(10, 11, 12), power_modes={2: "5W"})
    series = load_series(results, "nightly")
    sgd_step = series[
        (series["metric"] == "step_time") & series["configuration"].str.startswith("linear sgd")
    ]
    assert dict(zip(sgd_step["night"], sgd_step["excluded"]))[2] == "power_mode"
    assert sorted(sgd_step.loc[sgd_step["excluded"] == "throttled", "night"]) == [10, 11, 12]
    loss = series[series["metric"] == "final_loss"]
    assert loss["excluded"].isna().all()  # a loss does not depend on the clock

    changes = history(results, "nightly")
    assert changes.empty
    assert changes.attrs["series"] == 6  # step time, train time, final loss of sgd and adam
    assert changes.attrs["excluded"] == {"throttled": 6, "power_mode": 4, "timing_shared": 0, "unstable": 0}
    assert history_command(results, "nightly", "text") == 0
    out = capsys.readouterr().out
    assert "4 power mode, 6 throttled" in out

    # The same nights counted in: the slowdown is flagged (the exclusion is what hid it).
    included = series.assign(excluded=None)
    from bench.compare.history import find_changes

    assert (find_changes(included)["night"] == 10).any()


def test_nights_whose_trials_were_timed_beside_others_are_left_out_of_time_series(tmp_path, capsys):
    # Three nights at the end whose sgd trials were trained in a vectorised batch, 30% slower
    # per trial: their times are not the trials' own, and counted in they would be a step.
    results = write_nights(tmp_path, 13, shared=(10, 11, 12))
    series = load_series(results, "nightly")
    sgd_step = series[
        (series["metric"] == "step_time") & series["configuration"].str.startswith("linear sgd")
    ]
    assert sorted(sgd_step.loc[sgd_step["excluded"] == "timing_shared", "night"]) == [10, 11, 12]
    assert series[series["metric"] == "final_loss"]["excluded"].isna().all()  # what it learned still counts
    changes = history(results, "nightly")
    assert changes.empty
    assert changes.attrs["excluded"]["timing_shared"] == 6  # step time and train time, three nights
    assert history_command(results, "nightly", "text") == 0
    assert "6 timing shared" in capsys.readouterr().out


def test_fewer_nights_than_needed_exit_3(tmp_path, capsys):
    results = write_nights(tmp_path, 5, slower_from=3)
    assert history_command(results, "nightly", "text") == 3
    err = capsys.readouterr().err
    assert "5 night(s)" in err and "at least 9" in err


def test_bad_input_exit_2_naming_the_path(tmp_path, capsys):
    missing = str(tmp_path / "nowhere")
    assert history_command(missing, None, "text") == 2
    assert missing in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert history_command(str(empty), None, "text") == 2
    assert "no runs" in capsys.readouterr().err
    write_nights(tmp_path / "r", 2)
    with pytest.raises(HistoryError, match="no runs of suite 'other'"):
        history(str(tmp_path / "r"), "other")


def test_a_suite_directory_itself_is_accepted(tmp_path):
    results = write_nights(tmp_path, 10, slower_from=7)
    changes = history(os.path.join(results, "nightly"))
    assert set(changes["night"]) == {7}


def test_until_a_run_leaves_the_later_nights_out(tmp_path):
    results = write_nights(tmp_path, 10, slower_from=7)
    (sixth,) = (tmp_path / "nightly").glob("*-night-06")
    series = load_series(results, "nightly", until=str(sixth))
    assert sorted(series["night"].unique()) == list(range(7))
    assert history(results).attrs["nights"] == 10  # without it, every night
