"""report.md: the summary and the tables in GitHub-flavoured Markdown, for a CI job summary.

Figures are referenced beside it (figures/NAME.svg); the appendix of every trial is a link
to its CSV, not a table a job summary would have to scroll past.
"""

import re
from typing import List

from bench.report.figures import LANDSCAPES, OVERVIEW, FigureItem
from bench.report.header import Facts
from bench.report.history_section import HistorySection
from bench.report.tables import Table

# What makes inline Markdown of plain text: emphasis, code, links and images, raw HTML, table
# cells. (A URL in user text may still be autolinked by GitHub: that is text, not markup.)
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def escape(text: str) -> str:
    """User text (suite, problem and option names, error messages) as literal Markdown."""
    return _SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def _table(table: Table) -> List[str]:
    lines = ["| " + " | ".join(escape(h) for h in table.header()) + " |"]
    lines.append("|" + "---|" * len(table.columns))
    lines += ["| " + " | ".join(escape(cell) for cell in row) + " |" for row in table.rows()]
    if table.note:
        lines += ["", escape(table.note)]
    return lines


def _figure(item: FigureItem) -> List[str]:
    if item.figure is None:
        return [f"*{escape(item.title)}: left out. {escape(item.note)}*", ""]
    path = f"figures/{item.name}.{item.format}"
    return [f"![{escape(item.title)}]({path})", "", escape(item.note), ""]


def _history(history: HistorySection) -> List[str]:
    lines = ["## History", "", escape(history.sentence), ""]
    if history.table is not None:
        lines += [f"**{escape(history.table.title)}** ([csv](tables/{history.table.name}.csv))", ""]
        lines += _table(history.table) + [""]
    for item in history.figures:
        lines += _figure(item)
    if history.more:
        lines += [escape(history.more), ""]
    return lines


def render(title: str, description: str, facts: Facts, tables: List[Table], figures: List[FigureItem],
           sections: List[str], history: HistorySection) -> str:  # fmt: skip
    lines = [f"# {escape(title)}", ""]
    if description:
        lines += [escape(description.strip()), ""]
    lines += [f"- **{escape(label)}**: {escape(value)}" for label, value in facts]
    lines.append("")
    for section in [OVERVIEW] + sections:
        heading = {OVERVIEW: "Summary", LANDSCAPES: "Optimizer landscapes"}.get(section, section)
        lines += [f"## {escape(heading)}", ""]
        for table in (t for t in tables if t.section == section):
            lines += [f"**{escape(table.title)}** ([csv](tables/{table.name}.csv))", ""]
            lines += _table(table) + [""]
        for item in (f for f in figures if f.section == section):
            lines += _figure(item)
        if section == OVERVIEW:  # the nightly reader's first question: did anything change?
            lines += _history(history)
    appendix = [t for t in tables if t.section == "appendix"]
    if appendix:
        lines += ["## Appendix", ""]
        for table in appendix:
            lines.append(
                f"- {escape(table.title)}: [tables/{table.name}.csv](tables/{table.name}.csv), {len(table.frame)} rows"
            )
        lines.append("")
    return "\n".join(lines)
