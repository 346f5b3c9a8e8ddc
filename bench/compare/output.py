"""How a comparison is told: a terminal table, Markdown for a CI job summary, JSON for tools,
and github-action-benchmark's ``customSmallerIsBetter`` file so it can chart the history."""

import json
import math
from typing import Any, List, Optional

from bench.compare import drift
from bench.compare.gate import Cell, Comparison, Verdict
from bench.compare.policy import METRICS

SHOWN = (Verdict.REGRESSED, Verdict.IMPROVED, Verdict.INSUFFICIENT)  # no-change cells are counted, not listed
TIME_METRICS = {m.name for m in METRICS if m.kind == "time"}  # what --normalise-by-canary divides


def _number(value: Optional[float]) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if math.isinf(value):
        return "never" if value > 0 else "-∞"
    return f"{value:.4g}"


def _ratio(cell: Cell) -> str:
    if cell.ratio is None:
        return "–"
    low, high = cell.interval
    return f"{cell.ratio:.3f}" + ("" if math.isnan(low) else f" [{low:.3f}, {high:.3f}]")


def _rows(comparison: Comparison, every: bool) -> List[List[str]]:
    rows = []
    for cell in comparison.cells:
        if every or cell.verdict in SHOWN:
            rows.append([cell.problem, cell.label, cell.metric, _number(cell.baseline_median),
                         _number(cell.candidate_median), _ratio(cell),
                         "–" if cell.p_worse is None else f"{cell.p_worse:.2g}", _samples(cell),
                         cell.verdict.value + (f" ({cell.note})" if cell.note else "")])  # fmt: skip
    return rows


def _samples(cell: Cell) -> str:
    """'5/5' seeds; '200/200 steps' where one trial's step times were the samples."""
    return f"{cell.samples[0]}/{cell.samples[1]}" + (" steps" if cell.samples_of == "steps" else "")


HEADER = [
    "problem",
    "configuration",
    "metric",
    "baseline",
    "candidate",
    "ratio [95%]",
    "p (worse)",
    "n",
    "verdict",
]


def _summary_lines(comparison: Comparison) -> List[str]:
    counts = {}  # type: Dict[str, int]
    for cell in comparison.cells:
        counts[cell.verdict.value] = counts.get(cell.verdict.value, 0) + 1
    lines = [f"baseline: {comparison.baseline}", f"candidate: {comparison.candidate}",
             f"policy: alpha {comparison.policy.alpha:g}; " + ", ".join(str(c) for c in comparison.policy.checks)
             + "; set by " + ", ".join(("the defaults",) + comparison.policy.sources)]  # fmt: skip
    for difference in comparison.not_comparable:
        lines.append(f"not comparable: {difference}")
    lines += _canary_lines(comparison)
    if comparison.cells:
        lines.append("cells: " + ", ".join(f"{n} {v}" for v, n in sorted(counts.items())))
    excluded = sum(c.excluded[0] + c.excluded[1] for c in comparison.cells)
    if excluded:
        lines.append(
            f"left out of time and energy verdicts: {excluded} trial values whose timing was unstable or that throttled"
        )
    if any(comparison.unmatched):
        lines.append(
            "configurations in one side only (not compared; one the candidate lacks is insufficient data): "
            "{} baseline, {} candidate".format(*comparison.unmatched)
        )
    lines += list(comparison.notes)
    lines.append(f"verdict: {comparison.verdict.value} (exit {comparison.exit_code})")
    return lines


def _canary_lines(comparison: Comparison) -> List[str]:
    """Whether the machine moved, so a reader of a time verdict can tell it from the code."""
    canary = comparison.canary
    if canary is None:
        return []
    lines = [canary.describe()]
    if comparison.normalised_by is not None:
        lines.append(f"normalised by the canary: the candidate's time metrics were divided by "
                     f"{comparison.normalised_by:.3f} before the test (their medians and ratios are shown so)")  # fmt: skip
    elif canary.verdict is drift.Verdict.MOVED and any(
        c.verdict in (Verdict.REGRESSED, Verdict.IMPROVED) and c.metric in TIME_METRICS
        for c in comparison.cells
    ):
        lines.append("the time verdicts may be the machine's, not the code's: --normalise-by-canary divides "
                     "the canary ratio out of the candidate's times")  # fmt: skip
    return lines


def text(comparison: Comparison, every: bool = False) -> str:
    rows = _rows(comparison, every)
    lines = []
    if rows:
        table = [HEADER] + rows
        widths = [max(len(r[i]) for r in table) for i in range(len(HEADER))]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in table]
        lines.insert(1, "  ".join("-" * w for w in widths))
        lines.append("")
    return "\n".join(lines + _summary_lines(comparison))


def markdown(comparison: Comparison, every: bool = False) -> str:
    from bench.report.markdown import escape

    lines = [f"### optbench compare: {escape(comparison.verdict.value)}", ""]
    lines += [f"- {escape(line)}" for line in _summary_lines(comparison)]
    rows = _rows(comparison, every)
    if rows:
        lines += ["", "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        lines += ["| " + " | ".join(escape(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def as_json(comparison: Comparison) -> str:
    return json.dumps({
        "verdict": comparison.verdict.value, "exit_code": comparison.exit_code,
        "baseline": comparison.baseline, "candidate": comparison.candidate,
        "not_comparable": list(comparison.not_comparable), "unmatched": list(comparison.unmatched),
        "alpha": comparison.policy.alpha, "checks": [str(c) for c in comparison.policy.checks],
        "policy_from": ["the defaults"] + list(comparison.policy.sources), "notes": list(comparison.notes),
        "canary": comparison.canary.as_dict() if comparison.canary else None,
        "normalised_by": comparison.normalised_by,
        "cells": [{
            "problem": c.problem, "configuration": c.label, "metric": c.metric, "verdict": c.verdict.value,
            "baseline_median": _plain(c.baseline_median), "candidate_median": _plain(c.candidate_median),
            "ratio": _plain(c.ratio), "interval": [_plain(v) for v in c.interval], "p_worse": _plain(c.p_worse),
            "samples": list(c.samples), "samples_of": c.samples_of, "excluded": list(c.excluded), "note": c.note,
        } for c in comparison.cells],
    }, indent=1)  # fmt: skip


UNITS = {"step_time": "s", "train_time": "s", "time_to_target": "s", "steps_to_target": "steps", "final_loss": "",
         "final_metric": "", "peak_rss": "bytes", "energy": "J", "power_mean": "W"}  # fmt: skip


def github_benchmark(comparison: Comparison) -> str:
    """github-action-benchmark's customSmallerIsBetter: one entry per cell with a finite
    candidate median (accuracy, larger-is-better, is left out rather than charted upside down)."""
    entries = []
    for cell in comparison.cells:
        value = cell.candidate_median
        if value is None or not math.isfinite(value) or cell.larger_is_better:
            continue
        entries.append({"name": f"{cell.problem} {cell.label} {cell.metric}", "unit": UNITS[cell.metric],
                        "value": value, "extra": f"verdict: {cell.verdict.value}; n {_samples(cell)}"})  # fmt: skip
    return json.dumps(entries, indent=1)
