"""The two sides of a comparison: runs (one, or a window of several) or a named baseline.

A side is what the gate needs and nothing more: per trial its configuration, status, timing
verdict, throttling and the metrics' values, and per run the machine's fingerprint. A named
baseline is exactly this, saved as a small JSON file a project can commit (no curves).
"""

import json
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Sequence

from bench import store
from bench.analysis import load, require_pandas
from bench.compare.policy import METRICS

BASELINE_FORMAT = 1  # bump with any change to what a saved baseline holds
COLUMNS = ["problem", "configuration", "threads", "device", "seed_index", "status", "stability",
           "throttled", "target"] + sorted({m.column for m in METRICS})  # fmt: skip
# Part of a configuration, but not of what is compared: a run with other threads or on
# another device is the same cell measured differently, and is refused as not comparable.
SETTING_NOT_MATCHED = ("threads", "device")


class SideError(ValueError):
    """A side that cannot be read; the message names the path and what was expected."""


@dataclass(frozen=True)
class Side:
    label: str  # what the output calls it
    trials: Any  # pandas DataFrame with COLUMNS
    machines: List[Dict[str, Any]]  # one fingerprint per run (see bench.compare.fingerprint)


def match_key(configuration: str, ignore: Sequence[str] = ()) -> str:
    """The configuration a cell is matched on: without threads and device (a difference there
    is "not comparable", not another cell) and without the keys the user asked to ignore."""
    config = json.loads(configuration)
    for key in SETTING_NOT_MATCHED + tuple(ignore):
        config.pop(key, None)
    return json.dumps(config, sort_keys=True)


def _machine(manifest: Dict[str, Any]) -> Dict[str, Any]:
    env = dict(manifest.get("environment") or {})
    env["power_mode"] = (manifest.get("telemetry") or {}).get("nvpmodel")
    env["run"] = "{}/{}".format(manifest.get("suite"), manifest.get("run_id"))
    env["canary"] = manifest.get("canary") or []  # the drift canary's measurements (bench.compare.drift)
    return env


def from_runs(paths: Sequence[str]) -> Side:
    """A side from run directories (a results/<suite> directory stands for its latest run)."""
    pd = require_pandas()
    frames, machines = [], []
    for path in paths:
        run_dir = path if os.path.exists(os.path.join(path, store.MANIFEST)) else store.latest_run(path)
        if run_dir is None:
            raise SideError(f"{path}: neither a run directory, a suite's results directory, nor a saved baseline "
                            "(baselines/NAME.json)")  # fmt: skip
        trials, _ = load.load(run_dir)  # StoreError for what cannot be read
        trials["rss_peak_bytes"] = [(m or {}).get("rss_peak_bytes") for m in trials["memory"]]
        # Time to target as the trial's steady pace would give it: steps to target x median
        # step time. The recorded time_to_target_s is a sum of wall time, and carries every
        # stall of a busy machine; the gate compares code, not the machine's load.
        trials["steady_time_to_target_s"] = trials["steps_to_target"] * trials["step_time_median_s"]
        frames.append(trials)
        machines.append(_machine(store.read_manifest(run_dir)))
    trials = pd.concat(frames, ignore_index=True)
    for column in COLUMNS:
        if column not in trials:
            trials[column] = None
    label = ", ".join(m["run"] for m in machines)
    return Side(label, trials[COLUMNS].copy(), machines)


def save_baseline(side: Side, path: str, name: str) -> None:
    """Write ``side`` as a named baseline: what the gate reads, no curves."""
    data = {
        "format": BASELINE_FORMAT,
        "name": name,
        "runs": side.label,
        "machines": side.machines,
        "trials": json.loads(side.trials.to_json(orient="records")),
    }
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
    os.replace(temporary, path)


def from_baseline(path: str) -> Side:
    pd = require_pandas()
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as error:
        raise SideError(f"{path}: cannot read the baseline: {error.strerror}") from None
    except ValueError as error:
        raise SideError(f"{path}: not a baseline (corrupt JSON: {error})") from None
    if not isinstance(data, dict) or data.get("format") != BASELINE_FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise SideError(f"{path}: baseline format {found!r}; this optbench reads format {BASELINE_FORMAT}")
    trials = pd.DataFrame(data.get("trials") or [], columns=COLUMNS)
    return Side(
        "baseline {} ({})".format(data.get("name"), data.get("runs")),
        trials,
        list(data.get("machines") or []),
    )


def baseline_path(name: str, directory: str = "baselines") -> str:
    return os.path.join(directory, name + ".json")


def resolve(arguments: Sequence[str], baselines: str = "baselines") -> Side:
    """One side from the command line: a saved baseline (a NAME in ``baselines``, or a .json
    path), or one or more run directories (a window)."""
    if len(arguments) == 1:
        named = baseline_path(arguments[0], baselines)
        if os.path.exists(named):
            return from_baseline(named)
        if arguments[0].endswith(".json"):
            return from_baseline(arguments[0])
    return from_runs(arguments)


def list_baselines(directory: str = "baselines") -> List[Dict[str, Any]]:
    if not os.path.isdir(directory):
        return []
    found = []
    for name in sorted(os.listdir(directory)):
        if name.endswith(".json"):
            try:
                side = from_baseline(os.path.join(directory, name))
            except SideError as error:
                found.append({"name": name[:-5], "problem": str(error)})
                continue
            found.append({"name": name[:-5], "runs": side.label, "trials": len(side.trials)})
    return found
