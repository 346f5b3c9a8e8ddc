"""The landscapes section's data: each 2-D function the run tried, each optimizer's path on it
(at its best learning rate, and at one learning rate common to all), and steps and time to
the target.

A *function* here is a landscape problem with its options (Rosenbrock without noise, the
quadratic at condition 100 with noise, ...): optimizers are compared within one function,
never across two. Paths are drawn for the first seed (seeds share the start, and differ only
by their gradient noise); the best learning rate is bench.ranking's choice over all seeds.
"""

import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from bench import store, surfaces
from bench.analysis import choice, require_pandas
from bench.report import palette
from bench.report.data import ReportData
from bench.report.figures import LANDSCAPES
from bench.report.tables import SECONDS, Column, Table, lr, text

TASK_METRIC = "suboptimality"  # the metric name every landscape record carries


@dataclass(frozen=True)
class Function:
    key: str  # unique in the report, a file-name stem: "quadratic-condition-100-noise-0.1"
    title: str  # "quadratic, condition 100, noise 0.1"
    surface: surfaces.Surface
    trials: Any  # the trials frame's rows of this function
    noisy: bool  # its gradients carry the noise option's noise


def _notes(row) -> Dict[str, Any]:
    return row["data"] if isinstance(row["data"], dict) else {}


def _describe(notes: Dict[str, Any]) -> Tuple[str, str]:
    parts = [notes["function"]]
    if "condition" in notes:
        parts.append("condition {:g}".format(notes["condition"]))
    if notes.get("angle"):
        parts.append("turned {:g}°".format(notes["angle"]))
    parts.append("noise {:g}".format(notes.get("noise_sd", 0.0)) if notes.get("noise_sd") else "no noise")
    title = ", ".join(parts)
    key = "-".join(p.replace(" ", "-").replace("°", "deg") for p in parts)
    return key, title


def functions(data: ReportData) -> List[Function]:
    """The landscape functions of the run, in the order it recorded them; none for a run
    without landscapes (records with metric ``suboptimality`` and a ``function`` in their data)."""
    trials = data.trials
    if trials.empty or "data" not in trials:
        return []
    rows = trials[(trials["metric_name"] == TASK_METRIC) & (trials["status"] != "skipped")]
    groups = {}  # type: Dict[str, Tuple[str, Dict[str, Any], List[int]]]
    for index, row in rows.iterrows():
        notes = _notes(row)
        if "function" not in notes:
            continue
        key, title = _describe(notes)
        groups.setdefault(key, (title, notes, []))[2].append(index)
    out = []
    for key, (title, notes, indices) in groups.items():
        options = {k: notes[k] for k in ("condition", "angle") if k in notes}
        options["start"] = notes["start"]
        surface = surfaces.surface(notes["function"], options)
        out.append(Function(key, title, surface, rows.loc[indices], bool(notes.get("noise_sd"))))
    return out


def load_trajectories(run_dir: str):
    """trajectories.csv as a frame (trial_id, step, x, y); empty where the run has none."""
    pd = require_pandas()
    path = os.path.join(run_dir, store.TRAJECTORIES)
    columns = list(store.TRAJECTORY_COLUMNS)
    if not os.path.exists(path):
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "step" else "float64") for c in columns})
    return pd.read_csv(path, dtype={"trial_id": str, "step": "int64", "x": "float64", "y": "float64"})


def best_lrs(function: Function) -> Dict[str, Any]:
    """optimizer -> the trials (all seeds) of its best configuration on this function."""
    chosen = choice.best_configurations(function.trials)
    trials = function.trials
    return {key[1]: trials[trials["configuration"] == s.configuration] for key, s in chosen.items()}


def common_lr(function: Function) -> Optional[float]:
    """The learning rate the most optimizers tried on this function (the smaller on a tie)."""
    tried = function.trials.groupby("lr")["optimizer"].nunique()
    if tried.empty:
        return None
    most = tried.max()
    return float(min(lr for lr, count in tried.items() if count == most))


def _first_seed(trials):
    return trials.sort_values("seed_index").iloc[0]


def paths(function: Function, trajectories) -> Any:
    """The drawn paths: one row per point, columns panel ("best" or "common"), optimizer, lr,
    status, reason, step, x, y; each optimizer's first seed, at its best learning rate and at
    the common one. Points after an overflow (x or y null) are left out."""
    pd = require_pandas()
    wanted = []  # (panel, trial row)
    for trials in best_lrs(function).values():
        wanted.append(("best", _first_seed(trials)))
    common = common_lr(function)
    at_common = function.trials[function.trials["lr"] == common]
    for optimizer in palette.ordered(at_common["optimizer"]):
        wanted.append(("common", _first_seed(at_common[at_common["optimizer"] == optimizer])))
    frames = []
    indexed = trajectories.set_index("trial_id")
    for panel, row in wanted:
        if row["trial_id"] not in indexed.index:
            continue
        points = indexed.loc[[row["trial_id"]]].dropna(subset=["x", "y"])
        frames.append(points.assign(panel=panel, optimizer=row["optimizer"], lr=row["lr"], status=row["status"],
                                    reason=row["reason"]).reset_index())  # fmt: skip
    columns = ["panel", "optimizer", "lr", "status", "reason", "trial_id", "step", "x", "y"]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def to_target(functions_: List[Function]):
    """Per function and optimizer at its best learning rate: seeds, how many reached the
    target, and the medians over those of steps and training time to it."""
    pd = require_pandas()
    rows = []
    for function in functions_:
        for optimizer, trials in best_lrs(function).items():
            reached = trials[trials["steps_to_target"].notna()]
            rows.append({
                "function": function.title, "optimizer": optimizer, "lr": trials["lr"].iloc[0],
                "seeds": len(trials), "reached": len(reached),
                "steps_to_target_median": reached["steps_to_target"].median() if len(reached) else None,
                "time_to_target_median_s": reached["time_to_target_s"].median() if len(reached) else None,
                "diverged": int((trials["status"] == "diverged").sum()),
            })  # fmt: skip
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    order = {o: i for i, o in enumerate(palette.ordered(frame["optimizer"]))}
    functions_order = {f.title: i for i, f in enumerate(functions_)}
    return frame.sort_values(
        ["function", "optimizer"], key=lambda c: c.map(functions_order if c.name == "function" else order)
    ).reset_index(drop=True)


def _never(value_format):
    def fmt(record: Dict[str, Any]) -> str:
        return "never" if not record["reached"] else value_format(record)

    return fmt


def target_table(functions_: List[Function]) -> Optional[Table]:
    frame = to_target(functions_)
    if frame.empty:
        return None
    columns = (
        Column("function", "function", text),
        Column("optimizer", "optimizer", text),
        Column("lr", "best lr", lr),
        Column(None, "reached", lambda r: "{} of {}".format(r["reached"], r["seeds"])),
        Column(None, "steps to target", _never(lambda r: "{:.0f}".format(r["steps_to_target_median"]))),
        Column(None, "time to target", _never(lambda r: SECONDS(r["time_to_target_median_s"]))),
        Column("diverged", "diverged seeds", text),
    )
    note = ("Each optimizer at its best learning rate on each function (bench.ranking's rule, over its seeds); "
            "medians over the seeds that reached the target (suboptimality below 1e-6 on the bowl, 1e-4 on Rosenbrock and Beale; on the saddle, f below -1: "
            "escaped); never: no seed reached it within the budget.")  # fmt: skip
    return Table("landscapes-to-target", "Steps and time to the target", LANDSCAPES, frame, columns, note)
