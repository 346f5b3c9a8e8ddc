"""`optbench report`: a results directory in, ``reports/<suite>/<run-id>/`` out.

    index.html     one self-contained page (figures embedded; opens from file:// and a USB stick)
    report.md      the summary and tables for a CI job summary, figures referenced beside it
    tables/*.csv   every table in the report, raw values
    figures/       each figure as SVG, or PNG where an SVG would be huge

The report is written to a sibling folder and swapped in whole, so a reader never sees half
of one and a stale figure of an earlier report never survives into a new one.
"""

import importlib
import io
import os
import shutil
from typing import List, Optional, Sequence

import yaml

import bench
from bench import store
from bench.report import header, history_section, html, landscapes, markdown, tables
from bench.report.data import ReportData, load_report_data
from bench.report.figures import FigureItem

# The figures in the order the report shows them (the numbering): one module each.
FIGURE_MODULES = (
    "convergence", "sensitivity", "heatmaps", "targets", "profiles", "tuning", "pareto", "timeline",
    "learned", "frameworks", "steptimes", "landscapes",
)  # fmt: skip
PNG_DPI = 110


class ReportError(Exception):
    """The report cannot be made (no trials yet, a run directory that cannot be read)."""


def resolve_run_dir(path: str) -> str:
    """A run directory as given, or, for a suite's results directory, its latest run."""
    if os.path.exists(os.path.join(path, store.MANIFEST)):
        return path
    latest = store.latest_run(path)
    if latest is None:
        raise ReportError(f"{path}: neither a run directory (no {store.MANIFEST}) nor a suite's results directory "
                          "holding runs; give results/<suite>/<run-id> or results/<suite>")  # fmt: skip
    return latest


def default_out(data: ReportData, reports: str = "reports") -> str:
    return os.path.join(reports, str(data.manifest.get("suite")), str(data.manifest.get("run_id")))


def figure_items(data: ReportData, modules: Sequence[str] = FIGURE_MODULES) -> List[FigureItem]:
    items = []  # type: List[FigureItem]
    for name in modules:
        module = importlib.import_module(f"bench.report.figures.{name}")
        items.extend(module.build(data))
    return items


def _image(item: FigureItem) -> bytes:
    import matplotlib.pyplot as plt

    if item.format == "gif":  # an animation (figures.landscapes.PathAnimation) renders itself
        return item.figure.render()
    buffer = io.BytesIO()
    # No date, and a fixed salt for SVG ids: the same run gives the same bytes.
    metadata = {"Date": None} if item.format == "svg" else {"Software": None}
    item.figure.savefig(buffer, format=item.format, dpi=PNG_DPI, bbox_inches="tight", metadata=metadata)
    plt.close(item.figure)
    return buffer.getvalue()


def build_report(
    run_dir: str,
    out_dir: Optional[str] = None,
    baseline_dir: Optional[str] = None,
    figure_modules: Sequence[str] = FIGURE_MODULES,
) -> str:
    """Write the report; returns its directory."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "optbench"
    try:
        data = load_report_data(resolve_run_dir(run_dir), baseline_dir and resolve_run_dir(baseline_dir))
    except store.StoreError as error:
        raise ReportError(str(error)) from None
    if data.trials.empty:
        raise ReportError(f"{data.run_dir}: no trials recorded yet")
    out_dir = out_dir or default_out(data)
    problems = tables.problems_in(data)
    every_table = tables.all_tables(data, problems)
    landscape_table = landscapes.target_table(landscapes.functions(data))
    if landscape_table is not None:
        every_table.append(landscape_table)
    items = figure_items(data, figure_modules)
    history = history_section.build(data)
    # The History section's figures and table are drawn and written with the others, and placed
    # by the renderers themselves (history.*), not by section name.
    drawn = items + history.figures
    written = every_table + ([history.table] if history.table is not None else [])
    images = {item.name: _image(item) for item in drawn if item.figure is not None}
    facts = header.run_facts(data) + header.machine_facts(data.manifest) + header.worker_facts(data)
    if data.baseline is not None:
        facts.insert(1, ("baseline", f"{data.baseline.label} ({data.baseline.run_dir})"))
    title = f"optbench report: {data.label}"
    description = str(data.manifest.get("suite_document", {}).get("description") or "")
    staging = out_dir.rstrip(os.sep) + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(os.path.join(staging, "tables"))
    os.makedirs(os.path.join(staging, "figures"))
    for table in written:
        table.frame.to_csv(os.path.join(staging, "tables", table.name + ".csv"), index=False)
    for item in drawn:
        if item.name in images:
            with open(os.path.join(staging, "figures", f"{item.name}.{item.format}"), "wb") as handle:
                handle.write(images[item.name])
    with_landscapes = problems + ([landscapes.LANDSCAPES] if landscape_table is not None else [])
    summary = markdown.render(title, description, facts, every_table, items, with_landscapes, history)
    _write(staging, "report.md", summary)
    suite_text = yaml.safe_dump(data.manifest.get("suite_document", {}), sort_keys=False)
    page = html.render(title, description, facts, suite_text, every_table, items, images, problems,
                       os.path.abspath(data.run_dir), bench.__version__, history)  # fmt: skip
    _write(staging, "index.html", page)
    _swap_in(staging, out_dir)
    return out_dir


def _write(directory: str, name: str, text: str) -> None:
    with open(os.path.join(directory, name), "w", encoding="utf-8") as handle:
        handle.write(text)


def _swap_in(staging: str, out_dir: str) -> None:
    old = out_dir.rstrip(os.sep) + ".old"
    shutil.rmtree(old, ignore_errors=True)
    if os.path.exists(out_dir):
        os.replace(out_dir, old)
    os.makedirs(os.path.dirname(os.path.abspath(out_dir)), exist_ok=True)
    os.replace(staging, out_dir)
    shutil.rmtree(old, ignore_errors=True)
