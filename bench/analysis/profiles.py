"""Performance profiles over problems (AlgoPerf style), for time and for energy to target.

For each problem and optimizer, the optimizer's best configuration (bench.ranking's rule,
restricted to the optimizer: bench.analysis.choice) gives a median over seeds of its time
(``train_time`` to target: ``time_to_target_s``) or energy (``energy_to_target_j``) to reach
the problem's target, a seed that never reached it counting as infinitely long, as the
ranking counts it. Its ratio to the best optimizer's median on that problem is infinite
where it never reached the target (or the suite did not run it there). The profile of an
optimizer is the fraction of problems with ratio <= tau, for tau on TAUS (1 to 4).

Only problems where some optimizer's median is finite count: a problem no one solved
compares no one. Energy: a seed that reached the target without an energy reading leaves
its configuration's median unknown, and a problem with an unknown median is left out.
"""

import math
import statistics
from typing import Optional

from bench import ranking
from bench.analysis import choice, require_pandas

QUANTITIES = {"time": "time_to_target_s", "energy": "energy_to_target_j"}
UNITS = {"time": "s", "energy": "J"}
TAUS = tuple(round(1.0 + 0.01 * i, 2) for i in range(301))  # 1.00, 1.01, ... 4.00

RATIO_COLUMNS = [
    "problem",
    "optimizer",
    "lr",
    "configuration",
    "seeds",
    "unstable_seeds",
    "value",
    "best_value",
    "ratio",
]
PROFILE_COLUMNS = ["optimizer", "tau", "fraction", "problems"]


def _seed_value(row, column: str) -> float:
    if (
        row["status"] not in ranking.SCORED or row["steps_to_target"] != row["steps_to_target"]
    ):  # NaN: never reached
        return math.inf
    value = row[column]
    return math.nan if value is None or value != value else float(value)


def _median(values) -> float:
    return math.nan if any(v != v for v in values) else statistics.median(values)


def why_empty(trials, quantity: str = "time") -> Optional[str]:
    """Why ``performance_profiles`` would be empty, in one line; None where it is not."""
    ran = trials[~trials["status"].isin(ranking.NOT_RANKED)]
    if quantity == "energy" and ran["energy_train_j"].isna().all():
        return "no energy measured in this run (its telemetry had no power source)"
    if ran["steps_to_target"].isna().all():
        return "no trial reached its problem's target: there is no time or energy to target to compare"
    if quantity == "energy" and ran["energy_to_target_j"].isna().all():
        return "no trial that reached its target has an energy reading"
    return None


def profile_ratios(trials, quantity: str = "time"):
    """Per problem and optimizer: its best configuration's median ``value`` to target (s or
    J; inf where it never reached it), the problem's ``best_value`` and the ``ratio``; the
    configuration's ``seeds`` and ``unstable_seeds`` (timing judged unstable: flagged, not
    dropped). Problems no optimizer solved, or with an unknown median, are left out."""
    pd = require_pandas()
    column = QUANTITIES[quantity]
    ran = trials[~trials["status"].isin(ranking.NOT_RANKED)]
    optimizers = list(dict.fromkeys(ran["optimizer"]))
    chosen = choice.best_configurations(trials)
    rows = []
    for problem in dict.fromkeys(ran["problem"]):
        cells = []
        for optimizer in optimizers:
            standing = chosen.get((problem, optimizer))
            if standing is None:  # the suite did not run it here: it did not reach the target
                cells.append({"optimizer": optimizer, "lr": math.nan, "configuration": None, "seeds": 0,
                              "unstable_seeds": 0, "value": math.inf})  # fmt: skip
                continue
            seeds = ran[ran["configuration"] == standing.configuration]
            cells.append({
                "optimizer": optimizer, "lr": seeds["lr"].iloc[0], "configuration": standing.configuration,
                "seeds": len(seeds), "unstable_seeds": int((seeds["stability"] == "unstable").sum()),
                "value": _median([_seed_value(row, column) for row in seeds.to_dict("records")]),
            })  # fmt: skip
        values = [cell["value"] for cell in cells]
        if any(v != v for v in values) or all(math.isinf(v) for v in values):
            continue
        best = min(values)
        for cell in cells:
            if best == 0:  # the target held at the first evaluation: only others at 0 match it
                ratio = 1.0 if cell["value"] == 0 else math.inf
            else:
                ratio = cell["value"] / best
            rows.append(dict(cell, problem=problem, best_value=best, ratio=ratio))
    return choice.in_report_order(pd.DataFrame(rows, columns=RATIO_COLUMNS))


def performance_profiles(trials, quantity: str = "time"):
    """Per optimizer and tau in TAUS: the fraction of problems on which its best configuration
    reached the target within tau times the best optimizer's median time (quantity="time") or
    energy (quantity="energy"). Columns optimizer, tau, fraction, problems (how many problems
    the fraction is of). Empty where ``why_empty`` gives a reason, or no problem was solved."""
    pd = require_pandas()
    ratios = profile_ratios(trials, quantity) if why_empty(trials, quantity) is None else None
    if ratios is None or ratios.empty:
        return pd.DataFrame(columns=PROFILE_COLUMNS)
    problems = ratios["problem"].nunique()
    rows = []
    for optimizer, own in ratios.groupby("optimizer", sort=False):
        for tau in TAUS:
            rows.append({"optimizer": optimizer, "tau": tau, "fraction": float((own["ratio"] <= tau).sum()) / problems,
                         "problems": problems})  # fmt: skip
    return pd.DataFrame(rows, columns=PROFILE_COLUMNS)
