"""Figure 4: time and energy to reach the target, per optimizer at its best configuration.

Per problem, each optimizer's best configuration (by bench.ranking's rule, over its learning
rates and other axes), each seed a point, the median over the seeds that reached the target
a bar. Seeds that never reached it have no time to plot: the axis label counts them.
Energy only where the run measured it.
"""

from typing import List

from matplotlib.figure import Figure

from bench import ranking
from bench.analysis import choice, require_pandas
from bench.report import palette
from bench.report.figures import FigureItem

SIZE = (8, 4.5)


def target_points(trials, problem: str):
    """One row per seed of each optimizer's best configuration on ``problem``: optimizer,
    seed_index, reached, failed (diverged, or worse), time_to_target_s, energy_to_target_j,
    energy_measured."""
    rows = trials[(trials["problem"] == problem) & (trials["status"] != "skipped")]
    chosen = {standing.configuration for standing in choice.best_configurations(rows).values()}
    points = rows[rows["configuration"].isin(chosen)]
    return require_pandas().DataFrame({
        "optimizer": points["optimizer"],
        "seed_index": points["seed_index"],
        "reached": points["steps_to_target"].notna(),
        "failed": ~points["status"].isin(ranking.SCORED),
        "time_to_target_s": points["time_to_target_s"],
        "energy_to_target_j": points["energy_to_target_j"],
        "energy_measured": points["energy_train_j"].notna(),
    }).reset_index(drop=True)  # fmt: skip


def describe_target(target, metric_name: str) -> str:
    """'loss < 0.0001', 'test accuracy > 0.95' from a record's target and metric name."""
    sign = ">" if ranking.higher_is_better(target) else "<"
    quantity = target.get("quantity")
    if quantity == "metric":
        quantity = f"test {metric_name}"
    return "{} {} {:g}".format(quantity, sign, target.get("value"))


def _medians(points, column):
    reached = points[points["reached"] & points[column].notna()]
    return reached.groupby("optimizer")[column].median()


def plot_targets(points, *, title: str, energy: bool) -> Figure:
    """Seeds as points and the median over those that reached the target as a bar, per
    optimizer; a second panel for energy when ``energy``. ``points`` as target_points."""
    panels = [("time_to_target_s", "training time to target (s)")]
    if energy:
        panels.append(("energy_to_target_j", "energy to target (J)"))
    fig = Figure(figsize=SIZE, layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    optimizers = palette.ordered(points["optimizer"])
    for ax, (column, label) in zip(axes, panels):
        medians = _medians(points, column)
        for x, optimizer in enumerate(optimizers):
            mine = points[(points["optimizer"] == optimizer) & points["reached"] & points[column].notna()]
            offsets = (
                [0.0] if len(mine) == 1 else [-0.15 + 0.3 * i / (len(mine) - 1) for i in range(len(mine))]
            )
            colour = palette.colour(optimizer)
            seeds = ax.scatter(
                [x + o for o in offsets], mine[column], s=30, color=colour, alpha=0.8, zorder=3
            )
            seeds.set_gid(f"seeds-{optimizer}")
            if optimizer in medians:
                bar = ax.hlines(medians[optimizer], x - 0.3, x + 0.3, colors=colour, linewidth=2.5, zorder=2)
                bar.set_gid(f"median-{optimizer}")
        ax.set_xticks(range(len(optimizers)))
        ax.set_xticklabels([_tick(points, o) for o in optimizers])
        for tick, optimizer in zip(ax.get_xticklabels(), optimizers):
            tick.set_color(palette.colour(optimizer))
        ax.set_xlim(-0.6, len(optimizers) - 0.4)
        values = points.loc[points["reached"], column].dropna()
        if len(values) and values.min() > 0 and values.max() / values.min() >= 10:
            ax.set_yscale("log")
        else:
            ax.set_ylim(bottom=0)
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(title)
    return fig


def _tick(points, optimizer: str) -> str:
    mine = points[points["optimizer"] == optimizer]
    reached, failed = int(mine["reached"].sum()), int(mine["failed"].sum())
    return f"{optimizer}\n{reached}/{len(mine)} reached" + (f", {failed} failed" if failed else "")


def build(data) -> List[FigureItem]:
    trials = data.trials
    items = []
    for problem in trials.loc[trials["status"] != "skipped", "problem"].unique():
        points = target_points(trials, problem)
        first = trials[trials["problem"] == problem].iloc[0]
        target = describe_target(first["target"], first["metric_name"])
        name, title = f"targets-{problem}", f"{problem}: time and energy to reach {target}"
        if not points["reached"].any():
            note = (
                f"No seed of any optimizer's best configuration reached the target ({target}) on {problem}."
            )
            items.append(FigureItem(name, title, problem, None, note))
            continue
        energy = bool(points["energy_measured"].any())
        if not energy:
            title = f"{problem}: time to reach {target}"
        note = (
            "Each optimizer at its best configuration (the ranking's choice over its learning rates); "
            "each seed a point, the bar the median over the seeds that reached the target; "
            "the label counts the seeds that did. "
            + (
                "Energy summed over the timed training only."
                if energy
                else "Energy was not measured in this run."
            )
        )
        items.append(FigureItem(name, title, problem, plot_targets(points, title=title, energy=energy), note))
    return items
