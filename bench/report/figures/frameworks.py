"""Implementations side by side: where a run trained one configuration in more than one
implementation (torch beside tensorflow, eager beside tf.function), the same cell's
convergence, learned parameters and time per step, one figure per such cell.

A *cell* is a configuration without its implementation (and TensorFlow's settings): the
implementations in it share the data, the initial weights and the batches, seed by seed,
so their curves differ only by the framework. At most MAX_CELLS cells per problem are
drawn, in the order the run recorded them; the note says how many more there were.
"""

import json
from typing import Dict, List

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from bench import ranking
from bench.report.figures import FigureItem
from bench.report.figures.learned import _flat

MAX_CELLS = 3
SIZE = (12, 3.8)
# One colour per implementation label, fixed by order of appearance (the optimizers' palette
# is for optimizers; here every line is the same optimizer).
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
_IMPLEMENTATION_KEYS = ("implementation", "tf_updates", "tf_function")


def cell_key(configuration: str) -> str:
    """A configuration key without the implementation and TensorFlow's settings."""
    config = json.loads(configuration)
    for key in _IMPLEMENTATION_KEYS:
        config.pop(key, None)
    return json.dumps(config, sort_keys=True)


def shared_cells(trials, problem: str) -> Dict[str, List[str]]:
    """cell -> its implementation labels, for the cells of ``problem`` run in two or more."""
    rows = trials[(trials["problem"] == problem) & (trials["status"] != "skipped")]
    cells = {}  # type: Dict[str, List[str]]
    for configuration, implementation in zip(rows["configuration"], rows["implementation"]):
        labels = cells.setdefault(cell_key(configuration), [])
        if implementation not in labels:
            labels.append(implementation)
    return {cell: labels for cell, labels in cells.items() if len(labels) > 1}


def own_step_times(rows):
    """The rows' median step times in seconds, less those of trials not timed alone
    (timing_shared: trained beside others, or batched with them): not their own times."""
    if "timing_shared" in rows:
        rows = rows[rows["timing_shared"].isna()]
    return rows["step_time_median_s"].dropna()


def _title(problem: str, cell: str) -> str:
    config = json.loads(cell)
    hyper = "".join(f", {k} {v}" for k, v in sorted(config.get("hyper", {}).items()))
    options = "".join(f", {k} {v}" for k, v in sorted(config.get("options", {}).items()))
    return f"{problem}: {config['optimizer']} lr {config['lr']:g}{hyper}{options}, by implementation"


