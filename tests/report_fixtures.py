"""Results directories for the report's figure tests, written by the real runner and store.

* ``rich_run``: a throwaway suite run through ``python -m bench run`` (about 15 s on two
  cores): linear and linear-noisy over 2-3 learning rates for sgd, momentum and adam (sgd
  and momentum diverge at 0.01 on linear-noisy), linear-multi, curve over four activations x two rates,
  LeNet over batch [32, full] x dropout [0, 0.25] x batch norm, three seeds; no telemetry.
* ``powered_run``: the same trials rewritten through ``bench.store.RunWriter`` as a Jetson
  would have recorded them: each record's telemetry holds power, energy, temperatures, a
  throttle verdict and its window, and telemetry.csv (written by the recorder's own
  ``SampleStore``) holds the ``jetson`` source's samples. No Jetson ran these trials: the
  samples are scripted (idle 2 W; 4 W under sgd, 5 W under momentum, 6 W under adam; the CPU
  zone warming from 40 C, throttled from 70 C), so every figure drawn from them has a known
  answer. A scripted background load from 60 s to 75 s spreads the step times of the trials
  it overlaps (their IQR becomes 40% of their median), and bench.stability judges them again:
  unstable.

Both are built once per test session (each test module asks through its own session-scoped
fixture; the cache here makes them one build).
"""

import dataclasses
import json
import os

from conftest import golden_record, golden_run, run_cli

from bench import store
from bench.stability import judge
from bench.telemetry.samples import SampleStore

RICH_SUITE = """\
name: figures
description: richer results for the report figures' tests
problems:
  linear: {steps: 100, lr: {sgd: [0.01, 0.1, 0.5], momentum: [0.01, 0.1], adam: [0.01, 0.05, 0.2]}}
  linear-noisy: {steps: 60, lr: {sgd: [0.0001, 0.001, 0.01], momentum: [0.0001, 0.01], adam: [0.05, 0.5]}}
  linear-multi: {steps: 60, lr: {sgd: [0.1, 0.5], adam: [0.05]}}
  curve: {activation: [none, relu, tanh, sigmoid], steps: 150, lr: {sgd: [0.05, 0.2], adam: [0.001, 0.01]}}
  lenet:
    batch: [32, full]
    dropout: [0.0, 0.25]
    batch_norm: [false, true]
    steps: 20
    eval_every: 5
    options: {train_size: 128, test_size: 64}
optimizers:
  sgd: {lr: 0.05}
  momentum: {lr: 0.01}
  adam: {lr: 0.01}
exclude: [{optimizer: momentum, problem: [linear-multi, curve, lenet]}]
budget: {steps: 60, eval_every: 10, log_every: 10, time_limit: 30}
seeds: [0, 1, 2]
telemetry: {sources: [none]}
"""

# The scripted board: watts while each optimizer trains, and between trials.
IDLE_W = 2.0
TRAINING_W = {"sgd": 4.0, "momentum": 5.0, "adam": 6.0}
INTERVAL_S = 0.1  # between samples
FIRST_WINDOW_S = 5.0  # the first trial's window starts here on the telemetry clock
WINDOW_S = 0.6  # each trial's window; the next starts a second after the last one's start
LOAD_S = (60.0, 75.0)  # the background load's span on the telemetry clock
TRIP_C = 70.0  # the CPU zone's passive trip point: trials whose CPU peak reaches it are throttled

_BUILT = {}


def close(items):
    """Close the figures of these FigureItems (matplotlib keeps every open figure alive)."""
    import matplotlib.pyplot as plt

    for item in items:
        if item.figure is not None:
            plt.close(item.figure)


def golden_data():
    """tests/golden/schema-2 loaded for the report."""
    return _load(golden_run(2))


def rich_data(tmp_path_factory):
    return _load(rich_run(tmp_path_factory))


def powered_data(tmp_path_factory):
    return _load(powered_run(tmp_path_factory))


def _load(run_dir):
    from bench.report.data import load_report_data

    if ("data", run_dir) not in _BUILT:
        _BUILT["data", run_dir] = load_report_data(run_dir)
    return _BUILT["data", run_dir]


def rich_run(tmp_path_factory):
    """The rich run's directory (built on first use)."""
    if "rich" not in _BUILT:
        root = tmp_path_factory.mktemp("figures-rich")
        suite = root / "figures.yaml"
        suite.write_text(RICH_SUITE)
        done = run_cli("run", str(suite), "--results", str(root / "results"), "--run-id", "rich")
        assert done.returncode == 0, done.stderr
        _BUILT["rich"] = str(root / "results" / "figures" / "rich")
    return _BUILT["rich"]


def cpu_temperature(t):
    """The scripted CPU zone: warms by 0.25 C a second from 40 C, 3 C more while training."""
    return 40.0 + 0.25 * t


