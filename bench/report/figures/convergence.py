"""Figure 1: convergence curves per problem, each optimizer at its best learning rate.

Two panels: training loss by step and by training time; the median over seeds as a line and
the seeds' 25-75% quantiles as a band (both from bench.analysis.convergence, never from a
mean), a log y axis where the losses span more than two decades, the target as a line where
the problem's target is on the loss, and the baseline run's medians dashed where there is one.
"""

import math
from typing import List, Optional

from matplotlib.figure import Figure

from bench.analysis import choice, convergence
from bench.report import palette
from bench.report.figures import FigureItem

FIGSIZE = (8, 4.5)
LOG_SPAN = 100.0  # more than two decades between the smallest and largest loss: log y
PNG_POINTS = 5000  # above this many plotted points an SVG grows large: PNG instead


def _style():
    import seaborn

    return seaborn.axes_style("whitegrid")


def spans_decades(values, ratio: float = LOG_SPAN) -> bool:
    """Whether positive finite ``values`` span more than ``ratio`` (max / min)."""
    finite = [v for v in values if v == v and 0 < v < math.inf]
    return bool(finite) and max(finite) / min(finite) > ratio


def _losses(frame):
    return frame[frame["loss_median"].notna()].sort_values("step")


def plot_convergence(curves, problem: str, target: Optional[float] = None, baseline=None) -> Figure:
    """Loss vs step and vs training time for one problem.

    ``curves``: bench.analysis.convergence.best_curves rows of this problem, with an optional
    ``label`` column naming each optimizer's line (else "sgd (lr 0.1)"); ``baseline``:
    the same for the baseline run (drawn dashed, medians only), or None; ``target``: the loss
    target, drawn as a horizontal line, or None."""
    with _style():
        figure = Figure(figsize=FIGSIZE, layout="constrained")
        by_step, by_time = figure.subplots(1, 2, sharey=True)
    values = []
    for optimizer in palette.ordered(curves["optimizer"]):
        own = _losses(curves[curves["optimizer"] == optimizer])
        if own.empty:
            continue
        colour = palette.colour(optimizer)
        label = (
            own["label"].iloc[0] if "label" in own else "{} (lr {:g})".format(optimizer, own["lr"].iloc[0])
        )
        for ax, x in ((by_step, "step"), (by_time, "time_s")):
            ax.plot(own[x], own["loss_median"], color=colour, linewidth=1.8, label=label)
            ax.fill_between(own[x], own["loss_q25"], own["loss_q75"], color=colour, alpha=0.2, linewidth=0)
        values += list(own["loss_q25"]) + list(own["loss_q75"]) + list(own["loss_median"])
    if baseline is not None:
        for optimizer in palette.ordered(baseline["optimizer"]):
            own = _losses(baseline[baseline["optimizer"] == optimizer])
            if own.empty:
                continue
            label = (
                own["label"].iloc[0]
                if "label" in own
                else "{} (lr {:g})".format(optimizer, own["lr"].iloc[0])
            )
            label += ", baseline"
            for ax, x in ((by_step, "step"), (by_time, "time_s")):
                ax.plot(own[x], own["loss_median"], color=palette.colour(optimizer), linewidth=1.4,
                        linestyle="--", label=label)  # fmt: skip
            values += list(own["loss_median"])
    if target is not None:
        for ax in (by_step, by_time):
            ax.axhline(target, color="#333333", linestyle=":", linewidth=1.2, label=f"target {target:g}")
    if spans_decades(values):
        by_step.set_yscale("log")
    seeds = int(curves["seeds"].max()) if len(curves) else 0
    by_step.set_xlabel("step")
    by_time.set_xlabel("training time (s)")
    by_step.set_ylabel("training loss (batch)")
    by_step.set_title("by step", fontsize="medium")
    by_time.set_title("by training time", fontsize="medium")
    figure.suptitle(
        "{}: median over {} seed{}, band 25-75%".format(problem, seeds, "" if seeds == 1 else "s")
    )
    handles, labels = by_step.get_legend_handles_labels()
    columns = min(len(labels), 4 if max(len(label) for label in labels) <= 20 else 2)
    figure.legend(handles, labels, loc="outside lower center", ncols=columns, frameon=False)
    return figure


def loss_target(trials, problem: str) -> Optional[float]:
    """The problem's target value where its quantity is the loss; else None."""
    targets = trials.loc[trials["problem"] == problem, "target"]
    target = targets.iloc[0] if len(targets) else None
    if not target or target.get("quantity") != "loss":
        return None
    return float(target["value"])


def labelled(curves, trials, problem: str):
    """``curves`` with a ``label`` per optimizer: "adam (lr 0.01, activation tanh)", naming
    the axes besides the rate that the suite varied on this problem."""
    axes = choice.varying_axes(trials, problem)
    chosen = choice.best_configurations(trials)
    labels = {}
    for optimizer in set(curves["optimizer"]):
        lr = curves.loc[curves["optimizer"] == optimizer, "lr"].iloc[0]
        setting = choice.setting_label(trials, chosen[(problem, optimizer)].configuration, axes)
        labels[optimizer] = "{} (lr {:g}{})".format(optimizer, lr, ", " + setting if setting else "")
    return curves.assign(label=curves["optimizer"].map(labels))


def stopped_early(trials, problem: str) -> List[str]:
    """'sgd: 2 of 2 seeds diverged' for each optimizer whose best configuration lost seeds."""
    best = choice.best_per_optimizer(trials)
    notes = []
    for row in best[best["problem"] == problem].to_dict("records"):
        diverged = int(round(row["diverged_share"] * row["seeds"]))
        if diverged:
            notes.append("{}: {} of {} seeds diverged".format(row["optimizer"], diverged, row["seeds"]))
    return notes


def build(data) -> List[FigureItem]:
    """One item per problem of the run: name ``convergence-<problem>``, section the problem."""
    curves = convergence.best_curves(data.trials, data.curves)
    baseline = None
    if data.baseline is not None:
        baseline = convergence.best_curves(data.baseline.trials, data.baseline.curves)
    items = []
    for problem in dict.fromkeys(data.trials["problem"]):
        name = f"convergence-{problem}"
        title = f"{problem}: convergence at each optimizer's best learning rate"
        own = curves[curves["problem"] == problem]
        if own["loss_median"].notna().sum() == 0:
            ran = (data.trials.loc[data.trials["problem"] == problem, "status"] != "skipped").any()
            why = "no training loss was logged" if ran else "every trial was skipped"
            items.append(FigureItem(name, title, problem, None, f"{why} for {problem}: no curves to draw"))
            continue
        theirs = None
        if baseline is not None and (baseline["problem"] == problem).any():
            theirs = baseline[baseline["problem"] == problem]
        own = labelled(own, data.trials, problem)
        if theirs is not None:
            theirs = labelled(theirs, data.baseline.trials, problem)
        figure = plot_convergence(own, problem, loss_target(data.trials, problem), theirs)
        note = (
            "Training loss of each optimizer's best configuration: the line is the median over seeds, "
            "the band the seeds' 25-75% range; left by step, right by training time."
        )
        if theirs is not None:
            note += f" Dashed: the baseline run ({data.baseline.label})."
        early = stopped_early(data.trials, problem)
        if early:
            note += " " + "; ".join(early) + ": a diverged seed's curve ends where it blew up."
        points = int(own["loss_median"].notna().sum()) * 2
        items.append(FigureItem(name, title, problem, figure, note, "png" if points > PNG_POINTS else "svg"))
    return items
