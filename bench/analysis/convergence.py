"""Convergence curves of each optimizer's best configuration, aggregated over seeds by step.

The curves file has two kinds of rows: logged steps carry ``loss`` (the training batch
loss), evaluation steps carry ``eval_loss`` and ``metric``; every row carries ``time_s``,
the training time after that step (docs/RESULTS.md). At each step, each column is summarised
over the seeds that have a value there: median and the 25% and 75% quantiles of the seeds'
actual values (pandas' linear interpolation between them), never a mean with a spread
around it. ``time_s`` is the median over seeds of the training time at that step.

Seeds that diverged, or stopped at their time limit, end early: no row is written after a
trial stops, and a non-finite loss is written as an empty cell. Past that step the
aggregates are over the seeds still running only, so the median there describes the
survivors; the ``seeds`` column says, per step, how many seeds contributed, so a reader
(and a figure) can see where that number drops.
"""

from bench import ranking
from bench.analysis import choice, require_pandas

COLUMNS = [
    "problem", "optimizer", "lr", "step", "time_s", "loss_median", "loss_q25", "loss_q75", "eval_loss_median",
    "eval_loss_q25", "eval_loss_q75", "metric_median", "metric_q25", "metric_q75", "seeds",
]  # fmt: skip
SUMMARISED = ("loss", "eval_loss", "metric")


def best_curves(trials, curves):
    """Per problem, each optimizer's best configuration's curves over seeds, one row per step.

    Columns: problem, optimizer, lr, step, time_s (median over seeds), loss_median/_q25/_q75,
    eval_loss_median/_q25/_q75, metric_median/_q25/_q75 (NaN at steps where the quantity was
    not measured), seeds (seeds with a row at this step). Skipped trials have no curves."""
    pd = require_pandas()
    chosen = {standing.configuration for standing in choice.best_configurations(trials).values()}
    picked = trials[trials["configuration"].isin(chosen) & ~trials["status"].isin(ranking.NOT_RANKED)]
    if picked.empty:
        return pd.DataFrame(columns=COLUMNS)
    rows = curves.merge(picked[["trial_id", "problem", "optimizer", "lr"]], on="trial_id", how="inner")
    if rows.empty:
        return pd.DataFrame(columns=COLUMNS)
    grouped = rows.groupby(["problem", "optimizer", "lr", "step"], sort=False)
    out = {"time_s": grouped["time_s"].median(), "seeds": grouped["trial_id"].nunique()}
    for column in SUMMARISED:
        out[column + "_median"] = grouped[column].median()
        out[column + "_q25"] = grouped[column].quantile(0.25)
        out[column + "_q75"] = grouped[column].quantile(0.75)
    frame = pd.DataFrame(out).reset_index()
    problems = list(dict.fromkeys(trials["problem"]))
    return choice.in_report_order(frame[COLUMNS], by=("problem", "optimizer", "step"), problems=problems)
