"""The short table that ends `optbench run`: per problem, the best configuration found.

"Best" is bench.ranking's rule, the one the analysis half uses too. This is the device
half's quick look (no pandas); `optbench show` and the report do the full job.
"""

import statistics
from typing import Any, Dict, List, Optional, Sequence

from bench import ranking
from bench.record import Stability, TrialRecord


def _median(values: Sequence[Optional[float]]) -> Optional[float]:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def best_per_problem(records: List[TrialRecord]) -> List[Dict[str, Any]]:
    """One row per problem: the winning configuration's medians over its seeds."""
    rows = [ranking.trial_row(r) for r in records]
    for row, label in zip(rows, ranking.problem_labels([r.config for r in records])):
        row["problem"] = label
    winners = ranking.best(rows)
    out = []
    for problem, standing in winners.items():
        group = [
            r for r, row in zip(records, rows)
            if row["configuration"] == standing.configuration and row["status"] != "skipped"
        ]  # fmt: skip
        first = group[0]
        reached = [r.time_to_target_s for r in group if r.time_to_target_s is not None]
        out.append({
            "problem": problem,
            "optimizer": first.config["optimizer"],
            "lr": first.config["lr"],
            "activation": first.config["activation"],
            "batch": first.config["batch"],
            "seeds": len(group),
            "final_loss": _median([r.final_loss for r in group]),
            "final_metric": _median([r.final_metric for r in group]),
            "metric_name": first.metric_name,
            "reached": len(reached),
            "time_to_target_s": _median(reached),
            "unstable": sum(r.stability is Stability.UNSTABLE for r in group),
            "judged": sum(r.stability is not Stability.UNKNOWN for r in group),
            "shared": sorted({r.timing_shared for r in group if r.timing_shared}),
        })  # fmt: skip
    return out


def _fmt(value: Optional[float], spec: str = ".3g") -> str:
    return "-" if value is None else format(value, spec)


def _timing(row: Dict[str, Any]) -> str:
    """The winner's stability verdicts over its seeds, in a word or two."""
    if row["shared"]:  # timed beside other trials: no verdict on times that are not its own
        return "/".join(row["shared"])
    if row["unstable"]:
        return "{}/{} unstable".format(row["unstable"], row["seeds"])
    if row["judged"] == row["seeds"]:
        return "stable"
    return "unjudged" if not row["judged"] else "partly judged"  # trials too short to judge


def render(records: List[TrialRecord]) -> str:
    rows = best_per_problem(records)
    header = ("problem", "best optimizer", "lr", "activation", "batch", "final loss", "metric", "to target",
              "timing")  # fmt: skip
    table = [header]
    for row in rows:
        reached = "{}/{} in {}s".format(row["reached"], row["seeds"], _fmt(row["time_to_target_s"]))
        if not row["reached"]:
            reached = "0/{} never".format(row["seeds"])
        metric = "{} {}".format(row["metric_name"], _fmt(row["final_metric"], ".4g"))
        table.append((
            row["problem"], row["optimizer"], _fmt(row["lr"], "g"), row["activation"],
            str(row["batch"]), _fmt(row["final_loss"]), metric, reached, _timing(row),
        ))  # fmt: skip
    widths = [max(len(str(line[i])) for line in table) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip() for line in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    counts = {}  # type: Dict[str, int]
    for record in records:
        counts[record.status.value] = counts.get(record.status.value, 0) + 1
    tally = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    lines += ["", "trials: " + (tally or "none")]
    unstable = [r for r in records if r.stability is Stability.UNSTABLE]
    if unstable:
        lines.append(
            f"timing: {len(unstable)} of {len(records)} trials unstable (a busy machine?); their times "
            "compare poorly: see `optbench show`"
        )
    return "\n".join(lines)
