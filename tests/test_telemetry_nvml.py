"""The NVML source against a real NVIDIA GPU (skipped without one)."""

import os
import time

import pytest
import torch

from bench.telemetry import TelemetryConfig, open_recorder


@pytest.mark.cuda
def test_nvml_measures_power_energy_and_temperature_of_a_busy_gpu(tmp_path):
    pytest.importorskip("pynvml", reason="nvidia-ml-py is not installed")
    recorder = open_recorder(
        TelemetryConfig(sources=("nvml",), interval_s=0.1),
        clock=time.perf_counter,
        samples_path=os.path.join(str(tmp_path), "telemetry.csv"),
    )
    recorder.start()
    try:
        info = recorder.manifest_info()
        assert info["active"] == ["nvml"], info
        recorder.trial_begin("gpu-load")
        a = torch.randn(4096, 4096, device="cuda")
        start = time.perf_counter()
        while time.perf_counter() - start < 2.0:
            a = torch.tanh(a @ a)
        torch.cuda.synchronize()
        end = time.perf_counter()
        figures = recorder.trial_end("gpu-load", start, end)
    finally:
        recorder.close()
    assert figures["energy_j"] is not None and figures["energy_j"] > 0
    # A busy GPU draws tens to hundreds of watts; the energy agrees with mean power x time.
    assert 10 < figures["power_mean_w"] < 1500
    assert figures["energy_j"] == pytest.approx(figures["power_mean_w"] * (end - start), rel=0.25)
    assert figures["source"]["energy_j"].startswith("nvml")
    with open(os.path.join(str(tmp_path), "telemetry.csv")) as samples:
        assert sum(1 for line in samples if ",nvml," in line) >= 10
