"""Peak memory of one trial: the process's resident set, and CUDA's allocator.

Linux keeps the process's peak RSS (VmHWM) and lets a process reset it by writing 5 to
/proc/self/clear_refs, so each trial gets its own exact peak. Where that is not possible
the peak is the largest RSS sampled at the trainer's check points, and the record says so.
"""

from typing import Any, Dict, Optional

import psutil
import torch

_PROCESS = psutil.Process()


def _read_vmhwm() -> Optional[int]:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _reset_vmhwm() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


class PeakMemory:
    def __init__(self, device: torch.device):
        self.device = device
        self.rss_start = _PROCESS.memory_info().rss
        self.sampled_peak = self.rss_start
        self.exact = _reset_vmhwm() and _read_vmhwm() is not None
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)

    def sample(self) -> None:
        """Called at check points outside the timed region (cheap where the peak is exact)."""
        if not self.exact:
            self.sampled_peak = max(self.sampled_peak, _PROCESS.memory_info().rss)

    def result(self) -> Dict[str, Any]:
        self.sample()
        peak = _read_vmhwm() if self.exact else self.sampled_peak
        figures = {
            "rss_start_bytes": self.rss_start,
            "rss_peak_bytes": peak,
            "rss_growth_bytes": max(0, peak - self.rss_start),
            "rss_peak_method": "VmHWM reset per trial" if self.exact else "sampled at check points",
            "cuda_max_allocated_bytes": None,
            "cuda_max_reserved_bytes": None,
        }  # type: Dict[str, Any]
        if self.device.type == "cuda":
            figures["cuda_max_allocated_bytes"] = torch.cuda.max_memory_allocated(self.device)
            figures["cuda_max_reserved_bytes"] = torch.cuda.max_memory_reserved(self.device)
        return figures
