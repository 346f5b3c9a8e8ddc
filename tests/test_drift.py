"""The drift canary's analysis half: did the machine move between two sides, the compare
output and --normalise-by-canary, and the canary in history (bench/compare/drift.py)."""

import copy
import json
import os
import random

import pytest
from conftest import golden_record, golden_run, run_cli

pytest.importorskip("pandas", reason="compare needs optbench[report]")

from bench import canary  # noqa: E402
from bench.compare import drift, gate, sides  # noqa: E402
from bench.compare.policy import Check, Policy  # noqa: E402


@pytest.fixture(scope="module")
def measured():
    """One real measurement: synthetic ones below are it, scaled, so their shape is the writer's."""
    return canary.measure("start")


def scaled(entry, factor, when="start", jitter=0.0, seed=0):
    """``entry`` with every time multiplied by ``factor`` (and each repeat by 1 +- ``jitter``)."""
    rng = random.Random(seed)
    new = copy.deepcopy(entry)
    new["when"] = when
    for part in new["parts"].values():
        for key in ("repeats_s", "repeat_medians_s"):
            part[key] = [v * factor * (1 + rng.uniform(-jitter, jitter)) for v in part[key]]
        part["median_s"] *= factor
        part["iqr_s"] *= factor
    return new


def machines(*runs):
    """A side's machine dicts (bench.compare.sides._machine) holding these canary lists."""
    return [{"run": f"suite/run-{i}", "canary": list(entries)} for i, entries in enumerate(runs)]


def test_the_same_machine_held_still_and_a_slower_one_moved(measured):
    base = machines([scaled(measured, 1.0, "start", 0.01, 1), scaled(measured, 1.0, "end", 0.01, 2)])
    same = machines([scaled(measured, 1.01, "start", 0.01, 3), scaled(measured, 0.99, "end", 0.01, 4)])
    found = drift.between(base, same)
    assert found.verdict is drift.Verdict.STILL and found.measurements == (2, 2)
    assert found.ratio == pytest.approx(1.0, abs=0.02)
    assert found.interval[0] <= found.ratio <= found.interval[1]

    slower = machines([scaled(measured, 1.25, "start", 0.01, 5), scaled(measured, 1.25, "end", 0.01, 6)])
    moved = drift.between(base, slower)
    assert moved.verdict is drift.Verdict.MOVED
    # What "moved" promises: the interval clears the threshold. How far it clears it depends on
    # the spread of the real measurement the fixture scales (1.149 in one CI run, 1.15+ in others).
    assert moved.ratio == pytest.approx(1.25, rel=0.03) and moved.interval[0] > 1 + drift.THRESHOLD
    assert dict(moved.parts)["matmul"] == pytest.approx(1.25, rel=0.03)
    assert "the machine moved: the candidate's reference workload ran 2" in moved.describe()
    assert "slower" in moved.describe()
    assert drift.between(base, slower) == moved  # seeded: the same runs give the same interval


def test_a_move_below_the_threshold_is_held_still_and_one_within_the_noise_cannot_tell(measured):
    base = machines([scaled(measured, 1.0, "start"), scaled(measured, 1.0, "end")])
    small = machines(
        [scaled(measured, 1 + drift.THRESHOLD / 2, "start"), scaled(measured, 1 + drift.THRESHOLD / 2, "end")]
    )
    assert drift.between(base, small).verdict is drift.Verdict.STILL  # steady, but too small to report
    # Large on average, but the candidate's start and end disagree more than they moved: its
    # interval covers 1, and one measurement alone does not say the machine moved.
    torn = machines([scaled(measured, 0.8, "start"), scaled(measured, 1.5, "end")])
    found = drift.between(base, torn)
    assert found.ratio > 1 + drift.THRESHOLD and found.interval[0] < 1 < found.interval[1]
    assert found.verdict is drift.Verdict.UNSURE and "a side's measurements disagree" in found.describe()


def test_runs_without_a_canary_or_of_another_version_are_no_canary(measured):
    base = machines([scaled(measured, 1.0)])
    old = machines([])  # a run written before optbench measured the canary: the key is absent
    assert old[0]["canary"] == [] and drift.measurements([{"run": "x"}]) == []
    found = drift.between(base, old)
    assert found.verdict is drift.Verdict.NONE and found.note == "none in the candidate's runs"
    assert "machine drift cannot be told from a code change" in found.describe()
    other = machines([dict(scaled(measured, 1.0), version=canary.VERSION + 1)])
    found = drift.between(base, other)
    assert found.verdict is drift.Verdict.NONE and "different canary versions" in found.note
    with pytest.raises(drift.DriftError, match="--normalise-by-canary: no canary"):
        drift.normalising_ratio(found)


