"""`optbench history RESULTS_DIR [--suite S] [--format text|markdown|json]`: the table of
changes in a suite's nights, and an exit code.

Exit codes: 0 no change in the regression direction (improvements are listed, and pass);
1 a regression-direction change flagged (slower, worse or hungrier; a step marked "machine
moved" still counts, since a code change can land on the night the machine moved, and the
canary's own series does not count: it is the machine, not the code); 2 bad input (no runs,
an unreadable directory or manifest: the message names the path); 3 insufficient data
(fewer than changepoints.MIN_NIGHTS nights: no break could be confirmed).
"""

import json
import sys
from typing import List, Optional

from bench.compare import changepoints
from bench.compare.history import CANARY, REASONS, HistoryError, find_changes, load_series

NO_CHANGE, REGRESSION, BAD_INPUT, INSUFFICIENT = 0, 1, 2, 3

HEADER = ["metric", "configuration", "machine", "kind", "night", "runs", "commits", "before", "after", "ratio",
          "p", "direction", "left out"]  # fmt: skip


def _short(commit) -> str:
    return str(commit)[:10] if isinstance(commit, str) and commit else "?"


# One function per derived column of a change row, shared with the report's History table.
def night_text(row) -> str:
    """A step's first night at the new level; creep's best nights' first night to the recent ones'."""
    return str(row["night"]) if row["kind"] == "step" else f"{row['since_night']} to {row['night']}.."


def runs_text(row) -> str:
    return f"{row['run_before']} -> {row['run_after']}"


def commits_text(row) -> str:
    return f"{_short(row['commit_before'])} -> {_short(row['commit_after'])}"


def direction_text(row) -> str:
    if row["metric"] == CANARY:
        return "machine slower" if row["ratio"] > 1 else "machine faster"
    direction = "regression" if row["regression"] else "improvement"
    if row["machine_moved"] is True:
        direction += f" (machine moved: canary x{row['canary_ratio']:.3f})"
    return direction


def left_out_text(row) -> str:
    """The series' nights left out, by reason ("2 throttled, 1 power mode"), or "-"."""
    left_out = ", ".join(
        f"{int(row[f'excluded_{r}'])} {r.replace('_', ' ')}" for r in REASONS if row[f"excluded_{r}"]
    )
    return left_out or "-"


def _cells(row) -> List[str]:
    return [
        row["metric"], row["configuration"], row["machine"], row["kind"], night_text(row), runs_text(row),
        commits_text(row), f"{row['level_before']:.4g}", f"{row['level_after']:.4g}", f"{row['ratio']:.3f}",
        f"{row['p_value']:.2g}", direction_text(row), left_out_text(row),
    ]  # fmt: skip


def _text_table(rows: List[List[str]]) -> str:
    widths = [max(len(r[i]) for r in [HEADER] + rows) for i in range(len(HEADER))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [HEADER] + rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _markdown_table(rows: List[List[str]]) -> str:
    def line(cells):
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(HEADER), "|" + "---|" * len(HEADER)] + [line(r) for r in rows])


def _summary(changes) -> str:
    attrs = changes.attrs
    excluded = ", ".join(f"{n} {r.replace('_', ' ')}" for r, n in attrs.get("excluded", {}).items() if n)
    text = f"{attrs['series']} series over {attrs['nights']} nights"
    if attrs.get("short"):
        text += (
            f"; {attrs['short']} series with fewer than {changepoints.MIN_NIGHTS} usable nights not examined"
        )
    if excluded:
        text += f"; nights left out of time and energy series: {excluded}"
    return text


def history_command(results_dir: str, suite: Optional[str], output_format: str = "text") -> int:
    """Print the changes in the history of ``results_dir`` (one suite's, if named); return the exit code."""
    try:
        series = load_series(results_dir, suite)
    except HistoryError as error:
        print(f"optbench history: {error}", file=sys.stderr)
        return BAD_INPUT
    changes = find_changes(series)
    nights = changes.attrs["nights"]
    if nights < changepoints.MIN_NIGHTS:
        print(f"optbench history: insufficient data: {results_dir} has {nights} night(s) of "
              f"{suite or 'its suites'}; at least {changepoints.MIN_NIGHTS} are needed, since a "
              f"one-sided rank test of fewer nights cannot reach p < {changepoints.ALPHA} "
              "for any break", file=sys.stderr)  # fmt: skip
        return INSUFFICIENT
    code = changes[changes["metric"] != CANARY]
    status = REGRESSION if code["regression"].any() else NO_CHANGE
    if output_format == "json":
        records = json.loads(changes.to_json(orient="records"))
        print(json.dumps({"summary": dict(changes.attrs), "changes": records}, indent=2))
        return status
    if changes.empty:
        print(f"no change in {_summary(changes)}")
        return status
    rows = [_cells(row) for _, row in changes.iterrows()]
    table = _markdown_table(rows) if output_format == "markdown" else _text_table(rows)
    print(table)
    print()
    regressions = int(code["regression"].sum())
    moved = int((code["regression"] & code["machine_moved"].eq(True)).sum())
    machine = len(changes) - len(code)
    print(f"{len(changes)} change(s), {regressions} in the regression direction"
          + (f" ({moved} where the machine moved too)" if moved else "")
          + (f", {machine} of the canary (the machine itself)" if machine else "")
          + f", in {_summary(changes)}")  # fmt: skip
    return status
