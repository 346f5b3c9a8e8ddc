"""The drift canary in a suite's history (bench.compare.history): the canary as a series of
its own per machine, and the time-metric steps that coincide with a step of it.

The canary's series is metric ``canary``, one per machine and version of the workload (a new
version is other work, not a machine that moved): a night's value is the median over the
run's measurements of bench.compare.drift.speed (seconds). A break in it is found by the same
detection as any other series. A step in a time metric that coincides with a canary step of the same
suite and machine in the same direction is marked ``machine_moved``: the machine, not (only)
the code, moved that night.
"""

import os
import statistics
from typing import Any, Callable, Dict, List, Optional, Tuple

from bench.analysis import require_pandas
from bench.compare import drift

CANARY = "canary"
CANARY_LABEL = "canary (reference workload)"
# The metrics a machine that moved moves with it: a step in one of these that coincides with a
# canary step in the same direction is marked machine_moved.
TIME_METRICS = ("step_time", "train_time", "time_to_target")

Run = Tuple[str, Dict[str, Any]]  # (run directory, manifest)


def canary_nights(suite_name: str, runs: List[Run], machine_label: Callable[[Dict[str, Any]], str],
                  power_mode: Callable[[Dict[str, Any]], Optional[str]]):  # fmt: skip
    """The canary's nights, in the columns of the history's series frame before its
    exclusions: a run's canary level (runs without one are not nights of this series).
    Throttling and unstable timing are the trials' and never apply here."""
    pd = require_pandas()
    rows = []
    for night, (run_dir, manifest) in enumerate(runs):
        by_version = {}  # type: Dict[Any, List[Dict[str, Any]]]
        for entry in drift.measurements([{"canary": manifest.get("canary")}]):
            by_version.setdefault(entry.get("version"), []).append(entry)
        env = manifest.get("environment") or {}
        for version, entries in by_version.items():
            rows.append({
                "suite": suite_name, "metric": CANARY, "configuration": f"{CANARY} v{version}",
                "configuration_label": f"{CANARY_LABEL}, version {version}", "machine": machine_label(manifest),
                "night": night, "value": statistics.median(drift.speed(e) for e in entries), "seeds": len(entries),
                "throttled": False, "shared": False, "unstable": False, "run_id": manifest.get("run_id") or os.path.basename(run_dir),
                "git_commit": env.get("git_commit"), "started_at": manifest.get("started_at"),
                "power_mode": power_mode(manifest) or "", "problem": "", "optimizer": "",
            })  # fmt: skip
    return pd.DataFrame(rows)


def mark_machine_moved(rows: List[Dict[str, Any]], before_nights: List[int]) -> None:
    """Mark each step of a time metric that coincides with a canary step of its suite and
    machine in the same direction. Two steps coincide when their spans -- from the last night
    at the old level (exclusive) to the first at the new one -- overlap: a night left out of
    one series (unstable timing) may put its step a night later than the canary's."""
    canary_steps = [
        (row, before)
        for row, before in zip(rows, before_nights)
        if row["metric"] == CANARY and row["kind"] == "step"
    ]
    for row, before in zip(rows, before_nights):
        row["machine_moved"], row["canary_ratio"] = None, None  # not a time metric's step: no claim
        if row["metric"] not in TIME_METRICS or row["kind"] != "step":
            continue
        row["machine_moved"] = False
        for step, step_before in canary_steps:
            same = (step["suite"], step["machine"]) == (row["suite"], row["machine"])
            overlap = before < step["night"] and step_before < row["night"]
            if same and overlap and (step["ratio"] > 1) == (row["ratio"] > 1):
                row["machine_moved"], row["canary_ratio"] = True, step["ratio"]
