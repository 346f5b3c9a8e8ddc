"""The pure parts: trapezoidal energy, counters and RAPL wrap-around, the throttle verdict."""

import os

import pytest

from bench.telemetry import TelemetryConfig, energy, open_recorder
from bench.telemetry.registry import NVML_SLOWDOWN
from bench.telemetry.sources import rapl
from bench.telemetry.sources.base import Unavailable
from bench.telemetry.sources.rapl import RaplSource
from bench.telemetry.throttle import assess, clock_evidence


def test_constant_power_is_power_times_duration():
    times = [0.0, 0.5, 1.0, 1.5, 2.0]
    result = energy.trapezoid(times, [4.6] * 5, 0.25, 1.75)
    assert result.value == pytest.approx(4.6 * 1.5)
    assert result.mean == pytest.approx(4.6)
    assert result.extrapolated_s == 0.0
    assert result.samples_inside == 3


def test_ramp_is_integrated_exactly_and_edges_interpolated():
    times = [0.0, 1.0, 2.0, 3.0]
    watts = [0.0, 10.0, 20.0, 30.0]  # P(t) = 10 t
    result = energy.trapezoid(times, watts, 0.5, 2.5)
    assert result.value == pytest.approx(5 * (2.5**2 - 0.5**2))  # integral of 10 t
    assert result.longest_step_s == 1.0


def test_step_change_between_samples():
    # the trapezoid rule spreads a step over the interval it happened in: half of each side
    times = [0.0, 0.5, 1.0, 1.5]
    watts = [4.0, 4.0, 6.0, 6.0]
    assert energy.trapezoid(times, watts, 0.0, 1.5).value == pytest.approx(2.0 + 2.5 + 3.0)


def test_trial_shorter_than_interval_uses_neighbours():
    result = energy.trapezoid([0.0, 1.0], [4.0, 6.0], 0.4, 0.6)
    assert result.value == pytest.approx(5.0 * 0.2)
    assert result.samples_inside == 0 and result.extrapolated_s == 0.0


def test_extrapolation_is_reported():
    result = energy.trapezoid([1.0, 2.0], [5.0, 5.0], 0.0, 3.0)
    assert result.value == pytest.approx(15.0)  # held at the ends
    assert result.extrapolated_s == pytest.approx(2.0)
    assert energy.trapezoid([], [], 0.0, 1.0) is None
    assert energy.trapezoid([0.0], [1.0], 1.0, 0.0) is None


def test_counter_difference_interpolates():
    times = [0.0, 1.0, 2.0]
    joules = [100.0, 105.0, 111.0]
    result = energy.counter_difference(times, joules, 0.5, 1.5)
    assert result.value == pytest.approx((105 + 3) - (100 + 2.5))


def test_unwrap_counter():
    assert energy.unwrap_counter(1000, 1500, 2**32) == 500
    max_range = 262143328850  # a real max_energy_range_uj
    assert energy.unwrap_counter(max_range - 100, 50, max_range) == 150


def _zone(root, name, label, energy_uj, max_range):
    d = root / name
    d.mkdir()
    (d / "name").write_text(label + "\n")
    (d / "energy_uj").write_text(f"{energy_uj}\n")
    (d / "max_energy_range_uj").write_text(f"{max_range}\n")
    return d


def test_rapl_source_sums_packages_and_dram_across_a_wrap(tmp_path):
    max_range = 1000000000
    pkg = _zone(tmp_path, "intel-rapl:0", "package-0", max_range - 2000000, max_range)
    _zone(tmp_path, "intel-rapl:0:0", "core", 5, max_range)  # inside the package: not added
    dram = _zone(tmp_path, "intel-rapl:0:1", "dram", 0, max_range)
    source = RaplSource(0.1, root=str(tmp_path))
    source.open()
    first = dict(source.read())
    assert first["energy_j.total"] == 0.0
    (pkg / "energy_uj").write_text("3000000\n")  # wrapped: 2 J to the top, then 3 J
    (dram / "energy_uj").write_text("1500000\n")
    second = dict(source.read())
    assert second["energy_j.package-0"] == pytest.approx(5.0)
    assert second["energy_j.dram-0"] == pytest.approx(1.5)
    assert second["energy_j.total"] == pytest.approx(6.5)
    assert "energy_j.core" not in second


