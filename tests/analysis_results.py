"""Results directories for the analysis and figure tests, written by the real store and runner.

* ``sweep_run``: a real run of SWEEP (3 optimizers x 3 learning rates x 3 seeds on linear and
  curve, tiny budgets: a few seconds), made once per test session.
* ``write_run``: records with chosen figures (final loss, time to target, energy) written
  through bench.store.RunWriter from real golden records (conftest.golden_record), for the
  answers that must be known exactly; ``record`` makes one, ``curve`` one trial's rows.
"""

import io
import os

from conftest import golden_record

from bench import store
from bench.analysis import load
from bench.plan import make_plan
from bench.record import SCHEMA_VERSION
from bench.runner import run_plan
from bench.suite import load_suite

# sgd at 3.0 diverges on both problems; the grids differ per optimizer.
SWEEP = """\
name: analysis-sweep
problems:
  linear: {}
  curve: {activation: tanh, steps: 100}
optimizers:
  sgd: {lr: [0.01, 0.1, 3.0]}
  momentum: {lr: [0.001, 0.01, 0.1]}
  adam: {lr: [0.001, 0.01, 0.1]}
budget: {steps: 60, eval_every: 10, log_every: 5, time_limit: 20}
seeds: [0, 1, 2]
telemetry: {sources: [none]}
"""

_MADE = {}

LINEAR = 0  # golden record lines: a loss target ...
LENET = 20  # ... and an accuracy target (0.95, above)


def sweep_run(tmp_path_factory) -> str:
    """The results directory of a real run of SWEEP (made once per session)."""
    if "sweep" not in _MADE:
        root = tmp_path_factory.mktemp("analysis-sweep")
        path = root / "sweep.yaml"
        path.write_text(SWEEP)
        run_dir, _ = run_plan(make_plan(load_suite(str(path))), str(root / "results"), out=io.StringIO())
        _MADE["sweep"] = run_dir
    return _MADE["sweep"]


def record(problem="linear", optimizer="sgd", lr=0.1, seed=0, loss=0.5, metric=None, to_target=None,
           status="ok", train_time=1.0, energy=None, energy_to_target=None, stability="stable", base=LINEAR,
           **config):  # fmt: skip
    """A golden record with these figures; ``config`` changes other configuration axes."""
    changes = dict(problem=problem, optimizer=optimizer, lr=lr, seed_index=seed, **config)
    telemetry = None
    if energy is not None or energy_to_target is not None:
        telemetry = {"energy_train_j": energy, "energy_to_target_j": energy_to_target}
    trial_id = "{}-{}-{}-{}-{}".format(
        problem, optimizer, lr, seed, "-".join(f"{k}{v}" for k, v in sorted(config.items()))
    )
    return golden_record(
        base, trial_id=trial_id, config=changes, status=status, final_loss=loss, final_metric=metric,
        time_to_target_s=to_target, steps_to_target=None if to_target is None else 10, train_time_s=train_time,
        wall_time_s=train_time + 0.5, telemetry=telemetry, stability=stability,
    )  # fmt: skip


def curve(trial_id, rows):
    """Curve rows (step, time_s, loss, eval_loss, metric) of one trial, as the store takes them."""
    return [(trial_id,) + tuple(row) for row in rows]


def write_run(path, records, curves=None) -> str:
    """A results directory holding ``records`` (and ``curves``: trial_id -> rows)."""
    run_dir = str(path)
    writer = store.RunWriter(run_dir, {"schema": SCHEMA_VERSION, "suite": "known", "run_id": os.path.basename(run_dir),
                                       "suite_hash": "h", "finished_at": None})  # fmt: skip
    try:
        for one in records:
            writer.append(one, curve(one.trial_id, (curves or {}).get(one.trial_id, [])))
    finally:
        writer.close()
    return run_dir


def load_trials(run_dir):
    return load.load(run_dir)[0]
