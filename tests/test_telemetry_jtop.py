"""The jetson source against the real jtop server on simulated boards (root only).

Runs the scenarios of tests/jtop_fixture.py inside a private mount + PID namespace, against
jetson-stats 7.x on this interpreter and 4.3.2 on the Nano's Python 3.6 (the venv that
.ci/nano-venv.sh builds; set OPTBENCH_NANO_VENV to reuse one, or skipped when absent).
The scenario runs the recorder directly under the interpreter being tested.
"""

import json
import os
import subprocess
import sys

import jtop_fixture
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "tests", "jtop_fixture.py")
INTERVAL = 0.5

pytestmark = pytest.mark.root


def _current_python():
    try:
        import jtop  # noqa: F401
    except ImportError:
        return None
    return sys.executable


def _nano_python():
    venv = os.environ.get("OPTBENCH_NANO_VENV")
    if not venv:
        try:
            venv = subprocess.check_output(
                ["bash", os.path.join(ROOT, ".ci", "nano-venv.sh")],
                universal_newlines=True,
                stderr=subprocess.DEVNULL,
                timeout=900,
            ).strip()
        except (OSError, subprocess.SubprocessError):
            return None
    python = os.path.join(venv, "bin", "python")
    return python if os.path.exists(python) else None


def _other_nano_python():
    found = _nano_python()
    return None if found and os.path.realpath(found) == os.path.realpath(sys.executable) else found


# this interpreter's jetson-stats (7.x in the project venv), and the Nano's stack
STACKS = {"this-python": _current_python, "nano-py3.6-jtop4.3": _other_nano_python}


@pytest.fixture(scope="module", params=sorted(STACKS))
def python(request):
    reason = jtop_fixture.sandbox_unavailable_reason()
    if reason:
        pytest.skip(reason)
    found = STACKS[request.param]()
    if found is None:
        if request.param != "this-python" and _nano_python():
            pytest.skip("the Nano stack is this interpreter: covered by [this-python]")
        pytest.skip("no interpreter with jetson-stats for " + request.param)
    return found


