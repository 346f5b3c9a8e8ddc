"""Loading a results directory into tidy DataFrames, through the store's own readers.

trials: one row per trial; the configuration flattened into columns (problem, optimizer,
lr, activation, device, batch, dropout, batch_norm, implementation, seed_index, ...),
then the record's figures. curves: trial_id, step, time_s, loss, eval_loss, metric.
"""

from typing import Tuple

from bench import store
from bench.analysis import require_pandas

CONFIG_COLUMNS = (
    "problem", "optimizer", "lr", "activation", "device", "batch", "dropout", "batch_norm",
    "implementation", "seed_index",
)  # fmt: skip


def load(run_dir: str) -> Tuple["pandas.DataFrame", "pandas.DataFrame"]:  # noqa: F821
    """(trials, curves) of one run; refuses a schema version it does not know."""
    pd = require_pandas()
    store.read_manifest(run_dir)  # raises StoreError for an unknown schema or a corrupt file
    rows = []
    for record in store.read_trials(run_dir):
        row = {k: v for k, v in record.to_json_dict().items() if k != "config"}
        row.update({k: record.config.get(k) for k in CONFIG_COLUMNS})
        row["batch"] = str(row["batch"])  # "full" and sizes in one column
        row["hyper"] = repr(sorted(record.config.get("hyper", {}).items()))
        rows.append(row)
    trials = pd.DataFrame(rows)
    curves = pd.DataFrame(store.read_curves(run_dir), columns=list(store.CURVE_COLUMNS))
    for column in ("step",):
        curves[column] = pd.to_numeric(curves[column]).astype("int64")
    for column in ("time_s", "loss", "eval_loss", "metric"):
        curves[column] = pd.to_numeric(curves[column])  # empty cells become NaN
    return trials, curves
