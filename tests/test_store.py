"""The results store: append-only, crash-safe, locked, refusing what it cannot read."""

import json
import os

import pytest

from bench import store
from bench.record import SCHEMA_VERSION, TrialRecord, field_names, without_non_finite


def record(trial_id, status="ok"):
    values = {name: None for name in field_names()}
    values.update(
        schema=SCHEMA_VERSION, trial_id=trial_id, suite="s", run_id="r", config={"problem": "linear"},
        seed=1, status=status, started_at="t0", finished_at="t1", steps=3, epochs=3.0,
        target={"quantity": "loss", "value": 1.0, "direction": "below"}, wall_time_s=0.1,
        train_time_s=0.05, eval_time_s=0.01, step_time_samples=3, num_threads=1, memory={}, device="cpu",
    )  # fmt: skip
    return TrialRecord(**values)


def curve(trial_id):
    return [(trial_id, step, 0.01 * step, 1.0 / step, None, None) for step in (1, 2, 3)]


def open_run(path, suite_hash="h"):
    return store.RunWriter(
        str(path), {"schema": SCHEMA_VERSION, "suite_hash": suite_hash, "finished_at": None}
    )


def test_records_and_curves_round_trip(tmp_path):
    writer = open_run(tmp_path)
    writer.append(record("a"), curve("a"))
    writer.append(record("b"), curve("b"))
    writer.close()
    assert [r.trial_id for r in store.read_trials(str(tmp_path))] == ["a", "b"]
    rows = store.read_curves(str(tmp_path))
    assert len(rows) == 6 and rows[0] == {
        "trial_id": "a", "step": "1", "time_s": "0.01", "loss": "1.0", "eval_loss": "", "metric": "",
    }  # fmt: skip


def test_a_torn_last_line_is_ignored_with_a_warning(tmp_path):
    writer = open_run(tmp_path)
    writer.append(record("a"), curve("a"))
    writer.close()
    with open(os.path.join(str(tmp_path), store.TRIALS), "a") as trials:
        trials.write(json.dumps(record("b").to_json_dict())[:40])  # the power went out here
    with pytest.warns(UserWarning, match="line 2 is torn"):
        assert [r.trial_id for r in store.read_trials(str(tmp_path))] == ["a"]


def test_resuming_cuts_the_torn_tail_keeps_it_aside_and_drops_orphan_curve_rows(tmp_path):
    writer = open_run(tmp_path)
    writer.append(record("a"), curve("a"))
    writer.close()
    torn = json.dumps(record("b").to_json_dict())[:40]
    with open(os.path.join(str(tmp_path), store.TRIALS), "a") as trials:
        trials.write(torn)
    with open(os.path.join(str(tmp_path), store.CURVES), "a") as curves:
        curves.write("b,1,0.01,1.0,,\nb,2,0.0")  # b's curve, cut mid-row, and no record for b
    with pytest.warns(UserWarning, match="cut off a torn last line"):
        writer = open_run(tmp_path)
    assert writer.done == {"a"}
    writer.append(record("b"), curve("b"))
    writer.close()
    assert [r.trial_id for r in store.read_trials(str(tmp_path))] == ["a", "b"]
    rows = store.read_curves(str(tmp_path))
    assert [(r["trial_id"], r["step"]) for r in rows] == [
        ("a", "1"),
        ("a", "2"),
        ("a", "3"),
        ("b", "1"),
        ("b", "2"),
        ("b", "3"),
    ]
    with open(os.path.join(str(tmp_path), store.TRIALS + ".torn")) as kept:
        assert kept.read() == torn + "\n"  # nothing recorded is destroyed


def test_a_corrupt_line_in_the_middle_is_an_error_naming_file_and_line(tmp_path):
    writer = open_run(tmp_path)
    writer.append(record("a"), [])
    writer.close()
    path = os.path.join(str(tmp_path), store.TRIALS)
    with open(path, "a") as trials:
        trials.write("{not json\n")
        trials.write(json.dumps(record("c").to_json_dict()) + "\n")
    with pytest.raises(store.StoreError, match=r"trials.jsonl: line 2"):
        store.read_trials(str(tmp_path))


def test_unknown_schema_versions_are_refused(tmp_path):
    writer = open_run(tmp_path)
    writer.append(record("a"), [])
    writer.close()
    future = dict(record("b").to_json_dict(), schema=SCHEMA_VERSION + 1)
    with open(os.path.join(str(tmp_path), store.TRIALS), "a") as trials:
        trials.write(json.dumps(future) + "\n")
    with pytest.raises(store.StoreError, match=f"schema version {SCHEMA_VERSION + 1}"):
        store.read_trials(str(tmp_path))
    with open(os.path.join(str(tmp_path), store.MANIFEST), "w") as manifest:
        json.dump({"schema": 99}, manifest)
    with pytest.raises(store.StoreError, match="results schema version 99"):
        store.read_manifest(str(tmp_path))


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path):
    first = open_run(tmp_path)
    with pytest.raises(store.RunLocked, match=f"being written by another optbench run .pid {os.getpid()}"):
        open_run(tmp_path)
    first.close()
    open_run(tmp_path).close()  # released on close (and by the kernel if the process dies)


def test_a_run_directory_of_another_suite_is_refused(tmp_path):
    open_run(tmp_path, suite_hash="one").close()
    with pytest.raises(store.StoreError, match="written by a different suite"):
        open_run(tmp_path, suite_hash="two")


def test_a_record_is_one_whole_json_line_with_no_nan(tmp_path):
    writer = open_run(tmp_path)
    bad = TrialRecord(**dict(record("a").to_json_dict(), final_loss=float("nan")))
    with pytest.raises(ValueError):
        writer.append(bad, [])  # the trainer turns non-finite values into null before this
    writer.close()
    assert store.read_trials(str(tmp_path)) == []


def test_non_finite_numbers_become_null_at_any_depth():
    learned = {"weight": [[float("nan")]], "bias": [float("inf"), 1.5], "truth": {"w": -float("inf")}}
    assert without_non_finite(learned) == {"weight": [[None]], "bias": [None, 1.5], "truth": {"w": None}}
    assert without_non_finite(("a", 2, 0.5, None)) == ["a", 2, 0.5, None]
