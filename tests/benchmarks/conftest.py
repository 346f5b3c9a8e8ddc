"""pytest-benchmark settings for the step benchmarks (Python 3.6 syntax: the Nano runs them).

* The timed benchmarks run only when asked for (--benchmark-only, --benchmark-enable, or a
  request to save their JSON); a plain `pytest` deselects them, so `make test` stays fast and
  never times anything. The untimed check in test_step_benchmarks.py still runs every case.
* Each benchmark runs with torch pinned to its trial's thread count (1), as the trainer pins it
  per trial, and the process's own setting is restored afterwards.
* The saved JSON's machine_info gains "optbench": the environment fingerprint optbench records
  in a run manifest (torch, threads, CUDA, board, ...) plus the Jetson power mode, so that a
  comparison can tell two machines or two power modes apart.
"""

import os
import subprocess
from typing import Any, Dict, Optional

import pytest
import torch

HERE = os.path.dirname(os.path.abspath(__file__))

# Options that say "time the benchmarks" (pytest-benchmark's own names, 3.4.1 and later).
ASKING = ("benchmark_only", "benchmark_enable", "benchmark_json", "benchmark_save", "benchmark_autosave")

# Fingerprint fields left out of machine_info: they change with every commit or checkout, which
# pytest-benchmark's commit_info already records, and `pytest-benchmark compare` warns when
# machine_info differs.
VOLATILE = ("git_commit", "git_dirty", "executable")

_deselected = []


def _timing_asked(config) -> bool:
    if not config.pluginmanager.hasplugin("benchmark"):
        return False
    return any(config.getoption(name, None) for name in ASKING)


def pytest_collection_modifyitems(config, items):
    if _timing_asked(config):
        return
    keep, drop = [], []
    for item in items:
        inside = str(item.path).startswith(HERE + os.sep)  # item.path: pytest 7.0 and later
        (drop if inside and "benchmark" in getattr(item, "fixturenames", ()) else keep).append(item)
    if drop:
        _deselected.extend(drop)
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_terminal_summary(terminalreporter):
    if _deselected:
        terminalreporter.write_line(
            f"{len(_deselected)} step benchmarks deselected (they time, not test): `make bench-steps` runs them, "
            "or pytest --benchmark-only tests/benchmarks"
        )


@pytest.fixture
def pinned_threads(request):
    """torch.set_num_threads(n) for the test, then the previous setting back."""
    before = torch.get_num_threads()

    def pin(threads: int) -> None:
        torch.set_num_threads(threads)

    yield pin
    torch.set_num_threads(before)


def power_mode() -> Optional[Dict[str, Any]]:
    """The Jetson power mode from `nvpmodel -q` (as jetson-stats reads it), or None elsewhere."""
    try:
        out = subprocess.check_output(["nvpmodel", "-q"], stderr=subprocess.DEVNULL, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = [line.strip() for line in out.decode("utf-8", "replace").splitlines() if line.strip()]
    for index, line in enumerate(lines):
        if line.startswith("NV Power Mode:"):
            mode = {"name": line.split(":", 1)[1].strip(), "id": None}  # type: Dict[str, Any]
            if index + 1 < len(lines) and lines[index + 1].isdigit():
                mode["id"] = int(lines[index + 1])
            return mode
    return None


def pytest_benchmark_update_machine_info(config, machine_info):
    from bench.environment import fingerprint

    facts = {key: value for key, value in fingerprint().items() if key not in VOLATILE}
    facts["power_mode"] = power_mode()
    machine_info["optbench"] = facts
