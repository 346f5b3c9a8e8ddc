"""The two sides of a comparison: runs (one, or a window of several) or a named baseline.

A side is what the gate needs and nothing more: per trial its configuration, status, timing
verdict, throttling and the metrics' values, and per run the machine's fingerprint. A named
baseline is exactly this, saved as a small JSON file a project can commit (no curves).
"""

import json
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy

from bench import stability, store
from bench.analysis import load, require_pandas
from bench.compare.policy import METRICS

BASELINE_FORMAT = 1  # bump with any change to what a saved baseline holds (step_times_s is optional)
# timing_shared: absent from baselines saved before schema 4, which read it as null (timed alone).
COLUMNS = ["problem", "configuration", "threads", "device", "seed_index", "status", "stability",
           "throttled", "timing_shared", "target"] + sorted({m.column for m in METRICS}) + ["step_times_s"]  # fmt: skip
# Per trial, at most this many of its steps' times are kept (evenly spaced picks): the samples of
# a step-time test where one trial per side is all there is. 200 a side already resolve a 2%
# shift of a median, and keep a saved baseline of 1,000 trials near 3 MB.
STEP_SAMPLES_MAX = 200
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
    kind: str = "runs"  # or "pytest-benchmark": the two measure different things, never compared
    only_metrics: Tuple[str, ...] = ()  # where a side measures only these (a step benchmark: step_time)
    # The suite's regressions: block (its policy for the gate), and where it came from.
    regressions: Optional[Dict[str, Any]] = None
    regressions_from: str = ""
    suite_document: Optional[Dict[str, Any]] = None  # the latest run's suite, as read (for --confirm)


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
    frames, machines, policies = [], [], []
    for path in paths:
        run_dir = path if os.path.exists(os.path.join(path, store.MANIFEST)) else store.latest_run(path)
        if run_dir is None:
            raise SideError(f"{path}: neither a run directory, a suite's results directory, nor a saved baseline "
                            "(baselines/NAME.json)")  # fmt: skip
        trials, curves = load.load(run_dir)  # StoreError for what cannot be read
        trials["step_times_s"] = trials["trial_id"].map(step_times(curves))
        trials["rss_peak_bytes"] = [(m or {}).get("rss_peak_bytes") for m in trials["memory"]]
        # Time to target as the trial's steady pace would give it: steps to target x median
        # step time. The recorded time_to_target_s is a sum of wall time, and carries every
        # stall of a busy machine; the gate compares code, not the machine's load.
        trials["steady_time_to_target_s"] = trials["steps_to_target"] * trials["step_time_median_s"]
        frames.append(trials)
        manifest = store.read_manifest(run_dir)
        machines.append(_machine(manifest))
        document = manifest.get("suite_document")
        if document is not None:  # a suite named by its file keeps that name when re-run from elsewhere
            document = dict(document, name=document.get("name") or manifest.get("suite"))
        block = (document or {}).get("regressions")
        if block is not None:
            policies.append((block, "{} (run {})".format(manifest.get("suite_path"), manifest.get("run_id"))))
    trials = pd.concat(frames, ignore_index=True)
    for column in COLUMNS:
        if column not in trials:
            trials[column] = None
    label = ", ".join(m["run"] for m in machines)
    # The latest run's block: a window's runs normally share one suite.
    block, where = policies[-1] if policies else (None, "")
    return Side(label, trials[COLUMNS].copy(), machines, regressions=block, regressions_from=where,
                suite_document=document)  # fmt: skip


def step_times(curves) -> Dict[str, List[float]]:
    """Each trial's per-step training times from its curve (seconds; at most STEP_SAMPLES_MAX,
    evenly spaced). The curve holds the training time after every step, so consecutive
    differences are the steps' own times (bench/trainer.py: each a share of its timed
    segment's wall time in proportion to its measured time)."""
    timed = curves.dropna(subset=["time_s"]).sort_values(["trial_id", "step"])
    by_trial = timed.groupby("trial_id", sort=False)
    per_step = by_trial["time_s"].diff() / by_trial["step"].diff()
    timed = timed.assign(per_step=per_step)[per_step.notna() & (per_step > 0)]
    found = {}
    for trial_id, values in timed.groupby("trial_id", sort=False)["per_step"]:
        picked = values.to_numpy()
        if len(picked) > STEP_SAMPLES_MAX:
            picked = picked[numpy.linspace(0, len(picked) - 1, STEP_SAMPLES_MAX).round().astype(int)]
        found[trial_id] = picked.tolist()
    return found


