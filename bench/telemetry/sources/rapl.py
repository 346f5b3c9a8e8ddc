"""x86 CPU package and DRAM energy from the powercap RAPL counters in sysfs.

Each zone ``/sys/class/powercap/intel-rapl:N`` (a CPU package) and its subzones
(``intel-rapl:N:M``: core, uncore, dram) has ``energy_uj``, a counter that wraps at
``max_energy_range_uj``. The total is the packages plus any DRAM subzones (DRAM is not part
of the package figure; core and uncore are). Since Linux 5.10 ``energy_uj`` is readable by
root only (CVE-2020-8694), so an ordinary user gets a clear "unreadable" instead of a zero.
"""

import glob
import os
from typing import Dict, Optional

from ..energy import unwrap_counter
from .base import Lost, Readings, Source, Unavailable

POWERCAP = "/sys/class/powercap"


class _Zone:
    __slots__ = ("label", "path", "max_range", "last_raw", "total_uj")

    def __init__(self, label: str, path: str, max_range: int, raw: int) -> None:
        self.label = label
        self.path = path
        self.max_range = max_range
        self.last_raw = raw
        self.total_uj = 0


def _read_int(path: str) -> int:
    with open(path) as f:
        return int(f.read().strip())


def _read_text(path: str) -> Optional[str]:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


class RaplSource(Source):
    name = "rapl"
    power_scope = "CPU packages + DRAM (RAPL)"

    def __init__(self, interval_s: float, root: str = POWERCAP) -> None:
        super().__init__(interval_s)
        self._root = root
        self._zones = []  # type: List[_Zone]

    def open(self) -> None:
        paths = sorted(glob.glob(os.path.join(self._root, "intel-rapl:*")))
        if not paths:
            raise Unavailable(
                f"no RAPL zones under {self._root} (not an x86 host, or the intel_rapl module is not loaded)"
            )
        zones = []
        denied = []
        for path in paths:
            base = os.path.basename(path)
            domain = _read_text(os.path.join(path, "name")) or base
            is_package = base.count(":") == 1
            if not is_package and domain != "dram":
                continue  # core/uncore are inside the package figure already
            try:
                raw = _read_int(os.path.join(path, "energy_uj"))
                max_range = _read_int(os.path.join(path, "max_energy_range_uj"))
            except PermissionError:
                denied.append(base)
                continue
            except (OSError, ValueError):
                continue
            label = domain if is_package else "dram-" + base.split(":")[1]
            zones.append(_Zone(label, os.path.join(path, "energy_uj"), max_range, raw))
        if not zones:
            if denied:
                raise Unavailable(
                    "RAPL energy_uj unreadable (permission denied on {}): root-only since "
                    "Linux 5.10; run as root or grant read access to "
                    "/sys/class/powercap/intel-rapl*/energy_uj".format(", ".join(denied))
                )
            raise Unavailable(f"RAPL zones under {self._root} have no readable counters")
        # after a reconnect, go on counting from where the lost zones stopped
        previous = {z.label: z.total_uj for z in self._zones}
        for zone in zones:
            zone.total_uj = previous.get(zone.label, 0)
        self._zones = zones

    def info(self) -> Dict[str, object]:
        return {"zones": [z.label for z in self._zones], "power_scope": self.power_scope}

    def read(self) -> Readings:
        total_uj = 0
        out = []  # type: Readings
        for zone in self._zones:
            try:
                raw = _read_int(zone.path)
            except (OSError, ValueError) as error:
                raise Lost(f"RAPL counter unreadable: {error}") from error
            zone.total_uj += unwrap_counter(zone.last_raw, raw, zone.max_range)
            zone.last_raw = raw
            total_uj += zone.total_uj
            out.append(("energy_j." + zone.label, zone.total_uj / 1e6))
        out.append(("energy_j.total", total_uj / 1e6))
        return out
