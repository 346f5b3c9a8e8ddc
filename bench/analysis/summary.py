"""Aggregation over seeds: median and interquartile range, per configuration."""

from bench import ranking
from bench.analysis import require_pandas

# What a reader needs to tell configurations apart; the grouping itself is by
# bench.ranking's configuration key, which holds all of these and the rest (budget, options).
DESCRIBE = [
    "optimizer", "lr", "hyper", "activation", "device", "batch", "dropout", "batch_norm",
    "implementation", "threads",
]  # fmt: skip


def _iqr(series):
    return series.quantile(0.75) - series.quantile(0.25)


def per_configuration(trials):
    """One row per configuration (everything but the seed): medians and IQRs over seeds,
    the share of seeds that reached the target, that diverged, and whose timing was unstable."""
    pd = require_pandas()
    frame = trials[trials["status"] != "skipped"].copy()
    frame["reached"] = frame["steps_to_target"].notna()
    frame["diverged"] = frame["status"] == "diverged"
    frame["unstable"] = frame["stability"] == "unstable"
    grouped = frame.groupby(["problem", "configuration"], sort=False)
    out = pd.DataFrame({
        **{column: grouped[column].first() for column in DESCRIBE},
        "seeds": grouped.size(),
        "final_loss_median": grouped["final_loss"].median(),
        "final_loss_iqr": grouped["final_loss"].agg(_iqr),
        "final_metric_median": grouped["final_metric"].median(),
        "final_metric_iqr": grouped["final_metric"].agg(_iqr),
        "time_to_target_median_s": grouped["time_to_target_s"].median(),
        "step_time_median_s": grouped["step_time_median_s"].median(),
        "energy_train_median_j": grouped["energy_train_j"].median(),
        "energy_to_target_median_j": grouped["energy_to_target_j"].median(),
        "reached_share": grouped["reached"].mean(),
        "diverged_share": grouped["diverged"].mean(),
        "unstable_share": grouped["unstable"].mean(),
        "higher_is_better": grouped["target"].first().map(ranking.higher_is_better),
    })  # fmt: skip
    return out.reset_index()


def best_per_problem(trials):
    """The best configuration per problem, by bench.ranking's rule (the device half's too)."""
    pd = require_pandas()
    table = per_configuration(trials)
    winners = ranking.best(trials.to_dict("records"))
    keys = {(problem, standing.configuration) for problem, standing in winners.items()}
    chosen = [(p, c) in keys for p, c in zip(table["problem"], table["configuration"])]
    return pd.DataFrame(table[chosen]).reset_index(drop=True)