def side_of(step_times, canary_entries, label):
    """A side whose linear sgd cell has these step times, one per seed (golden records)."""
    import pandas

    record = golden_record(0).to_json_dict()
    rows = []
    for seed, step in enumerate(step_times):
        rows.append({
            "problem": "linear", "configuration": json.dumps({"optimizer": "sgd", "lr": 0.1}), "threads": 1,
            "device": "cpu", "seed_index": seed, "status": "ok", "stability": "stable", "throttled": False,
            "target": record["target"], "step_time_median_s": step,
        })  # fmt: skip
    trials = pandas.DataFrame(rows)
    for column in sides.COLUMNS:
        if column not in trials:
            trials[column] = None
    return sides.Side(label, trials[sides.COLUMNS], [{"run": label, "canary": canary_entries}])


def test_normalising_by_the_canary_turns_a_machine_slowdown_into_no_change(measured):
    # Eight seeds a side, the candidate 30% slower on every one, and its canary 30% slower
    # too: as measured, a step-time regression; divided by the canary, no change.
    rng = random.Random(3)
    base_steps = [1e-3 * (1 + rng.uniform(-0.02, 0.02)) for _ in range(8)]
    cand_steps = [1.3e-3 * (1 + rng.uniform(-0.02, 0.02)) for _ in range(8)]
    base = side_of(base_steps, [scaled(measured, 1.0, "start"), scaled(measured, 1.0, "end")], "base")
    cand = side_of(cand_steps, [scaled(measured, 1.3, "start"), scaled(measured, 1.3, "end")], "cand")
    policy = Policy(checks=(Check.parse("step_time"),))

    plain = gate.compare(base, cand, policy)
    assert plain.verdict is gate.Verdict.REGRESSED and plain.normalised_by is None
    assert plain.canary.verdict is drift.Verdict.MOVED

    normalised = gate.compare(base, cand, policy, normalise_by_canary=True)
    assert normalised.verdict is gate.Verdict.NO_CHANGE
    assert normalised.normalised_by == pytest.approx(1.3, rel=0.01)
    (cell,) = normalised.cells
    assert cell.ratio == pytest.approx(1.0, abs=0.03)

    # The same code slower on a machine that held still stays a regression when normalised.
    still = side_of(cand_steps, [scaled(measured, 1.0, "start"), scaled(measured, 1.0, "end")], "still")
    assert gate.compare(base, still, policy, normalise_by_canary=True).verdict is gate.Verdict.REGRESSED
    with pytest.raises(drift.DriftError):
        gate.compare(base, side_of(cand_steps, [], "old"), policy, normalise_by_canary=True)


# --- compare on the command line, with real runs ---------------------------------------

CANARY_SUITE = """
problems: {{linear: {{steps: 30}}}}
optimizers: {{sgd: {{lr: 0.1}}}}
seeds: [0, 1]
telemetry: {{sources: none}}
canary_slowdown: {canary_slowdown}
"""


@pytest.fixture(scope="module")
def canary_runs(tmp_path_factory):
    """A run, and a run whose canary busy-waits as long again as it works (the machine
    'moved' to half speed, as the canary sees it)."""
    root = tmp_path_factory.mktemp("canary")
    made = {}
    for name, slowdown in (("plain", 0.0), ("slowed", 1.0)):
        suite = root / "canary.yaml"
        suite.write_text(CANARY_SUITE.format(canary_slowdown=slowdown))
        done = run_cli("run", str(suite), "--results", str(root / "results"), "--run-id", name)
        assert done.returncode == 0, done.stderr
        made[name] = os.path.join(str(root), "results", "canary", name)
    return made


