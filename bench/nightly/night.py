"""Which night it is, when its window ends, and which run directory it writes.

A night is named by a local date: the 24 hours that end at the window's end (``--until``,
else noon). With ``--until 06:00``, a night that starts at 22:00 on 1 December and ends at
06:00 on 2 December is night 2026-12-01, and so is a restart at 03:00 after a brown-out; a
start at 10:00 on 2 December (a missed night caught up at boot) is night 2026-12-02.

Each nightly run directory holds ``night.json`` beside the store's files: the nights the run
spans, each with its window and its sessions (a start, or a restart after a power cut), and
what the window deferred. The store's manifest is the runner's, rewritten whole by it while a
run lasts; this file is the nightly command's own, so neither overwrites the other.

Which run a night writes (``choose_run``):
* the latest nightly run of the suite, if it already holds this night: restarted within the
  night, the night resumes it;
* else that run, if the night before closed it with cells its window deferred, and the suite
  is unchanged: the one deliberate continuation, recorded as a new night in night.json;
* else a new run directory, named by the night. An unfinished run of an earlier night that
  deferred nothing (it was cut off and not restarted in its window) is never continued.
"""

import datetime
import json
import os
import re
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from bench import store

NIGHT_FILE = "night.json"
NIGHT_FORMAT = 1
DEFAULT_BOUNDARY = datetime.time(12, 0)  # with no --until, nights change at noon
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"  # local wall time, as a person means "06:00"


class NightError(ValueError):
    """Bad input for a night (an --until, --budget or --now that cannot be read)."""


def parse_until(text: str, flag: str = "--until") -> datetime.time:
    match = re.match(r"^([01]?\d|2[0-3]):([0-5]\d)$", text.strip())
    if not match:
        raise NightError(f"{flag} {text!r}: a local time of day, HH:MM from 00:00 to 23:59 (e.g. 06:00)")
    return datetime.time(int(match.group(1)), int(match.group(2)))


