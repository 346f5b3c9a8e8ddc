"""A night on a simulated Jetson Nano whose jtop service is killed mid-night (root only: the
real jtop server in a private namespace, tests/jtop_fixture.py), on this Python's
jetson-stats and on the Nano stack's 4.3."""

import json

import pytest
from test_telemetry_jtop import python, run_scenario  # noqa: F401 -- the fixture, per stack

pytestmark = [pytest.mark.root, pytest.mark.slow]


def test_jtop_killed_mid_night_the_night_completes_and_the_summary_names_the_gap(tmp_path, python):  # noqa: F811
    r = run_scenario(tmp_path, python, "nightly", "nano")
    summary = r["summary"]
    assert r["exit"] == 0, r["output"]  # no baseline; the night itself went through
    assert 1 <= r["before_kill"] < 4, "the service was killed after the night had ended"
    assert summary["trials"]["recorded"] == 4 and summary["trials"]["by_status"] == {"ok": 4}
    partial = summary["partial_telemetry"]
    # every trial that ran while the service was gone has a gap, named with its reason
    assert 1 <= len(partial) <= 4 - r["before_kill"] + 1, partial
    assert all(
        p["gaps"] >= 1 and p["lost_s"] > 0 and any("jtop" in why for why in p["reasons"]) for p in partial
    )
    assert any("telemetry source jetson lost" in w for w in summary["telemetry_warnings"])
    assert "partial telemetry: " in r["output"]


def test_jtop_hung_mid_night_the_night_completes_and_the_summary_names_the_trials(tmp_path, python):  # noqa: F811
    # SIGSTOP: the service's socket still accepts, and nothing answers (jetson_stats #485's hang)
    r = run_scenario(tmp_path, python, "nightly-hang", "nano")
    summary = r["summary"]
    assert r["exit"] == 0, r["output"]
    assert 1 <= r["before_kill"] < 4, "the service was stopped after the night had ended"
    assert summary["trials"]["recorded"] == 4 and summary["trials"]["by_status"] == {"ok": 4}
    partial = summary["partial_telemetry"]
    assert 1 <= len(partial) <= 4 - r["before_kill"] + 1, partial
    assert all(p["gaps"] >= 1 or any("gave no sample" in why for why in p["reasons"]) for p in partial), (
        partial
    )
    assert "partial telemetry: " in r["output"]


def test_jtop_hung_before_the_night_the_night_runs_without_it_and_says_why(tmp_path, python):  # noqa: F811
    # hung since an earlier night: opening jtop (for the power mode, then for the telemetry)
    # must give up after its handshake timeout instead of waiting for ever
    r = run_scenario(tmp_path, python, "nightly-hung", "nano")
    assert r["exit"] == 0, r["output"]
    assert r["summary"]["trials"]["recorded"] == 4 and r["summary"]["trials"]["by_status"] == {"ok": 4}
    assert "did not answer its handshake within 15 s" in json.dumps(r["telemetry"]), r["telemetry"]
