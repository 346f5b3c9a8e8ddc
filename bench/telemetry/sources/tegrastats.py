"""Jetson fallback when jtop is absent: ``tegrastats --interval N`` as a child process.

Line formats handled (tests/test_telemetry_tegrastats.py holds real lines of each):
* Nano / L4T R32: rails in mW without a unit, ``POM_5V_IN 1902/1902`` (now/average);
  temperatures ``CPU@29.5C``.
* Orin / L4T R35-R36: ``VDD_IN 5000mW/4900mW``; lower-case zones ``gpu@63.5C``; a date first.
* JetPack 7: three values per rail ``VDD_GPU_SOC 5139mW/5139mW/5139mW``, and temperatures
  with two values ``cpu@52.968C/52.968C``.
Only the first (instantaneous) rail value is used: the others are averages over the whole
life of the tegrastats process, which would smear trial boundaries.

For the throttled verdict, tegrastats shows each core's current clock (``[9%@1479,...]``, MHz),
the GPU's (``GR3D_FREQ 99%@921``, or ``@[612]`` on Orin) and each zone's temperature, but
neither the clock maxima of the power mode nor the trip points: those are read from sysfs
beside it, as jtop reads them (jetson_sysfs.py), so the checks are the jetson source's:
``cpu_freq_ratio`` and ``gpu_freq_mhz``/``gpu_freq_max_mhz`` under load, and each zone against
its passive trip point.
"""

import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

from .base import Lost, Readings, Source, Unavailable
from .jetson_sysfs import SYS, clock_caps, gpu_devfreq, passive_trip_points, read_l4t_release

MIB = 1024.0 * 1024.0
# The board-input rail, in the order jtop 7 prefers them; otherwise the rails are summed.
TOTAL_RAILS = ("VIN", "POM_5V_IN", "VDD_IN")

_RAM = re.compile(r"\bRAM (\d+)/(\d+)MB")
_SWAP = re.compile(r"\bSWAP (\d+)/(\d+)MB")
_CPU = re.compile(r"\bCPU \[([^\]]*)\]")
_GPU = re.compile(r"\bGR3D_FREQ (?:(\d+)%)?(?:@\[?(\d+))?")
_TEMP = re.compile(r"(?<![\w%@])([A-Za-z][A-Za-z0-9_]*)@(-?\d+(?:\.\d+)?)C\b")
# a rail: NAME now[mW]/avg[mW][/max[mW]], the value ending at whitespace (so not RAM .../...MB)
_RAIL = re.compile(r"\b([A-Z][A-Z0-9_]*) (\d+)(?:mW)?/(\d+)(?:mW)?(?:/(\d+)(?:mW)?)?(?=\s|$)")


@dataclass(frozen=True)
class ParsedLine:
    readings: Readings
    rails: Tuple[str, ...]
    total_rail: Optional[str]  # None: power_w.total is the sum of the rails


def parse_line(
    line: str, cpu_max_mhz: Sequence[Optional[float]] = (), gpu_max_mhz: Optional[float] = None
) -> ParsedLine:
    """The readings in one line. cpu_max_mhz (by core number) and gpu_max_mhz, the current
    power mode's clock caps from sysfs, turn the clocks shown into ratios to the maximum."""
    out = []  # type: Readings
    m = _RAM.search(line)
    if m:
        out.append(("ram_used_bytes", int(m.group(1)) * MIB))
        out.append(("ram_total_bytes", int(m.group(2)) * MIB))
    m = _SWAP.search(line)
    if m:
        out.append(("swap_used_bytes", int(m.group(1)) * MIB))
    m = _CPU.search(line)
    if m:
        out.extend(_cpu(m.group(1), cpu_max_mhz))
    m = _GPU.search(line)
    if m:
        if m.group(1) is not None:
            out.append(("gpu_load_pct", float(m.group(1))))
        if m.group(2) is not None:
            out.append(("gpu_freq_mhz", float(m.group(2))))
            if gpu_max_mhz:
                out.append(("gpu_freq_max_mhz", float(gpu_max_mhz)))
    for zone, value in _TEMP.findall(line):
        # PMIC reads a fixed 50 or 100 C on these boards (jtop skips it too); -256 is "offline"
        if zone.upper().startswith("PMIC") or float(value) <= -256:
            continue
        out.append(("temp_c." + zone, float(value)))
    rails = []  # type: List[Tuple[str, float]]
    for name, now, _avg, _third in _RAIL.findall(line):
        rails.append((name, int(now) / 1000.0))
    total_rail = None
    names = [name for name, _ in rails]
    for candidate in TOTAL_RAILS:
        if candidate in names:
            total_rail = candidate
            break
    if rails:
        if total_rail is not None:
            out.append(("power_w.total", dict(rails)[total_rail]))
        else:
            out.append(("power_w.total", sum(w for _, w in rails)))
        out.extend(("power_w." + name, w) for name, w in rails if name != total_rail)
    return ParsedLine(out, tuple(names), total_rail)