def powered_run(tmp_path_factory):
    """The rich run's trials with scripted Jetson telemetry (built on first use)."""
    if "powered" in _BUILT:
        return _BUILT["powered"]
    source_dir = rich_run(tmp_path_factory)
    run_dir = str(tmp_path_factory.mktemp("figures-powered") / "figures" / "powered")
    with open(os.path.join(source_dir, "manifest.json")) as handle:
        manifest = json.load(handle)
    manifest.update(run_id="powered", telemetry={"sources": {"jetson": {"interval_s": INTERVAL_S}}})
    records = store.read_trials(source_dir)
    curves = {}
    for row in store.read_curves(source_dir):
        curves.setdefault(row["trial_id"], []).append(tuple(row[c] for c in store.CURVE_COLUMNS))

    windows = []
    for index, record in enumerate(records):
        start = FIRST_WINDOW_S + index * 1.0
        windows.append((start, start + WINDOW_S, TRAINING_W[record.config["optimizer"]]))
    end_of_run = windows[-1][1] + 2.0

    def watts(t):
        for start, end, power in windows:
            if start <= t <= end:
                return power
        return IDLE_W

    def temperature(t):
        warm = any(start <= t <= end for start, end, _ in windows)
        return cpu_temperature(t) + (3.0 if warm else 0.0)

    writer = store.RunWriter(run_dir, manifest)  # makes the directory
    samples = SampleStore(os.path.join(run_dir, "telemetry.csv"))
    times = [round(i * INTERVAL_S, 6) for i in range(int(end_of_run / INTERVAL_S) + 1)]
    for t in times:
        samples.add(
            "jetson", t,
            [("power_w.total", watts(t)), ("power_w.CPU", 0.5 * watts(t)), ("temp_c.CPU", temperature(t)),
             ("temp_c.GPU", temperature(t) - 2.0), ("ram_used_bytes", 1.5e9)],
        )  # fmt: skip
    samples.close()
    try:
        for record, (start, end, power) in zip(records, windows):
            writer.append(_powered(record, start, end, power, temperature), curves.get(record.trial_id, []))
    finally:
        writer.close()
    _BUILT["powered"] = run_dir
    return run_dir


def _powered(record, start, end, power, temperature):
    """``record`` with the per-trial figures the scripted board gives its window."""
    if record.status.value == "skipped":
        return record
    telemetry = dict(golden_record(0).telemetry)  # the real record's keys, then the board's figures
    peak = max(temperature(start), temperature(end))
    throttled = peak >= TRIP_C
    to_target = record.time_to_target_s
    telemetry.update(
        sources=["jetson"], samples={"jetson": int(round((end - start) / INTERVAL_S)) + 1},
        window_start_s=start, window_end_s=end, window_s=end - start,
        energy_j=power * (end - start), energy_train_j=power * record.train_time_s,
        energy_to_target_j=None if to_target is None else power * to_target,
        power_mean_w=power, power_peak_w=power,
        temp_peak_c={"CPU": peak, "GPU": peak - 2.0}, temp_mean_c={"CPU": peak, "GPU": peak - 2.0},
        throttled=throttled,
        throttle_evidence=[f"CPU reached {peak:.1f} C (passive trip point {TRIP_C:.0f} C)"]
        if throttled else [],
        throttle_checks=["trip points (jetson)"], unmeasured={}, source={"energy_j": "jetson: scripted"},
    )  # fmt: skip
    changes = {"telemetry": telemetry}
    if start < LOAD_S[1] and end > LOAD_S[0] and record.step_time_median_s:
        iqr = 0.4 * record.step_time_median_s
        verdict, reason = judge(record.step_time_median_s, iqr, record.step_time_samples, record.train_time_s)
        changes.update(step_time_iqr_s=iqr, stability=verdict, stability_reason=reason)
    return dataclasses.replace(record, **changes)


def without(data, problems):
    """``data`` as if its run had not had ``problems`` (its trials and curves left out)."""
    trials = data.trials[~data.trials["problem"].isin(problems)]
    curves = data.curves[data.curves["trial_id"].isin(trials["trial_id"])]
    return dataclasses.replace(data, trials=trials.reset_index(drop=True), curves=curves)


def item(items, name):
    """The FigureItem called ``name`` (exactly one)."""
    (found,) = [i for i in items if i.name == name]
    return found


def artists(figure, gid):
    """The figure's artists tagged ``gid`` (the figure modules tag what the tests look at)."""
    return figure.findobj(lambda artist: artist.get_gid() == gid)


def rgb(colour):
    """A colour as an (r, g, b) tuple, for comparing a drawn colour with the palette's."""
    from matplotlib.colors import to_rgb

    return tuple(round(c, 4) for c in to_rgb(colour))
