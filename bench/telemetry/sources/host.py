"""The host through psutil: CPU use, this process's RSS, system memory, swap, temperatures.

RSS is sampled, so each trial gets its own peak (ru_maxrss only ever grows over a process's
life). It is the RSS of this process plus its children, as trials may run in a worker.
Temperatures are read where psutil exposes them (Linux hwmon); many VMs expose none.
"""

import os
from typing import Any, Dict

from .base import Lost, Readings, Source, Unavailable


class HostSource(Source):
    name = "host"

    def __init__(self, interval_s: float, pid: int = 0) -> None:
        super().__init__(interval_s)
        self._pid = pid or os.getpid()
        self._psutil = None
        self._process = None
        self._has_temps = False

    def open(self) -> None:
        try:
            import psutil  # imported only when this source is used
        except ImportError:
            raise Unavailable("psutil is not installed (pip install psutil)") from None
        self._psutil = psutil
        self._process = psutil.Process(self._pid)
        psutil.cpu_percent(interval=None)  # the first call only starts the measurement
        self._has_temps = bool(self._temperatures())

    def info(self) -> Dict[str, Any]:
        ps = self._psutil
        return {
            "pid": self._pid,
            "cpu_count": ps.cpu_count(),
            "memory_total_bytes": ps.virtual_memory().total,
            "temperatures": self._has_temps,
        }

    def trip_points_c(self) -> Dict[str, float]:
        trips = {}
        fn = getattr(self._psutil, "sensors_temperatures", None)
        for chip, entries in (fn() if fn else {}).items():
            for i, entry in enumerate(entries):
                if entry.high:
                    trips[_zone(chip, entry.label, i)] = float(entry.high)
        return trips

    def _temperatures(self) -> Readings:
        fn = getattr(self._psutil, "sensors_temperatures", None)  # absent on some platforms
        if fn is None:
            return []
        try:
            chips = fn()
        except Exception:
            return []
        return [
            ("temp_c." + _zone(chip, entry.label, i), float(entry.current))
            for chip, entries in sorted(chips.items())
            for i, entry in enumerate(entries)
        ]

    def read(self) -> Readings:
        ps = self._psutil
        try:
            rss = self._process.memory_info().rss
        except ps.Error as error:
            raise Lost(f"process {self._pid} gone: {error}") from error
        try:
            for child in self._process.children(recursive=True):
                rss += child.memory_info().rss
        except ps.Error:
            pass  # a child that exited between listing and reading
        memory = ps.virtual_memory()
        out = [
            ("rss_bytes", float(rss)),
            ("cpu_load_pct", ps.cpu_percent(interval=None)),
            ("ram_used_bytes", float(memory.total - memory.available)),
            ("ram_total_bytes", float(memory.total)),
            ("swap_used_bytes", float(ps.swap_memory().used)),
        ]  # type: Readings
        if self._has_temps:
            out.extend(self._temperatures())
        return out


def _zone(chip: str, label: str, index: int) -> str:
    return f"{chip}/{label or index}"
