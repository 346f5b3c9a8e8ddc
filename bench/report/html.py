"""index.html: one self-contained file (figures embedded, no network) from a Jinja2 template.

Jinja2 escapes every value at the template boundary (autoescape), once: suite, problem and
option names and error messages reach the page as text, never as markup.
"""

import base64
import os
from typing import Any, Dict, List

import jinja2

from bench.report.figures import LANDSCAPES, OVERVIEW, FigureItem
from bench.report.header import Facts
from bench.report.history_section import HistorySection
from bench.report.tables import Table

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
MIME = {"svg": "image/svg+xml", "png": "image/png", "gif": "image/gif"}


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )


def _table(table: Table) -> Dict[str, Any]:
    numeric = [c.numeric for c in table.columns]
    rows = [[{"text": cell, "numeric": n} for cell, n in zip(row, numeric)] for row in table.rows()]
    return {
        "name": table.name,
        "title": table.title,
        "header": table.header(),
        "rows": rows,
        "note": table.note,
    }


def _figure(item: FigureItem, images: Dict[str, bytes]) -> Dict[str, Any]:
    src = None
    if item.figure is not None:
        encoded = base64.b64encode(images[item.name]).decode("ascii")
        src = f"data:{MIME[item.format]};base64,{encoded}"
    return {"name": item.name, "title": item.title, "note": item.note, "src": src}


def _anchor(name: str) -> str:
    return "problem-" + "".join(c if c.isalnum() else "-" for c in name)


def render(
    title: str, description: str, facts: Facts, suite_text: str, tables: List[Table],
    figures: List[FigureItem], images: Dict[str, bytes], sections: List[str], run_dir: str, version: str,
    history: HistorySection,
) -> str:  # fmt: skip
    def part(section: str) -> Dict[str, Any]:
        return {
            "name": section,
            "anchor": _anchor(section),
            "tables": [_table(t) for t in tables if t.section == section],
            "figures": [_figure(f, images) for f in figures if f.section == section],
        }

    template = _environment().get_template("report.html.j2")
    return template.render(
        title=title, description=description, facts=facts, suite_text=suite_text,
        overview=part(OVERVIEW), sections=[part(s) for s in sections], landscapes=part(LANDSCAPES),
        appendix=[_table(t) for t in tables if t.section == "appendix"], run_dir=run_dir, version=version,
        history={
            "sentence": history.sentence, "table": history.table and _table(history.table),
            "figures": [_figure(f, images) for f in history.figures], "more": history.more,
        },
    )  # fmt: skip
