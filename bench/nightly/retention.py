"""Retention: keep the last N nightly runs of a suite whole; from older ones, delete the bulky
time series and keep everything a later comparison or history reads.

Pruned from runs older than the newest ``keep`` nightly runs (by start time):
  curves.csv, telemetry.csv   loss curves and telemetry samples: the bulk of a run
Kept, always:
  manifest.json, trials.jsonl, night.json, summary.md, summary.json   (history, compare and
  the summaries read only these), and every run that is not a nightly's (no night.json), the
  run the night compares against, and a run some process is writing (its lock is held).
A pruned run's night.json records what went and when. Reports (reports/<suite>/<run>/) are
left alone: they are what a person reads.
"""

import datetime
import fcntl
import os
from typing import Any, Dict, List, Optional

from bench import store
from bench.nightly import night

PRUNED_FILES = (store.CURVES, "telemetry.csv")
DEFAULT_KEEP = 14  # two weeks of nights whole: room to look back at a change history flags


def _locked(run_dir: str) -> bool:
    path = os.path.join(run_dir, store.LOCK)
    if not os.path.exists(path):
        return False
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def prune(suite_dir: str, keep: int, protect: Optional[List[str]] = None) -> List[Dict[str, Any]]:
    """Prune the nightly runs older than the newest ``keep``; returns what was removed, per run."""
    if keep < 1:
        raise ValueError(f"--keep {keep}: keep at least the newest run whole (1 or more)")
    runs = night.nightly_runs(suite_dir)
    protected = {os.path.realpath(p) for p in protect or []}
    removed = []
    for run_dir, _manifest, record in runs[: max(len(runs) - keep, 0)]:
        if os.path.realpath(run_dir) in protected or _locked(run_dir):
            continue
        files, size = [], 0
        for name in PRUNED_FILES:
            path = os.path.join(run_dir, name)
            if os.path.exists(path):
                size += os.path.getsize(path)
                os.remove(path)
                files.append(name)
        if not files:
            continue
        entry = {"at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                 "files": files, "bytes": size, "policy": f"keep the newest {keep} nightly runs whole"}  # fmt: skip
        record = dict(record, pruned=list(record.get("pruned") or []) + [entry])
        night.write_record(run_dir, record)
        removed.append(dict(entry, run_dir=run_dir))
    return removed
