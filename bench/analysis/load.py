"""Loading a results directory into tidy DataFrames, through the store's own readers.

trials: one row per trial; the configuration flattened into columns (problem, optimizer,
lr, activation, device, batch, dropout, batch_norm, implementation, threads, seed_index),
``configuration`` (bench.ranking's key: the configuration without its seed), then the
record's figures (status and stability as their text values), then the telemetry figures in
TELEMETRY_COLUMNS, and ``night`` where the run spans nights (bench.nightly). curves: trial_id, step, time_s, loss, eval_loss, metric. Runs of every
schema version load, upgraded to this one.
"""

import math
import os
from typing import Sequence, Tuple

from bench import ranking, store
from bench.analysis import require_pandas
from bench.nightly.night import trial_nights
from bench.record import field_names
from bench.record_upgrades import curve_time_scales

# Per-trial telemetry figures lifted into columns (null where the machine could not measure them).
TELEMETRY_COLUMNS = ("energy_train_j", "energy_to_target_j", "power_mean_w", "throttled")

NUMERIC_COLUMNS = (
    "final_loss", "best_loss", "final_metric", "suboptimality", "steps_to_target", "time_to_target_s",
    "wall_time_s", "train_time_s", "step_time_median_s",
)  # fmt: skip

CONFIG_COLUMNS = (
    "problem", "optimizer", "lr", "activation", "device", "batch", "dropout", "batch_norm",
    "implementation", "threads", "seed_index",
)  # fmt: skip


# The record's fields that hold dicts: load's trials frame keeps them as objects in a column;
# load_trials leaves them out (the telemetry figures history needs are lifted into columns).
NESTED_FIELDS = ("config", "memory", "data", "learned", "target", "telemetry")
FLAT_FIELDS = tuple(name for name in field_names() if name not in NESTED_FIELDS)


def implementation_label(config) -> str:
    """The implementation as tables and legends name it: TensorFlow's settings (tf_updates,
    tf_function) told apart where they are not the defaults (Keras optimizers, eager)."""
    label = config.get("implementation")
    if label == "tensorflow":
        if config.get("tf_updates") == "manual":
            label += " manual"
        if config.get("tf_function"):
            label += " tf.function"
    return label


def load(run_dir: str) -> Tuple["pandas.DataFrame", "pandas.DataFrame"]:  # noqa: F821
    """(trials, curves) of one run; refuses a schema version newer than this optbench."""
    manifest = store.read_manifest(run_dir)  # StoreError for a newer schema or a corrupt file
    records = store.read_trials(run_dir)
    trials = _trials(records)
    nights = trial_nights(run_dir)
    if nights:  # a nightly's run (a window may have spread it over nights): which night ran each trial
        trials["night"] = [nights.get(trial_id) for trial_id in trials["trial_id"]]
    return trials, _curves(run_dir, manifest, records)


def load_trials(run_dir: str) -> "pandas.DataFrame":  # noqa: F821
    """The trials frame of ``load`` less its NESTED_FIELDS columns, and without reading
    curves.csv: what history needs from each of a suite's nights. A large run's curves are
    tens of MB, and turning every record's nested dicts into row values took most of the rest
    (60 nights of 1,000 trials: 4 of 10 s)."""
    store.read_manifest(run_dir)  # the same refusal of a newer schema or a corrupt manifest
    return _trials(store.read_trials(run_dir), nested=False)


def _trials(records, nested: bool = True) -> "pandas.DataFrame":  # noqa: F821
    pd = require_pandas()
    rows = []
    for record in records:
        if nested:
            row = {k: v for k, v in record.to_json_dict().items() if k != "config"}
        else:  # as to_json_dict gives them: enums as their text, non-finite floats as None
            row = {name: getattr(record, name) for name in FLAT_FIELDS}
            row.update({k: None for k, v in row.items() if isinstance(v, float) and not math.isfinite(v)})
            row.update(status=record.status.value, stability=record.stability.value)
        row.update({k: record.config.get(k) for k in CONFIG_COLUMNS})
        row["batch"] = str(row["batch"])  # "full" and sizes in one column
        row["implementation"] = implementation_label(record.config)
        row["hyper"] = repr(sorted(record.config.get("hyper", {}).items()))
        row["configuration"] = ranking.configuration_key(record.config)
        row.update({k: (record.telemetry or {}).get(k) for k in TELEMETRY_COLUMNS})
        rows.append(row)
    # A problem tried with several sets of options is one problem per set (bench.ranking).
    for row, label in zip(rows, ranking.problem_labels([record.config for record in records])):
        row["problem"] = label
    trials = pd.DataFrame(rows)
    # A column whose every value is null (no telemetry here; no trial reached its target)
    # would otherwise be of object dtype, which medians refuse.
    for column in NUMERIC_COLUMNS + TELEMETRY_COLUMNS[:3]:
        if column in trials:
            trials[column] = pd.to_numeric(trials[column])
    return trials


def _curves(run_dir: str, manifest, records) -> "pandas.DataFrame":  # noqa: F821
    """The curve rows of recorded trials, as bench.store.read_curves gives them but read by
    pandas in one pass (a large run's curves are a million rows: dicts of text would take
    seconds and gigabytes)."""
    pd = require_pandas()
    path = os.path.join(run_dir, store.CURVES)
    columns = list(store.CURVE_COLUMNS)
    if not os.path.exists(path):
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "step" else "float64") for c in columns})
    dtypes = {"trial_id": str, "step": "int64", "time_s": "float64", "loss": "float64", "eval_loss": "float64",
              "metric": "float64"}  # fmt: skip
    curves = pd.read_csv(path, usecols=columns, dtype=dtypes)[columns]
    train_time = {r.trial_id: r.train_time_s for r in records}
    curves = curves[curves["trial_id"].isin(train_time.keys())].reset_index(drop=True)
    last = curves.dropna(subset=["time_s"]).groupby("trial_id")["time_s"].last().to_dict()
    scales = curve_time_scales(manifest["written_schema"], last, train_time)
    if scales:
        curves["time_s"] = curves["time_s"] * curves["trial_id"].map(scales).fillna(1.0)
    return curves


TELEMETRY_CSV = "telemetry.csv"


def load_telemetry(run_dir: str) -> "pandas.DataFrame":  # noqa: F821
    """The run's telemetry samples (time_s, source, name, value); empty where it had none.

    ``time_s`` is on the clock of each trial's ``telemetry.window_start_s``/``window_end_s``."""
    pd = require_pandas()
    path = os.path.join(run_dir, TELEMETRY_CSV)
    columns = ["time_s", "source", "name", "value"]
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return pd.DataFrame(
            {c: pd.Series(dtype="float64" if c in ("time_s", "value") else "object") for c in columns}
        )
    frame = pd.read_csv(path, usecols=columns)
    for column in ("time_s", "value"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def load_runs(run_dirs: Sequence[str]) -> Tuple["pandas.DataFrame", "pandas.DataFrame"]:  # noqa: F821
    """(trials, curves) of several runs in one pair of frames, each row with its ``run``
    (suite/run-id as the manifest names it)."""
    pd = require_pandas()
    trials, curves = [], []
    for run_dir in run_dirs:
        manifest = store.read_manifest(run_dir)
        run = "{}/{}".format(manifest.get("suite"), manifest.get("run_id") or os.path.basename(run_dir))
        one, its_curves = load(run_dir)
        trials.append(one.assign(run=run))
        curves.append(its_curves.assign(run=run))
    return pd.concat(trials, ignore_index=True), pd.concat(curves, ignore_index=True)