RAPL_DENIED = "RAPL energy_uj unreadable (permission denied on intel-rapl:0): root-only since Linux 5.10"


def test_rapl_absent_says_why(tmp_path):
    with pytest.raises(Unavailable, match="no RAPL zones"):
        RaplSource(0.1, root=str(tmp_path)).open()


def test_rapl_permission_denied_says_why_even_when_run_as_root(tmp_path, monkeypatch):
    # root reads a mode-0 file, so the denial is injected where the source opens the
    # counter: the path an ordinary user meets on Linux >= 5.10 runs whoever runs the tests
    _zone(tmp_path, "intel-rapl:0", "package-0", 1, 10)
    real_open = open

    def deny_energy_uj(path, *args, **kwargs):
        if os.path.basename(str(path)) == "energy_uj":
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(rapl, "open", deny_energy_uj, raising=False)
    with pytest.raises(Unavailable) as caught:
        RaplSource(0.1, root=str(tmp_path)).open()
    assert str(caught.value).startswith(RAPL_DENIED)
    assert "grant read access to /sys/class/powercap/intel-rapl*/energy_uj" in str(caught.value)
    # ... and what the user reads: the manifest's reason and the run summary's warning
    rec = open_recorder(TelemetryConfig(sources=("rapl",)), sources=[RaplSource(0.1, root=str(tmp_path))])
    rec.start()
    rec.close()
    entry = rec.manifest_info()["sources"]["rapl"]
    assert entry["active"] is False and entry["reason"].startswith(RAPL_DENIED)
    assert "telemetry source rapl requested but unavailable: " + RAPL_DENIED in "\n".join(rec.run_warnings())


def test_rapl_permission_denied_by_the_file_mode(tmp_path):
    d = _zone(tmp_path, "intel-rapl:0", "package-0", 1, 10)
    (d / "energy_uj").chmod(0)
    if os.geteuid() == 0:
        pytest.skip("root reads a mode-0 file: the injected denial above covers this path")
    with pytest.raises(Unavailable, match="permission denied.*root-only since Linux 5.10"):
        RaplSource(0.1, root=str(tmp_path)).open()


def test_throttle_clock_held_down_under_load():
    loads = [95, 97, 99, 40]
    ratios = [0.60, 0.62, 0.61, 0.3]
    assert "GPU clock at 61% of its maximum" in clock_evidence("GPU", loads, ratios)
    assert clock_evidence("GPU", [95, 99], [1.0, 0.98]) is None
    assert clock_evidence("GPU", [10, 20], [0.2, 0.2]) is None  # idle: the governor may clock down


def test_throttle_verdicts():
    verdict = assess({}, {"CPU": 98.5, "GPU": 60.0}, {"cpu": 97.0}, [])
    assert verdict.throttled is True
    assert verdict.evidence == ("CPU reached 98.5 C, at or over its passive trip point 97.0 C",)
    cool = assess({"GPU": ([99.0, 99.0], [1.0, 1.0])}, {"CPU": 50.0}, {"CPU": 97.0}, [])
    assert cool.throttled is False and len(cool.checks) == 2
    unknown = assess({}, {"CPU": 50.0}, {}, [])
    assert unknown.throttled is None  # nothing to judge by: not a made-up False
    nvml = assess({}, {}, {}, [(NVML_SLOWDOWN, [0.0, 0x1, 0x40 | 0x4])])
    assert nvml.throttled is True
    assert nvml.evidence == ("NVML reported HW thermal slowdown, SW power cap in 1 of 3 samples",)
    assert nvml.checks == ("NVML clock-event reasons",)
    idle_bits = assess({}, {}, {}, [(NVML_SLOWDOWN, [0x1, 0x1])])  # GPU idle: not throttling
    assert idle_bits.throttled is False