def parse_budget(text: str) -> float:
    """Seconds from '5h', '90m', '1h30m', '45s' or a plain number of seconds."""
    value = text.strip().lower()
    if re.match(r"^\d+(\.\d+)?$", value):
        seconds = float(value)
    else:
        match = re.match(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$", value)
        if not value or not match:
            raise NightError(f"--budget {text!r}: a duration like 5h, 90m, 1h30m, 45s or a number of seconds")
        hours, minutes, secs = (float(g) if g else 0.0 for g in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    if seconds <= 0:
        raise NightError(f"--budget {text!r}: must be more than 0")
    return seconds


def parse_now(text: str) -> datetime.datetime:
    """--now: a local wall time YYYY-MM-DDTHH:MM[:SS] (for tests and replays)."""
    for layout in (TIME_FORMAT, "%Y-%m-%dT%H:%M"):
        try:
            return datetime.datetime.strptime(text.strip(), layout)
        except ValueError:
            continue
    raise NightError(f"--now {text!r}: a local time YYYY-MM-DDTHH:MM[:SS], e.g. 2026-12-01T22:00")


def night_of(moment: datetime.datetime, boundary: datetime.time) -> str:
    """The night ``moment`` (local) belongs to: the date on which its 24 hours began."""
    day = moment.date()
    if moment.time() < boundary:
        day -= datetime.timedelta(days=1)
    return day.isoformat()


def night_end(night: str, boundary: datetime.time) -> datetime.datetime:
    start = datetime.datetime.strptime(night, "%Y-%m-%d").date()
    return datetime.datetime.combine(start + datetime.timedelta(days=1), boundary)


class NightClock:
    """The night's local wall time: the session's start plus what has passed since.

    By the monotonic clock, as a night runs; or, with ``by_estimate``, by the estimated cost of
    each trial started (``spent``): the window's decisions then follow from the estimates alone,
    which is what tests and dry runs need (docs/NIGHTLY.md, "Testing the window")."""

    def __init__(self, start: datetime.datetime, by_estimate: bool = False, monotonic=time.monotonic):
        self.start = start
        self.by_estimate = by_estimate
        self._monotonic = monotonic
        self._origin = monotonic()
        self._spent = 0.0

    def now(self) -> datetime.datetime:
        passed = self._spent if self.by_estimate else self._monotonic() - self._origin
        return self.start + datetime.timedelta(seconds=passed)

    def spent(self, seconds: float) -> None:
        self._spent += seconds


# ---- night.json ------------------------------------------------------------------------


def read_record(run_dir: str) -> Optional[Dict[str, Any]]:
    """The run's night.json, or None for a run no nightly made."""
    path = os.path.join(run_dir, NIGHT_FILE)
    try:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
    except FileNotFoundError:
        return None
    except ValueError as error:
        raise store.StoreError(f"{path}: corrupt night record: {error}") from None
    if not isinstance(record, dict) or record.get("format") != NIGHT_FORMAT:
        found = record.get("format") if isinstance(record, dict) else None
        raise store.StoreError(
            f"{path}: night record format {found!r}; this optbench reads format {NIGHT_FORMAT}"
        )
    return record


def write_record(run_dir: str, record: Dict[str, Any]) -> None:
    path = os.path.join(run_dir, NIGHT_FILE)
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(record, indent=1, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def last_night(record: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    nights = (record or {}).get("nights") or []
    return nights[-1] if nights else None


def recorded_lines(run_dir: str) -> List[str]:
    """Trial ids in trials.jsonl, line by line (a torn last line left out): the position of a
    record says which session wrote it, whatever the board's clock said (a Nano has no RTC
    battery, and its clock can jump at boot)."""
    path = os.path.join(run_dir, store.TRIALS)
    if not os.path.exists(path):
        return []
    with open(path, "rb") as handle:
        lines = handle.read().split(b"\n")
    ids = []
    for raw in lines[:-1]:  # the last element is after the final newline: empty, or torn
        if raw.strip():
            try:
                ids.append(str(json.loads(raw.decode("utf-8")).get("trial_id")))
            except ValueError:
                ids.append("")  # the store's reader names such a line; here it only takes a place
    return ids


def trial_nights(run_dir: str) -> Dict[str, str]:
    """Per recorded trial, the night it ran in ({} for a run no nightly made). Where a trial
    was recorded twice, the last record's night, as the store's last record wins."""
    record = read_record(run_dir)
    if record is None:
        return {}
    starts = []  # type: List[Tuple[int, str]]
    for night in record.get("nights") or []:
        for session in night.get("sessions") or []:
            starts.append((int(session.get("trials_before") or 0), str(night.get("night"))))
    if not starts:
        return {}
    nights = {}  # type: Dict[str, str]
    for position, trial_id in enumerate(recorded_lines(run_dir)):
        owner = starts[0][1]
        for before, night in starts:
            if before <= position:
                owner = night
        nights[trial_id] = owner
    return nights


# ---- which run a night writes ----------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    run_dir: str
    kind: str  # "new", "resume" (this night, restarted) or "continue" (cells deferred last night)
    note: str  # what happened, for the log and the summary
    left_unfinished: Optional[str] = None  # an earlier night's run cut off and not continued


def nightly_runs(suite_dir: str) -> List[Tuple[str, Dict[str, Any], Dict[str, Any]]]:
    """(run directory, manifest, night record) of the suite's nightly runs, oldest first."""
    found = []
    if not os.path.isdir(suite_dir):
        return found
    for name in os.listdir(suite_dir):
        run_dir = os.path.join(suite_dir, name)
        if not os.path.isdir(run_dir):
            continue
        try:
            record = read_record(run_dir)
            if record is None:
                continue
            manifest = store.read_manifest(run_dir)
        except store.StoreError:
            continue  # unreadable: never resumed into, and left for the user to look at
        found.append((run_dir, manifest, record))
    return sorted(found, key=lambda run: (str(run[1].get("started_at") or ""), os.path.basename(run[0])))


def choose_run(suite_dir: str, night: str, suite_hash: str, new: bool = False) -> Choice:
    runs = nightly_runs(suite_dir)
    latest = runs[-1] if runs else None
    if latest is not None and not new:
        run_dir, manifest, record = latest
        last = last_night(record) or {}
        same_suite = manifest.get("suite_hash") == suite_hash
        if last.get("night") == night and same_suite:
            return Choice(run_dir, "resume", f"night {night} restarted: resuming {run_dir}")
        if last.get("deferred") and same_suite and last.get("night", "") < night:
            return Choice(run_dir, "continue", "continuing {}: {} trial(s) deferred by night {}'s window".format(
                run_dir, len(last["deferred"]), last.get("night")))  # fmt: skip
    left = None
    if (
        latest is not None
        and not latest[1].get("finished_at")
        and not (last_night(latest[2]) or {}).get("deferred")
    ):
        left = latest[0]
    path, n = os.path.join(suite_dir, night), 1
    while os.path.exists(path):
        n += 1
        path = os.path.join(suite_dir, f"{night}-{n}")
    note = f"night {night}: new run {path}"
    if left:
        note += f" (the unfinished run {left} belongs to an earlier night and is not continued)"
    return Choice(path, "new", note, left)


def open_night(record: Optional[Dict[str, Any]], suite: str, night: str, window_end: Optional[str],
               session: Dict[str, Any]) -> Dict[str, Any]:  # fmt: skip
    """The night record with this session added (to this night, or to a new night entry)."""
    record = dict(record or {"format": NIGHT_FORMAT, "suite": suite, "nights": []})
    nights = [dict(n) for n in record.get("nights") or []]
    if nights and nights[-1].get("night") == night:
        nights[-1]["sessions"] = list(nights[-1].get("sessions") or []) + [session]
        nights[-1]["closed"] = False
    else:
        nights.append({"night": night, "window_end": window_end, "sessions": [session], "closed": False,
                       "deferred": []})  # fmt: skip
    record["nights"] = nights
    return record
