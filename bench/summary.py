"""The short table that ends `optbench run`: per problem, the best configuration found.

"Best" is decided over seeds, by the median: the highest median metric where the target
is an accuracy, else the lowest median final loss; ties go to the shorter time to target. A configuration is everything but the
seed. This is the device half's quick look; the analysis half (pandas) does the full job.
"""

import statistics
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bench.record import Status, TrialRecord


def _median(values: Sequence[Optional[float]]) -> Optional[float]:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _config_key(record: TrialRecord) -> Tuple[Any, ...]:
    config = dict(record.config)
    config.pop("seed_index", None)
    return tuple(sorted((k, repr(v)) for k, v in config.items()))


def best_per_problem(records: List[TrialRecord]) -> List[Dict[str, Any]]:
    groups = {}  # type: Dict[Tuple[Any, ...], List[TrialRecord]]
    for record in records:
        if record.status != Status.SKIPPED.value:
            groups.setdefault(_config_key(record), []).append(record)
    best = {}  # type: Dict[str, Dict[str, Any]]
    for group in groups.values():
        first = group[0]
        row = {
            "problem": first.config["problem"],
            "optimizer": first.config["optimizer"],
            "lr": first.config["lr"],
            "activation": first.config["activation"],
            "batch": first.config["batch"],
            "seeds": len(group),
            "ok": sum(r.status == Status.OK.value for r in group),
            "final_loss": _median([r.final_loss for r in group]),
            "final_metric": _median([r.final_metric for r in group]),
            "metric_name": first.metric_name,
            "reached": sum(r.steps_to_target is not None for r in group),
            "time_to_target_s": _median([r.time_to_target_s for r in group]),
            "higher_is_better": first.target.get("direction") == "above",
        }
        current = best.get(row["problem"])
        if current is None or _better(row, current):
            best[row["problem"]] = row
    return list(best.values())


def _better(row: Dict[str, Any], other: Dict[str, Any]) -> bool:
    """The analysis half's rule (bench.analysis.summary): the better median final metric
    (accuracy) or loss, ties broken by the shorter median time to target."""

    def score(r):
        value = r["final_metric"] if r["higher_is_better"] else r["final_loss"]
        sign = -1.0 if r["higher_is_better"] else 1.0
        to_target = r["time_to_target_s"]
        return (value is None, sign * (value or 0.0), to_target is None, to_target or 0.0)

    return score(row) < score(other)


def _fmt(value: Optional[float], spec: str = ".3g") -> str:
    return "-" if value is None else format(value, spec)


def render(records: List[TrialRecord]) -> str:
    rows = best_per_problem(records)
    header = ("problem", "best optimizer", "lr", "activation", "batch", "final loss", "metric", "to target")
    table = [header]
    for row in rows:
        reached = "{}/{} in {}s".format(row["reached"], row["seeds"], _fmt(row["time_to_target_s"]))
        if not row["reached"]:
            reached = "0/{} never".format(row["seeds"])
        metric = "{} {}".format(row["metric_name"], _fmt(row["final_metric"], ".4g"))
        table.append((
            row["problem"], row["optimizer"], _fmt(row["lr"], "g"), row["activation"],
            str(row["batch"]), _fmt(row["final_loss"]), metric, reached,
        ))  # fmt: skip
    widths = [max(len(str(line[i])) for line in table) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip() for line in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    counts = {}  # type: Dict[str, int]
    for record in records:
        counts[record.status] = counts.get(record.status, 0) + 1
    tally = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    return "\n".join(lines + ["", "trials: " + (tally or "none")])
