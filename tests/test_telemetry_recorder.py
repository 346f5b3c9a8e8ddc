"""The recorder with scripted sources: trial slicing, gaps, CSV, cool-down, idle baseline.

Most tests drive the samples themselves (``Driven``): each sample is taken when the test says,
stamped with the test's clock, so every sample's time and value is known exactly and the
expected energy is a closed-form number, whatever the speed of the machine. No assertion here
rests on how fast a thread was scheduled: where real time is involved, the test polls for a
condition up to a generous deadline, or checks an ordering.
"""

import csv
import queue
import threading
import time

import pytest

from bench.telemetry import TelemetryConfig, open_recorder, recorder
from bench.telemetry.sources.base import Lost, Source

INTERVAL = 0.1  # the driven sources' declared interval, in the test clock's seconds
DEADLINE_S = 60.0  # generous: only a hung recorder takes this long


class FakeClock:
    """The recorder's clock, set by the driven source before each sample."""

    def __init__(self, now=0.0):
        self.now = now

    def __call__(self):
        return self.now


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
        self.reads = 0
        self.reconnects = 0
        self.may_reconnect = threading.Event()
        self.may_reconnect.set()

    def trip_points_c(self):
        return {"CPU": 97.0}

    def read(self):
        if self.fail_reads:
            self.fail_reads -= 1
            raise Lost("scripted loss")
        self.reads += 1
        return [
            ("power_w.total", self.watts),
            ("temp_c.CPU", self.temp),
            ("nvpmodel_id", self.nvpmodel),
            ("ram_used_bytes", 1000.0),
        ]

    def reconnect(self):
        if not self.may_reconnect.is_set():
            raise Lost("still gone")
        self.reconnects += 1


class Driven(Source):
    """Wraps a source so that it samples only on the test's ``tick(t)``, at clock time t.

    ``tick`` returns once the recorder has stored the sample (or, when the read fails, once
    the recorder has recorded the loss and first tries to reconnect), so the test knows
    exactly what the recorder holds when it next looks."""

    def __init__(self, inner, clock):
        super().__init__(inner.interval_s)
        self.name = inner.name
        self.inner = inner
        self.clock = clock
        self._ticks = queue.Queue()
        self._failed = False

    @property
    def power_scope(self):
        return self.inner.power_scope

    def open(self):
        self.inner.open()

    def info(self):
        return self.inner.info()

    def trip_points_c(self):
        return self.inner.trip_points_c()

    def run(self, emit, stop):
        while not stop.is_set():
            try:
                t = self._ticks.get(timeout=0.01)
            except queue.Empty:
                continue
            self.clock.now = t
            try:
                readings = self.inner.read()
            except Exception:
                self._failed = True  # the tick is done when the recorder has handled it
                raise
            emit(readings)
            self._ticks.task_done()

    def tick(self, *times):
        for t in times:
            self._ticks.put(t)
        self._ticks.join()

    def reconnect(self):
        if self._failed:  # the recorder has recorded the gap by now
            self._failed = False
            self._ticks.task_done()
        self.inner.reconnect()

    def close(self):
        self.inner.close()


def ticks(start, stop, step=INTERVAL):
    """start, start + step, ..., stop (inclusive), without accumulating rounding."""
    count = int(round((stop - start) / step))
    return [round(start + i * step, 9) for i in range(count + 1)]


def driven_recorder(inner, tmp_path=None, **config):
    clock = FakeClock()
    source = Driven(inner, clock)
    path = str(tmp_path / "telemetry.csv") if tmp_path else None
    rec = open_recorder(
        TelemetryConfig(sources=(inner.name,), **config), clock=clock, samples_path=path, sources=[source]
    )
    return rec, source, clock


def wait_until(predicate, what):
    deadline = time.monotonic() + DEADLINE_S
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting until " + what
        time.sleep(0.005)


