"""Retention: the newest N nightly runs stay whole; older ones lose their curves and telemetry
samples and keep what history, compare and the summaries read."""

import os

import pytest
from conftest import run_cli
from nightly_fixtures import night_record, nightly, summary_of

from bench import store
from bench.nightly import retention

SUITE = """
name: keep
problems:
  linear: {steps: 40}
optimizers: {sgd: {lr: [0.05]}}
seeds: [0, 1]
telemetry: {sources: [host], idle_baseline: 0}
"""

KEPT = ("manifest.json", "trials.jsonl", "night.json", "summary.json", "summary.md")


@pytest.mark.slow
def test_after_n_plus_2_nights_the_oldest_curves_are_pruned_and_every_summary_is_kept(write_suite, tmp_path):
    suite = write_suite(SUITE, name="keep.yaml")
    results = tmp_path / "results"
    manual = run_cli(
        "run", suite, "--results", str(results), "--run-id", "by-hand"
    )  # not a nightly's: never pruned
    assert manual.returncode == 0, manual.stderr
    nights = [f"2026-12-0{day}" for day in range(1, 5)]
    for day in nights:
        done = nightly(suite, "--keep", "2", results=results, now=day + "T22:00")
        assert done.returncode == 0, done.stderr  # no baseline, and history too short to flag anything
    runs = [str(results / "keep" / day) for day in nights]
    for run_dir in runs:
        assert all(os.path.exists(os.path.join(run_dir, name)) for name in KEPT), os.listdir(run_dir)
        assert len(store.read_trials(run_dir)) == 2
    for run_dir in runs[:2]:  # the oldest two: pruned, and it says so
        assert not any(os.path.exists(os.path.join(run_dir, n)) for n in retention.PRUNED_FILES)
        (pruned,) = night_record(run_dir)["pruned"]
        assert pruned["files"] == ["curves.csv", "telemetry.csv"] and pruned["bytes"] > 0
    for run_dir in runs[2:]:  # the newest two: whole
        assert all(os.path.exists(os.path.join(run_dir, n)) for n in retention.PRUNED_FILES)
        assert "pruned" not in night_record(run_dir)
    assert os.path.exists(str(results / "keep" / "by-hand" / "curves.csv"))
    # each night's summary names what its retention step pruned
    assert [e["run_dir"] for e in summary_of(runs[2])["retention"]] == [runs[0]]
    assert [e["run_dir"] for e in summary_of(runs[3])["retention"]] == [runs[1]]
    assert store.read_curves(runs[0]) == []  # a pruned run still reads: its trials, no curves


def test_keep_must_leave_at_least_one_run(tmp_path):
    with pytest.raises(ValueError, match="--keep 0: keep at least the newest run whole"):
        retention.prune(str(tmp_path), 0)
