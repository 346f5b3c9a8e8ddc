"""pytest-benchmark JSON files into a tidy frame, so that `optbench compare` can apply its own
statistics to their raw round times (analysis half: needs pandas).

    frame = read_benchmark_json(".benchmarks/steps.json")
    times = samples(frame, "test_step[lenet-adam]")   # seconds, one per round

One row per benchmark. Columns:
* source, version (of pytest-benchmark), datetime (UTC)
* name, fullname, group, param, params (dict), extra_info (dict), and each extra_info key as a
  column of its own unless it clashes with a column here (the step benchmarks store problem,
  optimizer, lr, batch, batch_size, threads -- the thread count each ran with --, trial_id, ...)
* node, machine, system, python, cpu (py-cpuinfo's brand); and from the "optbench" block the
  step benchmarks add (tests/benchmarks/conftest.py): torch, numpy, torch_threads (the
  process's default, not the benchmark's), cuda_available, cuda, board, power_mode -- null in
  files that lack the block
* commit_id, commit_time, commit_branch, commit_dirty, commit_project
* min_s, max_s, mean_s, stddev_s, median_s, q1_s, q3_s, iqr_s, total_s, ops, rounds, iterations
* round_times_s: the raw round times (stats.data), or None when the file was saved without
  them. Each is one round's time divided by its iterations: with iterations == 1 (every step
  benchmark here), the time of one call.
* machine_info, commit_info: the blocks as stored, for whatever the columns leave out.

Formats read (checked against files each version wrote, tests/golden/pytest-benchmark/):
pytest-benchmark 3.4.1 (the last for Python 3.6, on the Jetson Nano) and 5.x write the same
layout. They differ in ``datetime`` -- 3.4.1 writes naive UTC (datetime.utcnow()), 5.x an
explicit +00:00 -- and in ``options``, where 5.x adds precision and confidence. Both write the
raw round times with --benchmark-json; --benchmark-save and --benchmark-autosave keep them only
with --benchmark-save-data.
"""

import difflib
import json
import sys
from typing import Any, Dict, List

from bench.analysis import require_pandas

# stats key -> column (pytest-benchmark times are in seconds)
STATS = (
    ("min", "min_s"), ("max", "max_s"), ("mean", "mean_s"), ("stddev", "stddev_s"),
    ("median", "median_s"), ("q1", "q1_s"), ("q3", "q3_s"), ("iqr", "iqr_s"), ("total", "total_s"),
    ("ops", "ops"), ("rounds", "rounds"), ("iterations", "iterations"),
)  # fmt: skip
# The environment facts the step benchmarks add under machine_info["optbench"].
OPTBENCH_FACTS = ("torch", "numpy", "torch_threads", "cuda_available", "cuda", "board", "power_mode")
COMMIT = (("id", "commit_id"), ("time", "commit_time"), ("branch", "commit_branch"),
          ("dirty", "commit_dirty"), ("project", "commit_project"))  # fmt: skip
MACHINE = ("node", "machine", "system", "python", "cpu") + OPTBENCH_FACTS
FIXED_COLUMNS = (
    ("source", "version", "datetime")
    + MACHINE
    + tuple(column for _, column in COMMIT)
    + ("name", "fullname", "group", "param", "params", "extra_info")
    + tuple(column for _, column in STATS)
    + ("round_times_s", "machine_info", "commit_info")
)

MISSING_DATA = (
    "{source}: {name} was saved without its raw round times; --benchmark-json always writes them, "
    "--benchmark-save and --benchmark-autosave only with --benchmark-save-data"
)


class BenchmarkFileError(ValueError):
    """A file that is not pytest-benchmark JSON, or not one this reader understands."""