def save_baseline(side: Side, path: str, name: str) -> None:
    """Write ``side`` as a named baseline: what the gate reads, no curves."""
    data = {
        "format": BASELINE_FORMAT,
        "name": name,
        "runs": side.label,
        "machines": side.machines,
        "trials": json.loads(side.trials.to_json(orient="records")),
        "regressions": side.regressions,
        "regressions_from": side.regressions_from,
        "suite_document": side.suite_document,
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
        regressions=data.get("regressions"),
        regressions_from=data.get("regressions_from") or path,
        suite_document=data.get("suite_document"),
    )


# extra_info keys that say what a benchmark ran (the step benchmarks store them): its cell.
BENCHMARK_CONFIG_KEYS = ("problem", "optimizer", "lr", "activation", "batch", "batch_size", "threads", "device",
                         "implementation")  # fmt: skip


def is_pytest_benchmark(path: str) -> bool:
    """A pytest-benchmark JSON file (a "benchmarks" list) rather than a saved baseline."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError):
        return False  # from_baseline says what is wrong with it
    return isinstance(document, dict) and isinstance(document.get("benchmarks"), list)


def from_pytest_benchmark(paths: Sequence[str]) -> Side:
    """A side from pytest-benchmark JSON files (several: a window). Each benchmark of each file
    is one "trial" of its cell, its raw round times the step-time samples: pytest-benchmark's
    own statistics are not used, the gate applies its own. Only step time is measured."""
    from bench.compare import pytest_benchmark

    pd = require_pandas()
    rows, machines = [], []
    for path in paths:
        try:
            frame = pytest_benchmark.read_benchmark_json(path)
        except pytest_benchmark.BenchmarkFileError as error:
            raise SideError(str(error)) from None
        for bench in frame.to_dict("records"):
            times = bench["round_times_s"]
            if not times:
                raise SideError(pytest_benchmark.MISSING_DATA.format(source=path, name=bench["name"]))
            extra = bench["extra_info"] or {}
            config = {key: extra[key] for key in BENCHMARK_CONFIG_KEYS if key in extra}
            config["benchmark"] = bench["name"]
            median, iqr = stability.step_time_summary(times)
            verdict, _ = stability.judge(median, iqr, len(times), sum(times))
            rows.append({
                "problem": extra.get("problem") or bench["group"] or "benchmark",
                "configuration": json.dumps(config, sort_keys=True),
                "threads": extra.get("threads"), "device": extra.get("device"), "seed_index": 0,
                "status": "ok", "stability": verdict.value, "throttled": None, "timing_shared": None, "target": None,
                "step_time_median_s": median, "step_times_s": list(times),
            })  # fmt: skip
        machine = dict((frame["machine_info"].iloc[0] or {}).get("optbench") or {}) if len(frame) else {}
        if not machine and len(frame):  # a file from other benchmarks: pytest-benchmark's own facts
            first = frame.iloc[0]
            machine = {"machine": first["machine"], "cpu": first["cpu"], "python": first["python"]}
        machine["power_mode"] = _mode_name(machine.get("power_mode"))
        commit = frame["commit_id"].iloc[0] if len(frame) else None
        machine["run"] = "{} ({})".format(path, str(commit or "?")[:10])
        machines.append(machine)
    trials = pd.DataFrame(rows, columns=COLUMNS)
    label = ", ".join(m["run"] for m in machines)
    return Side(label, trials, machines, kind="pytest-benchmark", only_metrics=("step_time",))


def _mode_name(mode: Any) -> Any:
    """The step benchmarks store the power mode as {"name": "MAXN", "id": 0}; manifests as its name."""
    return mode.get("name") if isinstance(mode, dict) else mode


def baseline_path(name: str, directory: str = "baselines") -> str:
    return os.path.join(directory, name + ".json")


def resolve(arguments: Sequence[str], baselines: str = "baselines") -> Side:
    """One side from the command line: a saved baseline (a NAME in ``baselines``, or a .json
    path), one or more run directories (a window), or one or more pytest-benchmark JSON files."""
    if len(arguments) == 1:
        named = baseline_path(arguments[0], baselines)
        if os.path.exists(named):
            return from_baseline(named)
    files = [a for a in arguments if a.endswith(".json")]
    if files and len(files) < len(arguments):
        raise SideError(f"{', '.join(arguments)}: a side is run directories or JSON files, not both")
    if files and all(is_pytest_benchmark(f) for f in files):
        return from_pytest_benchmark(files)
    if len(files) == 1:
        return from_baseline(files[0])
    if files:
        raise SideError(f"{', '.join(files)}: a window of JSON files must all be pytest-benchmark files "
                        "(a saved baseline is one file)")  # fmt: skip
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
