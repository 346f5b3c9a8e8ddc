"""What a Jetson's sysfs says without jtop: passive trip points, clock caps, the L4T release.

Shared by the jetson source (jtop gives clocks but not trip points) and the tegrastats source
(tegrastats prints temperatures and current clocks but neither trip points nor maxima). Read
the way jtop reads them (jetson-stats 4.3 and 7.x, jtop/core/cpu.py and gpu.py):
* a zone's name is its thermal zone ``type`` up to the first '-' ("CPU-therm" -> "CPU",
  "cpu-thermal" -> "cpu"), which is also how tegrastats names it ("CPU@33.5C");
* a CPU core's maximum is ``cpufreq/scaling_max_freq`` (kHz), the cap nvpmodel sets for the
  current power mode; the integrated GPU is the devfreq node whose ``device/of_node/name`` is
  gpu, gp10b, gv11b or ga10b, and its ``max_freq`` (Hz) is the mode's cap.
"""

import glob
import os
from typing import Dict, List, Optional, Tuple

SYS = "/sys"
IGPU_NAMES = ("gpu", "gp10b", "gv11b", "ga10b")


def zone_name(raw: str) -> str:
    """jtop's name for a thermal zone: its type up to the first '-' (else '_')."""
    return raw.split("-")[0] if "-" in raw else raw.split("_")[0]


def _read(path: str) -> Optional[str]:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def _number(path: str) -> Optional[float]:
    text = _read(path)
    try:
        return float(text) if text else None
    except ValueError:
        return None


def passive_trip_points(sys_root: str = SYS) -> Dict[str, float]:
    """Lowest passive (throttling) trip point per zone, in C, from the thermal sysfs."""
    trips = {}  # type: Dict[str, float]
    root = os.path.join(sys_root, "devices/virtual/thermal")
    for zone in sorted(glob.glob(os.path.join(root, "thermal_zone*"))):
        kind = _read(os.path.join(zone, "type"))
        if kind is None:
            continue
        name = zone_name(kind)
        for kind_path in glob.glob(os.path.join(zone, "trip_point_*_type")):
            if _read(kind_path) != "passive":
                continue
            milli = _number(kind_path[: -len("type")] + "temp")
            if milli is None:
                continue
            temp_c = milli / 1000.0
            if name not in trips or temp_c < trips[name]:
                trips[name] = temp_c
    return trips


def gpu_devfreq(sys_root: str = SYS) -> Optional[str]:
    """The integrated GPU's devfreq folder, or None when there is none."""
    for node in sorted(glob.glob(os.path.join(sys_root, "class/devfreq/*"))):
        if _read(os.path.join(node, "device/of_node/name")) in IGPU_NAMES:
            return node
    return None


def clock_caps(
    sys_root: str = SYS, gpu_node: Optional[str] = None
) -> Tuple[List[Optional[float]], Optional[float]]:
    """(per-core CPU maximum in MHz, by core number, None where unreadable; GPU maximum in MHz).

    Read each sample: a change of power mode (nvpmodel) moves the caps mid-run."""
    cpus = []  # type: List[Optional[float]]
    n = 0
    while True:
        core = os.path.join(sys_root, f"devices/system/cpu/cpu{n}")
        if not os.path.isdir(core):
            break
        khz = _number(os.path.join(core, "cpufreq/scaling_max_freq"))
        cpus.append(khz / 1000.0 if khz else None)
        n += 1
    gpu = None
    if gpu_node is not None:
        hz = _number(os.path.join(gpu_node, "max_freq"))
        gpu = hz / 1e6 if hz else None
    return cpus, gpu


def read_l4t_release(path: str = "/etc/nv_tegra_release") -> Optional[str]:
    """'32.7.1' from '# R32 (release), REVISION: 7.1, ...'; None when absent."""
    try:
        with open(path) as f:
            first = f.readline()
    except OSError:
        return None
    parts = first.split(",")
    try:
        major = parts[0].split("R", 1)[1].split()[0]
        revision = parts[1].split(":", 1)[1].strip()
    except IndexError:
        return None
    return f"{major}.{revision}"
