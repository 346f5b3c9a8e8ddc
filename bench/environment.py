"""The environment fingerprint recorded in every run manifest.

Two runs are comparable only if they ran on comparable machines and software; this is
what a later comparison checks (pyperf refuses to compare runs from different machines).
"""

import os
import platform
import socket
import subprocess
import sys
from typing import Any, Dict, Optional

import numpy
import torch

import bench


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _board_model() -> Optional[str]:
    """A Jetson (or any device-tree board) names itself here, e.g. 'NVIDIA Jetson Nano Developer Kit'."""
    try:
        with open("/proc/device-tree/model", "rb") as model:
            return model.read().rstrip(b"\x00").decode("utf-8", "replace") or None
    except OSError:
        return None


def _git(*args: str) -> Optional[str]:
    source = os.path.dirname(os.path.dirname(os.path.abspath(bench.__file__)))
    try:
        out = subprocess.check_output(("git",) + args, cwd=source, stderr=subprocess.DEVNULL, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.decode("utf-8", "replace").strip()


def fingerprint() -> Dict[str, Any]:
    cuda = torch.cuda.is_available()
    commit = _git("rev-parse", "HEAD")
    dirty = None
    if commit:
        dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    return {
        "host": socket.gethostname(),
        "os": platform.platform(),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "board": _board_model(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "executable": sys.executable,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "torch_threads": torch.get_num_threads(),
        "cuda_available": cuda,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else [],
        "optbench": bench.__version__,
        "git_commit": commit,
        "git_dirty": dirty,
    }
