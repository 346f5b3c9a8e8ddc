"""Figure 5: performance profiles over problems, for time and for energy to target.

One step line per optimizer (bench.analysis.profiles): the fraction of problems on which its
best configuration reached the target within tau times the best optimizer's median. Higher
and further left is better; the value at tau = 1 is the share of problems it was fastest on,
and the height at tau = 4 how often it got there at all, within 4x.
"""

from typing import List

from matplotlib.figure import Figure

from bench.analysis import profiles
from bench.report import palette
from bench.report.figures import OVERVIEW, FigureItem

FIGSIZE = (8, 4.5)
WORDS = {"time": "time", "energy": "energy"}


def _style():
    import seaborn

    return seaborn.axes_style("whitegrid")


def plot_profile(frame, quantity: str = "time") -> Figure:
    """``frame``: bench.analysis.profiles.performance_profiles (optimizer, tau, fraction,
    problems). Lines are drawn thickest first, so optimizers that coincide stay visible."""
    with _style():
        figure = Figure(figsize=FIGSIZE, layout="constrained")
        ax = figure.subplots()
    names = palette.ordered(frame["optimizer"])
    for i, optimizer in enumerate(names):
        own = frame[frame["optimizer"] == optimizer].sort_values("tau")
        ax.step(own["tau"], own["fraction"], where="post", color=palette.colour(optimizer),
                linewidth=max(1.2, 3.5 - 0.6 * i), label=optimizer)  # fmt: skip
    problems = int(frame["problems"].iloc[0])
    ax.set_xlim(1.0, 4.0)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(f"τ: within τ × the best optimizer's median {WORDS[quantity]} to target")
    ax.set_ylabel("fraction of the {} problem{}".format(problems, "" if problems == 1 else "s"))
    ax.set_title("Performance profile: {} to target over {} problem{}".format(
        WORDS[quantity], problems, "" if problems == 1 else "s"))  # fmt: skip
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="optimizer")
    return figure


def build(data) -> List[FigureItem]:
    """Two items in the overview: ``profile-time`` and ``profile-energy``."""
    items = []
    for quantity, unit in (("time", "s"), ("energy", "J")):
        name = f"profile-{quantity}"
        title = f"Performance profile: {quantity} to target"
        frame = profiles.performance_profiles(data.trials, quantity)
        if frame.empty:
            why = profiles.why_empty(data.trials, quantity) or (
                "no problem where some optimizer's median over seeds reached the target"
            )
            items.append(FigureItem(name, title, OVERVIEW, None, f"No {quantity} profile: {why}."))
            continue
        ratios = profiles.profile_ratios(data.trials, quantity)
        note = (
            "Fraction of the {n} problem{s} solved by some optimizer on which each optimizer's best "
            "configuration reached the target within τ times the best one's median {q} ({u}), a seed "
            "that never reached it counting as infinitely slow; higher and further left is better."
        ).format(
            n=ratios["problem"].nunique(),
            s="" if ratios["problem"].nunique() == 1 else "s",
            q=quantity,
            u=unit,
        )
        unsolved = sorted(set(data.trials["problem"]) - set(ratios["problem"]))
        if unsolved:
            why = "no optimizer's median reached the target" + (
                ", or its energy is unknown" if quantity == "energy" else ""
            )
            note += " Left out ({}): {}.".format(why, ", ".join(unsolved))
        unstable = int(ratios["unstable_seeds"].sum())
        if quantity == "time" and unstable:
            note += f" {unstable} of the trials behind it had unstable timing."
        items.append(FigureItem(name, title, OVERVIEW, plot_profile(frame, quantity), note))
    return items
