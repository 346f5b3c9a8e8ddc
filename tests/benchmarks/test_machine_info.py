"""The machine info the step benchmarks add to pytest-benchmark's JSON (conftest.py)."""

import os
import stat

import torch

from .conftest import power_mode, pytest_benchmark_update_machine_info

# What `nvpmodel -q` prints on a Jetson Nano (JetPack 4.6) in its 10 W mode.
NVPMODEL_Q = "NV Fan Mode:quiet\nNV Power Mode: MAXN\n0\n"


def fake_nvpmodel(tmp_path, monkeypatch, output):
    script = tmp_path / "nvpmodel"
    script.write_text("#!/bin/sh\nprintf '%s'\n" % output.replace("\n", "\\n"))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ["PATH"])


def test_power_mode_as_nvpmodel_reports_it(tmp_path, monkeypatch):
    fake_nvpmodel(tmp_path, monkeypatch, NVPMODEL_Q)
    assert power_mode() == {"name": "MAXN", "id": 0}


def test_no_power_mode_off_a_jetson(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no nvpmodel anywhere
    assert power_mode() is None
    fake_nvpmodel(tmp_path, monkeypatch, "something else\n")
    assert power_mode() is None


def test_the_fingerprint_joins_machine_info_without_commit_fields(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ["PATH"])
    fake_nvpmodel(tmp_path, monkeypatch, NVPMODEL_Q)
    machine_info = {"node": "kept"}
    pytest_benchmark_update_machine_info(None, machine_info)
    facts = machine_info["optbench"]
    assert machine_info["node"] == "kept"
    assert facts["torch"] == torch.__version__ and facts["torch_threads"] == torch.get_num_threads()
    assert facts["cuda_available"] == torch.cuda.is_available() and "board" in facts
    assert facts["power_mode"] == {"name": "MAXN", "id": 0}
    assert not {"git_commit", "git_dirty", "executable"} & set(facts)
