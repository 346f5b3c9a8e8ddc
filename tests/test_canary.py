"""The drift canary's device half: the reference workload, and the runner storing it in the
manifest at each session's start and end (bench/canary.py, bench/runner.py)."""

import json
import os
import signal

import pytest
import torch
from conftest import run_cli
from test_cli import QUICK_THEN_STUCK, recorded_lines, run_dirs, start_run, wait_for

from bench import canary
from bench.plan import make_plan
from bench.suite import load_suite
from bench.validation import SuiteError

TINY = """
problems: {linear: {steps: 30}}
optimizers: {sgd: {lr: 0.1}}
seeds: [0, 1]
telemetry: {sources: none}
"""


def manifest(run_dir):
    with open(os.path.join(run_dir, "manifest.json")) as handle:
        return json.load(handle)


def test_a_measurement_has_both_parts_every_repeat_and_its_settings():
    entry = canary.measure("start", session=2)
    assert (entry["version"], entry["when"], entry["session"], entry["threads"]) == (
        canary.VERSION,
        "start",
        2,
        1,
    )
    assert "slowdown" not in entry  # said only in a testing aid's runs
    assert sorted(entry["parts"]) == sorted(canary.PARTS)
    for name, part in entry["parts"].items():
        assert part["iterations"] == canary.ITERATIONS[name]
        assert len(part["repeats_s"]) == len(part["repeat_medians_s"]) == canary.REPEATS
        assert all(r > 0 for r in part["repeats_s"])
        # The median of all iterations lies between the repeats' own medians: it is per
        # iteration, of the same iterations (not a repeat's total).
        low, high = min(part["repeat_medians_s"]), max(part["repeat_medians_s"])
        assert 0 < low * (1 - 1e-9) <= part["median_s"] <= high * (1 + 1e-9)
        assert part["iqr_s"] >= 0
    assert entry["cost_s"] >= sum(sum(p["repeats_s"]) for p in entry["parts"].values())
    json.dumps(entry, allow_nan=False)  # goes into the manifest as it is


def test_measuring_leaves_the_thread_count_and_the_random_state_as_they_were():
    before_threads = torch.get_num_threads()
    torch.set_num_threads(2)
    state = torch.get_rng_state()
    try:
        entry = canary.measure("end", slowdown=0.5)
        assert entry["threads"] == 1 and entry["slowdown"] == 0.5
        assert torch.get_num_threads() == 2
        assert torch.equal(torch.get_rng_state(), state)  # trials seed themselves; nothing drawn here
    finally:
        torch.set_num_threads(before_threads)


def test_the_suite_keys_are_validated_and_stay_out_of_the_trial_ids(write_suite):
    plain = make_plan(load_suite(write_suite(TINY, name="a.yaml")))
    assert plain.suite.canary is True and plain.suite.canary_slowdown == 0.0
    off = make_plan(load_suite(write_suite(TINY + "canary: false\ncanary_slowdown: 0.3\n", name="b.yaml")))
    assert off.suite.canary is False and off.suite.canary_slowdown == 0.3
    assert [t.trial_id for t in off.trials] == [t.trial_id for t in plain.trials]
    with pytest.raises(SuiteError) as caught:
        load_suite(write_suite(TINY + "canary: sometimes\ncanary_slowdown: -1\n", name="c.yaml"))
    text = "\n".join(caught.value.problems)
    assert "c.yaml: canary: expected true or false, got 'sometimes'" in text
    assert "c.yaml: canary_slowdown: must be at least 0.0, got -1" in text


@pytest.mark.slow
def test_a_run_stores_a_start_and_an_end_measurement_and_false_turns_it_off(write_suite, tmp_path):
    done = run_cli("run", write_suite(TINY, name="tiny.yaml"), "--results", str(tmp_path))
    assert done.returncode == 0, done.stderr
    (run_dir,) = run_dirs(tmp_path, "tiny")
    entries = manifest(run_dir)["canary"]
    assert [(e["when"], e["session"]) for e in entries] == [("start", 0), ("end", 0)]
    assert all(e["version"] == canary.VERSION and e["threads"] == 1 for e in entries)
    assert entries[0]["at"] <= entries[1]["at"]

    off = run_cli("run", write_suite(TINY + "canary: false\n", name="off.yaml"), "--results", str(tmp_path))
    assert off.returncode == 0, off.stderr
    (run_dir,) = run_dirs(tmp_path, "off")
    assert manifest(run_dir)["canary"] == []


@pytest.mark.slow
def test_an_interrupted_session_exits_without_an_end_measurement_and_its_resumption_appends(
    write_suite, tmp_path
):
    # Six quick trials, then one that times out after 4 s: Ctrl-C lands inside it.
    suite = write_suite(QUICK_THEN_STUCK % 4, name="many.yaml")
    results = tmp_path / "results"
    victim = start_run(suite, str(results))
    trials = lambda: os.path.join(run_dirs(results, "many")[0], "trials.jsonl")  # noqa: E731
    assert wait_for(lambda: os.path.exists(str(results / "many")) and recorded_lines(trials()) >= 6)
    victim.send_signal(signal.SIGINT)
    _, err = victim.communicate()
    assert victim.returncode == 130 and "interrupted" in err, err
    (run_dir,) = run_dirs(results, "many")
    first = manifest(run_dir)["canary"]
    assert [(e["when"], e["session"]) for e in first] == [("start", 0)]  # no end: Ctrl-C exits at once

    resumed = run_cli("run", suite, "--results", str(results))
    assert resumed.returncode == 0 and "resuming" in resumed.stderr, resumed.stderr
    entries = manifest(run_dir)["canary"]
    assert [(e["when"], e["session"]) for e in entries] == [("start", 0), ("start", 1), ("end", 1)]
    assert entries[0] == first[0]  # the earlier session's measurement is kept as it was