def test_trial_energy_equals_power_times_duration(tmp_path):
    rec, source, _ = driven_recorder(Scripted(), tmp_path)
    with rec:
        source.tick(*ticks(0.0, 0.2))
        rec.trial_begin("t1")  # forgets what came well before now: nothing yet
        source.tick(*ticks(0.3, 1.0))
        figures = rec.trial_end("t1", 0.25, 0.85)  # edges between samples: interpolated
    # 4 W held for 0.6 s: 2.4 J, to float rounding
    assert figures["energy_j"] == pytest.approx(2.4, rel=1e-12)
    assert figures["power_mean_w"] == pytest.approx(4.0, rel=1e-12)
    assert figures["power_peak_w"] == 4.0
    assert figures["samples"]["jetson"] == 6  # the ticks at 0.3, 0.4, ..., 0.8
    assert figures["source"]["energy_j"].startswith("jetson: scripted board input; trapezoid")
    assert figures["temp_peak_c"] == {"CPU": 40.0}
    assert figures["throttled"] is False
    assert figures["energy_above_idle_j"] is None
    assert "idle baseline" in figures["unmeasured"]["energy_above_idle_j"]
    assert figures["rss_peak_bytes"] is None and "rss_bytes" in figures["unmeasured"]["rss_peak_bytes"]
    with open(str(tmp_path / "telemetry.csv")) as f:
        rows = list(csv.DictReader(f))
    assert {r["name"] for r in rows} == {"power_w.total", "temp_c.CPU", "nvpmodel_id", "ram_used_bytes"}
    assert all(r["source"] == "jetson" for r in rows)
    assert sorted({float(r["time_s"]) for r in rows}) == ticks(0.0, 1.0)


def test_change_mid_trial_shows_in_samples_and_energy():
    inner = Scripted()
    rec, source, _ = driven_recorder(inner)
    with rec:
        source.tick(*ticks(0.0, 0.5))
        # the power steps from 4 to 10 W at 0.55 s, half-way between two samples
        inner.watts, inner.temp = 10.0, 98.0
        source.tick(*ticks(0.6, 1.2))
        figures = rec.trial_end("t", 0.2, 1.0)
        first_part = rec.energy_between(0.2, 0.55)
    # true energy: 4 W x 0.35 s + 10 W x 0.45 s. The trapezoid spreads the step evenly over
    # the interval it fell in, which for a step at the interval's midpoint is exact.
    assert figures["energy_j"] == pytest.approx(4.0 * 0.35 + 10.0 * 0.45, rel=1e-12)
    assert figures["power_peak_w"] == 10.0
    # cut inside that interval, the samples cannot say where the step was: at most half of
    # (step x interval) lands on the wrong side of the cut
    assert first_part == pytest.approx(4.0 * 0.35, abs=(10.0 - 4.0) * INTERVAL / 2)
    assert first_part != pytest.approx(4.0 * 0.35, abs=1e-9)  # ... and here some does
    assert figures["throttled"] is True
    assert "CPU reached 98.0 C" in figures["throttle_evidence"][0]


def test_idle_baseline_and_energy_above_idle():
    inner = Scripted()
    clock = FakeClock()
    source = Driven(inner, clock)

    def sleep(seconds):  # the idle baseline's wait: samples every interval, on the test clock
        source.tick(*ticks(clock.now + INTERVAL, clock.now + seconds))

    rec = open_recorder(
        TelemetryConfig(sources=("jetson",), idle_baseline_s=0.5), clock=clock, sources=[source], sleep=sleep
    )
    rec.start()
    try:
        source.tick(0.0)
        idle = rec.measure_idle_baseline()  # 4 W over [0, 0.5]
        assert idle["power_w"] == pytest.approx(4.0, rel=1e-12) and idle["source"] == "jetson"
        assert idle["duration_s"] == pytest.approx(0.5) and idle["samples"] == 6
        inner.watts = 7.0
        source.tick(*ticks(0.6, 2.0))
        figures = rec.trial_end("t", 1.0, 2.0)
    finally:
        rec.close()
    assert figures["energy_above_idle_j"] == pytest.approx(3.0 * 1.0, rel=1e-12)
    assert figures["source"]["energy_above_idle_j"] == "energy_j minus 4.000 W idle x 1.000 s"
    assert rec.manifest_info()["idle_baseline"]["power_w"] == pytest.approx(4.0)


