"""Figure 7: what each configuration bought for what it cost: final quality against energy.

Per problem, every configuration as one point (medians over its seeds): the final quality
the ranking scores against the energy of its training, or its training time where the run
measured no energy. The Pareto front (no other configuration both cheaper and better) is
drawn as a staircase through its points. Configurations that failed on most seeds (the
ranking scores them worst) are left out and counted in the caption.
"""

import math
from typing import List

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from bench import ranking
from bench.analysis import require_pandas
from bench.report import palette
from bench.report.figures import FigureItem
from bench.report.figures.sensitivity import quality, spans_decades

SIZE = (8, 4.5)

COSTS = {
    "energy_train_j": "energy of training, median over seeds (J)",
    "train_time_s": "training time, median over seeds (s)",
}


def pareto_points(trials, problem: str, cost: str):
    """One row per configuration of ``problem`` that the ranking does not score worst:
    configuration, optimizer, lr, seeds, cost, value (median over its scored seeds) and
    front (on the Pareto front)."""
    pd = require_pandas()
    rows = trials[(trials["problem"] == problem) & (trials["status"] != "skipped")]
    column, _, higher = quality(rows)
    standings = {s.configuration: s for s in ranking.rank(rows.to_dict("records")).get(problem, [])}
    out = []
    for configuration, group in rows.groupby("configuration", sort=False):
        scored = group[group["status"].isin(ranking.SCORED)]
        if math.isinf(standings[configuration].score):
            continue
        out.append({
            "configuration": configuration, "optimizer": group["optimizer"].iloc[0], "lr": group["lr"].iloc[0],
            "seeds": len(group), "cost": scored[cost].median(), "value": scored[column].median(),
        })  # fmt: skip
    points = pd.DataFrame(out, columns=["configuration", "optimizer", "lr", "seeds", "cost", "value"])
    points = points.dropna(subset=["cost", "value"]).reset_index(drop=True)
    points["front"] = pareto_front(points["cost"], points["value"], higher_is_better=higher)
    return points


def pareto_front(cost, value, *, higher_is_better: bool) -> List[bool]:
    """For each point, whether no other point is at most as costly and at least as good,
    and strictly one of them."""
    sign = -1.0 if higher_is_better else 1.0
    pairs = [(c, sign * v) for c, v in zip(cost, value)]
    return [not any((c2 <= c and v2 <= v) and (c2 < c or v2 < v) for c2, v2 in pairs) for c, v in pairs]


def plot_pareto(points, *, title: str, xlabel: str, ylabel: str, higher_is_better: bool) -> Figure:
    """Configurations coloured by optimizer, the front as a staircase through its points.
    ``points`` as pareto_points."""
    fig = Figure(figsize=SIZE, layout="constrained")
    ax = fig.subplots()
    optimizers = palette.ordered(points["optimizer"])
    for optimizer in optimizers:
        mine = points[points["optimizer"] == optimizer]
        ax.scatter(mine["cost"], mine["value"], s=28, color=palette.colour(optimizer), alpha=0.8, zorder=3,
                   linewidths=0).set_gid(f"configurations-{optimizer}")  # fmt: skip
    front = points[points["front"]].sort_values("cost")
    ax.scatter(front["cost"], front["value"], s=70, facecolors="none", edgecolors="black", linewidths=1,
               zorder=4).set_gid("front-points")  # fmt: skip
    ax.plot(front["cost"], front["value"], color="black", linewidth=1, alpha=0.6, drawstyle="steps-post",
            zorder=2)[0].set_gid("front")  # fmt: skip
    if spans_decades(points["cost"], 1):
        ax.set_xscale("log")
    if spans_decades(points["value"], 1):
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel + (" (higher is better)" if higher_is_better else " (lower is better)"))
    ax.grid(alpha=0.3)
    handles = [Line2D([], [], color=palette.colour(o), marker="o", linestyle="", label=o) for o in optimizers]
    handles.append(
        Line2D([], [], color="black", marker="o", markerfacecolor="none", alpha=0.7, label="Pareto front")
    )
    fig.legend(handles=handles, loc="outside right upper", fontsize=8, frameon=False)
    ax.set_title(title)
    return fig


def build(data) -> List[FigureItem]:
    trials = data.trials
    items = []
    for problem in trials.loc[trials["status"] != "skipped", "problem"].unique():
        rows = trials[(trials["problem"] == problem) & (trials["status"] != "skipped")]
        cost = "energy_train_j" if rows["energy_train_j"].notna().any() else "train_time_s"
        _, ylabel, higher = quality(rows)
        points = pareto_points(trials, problem, cost)
        what = "energy" if cost == "energy_train_j" else "training time"
        name, title = f"pareto-{problem}", f"{problem}: final quality against {what}"
        if points.empty:
            items.append(FigureItem(name, title, problem, None, f"Every configuration of {problem} failed."))
            continue
        ylabel = ylabel + ", median over seeds"
        figure = plot_pareto(points, title=title, xlabel=COSTS[cost], ylabel=ylabel, higher_is_better=higher)
        left_out = rows["configuration"].nunique() - len(points)
        note = (
            f"Each configuration (medians over its seeds) by its {what} and final quality; circled and joined: "
            "the Pareto front, where nothing is both cheaper and better."
        )
        if cost == "train_time_s":
            note += " This run measured no energy, so training time stands in for it."
        if left_out:
            note += f" {left_out} configuration{'s' if left_out > 1 else ''} left out: failed on most seeds, or unmeasured."
        items.append(FigureItem(name, title, problem, figure, note))
    return items
