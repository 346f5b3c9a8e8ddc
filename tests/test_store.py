"""The results store: append-only, crash-safe, locked, refusing what it cannot read."""

import json
import os

import pytest
from conftest import golden_record

from bench import store
from bench.record import SCHEMA_VERSION, without_non_finite


def record(trial_id, status="ok"):
    return golden_record(trial_id=trial_id, status=status)


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
    with pytest.raises(
        store.StoreError,
        match=r"manifest.json: manifest has schema version 99, newer than this optbench reads \(1 to \d+\); upgrade optbench",
    ):
        store.read_manifest(str(tmp_path))
    with open(os.path.join(str(tmp_path), store.MANIFEST), "w") as manifest:
        json.dump({"schema": "two"}, manifest)
    with pytest.raises(store.StoreError, match="manifest has schema version 'two'"):
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
    odd = golden_record(trial_id="a", final_loss=float("nan"), learned={"weight": [[float("inf")]]})
    writer.append(odd, [])
    writer.close()
    with open(os.path.join(str(tmp_path), store.TRIALS)) as trials:
        (line,) = trials.read().splitlines()
    assert "NaN" not in line and "Infinity" not in line  # strict JSON readers accept it
    (read,) = store.read_trials(str(tmp_path))
    assert read.final_loss is None and read.learned == {"weight": [[None]]}


def test_non_finite_numbers_become_null_at_any_depth():
    learned = {"weight": [[float("nan")]], "bias": [float("inf"), 1.5], "truth": {"w": -float("inf")}}
    assert without_non_finite(learned) == {"weight": [[None]], "bias": [None, 1.5], "truth": {"w": None}}
    assert without_non_finite(("a", 2, 0.5, None)) == ["a", 2, 0.5, None]


def run_started(root, name, started_at):
    writer = store.RunWriter(
        os.path.join(str(root), name), {"schema": SCHEMA_VERSION, "suite_hash": "h", "started_at": started_at}
    )
    writer.close()


def test_the_latest_run_is_the_one_started_last_whatever_its_name(tmp_path):
    run_started(tmp_path, "20261130-220000", "2026-11-30T22:00:00+00:00")
    run_started(tmp_path, "baseline", "2026-11-01T08:00:00+00:00")  # sorts after every timestamp
    run_started(tmp_path, "20261201-010000", "2026-12-01T01:00:00+00:00")
    os.makedirs(os.path.join(str(tmp_path), "zzz-not-a-run"))
    assert os.path.basename(store.latest_run(str(tmp_path))) == "20261201-010000"


def test_a_run_written_in_an_older_schema_is_read_but_never_appended_to(tmp_path):
    import shutil

    from conftest import golden_run

    old = os.path.join(str(tmp_path), "old")
    shutil.copytree(golden_run(1), old)
    assert len(store.read_trials(old)) == 24
    before = open(os.path.join(old, store.TRIALS)).read()
    manifest = dict(store.read_manifest(old), schema=SCHEMA_VERSION)
    with pytest.raises(store.StoreError, match="written in results schema version 1.*start a new run"):
        store.RunWriter(old, manifest)
    assert open(os.path.join(old, store.TRIALS)).read() == before
