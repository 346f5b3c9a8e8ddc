"""The results contract: what a freshly written record looks like is pinned by the golden
directory of the newest schema, and every older golden directory still reads."""

import json
import os
import shutil

import pytest
from conftest import golden_run, run_cli

from bench import store
from bench.record import SCHEMA_VERSION, Stability, Status
from bench.record_upgrades import RECORD_STEPS

# Manifest keys added after the newest golden directory was written: always written now,
# optional to readers (the golden run, like every older run, lacks them; docs/RESULTS.md).
ADDED_SINCE_GOLDEN = set()  # type: set
# What each golden directory holds: (trials, diverged); every version skipped the 4 cuda trials.
# Version 3's golden suite added a landscape (rosenbrock) with two diverging seeds of its own.
GOLDEN_COUNTS = {1: (24, 2), 2: (24, 2), 3: (28, 4), 4: (28, 4)}

JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}


def shape(value):
    """The JSON type of ``value``, with the shape of an object's members (null matches any)."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    return JSON_TYPES[type(value)]


def assert_same_shape(fresh, golden, where="record"):
    if fresh is None or golden is None:
        return  # a nullable field: null on one side says nothing about its type
    if isinstance(golden, dict) and isinstance(fresh, dict):
        assert sorted(fresh) == sorted(golden), f"{where}: keys differ"
        for key in golden:
            assert_same_shape(fresh[key], golden[key], f"{where}.{key}")
    else:
        assert fresh == golden, f"{where}: {fresh} where the golden record has {golden}"


def golden_lines(version):
    with open(os.path.join(golden_run(version), store.TRIALS)) as lines:
        return [json.loads(line) for line in lines]


def test_a_freshly_written_record_has_exactly_the_golden_keys_and_types(write_suite, tmp_path):
    suite = write_suite(
        "problems: {linear: {}, lenet: {batch: 32, options: {train_size: 64, test_size: 32}}, rosenbrock: {}}\n"
        "optimizers: {sgd: {lr: 0.1}}\nbudget: {steps: 12, eval_every: 6}\ntelemetry: {sources: [host]}\n"
    )
    result = run_cli("run", suite, "--results", str(tmp_path))
    assert result.returncode == 0, result.stderr
    (run_dir,) = [os.path.join(r, d) for r, ds, _ in os.walk(str(tmp_path)) for d in ds if r != str(tmp_path)]
    with open(os.path.join(run_dir, store.TRIALS)) as lines:
        fresh = {json.loads(line)["config"]["problem"]: json.loads(line) for line in lines}
    golden = {}
    for line in golden_lines(SCHEMA_VERSION):
        if line["status"] == "ok":
            golden.setdefault(line["config"]["problem"], line)
    for problem in ("linear", "lenet", "rosenbrock"):
        assert fresh[problem]["schema"] == SCHEMA_VERSION
        assert_same_shape(shape(fresh[problem]), shape(golden[problem]))
    with open(os.path.join(golden_run(SCHEMA_VERSION), store.MANIFEST)) as manifest:
        golden_manifest = json.load(manifest)
    with open(os.path.join(run_dir, store.MANIFEST)) as manifest:
        fresh_manifest = json.load(manifest)
    assert sorted(fresh_manifest) == sorted(set(golden_manifest) | ADDED_SINCE_GOLDEN)
    # The canary's entries, as docs/RESULTS.md describes them (named here, not taken from the
    # code, so that a renamed field fails).
    assert [e["when"] for e in fresh_manifest["canary"]] == ["start", "end"]
    for entry in fresh_manifest["canary"]:
        assert sorted(entry) == ["at", "cost_s", "parts", "session", "threads", "version", "when"]
        assert sorted(entry["parts"]) == ["matmul", "train"]
        for part in entry["parts"].values():
            assert sorted(part) == ["iqr_s", "iterations", "median_s", "repeat_medians_s", "repeats_s"]
    for name in (store.CURVES, store.TRAJECTORIES):
        with open(os.path.join(run_dir, name)) as fresh_file, open(
            os.path.join(golden_run(SCHEMA_VERSION), name)
        ) as old:
            assert fresh_file.readline() == old.readline(), f"{name}: the header differs from the golden one"


def test_the_upgrade_chain_covers_every_older_version():
    assert sorted(RECORD_STEPS) == list(range(1, SCHEMA_VERSION))
    for version in range(1, SCHEMA_VERSION + 1):
        assert os.path.isdir(golden_run(version)), f"no golden results directory for schema {version}"


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION + 1))
def test_every_schema_version_reads_as_the_current_one(version):
    raw = golden_lines(version)
    records = store.read_trials(golden_run(version))
    trials, diverged = GOLDEN_COUNTS[version]
    assert len(records) == len(raw) == trials
    assert store.read_manifest(golden_run(version))["written_schema"] == version
    for line, record in zip(raw, records):
        assert record.schema == SCHEMA_VERSION and record.trial_id == line["trial_id"]
        assert record.status is Status(line["status"])
        assert record.final_loss == line["final_loss"] and record.train_time_s == line["train_time_s"]
        assert isinstance(record.stability, Stability)
        assert record.config["threads"] == line["num_threads"]
    statuses = sorted(r.status.value for r in records)
    assert statuses.count("diverged") == diverged and statuses.count("skipped") == 4
    # The curves end at the training time, in the one definition of schema 2.
    rows = store.read_curves(golden_run(version))
    last = {}
    for row in rows:
        last[row["trial_id"]] = float(row["time_s"])
    for record in records:
        if record.status is Status.OK:
            assert last[record.trial_id] == pytest.approx(record.train_time_s, rel=1e-9)


def test_schema_1_timings_are_judged_by_the_same_rule_as_new_ones():
    from bench.stability import judge

    for line, record in zip(golden_lines(1), store.read_trials(golden_run(1))):
        verdict, _ = judge(line["step_time_median_s"], line["step_time_iqr_s"], line["step_time_samples"],
                           line["train_time_s"])  # fmt: skip
        assert record.stability is verdict


@pytest.mark.slow
@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION + 1))
def test_show_reads_every_schema_version(version):
    pytest.importorskip("pandas", reason="show needs optbench[report]")
    result = run_cli("show", golden_run(version))
    assert result.returncode == 0, result.stderr
    trials, diverged = GOLDEN_COUNTS[version]
    summary = f"trials: {trials - 4 - diverged} ok, 4 skipped, {diverged} diverged"
    assert "linear-noisy" in result.stdout and summary in result.stdout


def test_a_record_of_a_newer_schema_is_refused_naming_the_version(tmp_path):
    import shutil

    run_dir = os.path.join(str(tmp_path), "run")
    shutil.copytree(golden_run(SCHEMA_VERSION), run_dir)
    line = dict(golden_lines(SCHEMA_VERSION)[0], schema=SCHEMA_VERSION + 1)
    with open(os.path.join(run_dir, store.TRIALS), "a") as trials:
        trials.write(json.dumps(line) + "\n")
    with pytest.raises(
        store.StoreError,
        match=f"line {len(golden_lines(SCHEMA_VERSION)) + 1}: trial record has schema version {SCHEMA_VERSION + 1}, newer",
    ):
        store.read_trials(run_dir)


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION + 1))
def test_the_analysis_half_reads_the_same_curves_as_the_store(version):
    pytest.importorskip("pandas", reason="the analysis half needs pandas (optbench[report])")
    from bench.analysis import load

    _, curves = load.load(golden_run(version))
    rows = store.read_curves(golden_run(version))
    assert len(curves) == len(rows)
    for row, (trial_id, step, time_s) in zip(
        rows, curves[["trial_id", "step", "time_s"]].itertuples(index=False)
    ):
        assert (row["trial_id"], int(row["step"])) == (trial_id, step)
        assert float(row["time_s"]) == pytest.approx(time_s, rel=1e-12)


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION + 1))
def test_trajectories_are_read_for_landscape_trials_only(version):
    rows = store.read_trajectories(golden_run(version))
    records = {r.trial_id: r for r in store.read_trials(golden_run(version))}
    if version < 3:
        assert rows == []  # no landscapes before version 3, and no trajectories.csv
        return
    landscape = {t for t, r in records.items() if r.config["problem"] == "rosenbrock" and r.steps}
    assert {row["trial_id"] for row in rows} == landscape
    for trial_id in landscape:
        mine = [row for row in rows if row["trial_id"] == trial_id]
        assert [int(row["step"]) for row in mine] == list(range(records[trial_id].steps + 1))  # every step
        assert (float(mine[0]["x"]), float(mine[0]["y"])) == tuple(records[trial_id].data["start"])


def test_records_before_version_4_read_as_timed_alone_on_the_manifests_machine():
    for version in range(1, 4):
        records = store.read_trials(golden_run(version))
        assert {(r.timing_shared, r.environment) for r in records} == {(None, None)}


def test_a_version_4_record_says_how_its_timing_was_shared_or_is_refused_naming_the_field(tmp_path):
    run_dir = str(tmp_path / "run")
    shutil.copytree(golden_run(4), run_dir)
    path = os.path.join(run_dir, store.TRIALS)
    lines = open(path).read().splitlines()
    for value, refusal in [("batched", None), ("contended", None),
                           ("parallel", "timing_shared is 'parallel'; allowed: null, contended, batched"),
                           (2, "timing_shared is 2; expected text or null")]:  # fmt: skip
        record = json.loads(lines[0])
        record.update(timing_shared=value, environment={"host": "worker-1", "torch": "1.10.2"})
        with open(path, "w") as handle:
            handle.write("\n".join([json.dumps(record)] + lines[1:]) + "\n")
        if refusal is None:
            first = store.read_trials(run_dir)[0]
            assert first.timing_shared == value and first.environment["host"] == "worker-1"
        else:
            with pytest.raises(store.StoreError) as caught:
                store.read_trials(run_dir)
            assert f"trials.jsonl: line 1: {refusal}" in str(caught.value)
