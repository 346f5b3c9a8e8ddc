"""The recorder with scripted sources: trial slicing, gaps, CSV, cool-down, idle baseline."""

import csv
import threading
import time

import pytest

from bench.telemetry import TelemetryConfig, open_recorder
from bench.telemetry.sources.base import Lost, Source

INTERVAL = 0.02


class Scripted(Source):
    """Power and temperature follow whatever the test sets; can be made to fail."""

    def __init__(self, name="jetson", interval_s=INTERVAL):
        super().__init__(interval_s)
        self.name = name
        self.power_scope = "scripted board input"
        self.watts = 4.0
        self.temp = 40.0
        self.fail_reads = 0
        self.nvpmodel = 0.0
        self.reconnects = 0

    def trip_points_c(self):
        return {"CPU": 97.0}

    def read(self):
        if self.fail_reads:
            self.fail_reads -= 1
            raise Lost("scripted loss")
        return [
            ("power_w.total", self.watts),
            ("temp_c.CPU", self.temp),
            ("nvpmodel_id", self.nvpmodel),
            ("ram_used_bytes", 1000.0),
        ]

    def reconnect(self):
        self.reconnects += 1
        if self.fail_reads:
            self.fail_reads -= 1
            raise Lost("still gone")


def recorder_with(source, tmp_path=None, **config):
    path = str(tmp_path / "telemetry.csv") if tmp_path else None
    return open_recorder(
        TelemetryConfig(sources=(source.name,), **config),
        clock=time.perf_counter,
        samples_path=path,
        sources=[source],
    )


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_trial_energy_equals_power_times_duration(tmp_path):
    source = Scripted()
    with recorder_with(source, tmp_path) as rec:
        time.sleep(3 * INTERVAL)
        rec.trial_begin("t1")
        t0 = time.perf_counter()
        time.sleep(0.3)
        t1 = time.perf_counter()
        figures = rec.trial_end("t1", t0, t1)
    assert figures["energy_j"] == pytest.approx(4.0 * (t1 - t0), rel=1e-9)
    assert figures["power_mean_w"] == pytest.approx(4.0)
    assert figures["power_peak_w"] == 4.0
    assert figures["samples"]["jetson"] >= 0.3 / INTERVAL * 0.5
    assert figures["source"]["energy_j"].startswith("jetson: scripted board input; trapezoid")
    assert figures["temp_peak_c"] == {"CPU": 40.0}
    assert figures["throttled"] is False
    assert figures["energy_above_idle_j"] is None
    assert "idle baseline" in figures["unmeasured"]["energy_above_idle_j"]
    assert figures["rss_peak_bytes"] is None and "rss_bytes" in figures["unmeasured"]["rss_peak_bytes"]
    with open(str(tmp_path / "telemetry.csv")) as f:
        rows = list(csv.DictReader(f))
    assert {r["name"] for r in rows} >= {"power_w.total", "temp_c.CPU"}
    assert all(r["source"] == "jetson" for r in rows)


def test_change_mid_trial_shows_in_samples_and_energy():
    source = Scripted()
    with recorder_with(source) as rec:
        time.sleep(3 * INTERVAL)
        t0 = time.perf_counter()
        time.sleep(0.2)
        source.watts = 10.0
        source.temp = 98.0
        switched = time.perf_counter()
        time.sleep(0.2)
        t1 = time.perf_counter()
        figures = rec.trial_end("t", t0, t1)
        first_half = rec.energy_between(t0, switched)
    expected = 4.0 * (switched - t0) + 10.0 * (t1 - switched)
    # the step lands between two samples: at most one interval of it is mis-assigned
    assert figures["energy_j"] == pytest.approx(expected, abs=6.0 * 2 * INTERVAL)
    assert figures["power_peak_w"] == 10.0
    assert first_half == pytest.approx(4.0 * (switched - t0), abs=6.0 * 2 * INTERVAL)
    assert figures["throttled"] is True
    assert "CPU reached 98.0 C" in figures["throttle_evidence"][0]


def test_idle_baseline_and_energy_above_idle():
    source = Scripted()
    rec = recorder_with(source, idle_baseline_s=0.15)
    rec.start()
    try:
        time.sleep(2 * INTERVAL)
        idle = rec.measure_idle_baseline()
        assert idle["power_w"] == pytest.approx(4.0) and idle["source"] == "jetson"
        source.watts = 7.0
        time.sleep(3 * INTERVAL)
        t0 = time.perf_counter()
        time.sleep(0.2)
        t1 = time.perf_counter()
        figures = rec.trial_end("t", t0, t1)
    finally:
        rec.close()
    assert figures["energy_above_idle_j"] == pytest.approx(3.0 * (t1 - t0), rel=1e-6)
    assert rec.manifest_info()["idle_baseline"]["power_w"] == pytest.approx(4.0)


