"""The results store: ``results/<suite>/<run-id>/``, append-only and crash-safe.

    manifest.json   schema version, the suite as resolved, environment fingerprint, times
    trials.jsonl    one TrialRecord per line, written whole and fsynced per trial
    curves.csv      long format: trial_id, step, time_s, loss, eval_loss, metric
    telemetry.csv   samples from bench.telemetry (time_s, source, name, value), if any
    trajectories.csv  landscape problems only: trial_id, step, x, y (theta along the way)
    .lock           held (flock) by the run writing here

A trial's curve and trajectory rows are written and synced before its record, so the record is the
commit mark: a power cut loses at most the trial in flight. On opening for append, a torn
last line is cut off (and kept in a ``.torn`` file, so nothing recorded is destroyed) and
curve and trajectory rows of trials without a record are dropped.
"""

import csv
import fcntl
import io
import json
import os
import warnings
from typing import Any, Dict, Iterable, List, Optional, Tuple

from bench.record import Status, TrialRecord
from bench.record_upgrades import curve_time_scales, upgrade_manifest

MANIFEST = "manifest.json"
TRIALS = "trials.jsonl"
CURVES = "curves.csv"
LOCK = ".lock"
CURVE_COLUMNS = ("trial_id", "step", "time_s", "loss", "eval_loss", "metric")
TRAJECTORIES = "trajectories.csv"
TRAJECTORY_COLUMNS = ("trial_id", "step", "x", "y")


class StoreError(Exception):
    """A results directory that cannot be used; the message says which file and why."""


class RunLocked(StoreError):
    pass


