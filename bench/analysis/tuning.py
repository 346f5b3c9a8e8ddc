"""What finding the learning rate cost, and what a smaller search would have found.

Both functions look, per (problem, optimizer), at the learning-rate sweep of the setting
that holds the optimizer's best configuration (bench.analysis.choice: a setting is a
configuration without its learning rate). Where a suite also sweeps other axes (activation,
batch), the other settings' sweeps are not counted: this is the cost of tuning the rate.

Scores are bench.ranking's (final training loss, or minus the final metric for an accuracy
target; infinity where most seeds failed); each rate is represented by its median score over
seeds, as the ranking does.
"""

import math
from typing import List

from bench import ranking
from bench.analysis import choice, require_pandas

COST_COLUMNS = [
    "problem", "optimizer", "lr", "configuration", "lrs", "sweep_trials", "sweep_train_time_s",
    "sweep_wall_time_s", "sweep_energy_j", "best_trials", "best_train_time_s", "best_wall_time_s",
    "best_energy_j", "sweep_to_best",
]  # fmt: skip

EXPECTED_COLUMNS = [
    "problem", "optimizer", "k", "lrs", "quantity", "higher_is_better", "expected_best", "p_all_failed",
]  # fmt: skip


def _sweeps(trials):
    """(problem, optimizer, best Standing, ranked trials of its setting's sweep, the sweep's
    Standings best first) per (problem, optimizer)."""
    ranked_trials = trials[~trials["status"].isin(ranking.NOT_RANKED)]
    settings = ranked_trials["configuration"].map(choice.setting_key)
    standings = choice.ranked(trials)
    for (problem, optimizer), best in choice.best_configurations(trials).items():
        setting = choice.setting_key(best.configuration)
        sweep = ranked_trials[settings == setting]
        in_sweep = set(sweep["configuration"])
        yield problem, optimizer, best, sweep, [s for s in standings[problem] if s.configuration in in_sweep]


def _total_energy(frame) -> float:
    """The sum of energy_train_j, or NaN unless every trial measured it (a partial sum would
    understate the cost)."""
    values = frame["energy_train_j"]
    return float(values.sum()) if len(values) and values.notna().all() else math.nan


def tuning_cost(trials):
    """Per (problem, optimizer): the lr sweep's cost beside its best cell's.

    Columns: problem, optimizer, lr and configuration (the best cell), lrs (rates tried),
    sweep_trials, sweep_train_time_s and sweep_wall_time_s (summed over every rate and seed,
    failed trials included: they were paid for), sweep_energy_j (energy_train_j summed; NaN
    unless every trial measured it), best_trials, best_train_time_s, best_wall_time_s,
    best_energy_j (the same over the best cell's seeds), sweep_to_best (sweep training time
    over the best cell's: what tuning multiplied the cost by). Skipped trials never ran and
    cost nothing."""
    pd = require_pandas()
    rows = []
    for problem, optimizer, best, sweep, standings in _sweeps(trials):
        cell = sweep[sweep["configuration"] == best.configuration]
        best_train = float(cell["train_time_s"].sum())
        rows.append({
            "problem": problem, "optimizer": optimizer, "lr": cell["lr"].iloc[0], "configuration": best.configuration,
            "lrs": len(standings), "sweep_trials": len(sweep),
            "sweep_train_time_s": float(sweep["train_time_s"].sum()),
            "sweep_wall_time_s": float(sweep["wall_time_s"].sum()), "sweep_energy_j": _total_energy(sweep),
            "best_trials": len(cell), "best_train_time_s": best_train,
            "best_wall_time_s": float(cell["wall_time_s"].sum()), "best_energy_j": _total_energy(cell),
            "sweep_to_best": float(sweep["train_time_s"].sum()) / best_train if best_train > 0 else math.nan,
        })  # fmt: skip
    problems = list(dict.fromkeys(trials["problem"]))
    return choice.in_report_order(pd.DataFrame(rows, columns=COST_COLUMNS), problems=problems)


def expected_minimum(scores: List[float], k: int) -> float:
    """The exact expected minimum of k of ``scores`` drawn at random without replacement.

    With the m scores sorted, v_1 <= ... <= v_m, the draw's minimum is v_i exactly when v_i is
    drawn and the other k - 1 come from the m - i above it: P = C(m - i, k - 1) / C(m, k).
    Infinite where a draw of only infinite (failed) scores has a positive chance."""
    ordered = sorted(scores)
    m = len(ordered)
    total = 0.0
    for i, value in enumerate(ordered, start=1):
        ways = math.comb(m - i, k - 1)
        if ways:
            total += value * ways / math.comb(m, k)
    return total


def expected_best(trials):
    """Per (problem, optimizer) and k = 1..m (m rates in the sweep): the expected best final
    score when k rates are drawn at random without replacement from the grid and the best
    of them kept, computed exactly over each rate's median score (``expected_minimum``).

    Columns: problem, optimizer, k, lrs (m), quantity ("loss": the final training loss; or
    the metric's name, e.g. "accuracy", where the target is one), higher_is_better,
    expected_best (in the quantity's units; +inf for a loss, -inf for a metric, where the k
    rates drawn may all have failed), p_all_failed (that chance: C(f, k) / C(m, k) for f
    failed rates). An optimizer whose k = 1 value is far from its k = m value wins only at
    a rate one must be lucky or thorough to find."""
    pd = require_pandas()
    metric_names = trials.drop_duplicates("problem").set_index("problem")["metric_name"]
    rows = []
    for problem, optimizer, _best, sweep, standings in _sweeps(trials):
        higher = ranking.higher_is_better(sweep["target"].iloc[0])
        scores = [s.score for s in standings]
        m, failed = len(scores), sum(1 for s in scores if math.isinf(s))
        for k in range(1, m + 1):
            value = expected_minimum(scores, k)
            rows.append({
                "problem": problem, "optimizer": optimizer, "k": k, "lrs": m,
                "quantity": metric_names[problem] if higher else "loss", "higher_is_better": higher,
                "expected_best": -value if higher else value,
                "p_all_failed": math.comb(failed, k) / math.comb(m, k),
            })  # fmt: skip
    problems = list(dict.fromkeys(trials["problem"]))
    return choice.in_report_order(
        pd.DataFrame(rows, columns=EXPECTED_COLUMNS), by=("problem", "optimizer", "k"), problems=problems
    )