def test_losing_the_source_records_a_gap_and_the_run_goes_on():
    source = Scripted()
    with recorder_with(source) as rec:
        time.sleep(3 * INTERVAL)
        t0 = time.perf_counter()
        source.fail_reads = 2  # lost, one failed reconnect, then back
        wait_until(lambda: source.reconnects >= 2)
        time.sleep(5 * INTERVAL)
        t1 = time.perf_counter()
        figures = rec.trial_end("t", t0, t1)
        warnings = rec.run_warnings()
    gaps = figures["gaps"]
    assert len(gaps) == 1 and gaps[0]["reason"] == "scripted loss"
    assert gaps[0]["end_s"] is not None and gaps[0]["overlap_s"] > 1.0  # backoff waits >= 1 s
    assert figures["energy_j"] is None  # most of the trial has no samples: no fake figure
    assert "no power samples for" in figures["unmeasured"]["energy_j"]
    assert any("jetson lost 1 time(s)" in w and "scripted loss" in w for w in warnings)


def test_power_mode_change_is_warned():
    source = Scripted()
    with recorder_with(source) as rec:
        time.sleep(3 * INTERVAL)
        source.nvpmodel = 1.0
        time.sleep(3 * INTERVAL)
        warnings = rec.run_warnings()
    assert "power mode (nvpmodel) changed during the run (values seen: 0, 1)" in warnings


def test_wait_cool_gate():
    source = Scripted()
    rec = recorder_with(source, cooldown_zone="cpu", cooldown_below_c=50.0, cooldown_max_wait_s=0.3)
    with rec:
        time.sleep(3 * INTERVAL)
        assert rec.wait_cool()["reached"] is True
        source.temp = 60.0
        time.sleep(3 * INTERVAL)
        result = rec.wait_cool()
        assert result["reached"] is False and result["temp_c"] == 60.0
        assert result["waited_s"] >= 0.3
        threading.Timer(0.1, lambda: setattr(source, "temp", 45.0)).start()
        assert rec.wait_cool()["reached"] is True
        assert any("cool-down gate gave up 1 time(s)" in w for w in rec.run_warnings())
    off = recorder_with(Scripted())
    assert off.wait_cool() is None


def test_counter_source_and_restarted_counter():
    class Counter(Scripted):
        def __init__(self):
            super().__init__(name="rapl")
            self.joules = 0.0
            self.last = time.perf_counter()

        def read(self):
            now = time.perf_counter()
            self.joules += 20.0 * (now - self.last)  # 20 W
            self.last = now
            return [("energy_j.total", self.joules)]

    source = Counter()
    with recorder_with(source) as rec:
        time.sleep(3 * INTERVAL)
        t0 = time.perf_counter()
        time.sleep(0.1)
        source.joules = 0.0  # counter restarted (source reconnected)
        time.sleep(0.1)
        t1 = time.perf_counter()
        figures = rec.trial_end("t", t0, t1)
    assert figures["energy_j"] == pytest.approx(20.0 * (t1 - t0), rel=0.25)
    assert figures["source"]["energy_j"].startswith("rapl: scripted board input; energy counter")


def test_no_sources_measures_nothing_and_says_so():
    rec = open_recorder(TelemetryConfig(sources=("none",)))
    rec.start()
    figures = rec.trial_end("t", 0.0, 1.0)
    rec.close()
    assert figures["energy_j"] is None
    assert figures["unmeasured"]["energy_j"] == "no telemetry source active"
    assert rec.manifest_info()["active"] == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sources": ("jetson", "bogus")}, "unknown source 'bogus'; allowed: jetson, tegrastats"),
        ({"sources": ("auto", "host")}, "'auto' and 'none' stand alone"),
        ({"interval_s": 0.0}, "interval must be > 0"),
        ({"cooldown_zone": "CPU"}, "cooldown needs both"),
    ],
)
def test_config_errors_name_the_key(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TelemetryConfig(**kwargs)


def test_interval_defaults_and_floor():
    assert TelemetryConfig().interval_for("jetson") == 0.5
    assert TelemetryConfig(interval_s=0.01).interval_for("jetson") == 0.2
    assert TelemetryConfig(interval_s=0.01).interval_for("rapl") == 0.02