def read_manifest(run_dir: str) -> Dict[str, Any]:
    path = os.path.join(run_dir, MANIFEST)
    try:
        with open(path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except FileNotFoundError:
        raise StoreError(f"{path}: no manifest; is this an optbench results directory?") from None
    except NotADirectoryError:
        raise StoreError(f"{run_dir}: a file, not a results directory (results/<suite>/<run-id>)") from None
    except OSError as error:  # a directory where the file should be, no permission, ...
        raise StoreError(f"{path}: cannot read the manifest: {error.strerror}") from None
    except ValueError as error:
        raise StoreError(f"{path}: corrupt manifest: {error}") from None
    if not isinstance(manifest, dict):
        raise StoreError(f"{path}: not a manifest: a JSON object was expected, got {type(manifest).__name__}")
    try:
        return upgrade_manifest(manifest)
    except ValueError as error:
        raise StoreError(f"{path}: {error}") from None


def read_trials(run_dir: str) -> List[TrialRecord]:
    """Every recorded trial, in order; for a trial recorded twice (skipped, then run), the last.

    A torn last line (a power cut mid-write) is ignored with a warning. A corrupt line
    elsewhere is an error naming the file and line: that is not a crash we can explain.
    """
    path = os.path.join(run_dir, TRIALS)
    records = {}  # type: Dict[str, TrialRecord]
    if not os.path.exists(path):
        return []
    try:
        with open(path, "rb") as handle:
            lines = handle.read().split(b"\n")
    except OSError as error:
        raise StoreError(f"{path}: cannot read the trials: {error.strerror}") from None
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        last = number == len(lines)  # no newline after it: the write never finished
        try:
            data = json.loads(raw.decode("utf-8"))
        except ValueError as error:  # UnicodeDecodeError is one too
            if last:
                warnings.warn(
                    f"{path}: line {number} is torn (an interrupted write); ignoring it", stacklevel=2
                )
                continue
            raise StoreError(f"{path}: line {number}: not JSON: {error}") from None
        try:
            record = TrialRecord.from_json_dict(data)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            # Whole JSON but not a record this optbench can read: never silently dropped.
            raise StoreError(f"{path}: line {number}: {error}") from None
        records.pop(record.trial_id, None)
        records[record.trial_id] = record
    return list(records.values())


def read_curves(run_dir: str) -> List[Dict[str, Any]]:
    """The curve rows of recorded trials (plain dicts of text; the analysis half uses pandas),
    upgraded to this schema version."""
    train_time = {r.trial_id: r.train_time_s for r in read_trials(run_dir)}
    path = os.path.join(run_dir, CURVES)
    if not os.path.exists(path):
        return []
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            rows = [row for row in csv.DictReader(handle) if row.get("trial_id") in train_time]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise StoreError(
            f"{path}: cannot read the curves: {getattr(error, 'strerror', None) or error}"
        ) from None
    last = {row["trial_id"]: float(row["time_s"]) for row in rows if row["time_s"]}
    scales = curve_time_scales(read_manifest(run_dir)["written_schema"], last, train_time)
    for row in rows:
        if row["time_s"] and row["trial_id"] in scales:
            row["time_s"] = repr(float(row["time_s"]) * scales[row["trial_id"]])
    return rows


def read_trajectories(run_dir: str) -> List[Dict[str, Any]]:
    """The trajectory rows of recorded trials (plain dicts of text); none for a run without
    landscape problems, or one written before schema 3."""
    path = os.path.join(run_dir, TRAJECTORIES)
    if not os.path.exists(path):
        return []
    recorded = {r.trial_id for r in read_trials(run_dir)}
    with open(path, encoding="utf-8", newline="") as handle:
        return [row for row in csv.DictReader(handle) if row.get("trial_id") in recorded]


class RunWriter:
    """Appends trials to one run directory; holds its lock while open."""

    def __init__(self, run_dir: str, manifest: Dict[str, Any]):
        self.run_dir = run_dir
        os.makedirs(run_dir, exist_ok=True)
        self._lock = open(os.path.join(run_dir, LOCK), "a+")  # noqa: SIM115 -- held while the run lasts
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.seek(0)
            holder = self._lock.read().strip() or "another process"
            self._lock.close()
            raise RunLocked(f"{run_dir} is being written by another optbench run ({holder}); wait for it to finish, "
                            "or pass --new for a run of your own") from None  # fmt: skip
        self._lock.seek(0)
        self._lock.truncate()
        self._lock.write(f"pid {os.getpid()}")
        self._lock.flush()
        existing = os.path.exists(os.path.join(run_dir, MANIFEST))
        if existing:
            previous = read_manifest(run_dir)
            if previous["written_schema"] != manifest.get("schema"):
                self.close()
                raise StoreError(f"{run_dir} was written in results schema version {previous['written_schema']}; "
                                 f"this optbench writes version {manifest.get('schema')} and does not mix them "
                                 "in one run: start a new run (--new)")  # fmt: skip
            previous = dict(previous)
            del previous["written_schema"]
            if previous.get("suite_hash") != manifest.get("suite_hash"):
                self.close()
                raise StoreError(f"{run_dir} was written by a different suite (its resolved configuration differs); "
                                 "use a new run id")  # fmt: skip
            # Keep the first start's facts; note when and where each resumption ran, so a
            # run finished on another machine or software stack can be told apart.
            resumption = {
                "started_at": manifest.get("started_at"),
                "environment": manifest.get("environment"),
            }
            manifest = dict(
                previous,
                resumed=previous.get("resumed", 0) + 1,
                resumptions=previous.get("resumptions", []) + [resumption],
                finished_at=None,
            )
        _cut_torn_tail(os.path.join(run_dir, TRIALS))
        _cut_torn_tail(os.path.join(run_dir, CURVES))
        _cut_torn_tail(os.path.join(run_dir, TRAJECTORIES))
        try:  # before the manifest is rewritten: a resume refused here leaves it as it was
            self.done = {r.trial_id for r in read_trials(run_dir) if r.status is not Status.SKIPPED}
        except StoreError:
            self.close()
            raise
        self.manifest = manifest
        self.write_manifest()
        self._drop_orphan_rows(CURVES, CURVE_COLUMNS)
        self._drop_orphan_rows(TRAJECTORIES, TRAJECTORY_COLUMNS)
        self._trajectories = None  # opened at the first trajectory: most runs have none
        self._trials = open(os.path.join(run_dir, TRIALS), "a", encoding="utf-8")  # noqa: SIM115
        new_curves = not os.path.exists(os.path.join(run_dir, CURVES))
        self._curves = open(os.path.join(run_dir, CURVES), "a", encoding="utf-8", newline="")  # noqa: SIM115
        self._curve_writer = csv.writer(self._curves, lineterminator="\n")
        if new_curves:
            self._curve_writer.writerow(CURVE_COLUMNS)

    def write_manifest(self, **updates: Any) -> None:
        """Rewrite the manifest atomically (write, fsync, rename)."""
        self.manifest.update(updates)
        _atomic_write(
            os.path.join(self.run_dir, MANIFEST), json.dumps(self.manifest, indent=2, sort_keys=True)
        )

    def append(
        self,
        record: TrialRecord,
        curve: Iterable[Tuple[Any, ...]],
        trajectory: Iterable[Tuple[Any, ...]] = (),
    ) -> None:
        """Curve and trajectory first, then the record that commits them; all reach the disk
        before returning."""
        # csv writes None as the empty string, which is what the readers take for null
        self._curve_writer.writerows(curve)
        _sync(self._curves)
        trajectory = list(trajectory)
        if trajectory:
            self._write_trajectory(trajectory)
        line = json.dumps(record.to_json_dict(), sort_keys=True, allow_nan=False)
        self._trials.write(line + "\n")
        _sync(self._trials)
        self.done.add(record.trial_id)

    def append_many(
        self, entries: Iterable[Tuple[TrialRecord, Iterable[Tuple[Any, ...]], Iterable[Tuple[Any, ...]]]]
    ) -> None:
        """``append`` for several trials at once (a vectorised batch's): every curve and
        trajectory first, then the records that commit them, with one fsync per file instead
        of two per trial (those were half a vectorised linear sweep's time: docs/PERFORMANCE.md)."""
        entries = list(entries)
        for _, curve, _ in entries:
            self._curve_writer.writerows(curve)
        _sync(self._curves)
        trajectories = [row for _, _, trajectory in entries for row in trajectory]
        if trajectories:
            self._write_trajectory(trajectories)
        for record, _, _ in entries:
            self._trials.write(json.dumps(record.to_json_dict(), sort_keys=True, allow_nan=False) + "\n")
        _sync(self._trials)
        self.done.update(record.trial_id for record, _, _ in entries)

    def _write_trajectory(self, rows: List[Tuple[Any, ...]]) -> None:
        if self._trajectories is None:
            path = os.path.join(self.run_dir, TRAJECTORIES)
            new = not os.path.exists(path)
            self._trajectories = open(path, "a", encoding="utf-8", newline="")  # noqa: SIM115
            if new:
                csv.writer(self._trajectories, lineterminator="\n").writerow(TRAJECTORY_COLUMNS)
        writer = csv.writer(self._trajectories, lineterminator="\n")
        writer.writerows(rows)
        _sync(self._trajectories)

    def close(self) -> None:
        handles = ("_trials", "_curves", "_trajectories")
        for handle in (getattr(self, name, None) for name in handles):
            if handle is not None and not handle.closed:
                handle.close()
        if not self._lock.closed:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()

    def _drop_orphan_rows(self, name: str, columns: Tuple[str, ...]) -> None:
        """Rows (of curves.csv, trajectories.csv) from a trial that never got its record
        (cut off mid-trial) go."""
        path = os.path.join(self.run_dir, name)
        if not os.path.exists(path):
            return
        recorded = {r.trial_id for r in read_trials(self.run_dir)}
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        kept = [row for row in rows[1:] if row and row[0] in recorded]
        if len(kept) == len(rows) - 1:
            return
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows([list(columns)] + kept)
        _atomic_write(path, text.getvalue())


def _sync(handle) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _atomic_write(path: str, text: str) -> None:
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        _sync(handle)
    os.replace(temporary, path)
    directory = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _cut_torn_tail(path: str) -> Optional[str]:
    """If the file does not end in a newline, move its last partial line to PATH.torn."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    with open(path, "rb+") as handle:
        data = handle.read()
        if data.endswith(b"\n"):
            return None
        cut = data.rfind(b"\n") + 1
        with open(path + ".torn", "ab") as torn:
            torn.write(data[cut:] + b"\n")
        handle.truncate(cut)
    warnings.warn(f"{path}: cut off a torn last line (kept in {path}.torn)", stacklevel=2)
    return path + ".torn"


def unreadable_runs(suite_dir: str) -> Dict[str, str]:
    """Directories of a suite whose manifest cannot be read, with why: never resumed into, and
    a new run beside them must say so rather than silently repeat their trials."""
    found = {}  # type: Dict[str, str]
    if not os.path.isdir(suite_dir):
        return found
    for name in sorted(os.listdir(suite_dir)):
        run_dir = os.path.join(suite_dir, name)
        if not os.path.isdir(run_dir):
            continue
        try:
            read_manifest(run_dir)
        except StoreError as error:
            found[run_dir] = str(error)
    return found


def latest_run(suite_dir: str) -> Optional[str]:
    """The most recently started run directory of a suite, if any: by the manifest's start
    time, not the directory's name (a run named ``baseline`` is not newer than every other)."""
    if not os.path.isdir(suite_dir):
        return None
    started = {}  # type: Dict[str, str]
    for name in os.listdir(suite_dir):
        run_dir = os.path.join(suite_dir, name)
        try:
            started[run_dir] = str(read_manifest(run_dir).get("started_at") or "")
        except StoreError:
            continue  # not a run this optbench can read: never resume into it
    if not started:
        return None
    # ISO 8601 times in UTC sort as text; the name breaks ties (two runs in one second).
    return max(started, key=lambda run_dir: (started[run_dir], os.path.basename(run_dir)))
