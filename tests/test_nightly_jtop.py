"""A night on a simulated Jetson Nano whose jtop service is killed mid-night (root only: the
real jtop server in a private namespace, tests/jtop_fixture.py), on this Python's
jetson-stats and on the Nano stack's 4.3."""

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
