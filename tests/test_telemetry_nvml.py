"""The NVML source: against a fake NVML whose power trace is known (everywhere), and against
a real NVIDIA GPU (skipped without one).

The fake GPU draws P(t) = 100 + 50 t W, so the energy over [t0, t1] has a closed form,
100 (t1 - t0) + 25 (t1^2 - t0^2) J, computed here without the recorder: a figure off by a
unit (mJ or mW for J or W), energy taken from the wrong reading, or a trial sliced at the
wrong times fails these tests.
"""

import os
import time
import types

import pytest
from test_telemetry_recorder import Driven, FakeClock, ticks

from bench.telemetry import TelemetryConfig, open_recorder
from bench.telemetry.sources.nvml import NvmlSource


def ramp_energy_j(t0, t1):
    return 100.0 * (t1 - t0) + 25.0 * (t1**2 - t0**2)


def fake_pynvml(clock, energy_counter=True, reasons=lambda t: 0):
    """The part of pynvml the source uses, for one GPU drawing 100 + 50 t W at clock time t."""
    nv = types.ModuleType("pynvml")
    nv.NVML_CLOCK_SM, nv.NVML_TEMPERATURE_GPU, nv.NVML_TEMPERATURE_THRESHOLD_SLOWDOWN = 1, 0, 1
    since = 5.0e6  # mJ the driver had counted before the run began: the source subtracts it

    def total_energy(_h):
        if not energy_counter:  # pre-Volta GPUs have no counter
            raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")
        t = clock()
        return int(round(since + 1000.0 * (100.0 * t + 25.0 * t * t)))  # mJ, an integer

    nv.nvmlInit = nv.nvmlShutdown = lambda: None
    nv.nvmlDeviceGetCount = lambda: 1
    nv.nvmlDeviceGetHandleByIndex = lambda i: "gpu%d" % i
    nv.nvmlDeviceGetTotalEnergyConsumption = total_energy
    nv.nvmlDeviceGetPowerUsage = lambda _h: int(round(1000.0 * (100.0 + 50.0 * clock())))  # mW
    nv.nvmlDeviceGetTemperature = lambda _h, _sensor: 60
    nv.nvmlDeviceGetTemperatureThreshold = lambda _h, _kind: 89
    nv.nvmlDeviceGetUtilizationRates = lambda _h: types.SimpleNamespace(gpu=99)
    nv.nvmlDeviceGetClockInfo = lambda _h, _kind: 1980
    nv.nvmlDeviceGetMaxClockInfo = lambda _h, _kind: 1980
    nv.nvmlDeviceGetMemoryInfo = lambda _h: types.SimpleNamespace(used=2 * 1024**3)
    nv.nvmlDeviceGetCurrentClocksEventReasons = lambda _h: reasons(clock())
    nv.nvmlDeviceGetName = lambda _h: b"Fake GPU"
    nv.nvmlDeviceGetEnforcedPowerLimit = lambda _h: 700000
    nv.nvmlSystemGetDriverVersion = lambda: "550.00"
    return nv


def nvml_trial(monkeypatch, t0, t1, **fake):
    clock = FakeClock()
    monkeypatch.setitem(__import__("sys").modules, "pynvml", fake_pynvml(clock, **fake))
    source = Driven(NvmlSource(0.1), clock)
    rec = open_recorder(TelemetryConfig(sources=("nvml",)), clock=clock, sources=[source])
    with rec:
        source.tick(*ticks(0.0, 2.0))
        figures = rec.trial_end("t", t0, t1)
        info = rec.manifest_info()["sources"]["nvml"]["info"]
    return figures, info


def test_energy_from_the_total_energy_counter(monkeypatch):
    figures, info = nvml_trial(monkeypatch, 0.2, 1.75)
    assert info["energy_counter"] is True
    assert figures["source"]["energy_j"].startswith(
        "nvml: NVIDIA GPU board power, all devices (NVML); energy counter"
    )
    # the end falls between samples: the counter is interpolated there, so a trace whose
    # energy is quadratic in time leaves a known error of 25 x (0.05 x 0.05) J at that edge
    expected = ramp_energy_j(0.2, 1.75)
    assert figures["energy_j"] == pytest.approx(expected + 25.0 * 0.05 * 0.05, rel=1e-9)
    assert figures["power_mean_w"] == pytest.approx(figures["energy_j"] / 1.55, rel=1e-12)
    # the peak is the largest counter step the trial touches: [1.7, 1.8], 100 + 50 x 1.75 W
    assert figures["power_peak_w"] == pytest.approx(187.5, rel=1e-9)
    assert figures["temp_peak_c"] == {"gpu0": 60.0}
    assert figures["throttled"] is False  # at its maximum clock, under its 89 C slowdown point


def test_energy_from_sampled_power_without_the_counter(monkeypatch):
    # edges between samples; power is linear in time, so the trapezoid rule is exact
    figures, info = nvml_trial(monkeypatch, 0.25, 1.75, energy_counter=False)
    assert info["energy_counter"] is False
    assert "trapezoid over power" in figures["source"]["energy_j"]
    assert figures["energy_j"] == pytest.approx(ramp_energy_j(0.25, 1.75), rel=1e-9)
    assert figures["power_peak_w"] == pytest.approx(100.0 + 50.0 * 1.7)  # the last sample inside


