"""Aggregation over seeds: median and interquartile range, per configuration."""

from bench.analysis import require_pandas

GROUP = [
    "problem",
    "optimizer",
    "lr",
    "hyper",
    "activation",
    "device",
    "batch",
    "dropout",
    "batch_norm",
    "implementation",
]


def _iqr(series):
    return series.quantile(0.75) - series.quantile(0.25)


def per_configuration(trials):
    """One row per configuration (everything but the seed): medians and IQRs over seeds,
    the share of seeds that reached the target and that diverged."""
    pd = require_pandas()
    frame = trials[trials["status"] != "skipped"].copy()
    frame["reached"] = frame["steps_to_target"].notna()
    frame["diverged"] = frame["status"] == "diverged"
    grouped = frame.groupby(GROUP, dropna=False)
    out = pd.DataFrame({
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
        "higher_is_better": grouped["target"].first().map(lambda t: t.get("direction") == "above"),
    })  # fmt: skip
    return out.reset_index()


def best_per_problem(trials):
    """The best configuration per problem: highest median metric where the target is an
    accuracy, else lowest median final loss; ties broken by median time to target."""
    table = per_configuration(trials)
    best = []
    for _, group in table.groupby("problem", sort=False):
        if bool(group["higher_is_better"].iloc[0]):
            ordered = group.sort_values(
                ["final_metric_median", "time_to_target_median_s"], ascending=[False, True]
            )
        else:
            ordered = group.sort_values(
                ["final_loss_median", "time_to_target_median_s"], ascending=[True, True]
            )
        best.append(ordered.iloc[0])
    pd = require_pandas()
    return pd.DataFrame(best).reset_index(drop=True)
