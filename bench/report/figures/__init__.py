"""The report's figures: one module per kind, each with a ``build(data)`` returning items.

A figure whose data is absent (no telemetry, a single seed, no linear problem) is returned
as an item with ``figure=None`` and a one-line note saying why: never drawn empty, never
drawn from made-up values.
"""

import re
from dataclasses import dataclass
from typing import Any, Optional

OVERVIEW = "overview"  # the section for figures across problems
LANDSCAPES = "landscapes"  # the section of the 2-D functions' paths (bench.report.landscapes)


def file_stem(name: str) -> str:
    """``name`` as a file name and a link target: a problem variant such as "quadratic
    (condition 100)" names figures and tables, and spaces or brackets in a path break links."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")


@dataclass(frozen=True)
class FigureItem:
    name: str  # file stem, unique in the report: "convergence-curve", "profile-time"
    title: str  # shown above the figure
    section: str  # a problem's name, or OVERVIEW
    figure: Optional[Any]  # a matplotlib Figure; None when left out
    note: str  # a caption saying what to read in it, or, when left out, why
    format: str = "svg"  # "svg", or "png" where an SVG would be huge (many points)

    def __post_init__(self):
        object.__setattr__(self, "name", file_stem(self.name))
