"""What the morning summary lists besides the verdict: the trials that did not run, the
throttled and timing-unstable ones, and what made a baseline not comparable; and the exit
code 3 of a night that measured nothing or cannot be compared."""

import json
import os

import pytest
from conftest import run_cli
from nightly_fixtures import nightly, summary_of

from bench.nightly import summary
from bench.nightly.analysis_gate import missing

analysis = pytest.mark.skipif(missing() is not None, reason=f"the analysis half: {missing()}")

# cuda:63 is absent on every machine these tests run on (no CUDA, or fewer GPUs): its trials are
# recorded as skipped with the reason, as on a Nano whose GPU a suite asks for and cannot get.
SUITE = """
name: {name}
problems:
  linear: {{steps: 20}}
optimizers: {{sgd: {{lr: [0.05]}}}}
seeds: [0, 1]
device: {devices}
telemetry: {{sources: none}}
"""


def _rewrite(run_dir, changes):
    """Give some of a real night's records what a board would have recorded (a throttled
    trial, a trial whose step times were unstable): {trial_id: {field: value}}."""
    path = os.path.join(run_dir, "trials.jsonl")
    with open(path) as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    for record in records:
        record.update(changes.get(record["trial_id"], {}))
    with open(path, "w") as handle:
        handle.write("".join(json.dumps(r) + "\n" for r in records))


def test_the_summary_lists_what_did_not_run_and_the_throttled_and_unstable_trials(write_suite, tmp_path):
    suite = write_suite(SUITE.format(name="lists", devices='[cpu, "cuda:63"]'), name="lists.yaml")
    results = tmp_path / "results"
    done = nightly(suite, "--skip-missing-devices", results=results, now="2026-12-01T22:00")
    assert done.returncode == 0, done.stderr  # two trials measured; nothing to compare against
    run_dir = str(results / "lists" / "2026-12-01")
    told = summary_of(run_dir)
    assert told["trials"]["by_status"] == {"ok": 2, "skipped": 2}
    assert len(told["not_run"]) == 2
    assert all(n["reason"].startswith("device cuda:63: ") for n in told["not_run"])
    assert told["throttled"] == [] and told["unstable"] == []
    assert "- not run: 2 (" in done.stdout

    measured = [r["trial_id"] for r in _records(run_dir) if r["status"] == "ok"]
    _rewrite(run_dir, {measured[0]: {"telemetry": {"throttled": True}},
                       measured[1]: {"stability": "unstable", "stability_reason": "IQR 40% of the median"}})  # fmt: skip
    again = summary.collect(run_dir, "2026-12-01")
    assert again["throttled"] == [measured[0]] and again["unstable"] == [measured[1]]
    text = summary.markdown(summary.finish(again, "no regression"))
    assert f"- throttled: 1 ({measured[0]})" in text and f"- timing unstable: 1 ({measured[1]})" in text


def _records(run_dir):
    with open(os.path.join(run_dir, "trials.jsonl")) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def test_a_night_that_measured_nothing_could_not_measure_exit_3(write_suite, tmp_path):
    # Every trial on an absent device: recorded as skipped, nothing trained. Not a pass, on
    # either Python (the device half decides it without the analysis half).
    suite = write_suite(SUITE.format(name="none", devices='["cuda:63"]'), name="none.yaml")
    results = tmp_path / "results"
    done = nightly(suite, "--skip-missing-devices", results=results, now="2026-12-01T22:00")
    assert done.returncode == 3, done.stderr
    told = summary_of(str(results / "none" / "2026-12-01"))
    assert told["verdict"] == "could not measure" and told["exit_code"] == 3
    assert told["trials"]["by_status"] == {"skipped": 2} and len(told["not_run"]) == 2
    assert "could not measure (exit 3)" in done.stdout


@analysis
def test_a_baseline_measured_with_other_settings_is_not_comparable_exit_3(write_suite, tmp_path):
    results, baselines = tmp_path / "results", str(tmp_path / "baselines")
    other = write_suite(SUITE.format(name="nc", devices="[cpu]") + "threads: 2\n", name="other.yaml")
    assert run_cli("run", other, "--results", str(tmp_path / "base"), "--run-id", "b").returncode == 0
    saved = run_cli("baseline", "save", str(tmp_path / "base" / "nc" / "b"), "--name", "main", "--baselines",
                    baselines)  # fmt: skip
    assert saved.returncode == 0, saved.stderr
    suite = write_suite(SUITE.format(name="nc", devices="[cpu]"), name="nc.yaml")  # one thread
    done = nightly(
        suite, "--baseline", "main", "--baselines", baselines, results=results, now="2026-12-01T22:00"
    )
    assert done.returncode == 3, done.stderr
    told = summary_of(str(results / "nc" / "2026-12-01"))
    assert told["verdict"] == "not comparable" and told["compare"]["verdict"] == "not comparable"
    assert told["compare"]["not_comparable"] == ["threads: 2 (baseline) vs 1 (candidate)"]
    assert "- not comparable: threads: 2 (baseline) vs 1 (candidate)" in done.stdout