def _cpu(inside: str, max_mhz: Sequence[Optional[float]]) -> Readings:
    """Mean load of the online cores, and their mean clock / maximum where the maximum is known
    (a core's position in the list is its number; an offline core shows as ``off``)."""
    loads = []
    ratios = []
    for number, core in enumerate(inside.split(",")):
        core = core.strip()
        if not core or core == "off":
            continue
        load, _, freq = core.partition("@")
        try:
            loads.append(float(load.rstrip("%")))
            cap = max_mhz[number] if number < len(max_mhz) else None
            if freq and cap:
                ratios.append(float(freq) / cap)
        except ValueError:
            continue
    out = []  # type: Readings
    if loads:
        out.append(("cpu_load_pct", sum(loads) / len(loads)))
    if ratios:
        out.append(("cpu_freq_ratio", sum(ratios) / len(ratios)))
    return out


class TegrastatsSource(Source):
    name = "tegrastats"

    def __init__(
        self,
        interval_s: float,
        executable: Optional[str] = None,
        sys_root: str = SYS,
        release_path: str = "/etc/nv_tegra_release",
    ) -> None:
        super().__init__(interval_s)
        self._executable = executable
        self._sys_root = sys_root
        self._release_path = release_path
        self._gpu_node = None  # type: Optional[str]
        self._proc = None
        self._first = None  # type: Optional[ParsedLine]

    def open(self) -> None:
        exe = self._executable or shutil.which("tegrastats")
        if exe is None:
            raise Unavailable("tegrastats not found in PATH (not a Jetson?)")
        interval_ms = str(max(1, int(round(self.interval_s * 1000))))
        try:
            self._proc = subprocess.Popen(
                [exe, "--interval", interval_ms],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                universal_newlines=True,
                bufsize=1,
            )
        except OSError as error:
            raise Unavailable(f"cannot start {exe}: {error}") from error
        line = self._proc.stdout.readline()
        if not line:
            raise Unavailable("tegrastats printed nothing: " + self._stop_child())
        self._gpu_node = gpu_devfreq(self._sys_root)
        self._first = self._parse(line)
        if self._first.total_rail is not None:
            self.power_scope = f"board input rail {self._first.total_rail} (tegrastats)"
        elif self._first.rails:
            self.power_scope = "sum of the rails {} (this board has no input rail)".format(
                ", ".join(self._first.rails)
            )

    def info(self):
        cpu_max, gpu_max = clock_caps(self._sys_root, self._gpu_node)
        return {
            "rails": list(self._first.rails) if self._first else [],
            "power_scope": self.power_scope,
            "l4t": read_l4t_release(self._release_path),
            "cpu_max_mhz": cpu_max,
            "gpu_max_mhz": gpu_max,
            "trip_points_c": self.trip_points_c(),
        }

    def trip_points_c(self):
        return passive_trip_points(self._sys_root)

    def _parse(self, line: str) -> ParsedLine:
        cpu_max, gpu_max = clock_caps(self._sys_root, self._gpu_node)
        return parse_line(line, cpu_max, gpu_max)

    def run(self, emit, stop) -> None:
        proc = self._proc
        while not stop.is_set():
            line = proc.stdout.readline()
            if not line:
                if stop.is_set():
                    return
                raise Lost("tegrastats exited: " + self._stop_child())
            emit(self._parse(line).readings)

    def _stop_child(self) -> str:
        proc, self._proc = self._proc, None
        if proc is None:
            return "not running"
        if proc.poll() is None:
            proc.terminate()
        try:
            _out, err = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            _out, err = proc.communicate()
        return "exit code {}{}".format(proc.returncode, ": " + err.strip() if err.strip() else "")

    def close(self) -> None:
        self._stop_child()