def read_benchmark_json(path: str) -> "pandas.DataFrame":  # noqa: F821
    """One row per benchmark of a pytest-benchmark JSON file (see the module's docstring)."""
    pd = require_pandas()
    document = _load(path)
    machine, commit = document.get("machine_info") or {}, document.get("commit_info") or {}
    common = {
        "source": path,
        "version": document.get("version"),
        "datetime": _utc(pd, document.get("datetime")),
    }
    common.update(_machine_columns(machine))
    common.update({column: commit.get(key) for key, column in COMMIT})
    rows = []
    for index, bench in enumerate(document["benchmarks"]):
        where = f"{path}: benchmarks[{index}]"
        if not isinstance(bench, dict) or not isinstance(bench.get("stats"), dict) or "name" not in bench:
            raise BenchmarkFileError(f"{where}: expected an object with 'name' and 'stats'")
        stats, extra = bench["stats"], bench.get("extra_info") or {}
        row = dict(common)
        row.update(
            name=bench["name"], fullname=bench.get("fullname", bench["name"]), group=bench.get("group"),
            param=bench.get("param"), params=bench.get("params") or {}, extra_info=extra,
        )  # fmt: skip
        row.update({key: value for key, value in extra.items() if key not in FIXED_COLUMNS})
        row.update({column: stats.get(key) for key, column in STATS})
        row["round_times_s"] = _round_times(where, stats.get("data"))
        row["machine_info"], row["commit_info"] = machine, commit
        rows.append(row)
    columns = []  # type: List[str]
    for row in rows:  # every row's columns, in the order first met
        columns.extend(key for key in row if key not in columns)
    return pd.DataFrame(rows, columns=columns or list(FIXED_COLUMNS))


def samples(frame: "pandas.DataFrame", name: str) -> List[float]:  # noqa: F821
    """The raw round times (seconds) of benchmark ``name`` (its name or fullname); those of
    several rows -- a frame of several files -- in the frame's order."""
    chosen = frame[(frame["name"] == name) | (frame["fullname"] == name)]
    if chosen.empty:
        names = sorted(set(frame["name"]))
        close = difflib.get_close_matches(name, names, n=3)
        hint = (
            f"; did you mean {', '.join(close)}?"
            if close
            else f"; it has {len(names)}: {', '.join(names[:10])}"
        )
        raise KeyError(f"no benchmark named {name!r}{hint}")
    times = []  # type: List[float]
    for _, row in chosen.iterrows():
        if row["round_times_s"] is None:
            raise BenchmarkFileError(MISSING_DATA.format(source=row["source"], name=row["name"]))
        times.extend(row["round_times_s"])
    return times


def _load(path: str) -> Dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except OSError as error:
        raise BenchmarkFileError(f"{path}: cannot read: {error.strerror}") from None
    except ValueError as error:
        raise BenchmarkFileError(f"{path}: not JSON: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("benchmarks"), list):
        raise BenchmarkFileError(f"{path}: not a pytest-benchmark JSON file (no 'benchmarks' list)")
    return document


def _utc(pd, text: Any):
    if not text:
        return None
    stamp = pd.Timestamp(text)
    # pytest-benchmark 3.4.1 wrote datetime.utcnow(): UTC without saying so.
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _machine_columns(machine: Dict[str, Any]) -> Dict[str, Any]:
    cpu = machine.get("cpu") or {}
    facts = machine.get("optbench") or {}
    columns = {
        "node": machine.get("node"), "machine": machine.get("machine"), "system": machine.get("system"),
        "python": machine.get("python_version"),
        "cpu": (cpu.get("brand_raw") or cpu.get("brand")) if isinstance(cpu, dict) else cpu,
    }  # fmt: skip
    columns.update({key: facts.get(key) for key in OPTBENCH_FACTS})
    mode = columns["power_mode"]
    if isinstance(mode, dict):  # {"id": 0, "name": "MAXN"} -> "MAXN (0)"
        columns["power_mode"] = (
            mode.get("name") if mode.get("id") is None else f"{mode.get('name')} ({mode['id']})"
        )
    return columns


def _round_times(where: str, data: Any):
    if data is None:
        return None
    if not isinstance(data, list) or not all(isinstance(x, (int, float)) for x in data):
        raise BenchmarkFileError(f"{where}: stats.data should be a list of round times in seconds")
    return [float(x) for x in data]


def main(argv: List[str]) -> int:
    """python -m bench.compare.pytest_benchmark FILE...: what each file holds, in a line."""
    for path in argv:
        frame = read_benchmark_json(path)
        raw = frame["round_times_s"].dropna()
        first = frame.iloc[0] if len(frame) else {}
        print(
            f"{path}: pytest-benchmark {first.get('version')}, Python {first.get('python')}, "
            f"torch {first.get('torch')}: {len(frame)} benchmarks in {frame['group'].nunique()} groups, "
            f"{sum(len(times) for times in raw)} raw round times ({len(frame) - len(raw)} saved without)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