def plot_cell(trials, curves, labels: List[str], title: str) -> Figure:
    """Three panels: the median training loss by step; the learned parameters (linear
    problems) or the final loss per seed; each seed's median step time."""
    fig = Figure(figsize=SIZE, layout="constrained")
    loss_ax, learned_ax, time_ax = fig.subplots(1, 3)
    colours = {label: COLOURS[i % len(COLOURS)] for i, label in enumerate(labels)}
    optimum = None
    for index, label in enumerate(labels):
        mine = trials[trials["implementation"] == label]
        colour = colours[label]
        curve = curves[curves["trial_id"].isin(mine["trial_id"])].dropna(subset=["loss"])
        if not curve.empty:
            median = curve.groupby("step")["loss"].median()
            loss_ax.plot(median.index, median.values, color=colour, linewidth=1.6, label=label,
                         linestyle=("-", "--", ":", "-.")[index % 4])  # fmt: skip
        x = index + 1
        scored = mine[mine["status"].isin(ranking.SCORED)]
        learned = [r for r in scored["learned"] if isinstance(r, dict) and r.get("weight") is not None]
        if learned:
            for parameters in learned:
                values = _flat(parameters)
                optimum = _flat(parameters["optimum"])
                for k, (name, value) in enumerate(values.items()):
                    learned_ax.scatter([k + (index - (len(labels) - 1) / 2) * 0.12], [value - optimum[name]],
                                       color=colour, s=22, zorder=3)  # fmt: skip
        else:
            learned_ax.scatter([x] * len(scored), scored["final_loss"], color=colour, s=22, zorder=3)
        times = own_step_times(mine) * 1e6
        time_ax.scatter([x] * len(times), times, color=colour, s=22, zorder=3)
        if len(times):
            time_ax.hlines(times.median(), x - 0.3, x + 0.3, colors=colour, linewidth=2)
    loss_ax.set_yscale("log")
    loss_ax.set_xlabel("step")
    loss_ax.set_ylabel("training loss (batch, median over seeds)")
    loss_ax.grid(alpha=0.3)
    loss_ax.legend(fontsize=8, frameon=False)
    if optimum is not None:
        names = list(optimum)
        learned_ax.axhline(0.0, color="0.55", linewidth=1.5, zorder=1)
        learned_ax.set_xticks(range(len(names)))
        learned_ax.set_xticklabels(names, rotation=45 if len(names) > 8 else 0)
        learned_ax.set_ylabel("learned − least-squares optimum")
        learned_ax.set_title("grey: the optimum", fontsize=9)
    else:
        learned_ax.set_xticks(range(1, len(labels) + 1))
        learned_ax.set_xticklabels(labels, rotation=20, fontsize=8)
        learned_ax.set_ylabel("final training loss, per seed")
        learned_ax.set_yscale("log")
    learned_ax.grid(axis="y", alpha=0.3)
    time_ax.set_xticks(range(1, len(labels) + 1))
    time_ax.set_xticklabels(labels, rotation=20, fontsize=8)
    time_ax.set_yscale("log")
    time_ax.set_ylabel("median step time per seed (µs)")
    time_ax.set_xlim(0.4, len(labels) + 0.6)
    time_ax.grid(axis="y", alpha=0.3)
    handles = [
        Line2D([], [], color=colours[label], marker="o", linestyle="", label=label) for label in labels
    ]
    fig.legend(handles=handles, loc="outside right upper", fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=10)
    return fig


def _note(trials, labels: List[str]) -> str:
    """The figures in words: each implementation's median step time against the first's, and,
    on a linear problem, its median learned parameters against the optimum."""
    parts = []
    reference = own_step_times(trials[trials["implementation"] == labels[0]]).median()
    for label in labels:
        mine = trials[trials["implementation"] == label]
        step = own_step_times(mine).median()
        text = f"{label}: {step * 1e6:,.0f} µs per step" if step == step else f"{label}: no step time"
        if label != labels[0] and step == step and reference == reference and reference > 0:
            text += f" ({step / reference:.3g}x {labels[0]})"
        learned = [r for r in mine["learned"] if isinstance(r, dict) and r.get("weight") is not None]
        if learned:
            values, optimum = _flat(learned[0]), _flat(learned[0]["optimum"])
            shown = list(values)[:2]
            text += ", " + ", ".join(f"{p} {values[p]:.4g} (optimum {optimum[p]:.4g})" for p in shown)
            text += " on seed " + str(mine["seed_index"].iloc[0])
        parts.append(text)
    return (
        "The same data, initial weights and batches in each implementation. Left: the median training loss; "
        "middle: the learned parameters' distance from the least-squares optimum (linear problems), else the "
        "final loss, per seed; right: each seed's median step time (bar: their median; trials not timed alone "
        "left out). " + "; ".join(parts) + "."
    )


def build(data) -> List[FigureItem]:
    trials = data.trials
    items = []
    for problem in dict.fromkeys(trials["problem"]):
        cells = shared_cells(trials, problem)
        if not cells:
            continue
        rows = trials[(trials["problem"] == problem) & (trials["status"] != "skipped")]
        keys = rows["configuration"].map(cell_key)
        for number, (cell, labels) in enumerate(list(cells.items())[:MAX_CELLS]):
            mine = rows[keys == cell]
            name = f"frameworks-{problem}-{number + 1}"
            note = _note(mine, labels)
            if number == MAX_CELLS - 1 and len(cells) > MAX_CELLS:
                note += f" {len(cells) - MAX_CELLS} more such cells of {problem} are not drawn."
            figure = plot_cell(mine, data.curves, labels, _title(problem, cell))
            items.append(FigureItem(name, _title(problem, cell), problem, figure, note))
    return items