def test_clock_event_reasons_give_the_verdict(monkeypatch):
    hot = lambda t: 0x40 if 1.0 <= t <= 1.2 else 0x1  # noqa: E731 -- HW thermal slowdown, else idle bit
    figures, _ = nvml_trial(monkeypatch, 0.5, 1.5, reasons=hot)
    assert figures["throttled"] is True
    assert figures["throttle_evidence"] == ["NVML reported HW thermal slowdown in 3 of 11 samples"]
    assert "NVML clock-event reasons" in figures["throttle_checks"]


@pytest.mark.cuda
def test_nvml_counter_agrees_with_integrated_power_on_a_busy_gpu(tmp_path):
    """Two independent NVML readings of the same energy: the total-energy counter (what the
    figure uses) and the sampled board power integrated from telemetry.csv."""
    pytest.importorskip("pynvml", reason="nvidia-ml-py is not installed")
    import torch

    from bench.telemetry import energy

    path = os.path.join(str(tmp_path), "telemetry.csv")
    recorder = open_recorder(TelemetryConfig(sources=("nvml",), interval_s=0.05), samples_path=path)
    recorder.start()
    try:
        info = recorder.manifest_info()
        assert info["active"] == ["nvml"], info
        if not info["sources"]["nvml"]["info"]["energy_counter"]:
            pytest.skip("this GPU has no total-energy counter (pre-Volta)")
        a = torch.randn(4096, 4096, device="cuda")

        def busy(seconds):
            until = time.perf_counter() + seconds
            while time.perf_counter() < until:
                for _ in range(10):
                    a.copy_(torch.tanh(a @ a))
                torch.cuda.synchronize()

        # warm up first: NVML's power reading is averaged over up to a second on recent GPUs,
        # so it lags a change in load; in steady load both readings see the same power
        busy(2.0)
        recorder.trial_begin("gpu-load")
        start = time.perf_counter()
        busy(3.0)
        end = time.perf_counter()
        figures = recorder.trial_end("gpu-load", start, end)
    finally:
        recorder.close()
    assert (
        figures["source"]["energy_j"].startswith("nvml") and "energy counter" in figures["source"]["energy_j"]
    )
    assert 10 < figures["power_mean_w"] < 1500  # a busy GPU draws tens to hundreds of watts
    times, watts = [], []
    with open(path) as samples:
        for line in samples:
            t, source, name, value = line.strip().split(",")
            if source == "nvml" and name == "power_w.total":
                times.append(float(t))
                watts.append(float(value))
    integrated = energy.trapezoid(times, watts, start, end)
    assert integrated.samples_inside >= 2
    # not measured here (no GPU on the machines this was written on): 10% leaves room for
    # the averaging lag of the power reading at the window's edges
    assert figures["energy_j"] == pytest.approx(integrated.value, rel=0.10)


def test_an_nvml_error_mid_run_leaves_a_gap_and_the_figures_say_so(monkeypatch):
    """The GPU 'falls off the bus' from 0.8 s to 1.2 s: every NVML call raises, as
    NVMLError_GpuIsLost does. The gap is recorded with NVML's message; a trial across it gets
    no energy figure (over 10% of it unsampled) and says why, its temperature is the peak over
    the samples it has; once NVML answers again a later trial is measured in full."""
    from test_telemetry_recorder import wait_until

    from bench.telemetry import recorder

    monkeypatch.setattr(recorder, "RECONNECT_FIRST_S", 0.01)
    monkeypatch.setattr(recorder, "RECONNECT_MAX_S", 0.02)
    clock = FakeClock()
    nv = fake_pynvml(clock)
    lost = {"now": False}

    class NVMLError_GpuIsLost(Exception):  # noqa: N801 -- pynvml's own name for it
        pass

    def failing(call):
        def wrapped(*args):
            if lost["now"]:
                raise NVMLError_GpuIsLost("GPU is lost")
            return call(*args)

        return wrapped

    for name in ("nvmlInit", "nvmlDeviceGetCount", "nvmlDeviceGetPowerUsage", "nvmlDeviceGetTemperature",
                 "nvmlDeviceGetTotalEnergyConsumption"):  # fmt: skip
        setattr(nv, name, failing(getattr(nv, name)))
    monkeypatch.setitem(__import__("sys").modules, "pynvml", nv)
    source = Driven(NvmlSource(0.1), clock)
    rec = open_recorder(TelemetryConfig(sources=("nvml",)), clock=clock, sources=[source])
    with rec:
        source.tick(*ticks(0.0, 0.7))
        lost["now"] = True
        source.tick(0.8)  # the read fails: a gap from 0.8; reconnecting fails while lost
        clock.now = 1.2
        lost["now"] = False
        wait_until(lambda: all(g.end_s is not None for g in rec._store.gaps()), "NVML answers again")
        source.tick(*ticks(1.3, 2.0))
        across = rec.trial_end("across", 0.2, 1.9)
        after = rec.trial_end("after", 1.3, 1.9)
        warnings = rec.run_warnings()
    (gap,) = across["gaps"]
    assert gap["reason"] == "NVML read failed: GPU is lost" and (gap["start_s"], gap["end_s"]) == (0.8, 1.2)
    assert gap["overlap_s"] == pytest.approx(0.4)
    assert across["energy_j"] is None and across["power_mean_w"] is None
    assert "nvml had no power samples for" in across["unmeasured"]["energy_j"]
    assert across["temp_peak_c"] == {"gpu0": 60.0}  # over the samples it has
    assert after["gaps"] == [] and after["energy_j"] == pytest.approx(ramp_energy_j(1.3, 1.9), rel=1e-9)
    assert any("telemetry source nvml lost 1 time(s), 0.4 s without samples" in w for w in warnings)
