"""Reading pytest-benchmark JSON: files the step benchmarks wrote under pytest-benchmark 3.4.1
(the Nano's) and 5.3.1 (tests/golden/pytest-benchmark/), and a file written now, in a
subprocess, by whatever pytest-benchmark this Python has."""

import json
import os
import statistics
import subprocess
import sys

import pytest

pd = pytest.importorskip("pandas", reason="the analysis half needs pandas (optbench[report])")

from conftest import GOLDEN, ROOT  # noqa: E402

from bench.compare.pytest_benchmark import BenchmarkFileError, read_benchmark_json, samples  # noqa: E402

VERSIONS = ("3.4.1", "5.3.1")
NAMES = ["test_step[linear-sgd]", "test_step[lenet-adam]", "test_step[lenet-adamw]"]


def golden(version):
    return os.path.join(GOLDEN, "pytest-benchmark", f"steps-{version}.json")


@pytest.mark.parametrize("version", VERSIONS)
def test_one_row_per_benchmark_with_its_labels_machine_and_raw_rounds(version):
    frame = read_benchmark_json(golden(version))
    assert list(frame["name"]) == NAMES
    assert set(frame["version"]) == {version}
    assert list(frame["group"]) == ["linear", "lenet", "lenet"]
    assert frame["params"][1] == {"problem": "lenet", "optimizer": "adam"}
    lenet = frame.iloc[1]
    assert (lenet["problem"], lenet["optimizer"], lenet["batch"], lenet["batch_size"], lenet["threads"]) == (
        "lenet", "adam", "32", 32, 1,
    )  # fmt: skip
    assert lenet["trial_id"].startswith("lenet-")
    assert lenet["fullname"] == "tests/benchmarks/test_step_benchmarks.py::test_step[lenet-adam]"
    expected_torch = "1.10.2" if version == "3.4.1" else "2.13.0"
    assert set(frame["torch"]) == {lenet["machine_info"]["optbench"]["torch"]}
    assert lenet["torch"].startswith(expected_torch)
    assert lenet["python"].startswith("3.6." if version == "3.4.1" else "3.")
    assert not lenet["cuda_available"] and lenet["board"] is None and lenet["power_mode"] is None
    assert len(lenet["commit_id"]) == 40
    assert str(frame["datetime"].dt.tz) == "UTC"
    for _, row in frame.iterrows():
        times = row["round_times_s"]
        assert len(times) == row["rounds"] and row["iterations"] == 1
        assert min(times) == row["min_s"] and statistics.median(times) == pytest.approx(row["median_s"])


def test_both_versions_give_the_same_columns_and_types():
    old, new = (read_benchmark_json(golden(v)) for v in VERSIONS)
    assert list(old.columns) == list(new.columns)
    # Alike where both hold values (torch 1.10.2's "cuda" is "10.2", 2.13.0+cpu's None).
    both = [c for c in old.columns if old[c].notna().all() and new[c].notna().all()]
    assert len(both) > 40
    assert {c: old[c].dtype for c in both} == {c: new[c].dtype for c in both}
    # 3.4.1 wrote naive UTC: read as UTC, it falls on the day the file was made, like 5.3.1's.
    assert old["datetime"][0].date() == new["datetime"][0].date()


def test_samples_are_the_raw_rounds_pooled_over_files():
    one = read_benchmark_json(golden("3.4.1"))
    with open(golden("3.4.1")) as handle:
        stored = json.load(handle)["benchmarks"][0]["stats"]["data"]
    assert samples(one, "test_step[linear-sgd]") == stored
    full = "tests/benchmarks/test_step_benchmarks.py::test_step[linear-sgd]"
    assert samples(one, full) == stored
    both = pd.concat([one, read_benchmark_json(golden("5.3.1"))], ignore_index=True)
    assert len(samples(both, "test_step[linear-sgd]")) == len(stored) + both["rounds"][3]


def test_an_unknown_name_is_refused_with_the_nearest_names():
    frame = read_benchmark_json(golden("5.3.1"))
    with pytest.raises(KeyError, match=r"did you mean test_step\[lenet-adam\]"):
        samples(frame, "test_step[lenet-adan]")


def test_a_file_that_is_not_pytest_benchmark_json_is_named(tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"trials": []}')
    with pytest.raises(BenchmarkFileError, match="other.json: not a pytest-benchmark JSON file"):
        read_benchmark_json(str(path))
    path.write_text("{")
    with pytest.raises(BenchmarkFileError, match="other.json: not JSON"):
        read_benchmark_json(str(path))


def test_a_file_written_now_reads_and_a_save_without_data_says_which_option(tmp_path):
    """One real step benchmark, timed briefly by this Python's pytest-benchmark: --benchmark-json
    keeps the raw rounds; --benchmark-save (no --benchmark-save-data) does not."""
    written = tmp_path / "steps.json"
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/benchmarks",
        "--benchmark-only", "-k", "linear-sgd", "--benchmark-max-time=0.001", "--benchmark-min-rounds=5",
        f"--benchmark-json={written}", f"--benchmark-storage={tmp_path / 'storage'}", "--benchmark-save=nodata",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    assert done.returncode == 0, done.stdout.decode()
    frame = read_benchmark_json(str(written))
    row = frame.iloc[0]
    assert (row["name"], row["group"], row["threads"]) == ("test_step[linear-sgd]", "linear", 1)
    import pytest_benchmark
    import torch

    assert row["version"] == pytest_benchmark.__version__ and row["torch"] == torch.__version__
    assert len(samples(frame, "test_step[linear-sgd]")) == row["rounds"] >= 5
    (saved,) = [os.path.join(d, f) for d, _, files in os.walk(tmp_path / "storage") for f in files]
    without = read_benchmark_json(saved)
    assert without["round_times_s"][0] is None and without["rounds"][0] == row["rounds"]
    with pytest.raises(BenchmarkFileError, match="only with --benchmark-save-data"):
        samples(without, "test_step[linear-sgd]")
