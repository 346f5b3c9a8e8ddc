"""Figure 3: heatmaps of the final test metric, optimizer against one axis of the suite.

Optimizer x activation (on ``curve``: the tutorial's "no activation cannot fit a sine" at a
glance), optimizer x batch mode, and optimizer x (dropout, batch norm) (on ``lenet``); drawn
for every problem whose trials vary that axis. Each cell is the configuration the ranking
picks among that cell's learning rates, showing the median over its seeds of the final test
metric, annotated with the value and the rate. Axes not drawn that vary too are held at
their most common setting (the caption names it).
"""

import math
from typing import Dict, List, Sequence, Tuple

import seaborn as sns
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from bench import ranking
from bench.analysis import require_pandas
from bench.report import palette
from bench.report.figures import OVERVIEW, FigureItem
from bench.report.figures.sensitivity import VARIANT_AXES, axis_text

SIZE = (8, 4.5)

# kind -> (the axes drawn as columns, what the columns are called, the problem it is about)
KINDS = {
    "activation": (("activation",), "activation", "curve"),
    "batch": (("batch",), "batch mode", "lenet"),
    "regularisation": (("dropout", "batch_norm"), "dropout and batch norm", "lenet"),
}


def held_setting(rows, columns: Sequence[str]) -> Dict[str, object]:
    """The other axes that vary among ``rows``, at their most common combination."""
    others = [a for a in VARIANT_AXES if a not in columns and rows[a].nunique() > 1]
    if not others:
        return {}
    counts = rows.groupby(others, sort=False).size()
    top = counts.idxmax()  # the first seen among equals
    return dict(zip(others, top if isinstance(top, tuple) else (top,)))


def heatmap_cells(trials, problem: str, columns: Sequence[str]) -> Tuple["object", Dict[str, object]]:
    """(cells, held): one row per (optimizer, column value) with the ranking's choice of
    configuration in it: optimizer, column (its label), order, lr, seeds, value (median
    final test metric over the seeds that did not fail; NaN where most failed) and failed."""
    pd = require_pandas()
    rows = trials[(trials["problem"] == problem) & (trials["status"] != "skipped")]
    held = held_setting(rows, columns)
    for axis, value in held.items():
        rows = rows[rows[axis] == value]
    out = []
    labels = list(dict.fromkeys(_label(r, columns) for _, r in rows.iterrows()))
    for (optimizer, *values), cell in rows.groupby(["optimizer", *columns], sort=False):
        standing = ranking.best(cell.to_dict("records"))[problem]
        chosen = cell[cell["configuration"] == standing.configuration]
        scored = chosen[chosen["status"].isin(ranking.SCORED)]["final_metric"].dropna()
        failed = math.isinf(standing.score)
        label = _label(dict(zip(columns, values)), columns)
        out.append({
            "optimizer": optimizer, "column": label, "order": labels.index(label),
            "lr": chosen["lr"].iloc[0], "seeds": len(chosen),
            "value": float("nan") if failed or scored.empty else scored.median(), "failed": failed,
        })  # fmt: skip
    return pd.DataFrame(out), held


def _label(row, columns) -> str:
    if list(columns) == ["dropout", "batch_norm"]:
        return "{}\n{}".format(
            axis_text("dropout", row["dropout"]), axis_text("batch_norm", row["batch_norm"])
        )
    return str(row[columns[0]])


def plot_heatmap(
    cells, *, title: str, column_label: str, metric_label: str, higher_is_better: bool
) -> Figure:
    """Optimizers as rows, ``cells["column"]`` as columns; the colour the value (log scale
    where the values span a decade and more), the text the value and the chosen rate."""
    optimizers = list(palette.ordered(cells["optimizer"]))
    columns = list(cells.sort_values("order")["column"].unique())
    values = cells.pivot(index="optimizer", columns="column", values="value").reindex(optimizers)[columns]
    text = (
        cells.assign(
            text=["failed" if row.failed else f"{row.value:.3g}\nlr {row.lr:g}" for row in cells.itertuples()]
        )
        .pivot(index="optimizer", columns="column", values="text")
        .reindex(optimizers)[columns]
        .fillna("")
    )
    finite = values.stack().dropna()
    norm = None
    if len(finite) and finite.min() > 0 and finite.max() / finite.min() >= 10:
        norm = LogNorm(vmin=finite.min(), vmax=finite.max())
    fig = Figure(figsize=(SIZE[0], max(2.6, 1.6 + 0.7 * len(optimizers))), layout="constrained")
    ax = fig.subplots()
    ax.set_facecolor("0.85")  # a cell with no trial (or whose trials failed) shows grey
    sns.heatmap(
        values.astype(float), ax=ax, annot=text.to_numpy(), fmt="", norm=norm,
        cmap="viridis" if higher_is_better else "viridis_r", linewidths=1, linecolor="white",
        cbar_kws={"label": metric_label + (" (log scale)" if norm is not None else "")},
        annot_kws={"fontsize": 8},
    )  # fmt: skip
    ax.set_xlabel(column_label)
    ax.set_ylabel("optimizer")
    ax.tick_params(axis="y", rotation=0)
    for tick in ax.get_yticklabels():
        tick.set_color(palette.colour(tick.get_text()))
    ax.set_title(title)
    return fig


def build(data) -> List[FigureItem]:
    trials = data.trials
    ran = trials[trials["status"] != "skipped"]
    problems = list(ran["problem"].unique())
    items = []
    for kind, (columns, column_label, usual) in KINDS.items():
        drawn = [p for p in problems if _varies(ran[ran["problem"] == p], columns)]
        for problem in drawn:
            items.append(_item(trials, problem, kind, columns, column_label))
        if usual not in drawn:
            name = f"heatmap-{kind}-{usual}"
            title = f"{usual}: optimizer x {column_label}"
            if usual in problems:
                note = f"{usual} ran with a single {column_label} setting in this run: no heatmap."
                items.append(FigureItem(name, title, usual, None, note))
            else:
                items.append(FigureItem(name, title, OVERVIEW, None, f"This run has no {usual} problem."))
    return items


def _varies(rows, columns) -> bool:
    return len(rows.groupby(list(columns)).size()) > 1


def _item(trials, problem, kind, columns, column_label) -> FigureItem:
    rows = trials[trials["problem"] == problem]
    metric = rows["metric_name"].iloc[0]
    higher = ranking.higher_is_better(rows["target"].iloc[0])
    cells, held = heatmap_cells(trials, problem, columns)
    title = f"{problem}: optimizer x {column_label}"
    metric_label = f"median final test {metric}"
    figure = plot_heatmap(
        cells, title=title, column_label=column_label, metric_label=metric_label, higher_is_better=higher
    )
    note = (
        f"Each cell: the {metric_label} over seeds of the configuration the ranking picks among that "
        f"cell's learning rates (the rate is printed); {'higher' if higher else 'lower'} is better."
    )
    if held:
        note += " Held at " + ", ".join(axis_text(a, v) for a, v in held.items()) + "."
    failed = int(cells["failed"].sum())
    if failed:
        note += f" {failed} cell{'s' if failed > 1 else ''} failed: diverged or failed on most seeds at every rate."
    return FigureItem(f"heatmap-{kind}-{problem}", title, problem, figure, note)
