"""Kill anywhere, tear anywhere: a sweep stopped at 30 seeded random moments (20 SIGKILLs,
5 SIGINTs, 5 SIGTERMs, in a seeded order) and resumed each time ends with the same results as
an uninterrupted run; a torn last line of the trials or curves file, cut at a random byte, is
recovered as docs/RESULTS.md says.

Real processes and real files: nothing of the store is mocked. What a trial learns is a
function of its seed, so the interrupted sweep's losses must equal the uninterrupted one's
exactly; only the times differ.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, run_cli

from bench import store

# 72 short trials. Each stop waits for 0 to 2 more trials to be recorded, then a random
# fraction of a trial (of the uninterrupted run's median trial time, so on any machine's
# speed): the 30 stops land in startup, planning, training and writing, about 45 trials'
# worth, and never all after the sweep has ended.
SUITE = """
problems: {linear: {steps: 300}, curve: {steps: 200}}
optimizers: {sgd: {lr: [0.01, 0.05, 0.1]}, adam: {lr: [0.01, 0.05, 0.1]}}
repeats: 6
telemetry: {sources: none}
"""
KILLS = 20
# Ctrl-C and systemd's stop, at random moments of the same sweep: each must end as the CLI
# promises (exit 130 or 143, one line saying every finished trial is kept, no traceback),
# wherever it lands -- in an import, in a trial, in a record's write.
STOPS = {signal.SIGINT: (5, 130, "interrupted"), signal.SIGTERM: (5, 143, "terminated (SIGTERM)")}


def _start(suite, results, run_id):
    return subprocess.Popen(
        [sys.executable, "-m", "bench", "run", suite, "--results", str(results), "--run-id", run_id],
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        universal_newlines=True,
    )  # fmt: skip


def _recorded(path):
    return open(path, "rb").read().count(b"\n") if os.path.exists(path) else 0


def _handles_sigterm(pid):
    """Whether the process has reached optbench's first line (bench/entry.py), which handles
    SIGTERM: the kernel's SigCgt mask says so. Before it, in the interpreter's own start-up
    (about 15 ms), Ctrl-C is Python's KeyboardInterrupt and SIGTERM the kernel's default."""
    try:
        with open(f"/proc/{pid}/status") as status:
            caught = next(line for line in status if line.startswith("SigCgt:")).split()[1]
    except (OSError, StopIteration):
        return False  # not started yet, or already gone
    return bool(int(caught, 16) >> (signal.SIGTERM - 1) & 1)


def _learned(run_dir):
    """What each trial learned: the figures that depend on its seed alone, not on the clock."""
    return {
        r.trial_id: (r.status.value, r.steps, r.final_loss, r.best_loss, r.final_metric, r.steps_to_target)
        for r in store.read_trials(run_dir)
    }


def _losses(run_dir):
    curves = {}
    for row in store.read_curves(run_dir):
        curves.setdefault(row["trial_id"], []).append((row["step"], row["loss"], row["eval_loss"]))
    return curves


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux's /proc to see the handler")
def test_stopped_at_30_random_moments_and_resumed_each_time_equals_an_uninterrupted_run(tmp_path):
    suite = tmp_path / "kills.yaml"
    suite.write_text(SUITE)
    results = tmp_path / "results"
    reference = run_cli("run", str(suite), "--results", str(results), "--run-id", "uninterrupted")
    assert reference.returncode == 0, reference.stderr
    times = sorted(r.wall_time_s for r in store.read_trials(str(results / "kills" / "uninterrupted")))
    trial_s = times[len(times) // 2]
    rng = random.Random(20261201)
    signals = [signal.SIGKILL] * KILLS + [s for s, (n, _, _) in STOPS.items() for _ in range(n)]
    rng.shuffle(signals)
    landed = {s: 0 for s in [signal.SIGKILL] + list(STOPS)}
    finished = False
    while not finished:
        victim = _start(str(suite), results, "killed")
        sent = None
        if signals:
            trials = str(results / "kills" / "killed" / "trials.jsonl")
            target = _recorded(trials) + rng.randint(0, 2)
            while victim.poll() is None and _recorded(trials) < target:
                time.sleep(0.01)
            if signals[-1] in STOPS:  # not inside the interpreter's own start-up: see _handles_sigterm
                while victim.poll() is None and not _handles_sigterm(victim.pid):
                    time.sleep(0.001)
            time.sleep(rng.uniform(0.0, trial_s))
            if victim.poll() is None:
                sent = signals.pop()
                victim.send_signal(sent)
        _, err = victim.communicate(timeout=300)
        assert "Traceback" not in err, err
        finished = victim.returncode == 0  # the sweep ended before the signal could land
        if sent == signal.SIGKILL and victim.returncode == -signal.SIGKILL:
            landed[sent] += 1
        elif sent in STOPS and not finished:
            _, code, said = STOPS[sent]
            assert victim.returncode == code, (sent, victim.returncode, err)
            assert f"{said}: every finished trial is recorded; run again to resume" in err, err
            landed[sent] += 1
    assert landed == {signal.SIGKILL: KILLS, signal.SIGINT: 5, signal.SIGTERM: 5}
    run_dir, expected = str(results / "kills" / "killed"), str(results / "kills" / "uninterrupted")
    lines = [json.loads(line) for line in open(os.path.join(run_dir, "trials.jsonl")) if line.strip()]
    ids = [line["trial_id"] for line in lines]
    assert len(ids) == len(set(ids)) == 72  # every planned trial recorded exactly once
    assert _learned(run_dir) == _learned(expected)
    assert _losses(run_dir) == _losses(expected)
    manifest = store.read_manifest(run_dir)
    assert manifest["finished_at"] and manifest.get("resumed", 0) >= 1
    if pytest.importorskip("pandas", reason="the report needs optbench[report]"):
        report = run_cli("report", run_dir, "--out", str(tmp_path / "report"))
        assert report.returncode == 0, report.stderr
        assert os.path.getsize(str(tmp_path / "report" / "index.html")) > 10000


@pytest.mark.parametrize("name", ["trials.jsonl", "curves.csv"])
def test_a_last_line_torn_at_random_bytes_is_cut_off_and_its_trial_run_again(tmp_path, name):
    """Three random cuts a file, each resumed: the result equals the whole run's."""
    suite = tmp_path / "torn.yaml"
    suite.write_text("problems: {linear: {steps: 30}}\noptimizers: {sgd: {lr: [0.01, 0.05, 0.1]}}\n"
                     "telemetry: {sources: none}\n")  # fmt: skip
    results = tmp_path / "results"
    whole = run_cli("run", str(suite), "--results", str(results), "--run-id", "whole")
    assert whole.returncode == 0, whole.stderr
    expected = _learned(str(results / "torn" / "whole"))
    rng = random.Random(name)
    for attempt in range(3):
        run_id = f"torn-{attempt}"
        done = run_cli("run", str(suite), "--results", str(results), "--run-id", run_id)
        assert done.returncode == 0, done.stderr
        run_dir = str(results / "torn" / run_id)
        if name == "curves.csv":
            # The curve is written and synced before its record: a power cut that tears the
            # curve's last row finds the trial's record not yet written.
            _tear(os.path.join(run_dir, "trials.jsonl"), rng, whole_line=True)
        path = os.path.join(run_dir, name)
        _tear(path, rng)
        again = run_cli("run", str(suite), "--results", str(results), "--run-id", run_id)
        assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
        assert "torn" in again.stderr  # said, and the torn bytes kept aside in a .torn file
        assert os.path.exists(path + ".torn")
        assert _learned(run_dir) == expected
        lines = [json.loads(line) for line in open(os.path.join(run_dir, "trials.jsonl")) if line.strip()]
        assert len({line["trial_id"] for line in lines}) == len(lines) == 3


def _tear(path, rng, whole_line=False):
    """Cut the file's last line at a random byte (its newline gone), or drop it whole."""
    data = open(path, "rb").read()
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    cut = last_start if whole_line else rng.randrange(last_start + 1, len(data) - 1)
    with open(path, "wb") as handle:
        handle.write(data[:cut])