@pytest.mark.slow
def test_a_candidate_whose_canary_was_slowed_is_reported_as_the_machine_moved(canary_runs):
    done = run_cli("compare", canary_runs["plain"], canary_runs["slowed"], "--format", "json")
    assert done.returncode == 3, done.stderr  # two seeds: the cells themselves are insufficient data
    result = json.loads(done.stdout)
    assert result["canary"]["verdict"] == "the machine moved" and result["canary"]["measurements"] == [2, 2]
    assert result["canary"]["ratio"] > 1.5 and result["canary"]["interval"][0] > 1.3
    assert result["normalised_by"] is None

    text = run_cli("compare", canary_runs["plain"], canary_runs["slowed"])
    assert "canary: the machine moved: the candidate's reference workload ran" in text.stdout
    back = run_cli("compare", canary_runs["slowed"], canary_runs["plain"], "--format", "markdown")
    assert "the machine moved" in back.stdout and "faster" in back.stdout

    normalised = run_cli("compare", canary_runs["plain"], canary_runs["slowed"], "--normalise-by-canary")
    assert normalised.returncode == 3, normalised.stderr
    assert "normalised by the canary: the candidate's time metrics were divided by" in normalised.stdout


@pytest.mark.slow
def test_a_saved_baseline_keeps_its_canary(canary_runs, tmp_path):
    baselines = str(tmp_path / "baselines")
    saved = run_cli("baseline", "save", canary_runs["plain"], "--name", "main", "--baselines", baselines)
    assert saved.returncode == 0, saved.stderr
    done = run_cli("compare", "main", canary_runs["slowed"], "--baselines", baselines, "--format", "json")
    assert json.loads(done.stdout)["canary"]["verdict"] == "the machine moved"


def test_older_runs_without_a_canary_still_compare_and_say_so():
    # The golden schema-2 run was written before the canary: its manifest has no such key.
    with open(os.path.join(golden_run(2), "manifest.json")) as handle:
        assert "canary" not in json.load(handle)
    done = run_cli("compare", golden_run(2), golden_run(2))
    assert done.returncode == 3, done.stderr
    assert "canary: no canary (none in the baseline nor the candidate's runs)" in done.stdout
    refused = run_cli("compare", golden_run(2), golden_run(2), "--normalise-by-canary")
    assert refused.returncode == 2 and "--normalise-by-canary: no canary" in refused.stderr
    assert "Traceback" not in refused.stderr


# --- history: the canary as a series, and steps that coincide with it ---------------------


def write_nights(results, nights, measured, code_slower_from=None, machine_slower_from=None):
    """``nights`` runs of suite 'nightly' (linear sgd and adam, two seeds, 1% noise), each
    with a canary at its start and end. From ``code_slower_from`` sgd's steps are 20% slower;
    from ``machine_slower_from`` every step and the canary are 20% slower."""
    from test_history_runs import ADAM, SGD, STEP_S, TRAIN_S, manifest_of

    from bench.store import RunWriter

    rng = random.Random(11)
    for night in range(nights):
        run_id = f"night-{night:02d}"
        machine = 1.2 if machine_slower_from is not None and night >= machine_slower_from else 1.0
        manifest = manifest_of(run_id, night, {"id": 0, "name": "MAXN"})
        manifest["canary"] = [scaled(measured, machine * (1 + rng.gauss(0, 0.01)), when, seed=night)
                              for when in ("start", "end")]  # fmt: skip
        writer = RunWriter(str(results / "nightly" / run_id), manifest)
        for indices in (SGD, ADAM):
            for index in indices:
                factor = machine * (1 + rng.gauss(0, 0.01))
                if indices == SGD and code_slower_from is not None and night >= code_slower_from:
                    factor *= 1.2
                writer.append(golden_record(index, run_id=run_id, step_time_median_s=STEP_S * factor,
                                            train_time_s=TRAIN_S * factor, stability="stable",
                                            stability_reason=None), [])  # fmt: skip
        writer.close()
    return str(results)