def test_losing_the_source_records_a_gap_and_the_run_goes_on(monkeypatch):
    monkeypatch.setattr(recorder, "RECONNECT_FIRST_S", 0.01)  # retry fast; the test clock
    monkeypatch.setattr(recorder, "RECONNECT_MAX_S", 0.02)  # says how long it was gone
    inner = Scripted()
    rec, source, clock = driven_recorder(inner)
    with rec:
        source.tick(*ticks(0.0, 0.5))
        inner.fail_reads = 1
        inner.may_reconnect.clear()
        source.tick(0.6)  # the read fails: lost at 0.6
        clock.now = 1.5  # time passes while it is gone ...
        inner.may_reconnect.set()  # ... then it answers again
        wait_until(lambda: inner.reconnects == 1, "the recorder reconnects")
        source.tick(*ticks(1.6, 2.0))  # sampled only after the recorder closed the gap
        figures = rec.trial_end("t", 0.2, 2.0)
        warnings = rec.run_warnings()
    gaps = figures["gaps"]
    assert len(gaps) == 1 and gaps[0]["reason"] == "scripted loss"
    assert (gaps[0]["start_s"], gaps[0]["end_s"]) == (0.6, 1.5)
    assert gaps[0]["overlap_s"] == pytest.approx(0.9)
    # 1.0 s of the 1.8 s trial has no samples (0.9 s gap, between samples at 0.5 and 1.6):
    # no fake figure, and the reason
    assert figures["energy_j"] is None
    assert "no power samples for" in figures["unmeasured"]["energy_j"]
    assert any("jetson lost 1 time(s), 0.9 s without samples: scripted loss" in w for w in warnings)
    # the run went on: the energy after the gap is measured again
    assert rec.energy_between(1.6, 2.0) == pytest.approx(4.0 * 0.4, rel=1e-12)


def test_power_mode_change_is_warned():
    inner = Scripted()
    rec, source, _ = driven_recorder(inner)
    with rec:
        source.tick(0.0, 0.1)
        assert not any("power mode" in w for w in rec.run_warnings())
        inner.nvpmodel = 1.0
        source.tick(0.2)
        warnings = rec.run_warnings()
    assert "power mode (nvpmodel) changed during the run (values seen: 0, 1)" in warnings


def test_wait_cool_gate():
    inner = Scripted()
    rec, source, _ = driven_recorder(
        inner, cooldown_zone="cpu", cooldown_below_c=50.0, cooldown_max_wait_s=0.3
    )
    with rec:
        source.tick(0.0)
        assert rec.wait_cool()["reached"] is True
        inner.temp = 60.0
        source.tick(0.1)
        result = rec.wait_cool()
        assert result["reached"] is False and result["temp_c"] == 60.0
        assert result["waited_s"] >= 0.3  # it waited out max_wait before giving up
        assert any("cool-down gate gave up 1 time(s)" in w for w in rec.run_warnings())
    off = driven_recorder(Scripted())[0]
    assert off.wait_cool() is None


def test_wait_cool_returns_once_the_zone_has_cooled():
    inner = Scripted()
    inner.temp = 60.0
    rec, source, _ = driven_recorder(
        inner, cooldown_zone="CPU", cooldown_below_c=50.0, cooldown_max_wait_s=DEADLINE_S
    )
    with rec:
        source.tick(0.0)
        results = []
        waiter = threading.Thread(target=lambda: results.append(rec.wait_cool()))
        waiter.start()
        source.tick(0.1)  # still hot: the gate must not open on this one
        inner.temp = 45.0
        source.tick(0.2)
        waiter.join(DEADLINE_S)
    # only the cooled reading can have opened it (max_wait is a minute)
    assert results and results[0]["reached"] is True and results[0]["temp_c"] == 45.0
    assert not any("cool-down" in w for w in rec.run_warnings())


class Counter(Scripted):
    """A cumulative energy counter of a constant 20 W, re-based to zero by ``restart``
    (what the NVML source does when it reconnects)."""

    def __init__(self, clock):
        super().__init__(name="rapl")
        self.clock = clock
        self.base = 0.0

    def restart(self):
        self.base = self.clock.now

    def read(self):
        return [("energy_j.total", 20.0 * (self.clock.now - self.base))]


def test_counter_source_and_restarted_counter():
    clock = FakeClock()
    inner = Counter(clock)
    source = Driven(inner, clock)
    rec = open_recorder(TelemetryConfig(sources=("rapl",)), clock=clock, sources=[source])
    with rec:
        source.tick(*ticks(0.0, 0.5))
        inner.restart()  # the counter starts again from zero at 0.5 s
        source.tick(*ticks(0.6, 1.2))
        figures = rec.trial_end("t", 0.2, 1.0)
        after = rec.energy_between(0.5, 0.6)
    # 20 W throughout: the restart must neither lose nor add energy
    assert figures["energy_j"] == pytest.approx(20.0 * 0.8, rel=1e-12)
    assert after == pytest.approx(20.0 * 0.1, rel=1e-12)
    assert figures["power_peak_w"] == pytest.approx(20.0)
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
        ({"sources": ("host", "host")}, "a source is named twice"),
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
