"""Results directories damaged in other ways than a torn tail: a clear error naming the file,
or a clearly worded warning -- never a traceback, a wrong report, or a silent re-run."""

import importlib.util
import json
import os
import shutil

import pytest
from conftest import golden_run, run_cli

# show, report and compare are the analysis half (pandas): not on the Nano's stack.
needs_pandas = pytest.mark.skipif(
    importlib.util.find_spec("pandas") is None, reason="the analysis half needs pandas"
)
QUICK = "problems: {linear: {steps: 20}}\noptimizers: {sgd: {lr: [0.01, 0.02]}}\ntelemetry: {sources: none}\n"


@pytest.fixture
def damaged(tmp_path):
    """A copy of the golden run, to damage."""
    run_dir = str(tmp_path / "results" / "golden" / "run")
    shutil.copytree(golden_run(2), run_dir)
    return run_dir


def _fails_cleanly(done, *expected):
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    for text in expected:
        assert text in done.stderr, done.stderr


@needs_pandas
@pytest.mark.parametrize("command", ["show", "report", "compare"])
def test_a_manifest_that_is_not_an_object(damaged, command):
    with open(os.path.join(damaged, "manifest.json"), "w") as handle:
        json.dump([1, 2], handle)
    args = [damaged, damaged] if command == "compare" else [damaged]
    _fails_cleanly(
        run_cli(command, *args), "manifest.json: not a manifest: a JSON object was expected, got list"
    )


@needs_pandas
def test_a_record_of_the_wrong_shape_in_the_middle(damaged):
    path = os.path.join(damaged, "trials.jsonl")
    lines = open(path).read().splitlines()
    record = json.loads(lines[1])
    record["final_loss"] = {"not": "a number"}
    lines[1] = json.dumps(record)
    open(path, "w").write("\n".join(lines) + "\n")
    _fails_cleanly(run_cli("show", damaged), "trials.jsonl: line 2")


def test_the_store_refuses_a_record_whose_field_has_the_wrong_type_naming_it(damaged):
    from bench import store

    path = os.path.join(damaged, "trials.jsonl")
    lines = open(path).read().splitlines()
    for field, value, expected in [("final_loss", "low", "final_loss is 'low'; expected a number or null"),
                                   ("steps", True, "steps is True; expected a number"),
                                   ("memory", [1], "memory is [1]; expected an object")]:  # fmt: skip
        record = json.loads(lines[1])
        record[field] = value
        with open(path, "w") as handle:
            handle.write("\n".join([lines[0], json.dumps(record)] + lines[2:]) + "\n")
        with pytest.raises(store.StoreError) as caught:
            store.read_trials(damaged)
        assert f"trials.jsonl: line 2: {expected}" in str(caught.value)


@needs_pandas
@pytest.mark.parametrize("key, value, expected", [("lr", "fast", "config.lr is 'fast'; expected a number"),
                                                  ("batch_norm", 1, "config.batch_norm is 1; expected a boolean"),
                                                  ("problem", ["linear"], "config.problem is ['linear']; expected text")])  # fmt: skip
def test_a_hand_edited_configuration_of_the_wrong_type_is_refused_by_report_and_show(
    damaged, key, value, expected
):
    # lr: "fast" was a configuration of its own in `show` and a traceback in `report`.
    path = os.path.join(damaged, "trials.jsonl")
    lines = open(path).read().splitlines()
    record = json.loads(lines[2])
    record["config"][key] = value
    lines[2] = json.dumps(record)
    open(path, "w").write("\n".join(lines) + "\n")
    out = os.path.join(os.path.dirname(damaged), "report")
    for args in (["report", damaged, "--out", out], ["show", damaged]):
        _fails_cleanly(run_cli(*args), f"trials.jsonl: line 3: {expected}")
    assert not os.path.exists(out)


@needs_pandas
def test_a_file_where_a_run_directory_belongs_and_a_directory_where_a_file_belongs(damaged, tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("hello")
    _fails_cleanly(run_cli("show", str(plain)), "a file, not a results directory")
    os.remove(os.path.join(damaged, "trials.jsonl"))
    os.mkdir(os.path.join(damaged, "trials.jsonl"))
    _fails_cleanly(run_cli("show", damaged), "trials.jsonl: cannot read the trials: Is a directory")


@pytest.mark.parametrize("damage, why", [("corrupt", "corrupt manifest"), ("missing", "no manifest")])
def test_an_unreadable_run_is_never_resumed_and_never_passed_over_silently(tmp_path, damage, why):
    suite = tmp_path / "quick.yaml"
    suite.write_text(QUICK)
    results = tmp_path / "results"
    first = run_cli("run", str(suite), "--results", str(results))
    assert first.returncode == 0, first.stderr
    (run_dir,) = [str(results / "quick" / d) for d in os.listdir(str(results / "quick"))]
    manifest = os.path.join(run_dir, "manifest.json")
    if damage == "corrupt":
        with open(manifest, "w") as handle:
            handle.write("{ torn")
    else:
        os.remove(manifest)
    trials = open(os.path.join(run_dir, "trials.jsonl")).read()
    again = run_cli("run", str(suite), "--results", str(results))
    assert again.returncode == 0, again.stderr
    assert f"warning: {run_dir} is not resumed: {manifest}: {why}" in again.stderr
    assert len(os.listdir(str(results / "quick"))) == 2  # a new run beside it; the old one untouched
    assert open(os.path.join(run_dir, "trials.jsonl")).read() == trials
    if damage == "corrupt":
        assert open(manifest).read() == "{ torn"
    else:
        assert not os.path.exists(manifest)


def test_a_resume_refused_over_a_damaged_record_leaves_the_run_directory_as_it_was(tmp_path):
    """A middle line of trials.jsonl that is JSON but not a record: resuming says where, exit 2,
    and changes nothing -- the manifest is not rewritten as resumed, no file is touched."""
    suite = tmp_path / "quick.yaml"
    suite.write_text(QUICK)
    results = tmp_path / "results"
    first = run_cli("run", str(suite), "--results", str(results), "--run-id", "damaged")
    assert first.returncode == 0, first.stderr
    run_dir = str(results / "quick" / "damaged")
    path = os.path.join(run_dir, "trials.jsonl")
    lines = open(path).read().splitlines()
    with open(path, "w") as handle:
        handle.write("\n".join(['{"schema": 2, "trial_id": "x"}'] + lines[1:]) + "\n")

    def contents():  # the lock file names whoever holds it: not the run's data
        return {n: open(os.path.join(run_dir, n), "rb").read() for n in os.listdir(run_dir) if n != ".lock"}

    before = contents()
    again = run_cli("run", str(suite), "--results", str(results), "--run-id", "damaged")
    _fails_cleanly(again, "trials.jsonl: line 1")
    assert contents() == before