def run_scenario(tmp_path, python, scenario, board, *extra):
    argv = [python, FIXTURE, scenario, board] + list(extra)
    # Popen, not run(capture_output=...): this file also runs on the Nano's Python 3.6
    proc = subprocess.Popen(
        jtop_fixture.sandbox_command(tmp_path, argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    out, err = proc.communicate(timeout=120)
    stdout, stderr = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    pytest.fail(
        f"scenario {scenario} gave no result (exit {proc.returncode}):\n{stdout[-3000:]}\n{stderr[-3000:]}"
    )


@pytest.mark.parametrize("board", ["nano", "orin"])
def test_recorded_power_energy_and_a_mid_trial_change(tmp_path, python, board):
    r = run_scenario(tmp_path, python, "trial", board)
    f = r["figures"]
    total = "POM_5V_IN" if board == "nano" else "VDD_IN"
    # recorded power equals the simulated rails (jtop's integer mW, exactly)
    before = [(t, v) for t, n, v in r["samples"] if n == "power_w.total" and t < r["switched"]]
    assert before and all(v == r["before_w"] for _, v in before)
    for rail, watts in r["rails_w"].items():
        if rail != total:
            assert {v for _, n, v in r["samples"] if n == "power_w." + rail} == {watts}
    # the change shows in the samples after it was made, and before the recorder was seen
    # holding it; in between, every sample reads one of the two values, nothing else
    power = [(t, v) for t, n, v in r["samples"] if n == "power_w.total"]
    after = [t for t, v in power if v == r["after_w"]]
    assert after and r["switched"] < after[0] <= r["seen"]
    assert {v for _, v in power} == {r["before_w"], r["after_w"]}
    assert f["power_peak_w"] == r["after_w"]
    # energy = power x duration: exact (float rounding) while the power is constant ...
    steady = r["before_w"] * (r["steady_end"] - r["t0"])
    assert r["steady_energy_j"] == pytest.approx(steady, rel=1e-6)
    # ... and across the step, the trapezoid through the recorded samples: constant up to the
    # last sample before it (tl), a straight line to the first after it (tf), then constant
    tl = max(t for t, v in power if v == r["before_w"] and t < after[0])
    tf = after[0]
    assert r["t0"] < tl < tf < r["t1"]
    integrated = r["before_w"] * (tl - r["t0"]) + (r["before_w"] + r["after_w"]) / 2 * (tf - tl)
    integrated += r["after_w"] * (r["t1"] - tf)
    assert f["energy_j"] == pytest.approx(integrated, rel=1e-5)  # the CSV keeps times to 1 us
    # the true energy (the step at 'switched') differs by less than (step x where it could be)
    truth = r["before_w"] * (r["switched"] - r["t0"]) + r["after_w"] * (r["t1"] - r["switched"])
    span = max(tf, r["switched"]) - min(tl, r["switched"])
    assert abs(f["energy_j"] - truth) <= (r["after_w"] - r["before_w"]) * span
    assert f["source"]["energy_j"].startswith("jetson: board input rail " + total)
    # the sample count is the samples the CSV holds inside the trial
    inside = {t for t, _, _ in r["samples"] if r["t0"] <= t <= r["t1"]}
    assert f["samples"]["jetson"] == len(inside) >= 3
    assert f["gaps"] == [] and f["throttled"] is False
    # temperatures: the raised zone, and offline sensors (-256) are no reading
    hot = "CPU" if board == "nano" else "gpu"
    assert f["temp_peak_c"][hot] == 61.5
    assert "cv0" not in f["temp_peak_c"] and "PMIC" not in f["temp_peak_c"]
    assert f["ram_used_peak_bytes"] > 0
    jetson = r["manifest"]["sources"]["jetson"]
    assert jetson["active"] and jetson["info"]["server_interval_s"] == INTERVAL
    assert r["manifest"]["l4t"] == ("32.7.1" if board == "nano" else "36.4.3")


def test_connection_lost_mid_trial_leaves_a_gap_and_recovers(tmp_path, python):
    r = run_scenario(tmp_path, python, "lost", "nano")
    f = r["figures"]
    assert r["back"], "the recorder did not reconnect to the restarted server"
    assert len(f["gaps"]) == 1
    gap = f["gaps"][0]
    assert "jtop" in gap["reason"]
    # orderings, not latencies: lost after the kill began; back after the server restarted
    # and before its first sample was seen, which was before the trial ended
    assert r["killing"] <= gap["start_s"] < gap["end_s"]
    assert r["restarting"] <= gap["end_s"] <= r["back_at"] < r["t1"]
    assert any("telemetry source jetson lost 1 time(s)" in w for w in r["warnings"])
    # over a second of the 3 s trial had no samples: no energy figure, and the reason why
    assert f["energy_j"] is None
    assert "no power samples for" in f["unmeasured"]["energy_j"]


def test_failure_paths_against_the_real_client(tmp_path, python):
    other = None
    if python != sys.executable and _current_python():
        other = os.path.join(os.path.dirname(sys.executable), "jtop")  # a 7.x server
    extra = [other] if other else []
    r = run_scenario(tmp_path, python, "failures", "nano", *extra)
    assert r["absent"].startswith("jtop service not running")
    assert r["absent_manifest"]["active"] is False
    assert r["absent_manifest"]["reason"] == r["absent"]
    assert any("jetson requested but unavailable" in w for w in r["absent_warnings"])
    assert r["denied"].startswith("permission denied on /run/jtop.sock")
    assert "jtop group" in r["denied"]
    assert r["root_ok"] is None
    if other:
        assert "version mismatch" in r["mismatch"], r["mismatch"]


@pytest.mark.slow
def test_end_to_end_optbench_run_with_the_jetson_source(tmp_path, python):
    r = run_scenario(tmp_path, python, "e2e", "nano")
    assert r["exit"] == 0, r["output"]
    assert len(r["trials"]) == 1
    figures = r["trials"][0]["telemetry"]
    assert figures["sources"] == ["jetson"]
    # constant simulated board power: energy is power x the trial's training time
    assert figures["power_mean_w"] == r["power_w"]
    assert figures["energy_j"] == pytest.approx(r["power_w"] * figures["window_s"], rel=1e-6)
    assert figures["source"]["energy_j"].startswith("jetson: board input rail POM_5V_IN")
    # the window is [train_start, train_end]: it spans the (untimed) evaluations in between
    assert figures["window_s"] >= r["trials"][0]["train_time_s"]
    # ... so the runner also sums over the timed segments alone: power x training time
    trial = r["trials"][0]
    assert figures["energy_train_j"] == pytest.approx(r["power_w"] * trial["train_time_s"], rel=1e-6)
    assert figures["energy_train_j"] < figures["energy_j"]
    telemetry = r["manifest"]["telemetry"]
    assert telemetry["active"] == ["jetson"] and telemetry["l4t"] == "32.7.1"
    assert {"power_w.total", "power_w.POM_5V_CPU", "temp_c.CPU"} <= set(r["csv_names"])
