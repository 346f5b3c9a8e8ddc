"""Figure 9: on the linear problems, the weight and bias each optimizer learned.

The tutorial's question ("does SGD recover w = 3, b = 0.8?") answered per optimizer: each
optimizer at its best configuration (by bench.ranking's rule), each seed's learned
parameters as points, against the truth that generated the data (dashed) and the
closed-form least-squares optimum of each seed's data (solid grey), the best any optimizer
could do. Trials that diverged or failed are left out and counted.
"""

from typing import List

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from bench import ranking
from bench.analysis import choice, require_pandas
from bench.report import palette
from bench.report.figures import OVERVIEW, FigureItem

SIZE = (8, 4.5)


def _flat(parameters):
    """{'w': 3.0} or {'w[1,2]': ..., 'b[1]': ...} from a learned dict's weight and bias."""
    weight, bias = parameters["weight"], parameters["bias"]
    out = {}
    cells = [(i, j, v) for i, row in enumerate(weight) for j, v in enumerate(row)]
    single = len(cells) == 1 and len(bias) == 1
    for i, j, v in cells:
        out["w" if single else f"w[{i + 1},{j + 1}]"] = v
    for i, v in enumerate(bias):
        out["b" if single else f"b[{i + 1}]"] = v
    return out


def learned_points(trials, problem: str):
    """(points, left_out): one row per parameter of each seed of each optimizer's best
    configuration: optimizer, seed_index, parameter, value, truth, optimum; and per
    optimizer, how many of those seeds diverged or failed (no point)."""
    pd = require_pandas()
    rows = trials[(trials["problem"] == problem) & (trials["status"] != "skipped")]
    chosen = {standing.configuration for standing in choice.best_configurations(rows).values()}
    out, left_out = [], {}
    for row in rows[rows["configuration"].isin(chosen)].itertuples():
        learned = row.learned if isinstance(row.learned, dict) else None
        values = _flat(learned) if learned and learned.get("weight") is not None else None
        if row.status not in ranking.SCORED or values is None or any(v is None for v in values.values()):
            left_out[row.optimizer] = left_out.get(row.optimizer, 0) + 1
            continue
        truth, optimum = _flat(learned["truth"]), _flat(learned["optimum"])
        for parameter, value in values.items():
            out.append({"optimizer": row.optimizer, "seed_index": row.seed_index, "parameter": parameter,
                        "value": value, "truth": truth[parameter], "optimum": optimum[parameter]})  # fmt: skip
    columns = ["optimizer", "seed_index", "parameter", "value", "truth", "optimum"]
    return pd.DataFrame(out, columns=columns), left_out


def plot_learned(points, *, title: str, left_out=None) -> Figure:
    """Parameters along x, each optimizer's seeds dodged within a parameter; the truth as a
    dashed and each seed's optimum as a solid grey bar across the parameter's slot."""
    left_out = left_out or {}
    fig = Figure(figsize=SIZE, layout="constrained")
    ax = fig.subplots()
    parameters = list(dict.fromkeys(points["parameter"]))
    optimizers = palette.ordered(set(points["optimizer"]) | set(left_out))
    width = 0.7
    for x, parameter in enumerate(parameters):
        here = points[points["parameter"] == parameter]
        ax.hlines(sorted(set(here["optimum"])), x - width / 2, x + width / 2, colors="0.55", linewidth=1.5,
                  zorder=1).set_gid(f"optimum-{parameter}")  # fmt: skip
        ax.hlines(here["truth"].iloc[0], x - width / 2, x + width / 2, colors="black", linestyles="--",
                  linewidth=1.2, zorder=2).set_gid(f"truth-{parameter}")  # fmt: skip
        for k, optimizer in enumerate(optimizers):
            mine = here[here["optimizer"] == optimizer]
            if mine.empty:  # every seed of it failed: counted in the legend
                continue
            slot = x - width / 2 + width * (k + 0.5) / len(optimizers)
            spread = [0.0] if len(mine) < 2 else [0.12 * width / len(optimizers) * (i - (len(mine) - 1) / 2)
                                                  for i in range(len(mine))]  # fmt: skip
            ax.scatter([slot + s for s in spread], mine["value"], s=24, color=palette.colour(optimizer), alpha=0.85,
                       zorder=3, linewidths=0).set_gid(f"seeds-{optimizer}-{parameter}")  # fmt: skip
    ax.set_xticks(range(len(parameters)))
    ax.set_xticklabels(parameters, rotation=45 if len(parameters) > 8 else 0)
    ax.set_xlim(-0.6, len(parameters) - 0.4)
    ax.set_xlabel("parameter (w: weight, b: bias)")
    ax.set_ylabel("learned value")
    ax.grid(axis="y", alpha=0.3)
    handles = [
        Line2D([], [], color=palette.colour(o), marker="o", linestyle="",
               label=o + (f" ({left_out[o]} failed, not shown)" if left_out.get(o) else ""))
        for o in optimizers
    ]  # fmt: skip
    handles += [
        Line2D([], [], color="black", linestyle="--", label="truth"),
        Line2D([], [], color="0.55", linewidth=1.5, label="least-squares optimum"),
    ]
    fig.legend(handles=handles, loc="outside right upper", fontsize=8, frameon=False)
    ax.set_title(title)
    return fig


def build(data) -> List[FigureItem]:
    trials = data.trials
    ran = trials[trials["status"] != "skipped"]
    linear = [p for p in ran["problem"].unique() if ran.loc[ran["problem"] == p, "learned"].notna().any()]
    if not linear:
        note = "This run has no linear problem (linear, linear-noisy, linear-multi): no learned parameters to show."
        return [FigureItem("learned", "Learned weight and bias", OVERVIEW, None, note)]
    items = []
    for problem in linear:
        name, title = f"learned-{problem}", f"{problem}: learned weight and bias"
        points, left_out = learned_points(trials, problem)
        if points.empty:
            note = f"Every seed of every optimizer's best configuration on {problem} diverged or failed."
            items.append(FigureItem(name, title, problem, None, note))
            continue
        note = (
            "Each optimizer at its best configuration (the ranking's choice), each seed's learned parameters "
            "a point; dashed: the truth that generated the data; grey: the closed-form least-squares "
            "optimum of each seed's data (the noise moves it off the truth)."
        )
        if left_out:
            note += (
                " Left out, diverged or failed: " + ", ".join(f"{o} {n}" for o, n in left_out.items()) + "."
            )
        items.append(
            FigureItem(name, title, problem, plot_learned(points, title=title, left_out=left_out), note)
        )
    return items