def test_history_watches_the_canary_and_marks_steps_where_the_machine_moved(tmp_path, measured, capsys):
    pytest.importorskip("ruptures", reason="history needs ruptures (optbench[report])")
    from bench.compare.history import find_changes, load_series
    from bench.compare.history_command import history_command

    results = write_nights(tmp_path, 12, measured, machine_slower_from=7)
    series = load_series(results, "nightly")
    canary_nights = series[series["metric"] == "canary"]
    label = f"canary (reference workload), version {canary.VERSION}"
    assert len(canary_nights) == 12 and set(canary_nights["configuration"]) == {label}
    # A night's level: the median of its measurements' speeds (each part's median, geometric mean).
    first = canary_nights[canary_nights["night"] == 0]["value"].iloc[0]
    assert drift.speed(measured) * 0.95 < first < drift.speed(measured) * 1.05
    changes = find_changes(series)
    machine = changes[changes["metric"] == "canary"]
    assert list(machine["kind"]) == ["step"] and list(machine["night"]) == [7]
    assert machine["ratio"].iloc[0] == pytest.approx(1.2, rel=0.03)
    assert machine["machine_moved"].isna().all()  # the canary's own row makes no claim about itself
    timed = changes[changes["metric"].isin(["step_time", "train_time"])]
    assert len(timed) == 4 and (timed["night"] == 7).all()  # sgd and adam, step and train time
    assert timed["machine_moved"].eq(True).all()
    assert timed["canary_ratio"].tolist() == [machine["ratio"].iloc[0]] * 4

    # Marked, not excused: a code change can land on the night the machine moved.
    assert history_command(results, "nightly", "text") == 1
    out = capsys.readouterr().out
    assert "regression (machine moved: canary x{:.3f})".format(machine["ratio"].iloc[0]) in out
    assert "machine slower" in out
    assert "4 in the regression direction (4 where the machine moved too), 1 of the canary" in out
    assert history_command(results, "nightly", "json") == 1
    rows = json.loads(capsys.readouterr().out)["changes"]
    assert {r["metric"]: r["machine_moved"] for r in rows if r["metric"] != "canary"} == {
        "step_time": True, "train_time": True}  # fmt: skip


def test_a_code_step_on_a_steady_machine_is_not_marked(tmp_path, measured):
    pytest.importorskip("ruptures", reason="history needs ruptures (optbench[report])")
    from bench.compare.history import history

    changes = history(write_nights(tmp_path, 12, measured, code_slower_from=7), "nightly")
    assert not (changes["metric"] == "canary").any()  # the machine held still: no canary change
    sgd = changes[changes["configuration"].str.startswith("linear sgd")]
    assert set(sgd["metric"]) == {"step_time", "train_time"} and (sgd["machine_moved"] == False).all()  # noqa: E712
    assert sgd["canary_ratio"].isna().all()


def test_a_machine_step_alone_does_not_fail_history(tmp_path, measured, capsys):
    pytest.importorskip("ruptures", reason="history needs ruptures (optbench[report])")
    from test_history_runs import manifest_of

    from bench.compare.history_command import history_command
    from bench.store import RunWriter

    # Nights with a canary and no trials: only the machine can have moved.
    for night in range(10):
        manifest = manifest_of(f"night-{night:02d}", night)
        manifest["canary"] = [scaled(measured, 1.3 if night >= 5 else 1.0, seed=night, jitter=0.01)]
        RunWriter(str(tmp_path / "nightly" / f"night-{night:02d}"), manifest).close()
    assert history_command(str(tmp_path), "nightly", "text") == 0
    out = capsys.readouterr().out
    assert "machine slower" in out and "0 in the regression direction, 1 of the canary" in out


def test_a_new_version_of_the_workload_starts_a_series_of_its_own(tmp_path, measured):
    pytest.importorskip("ruptures", reason="history needs ruptures (optbench[report])")
    from test_history_runs import manifest_of

    from bench.compare.history import find_changes, load_series
    from bench.store import RunWriter

    # Other work from night 6 (a bigger workload, 30% longer): not a machine that moved.
    for night in range(12):
        manifest = manifest_of(f"night-{night:02d}", night)
        newer = night >= 6
        entry = scaled(measured, 1.3 if newer else 1.0, seed=night, jitter=0.01)
        manifest["canary"] = [dict(entry, version=canary.VERSION + 1 if newer else canary.VERSION)]
        RunWriter(str(tmp_path / "nightly" / f"night-{night:02d}"), manifest).close()
    series = load_series(str(tmp_path), "nightly")
    assert sorted(series.loc[series["metric"] == "canary", "configuration"].unique()) == [
        f"canary (reference workload), version {canary.VERSION}",
        f"canary (reference workload), version {canary.VERSION + 1}",
    ]
    changes = find_changes(series)
    assert changes.empty and changes.attrs["short"] == 2  # two series of 6 nights: none long enough
