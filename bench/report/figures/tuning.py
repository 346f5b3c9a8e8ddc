"""Figure 6: tuning cost, as the expected best result after k learning rates tried.

Per problem, one line per optimizer (bench.analysis.tuning.expected_best): the expected best
final loss (or metric, for an accuracy target) when k of its grid's rates are drawn at random
and the best kept. A line that is flat from k = 1 belongs to an optimizer that is easy to
tune; one that only comes down at k = m wins at one rate a tuner must be lucky to find.
"""

import math
from typing import List

from matplotlib.figure import Figure

from bench.analysis import tuning
from bench.report import palette
from bench.report.figures import FigureItem

FIGSIZE = (8, 4.5)
LOG_SPAN = 100.0  # more than two decades between the smallest and largest value: log y


def _style():
    import seaborn

    return seaborn.axes_style("whitegrid")


def _finite(frame):
    return frame[frame["expected_best"].map(lambda v: v == v and not math.isinf(v))]


def plot_expected_best(frame, problem: str) -> Figure:
    """``frame``: expected_best rows of one problem (problem, optimizer, k, lrs, quantity,
    higher_is_better, expected_best, p_all_failed). Infinite values (every drawn rate may
    have failed) are not drawn: the line starts at the first k where the value is finite."""
    with _style():
        figure = Figure(figsize=FIGSIZE, layout="constrained")
        ax = figure.subplots()
    values = []
    for optimizer in palette.ordered(frame["optimizer"]):
        own = frame[frame["optimizer"] == optimizer].sort_values("k")
        shown = _finite(own)
        m = int(own["lrs"].iloc[0])
        failed = int(round(own["p_all_failed"].iloc[0] * m))  # at k = 1: failed rates / m
        label = "{} ({} rate{}{})".format(
            optimizer, m, "" if m == 1 else "s", f", {failed} failed" if failed else ""
        )
        ax.plot(shown["k"], shown["expected_best"], color=palette.colour(optimizer), marker="o", linewidth=1.8,
                label=label)  # fmt: skip
        values += list(shown["expected_best"])
    quantity = frame["quantity"].iloc[0]
    higher = bool(frame["higher_is_better"].iloc[0])
    positive = [v for v in values if v > 0]
    if not higher and positive and len(positive) == len(values) and max(positive) / min(positive) > LOG_SPAN:
        ax.set_yscale("log")
    most = int(frame["k"].max())
    ax.set_xticks(range(1, most + 1))
    ax.set_xlim(0.8, most + 0.2)
    ax.set_xlabel("learning rates tried (k, drawn at random from the grid)")
    what = "final training loss" if quantity == "loss" else f"final {quantity}"
    ax.set_ylabel("expected best {} ({})".format(what, "higher is better" if higher else "lower is better"))
    ax.set_title(f"{problem}: expected best {what} after k learning rates")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="optimizer")
    return figure


def _infinite_note(frame) -> List[str]:
    notes = []
    for optimizer in palette.ordered(frame["optimizer"]):
        own = frame[frame["optimizer"] == optimizer]
        failed = own[own["p_all_failed"] > 0]
        if len(failed) == len(own):
            notes.append(f"{optimizer}: every rate failed, nothing drawn")
        elif len(failed):
            notes.append(
                "{}: with k <= {} all the rates drawn may have failed (infinite expectation, not drawn)".format(
                    optimizer, int(failed["k"].max())
                )
            )
    return notes


def _cost_note(costs) -> str:
    parts = []
    for row in costs.to_dict("records"):
        parts.append("{} {} rates, {:.3g} s of training ({:.2g}x its best cell)".format(
            row["optimizer"], row["lrs"], row["sweep_train_time_s"], row["sweep_to_best"]))  # fmt: skip
    return "The sweeps cost: " + "; ".join(parts) + "."


def build(data) -> List[FigureItem]:
    """One item per problem: name ``tuning-<problem>``, section the problem."""
    expected = tuning.expected_best(data.trials)
    costs = tuning.tuning_cost(data.trials)
    items = []
    for problem in dict.fromkeys(data.trials["problem"]):
        name = f"tuning-{problem}"
        title = f"{problem}: expected best result after k learning rates (tuning cost)"
        own = expected[expected["problem"] == problem]
        if own.empty:
            note = f"No tuning curve for {problem}: none of its trials ran."
            items.append(FigureItem(name, title, problem, None, note))
            continue
        if int(own["lrs"].max()) < 2:
            note = f"No tuning curve for {problem}: each optimizer tried a single learning rate."
            items.append(FigureItem(name, title, problem, None, note))
            continue
        note = (
            "Expected best final result when k of each optimizer's learning rates (at its best setting) are "
            "drawn at random and the best kept, exact, over each rate's median across seeds. Flat from k = 1: "
            "easy to tune; falling only at the last k: it wins at a rate one must be lucky to find. "
        )
        note += _cost_note(costs[costs["problem"] == problem])
        failed = _infinite_note(own)
        if failed:
            note += " " + "; ".join(failed) + "."
        items.append(FigureItem(name, title, problem, plot_expected_best(own, problem), note))
    return items
