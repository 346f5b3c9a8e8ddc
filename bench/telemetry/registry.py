"""The one list of telemetry sources, and what each declares about itself.

Everything that needs to know about a source reads it here: the recorder (which sources to
build, in which order, which steps aside for which), the suite's and the CLI's validation
(the allowed names), the intervals, and the per-trial figures (whose memory is shared, which
reading holds slowdown-reason bits). No other module tests a source's name.

The order is the order ``auto`` tries them, and the first active source with power data
names a trial's energy, so the most board-specific sources come first.

A source module is imported only when that source is built (``make_source``): this module
imports no source, so asking about sources never loads jtop, psutil or pynvml glue.
"""

import importlib
from dataclasses import dataclass
from typing import List, Optional, Tuple

AUTO, NONE = "auto", "none"


@dataclass(frozen=True)
class ReasonBits:
    """A reading that holds a bit mask of slowdown reasons, and which bits mean throttling."""

    reading: str  # the reading's name, e.g. "throttle_reasons"
    label: str  # who reports them, for the evidence text: "NVML reported ..."
    what: str  # what the mask is called, for the list of checks
    bits: Tuple[Tuple[int, str], ...]  # (bit, meaning) for the bits that mean "slowed down"

    def describe(self, mask: int) -> List[str]:
        return [name for bit, name in sorted(self.bits) if int(mask) & bit]


@dataclass(frozen=True)
class SourceSpec:
    name: str
    module: str  # bench.telemetry.sources.<module>
    class_name: str
    summary: str  # what it reads, one line (docs, help)
    default_interval_s: float  # when the suite names no interval
    min_interval_s: float  # the shortest interval it is run at, whatever the suite asks
    power: Optional[str]  # what its power/energy figure covers; None: it measures no power
    # kinds of throttle evidence it can give: "clocks" (clock vs the mode's maximum under
    # load), "trip points" (zone temperature vs its passive trip point), "reason bits"
    throttle_evidence: Tuple[str, ...] = ()
    reason_bits: Optional[ReasonBits] = None
    # CPU and GPU share the RAM it reports (a Jetson): ram_used includes the GPU's part
    shared_memory: bool = False
    # in auto mode, not started when one of these (earlier in the order) is already active
    steps_aside_for: Tuple[str, ...] = ()


# NVML's clock-event (throttle) reason bits that mean the GPU was slowed against its will;
# the others (idle, application clocks, sync boost, display) are not throttling.
NVML_SLOWDOWN = ReasonBits(
    reading="throttle_reasons",
    label="NVML",
    what="NVML clock-event reasons",
    bits=(
        (0x4, "SW power cap"),
        (0x8, "HW slowdown"),
        (0x20, "SW thermal slowdown"),
        (0x40, "HW thermal slowdown"),
        (0x80, "HW power brake slowdown"),
    ),
)

# 0.5 s on a Jetson, as jtop's maintainer advises (jtop is reported unstable at very short
# intervals, jetson_stats #414); counters read straight from sysfs/NVML are cheap and go faster.
SOURCES = (
    SourceSpec(
        name="jetson",
        module="jetson",
        class_name="JetsonSource",
        summary="Jetson boards through jtop (jetson-stats): rails, zones, clocks, RAM, nvpmodel",
        default_interval_s=0.5,
        min_interval_s=0.2,
        power="board input rail (CPU, GPU and the rest of the module)",
        throttle_evidence=("clocks", "trip points"),
        shared_memory=True,
    ),
    SourceSpec(
        name="tegrastats",
        module="tegrastats",
        class_name="TegrastatsSource",
        summary="Jetson boards without jtop: a tegrastats child process",
        default_interval_s=0.5,
        min_interval_s=0.1,
        power="board input rail (CPU, GPU and the rest of the module)",
        throttle_evidence=("clocks", "trip points"),
        shared_memory=True,
        steps_aside_for=("jetson",),
    ),
    SourceSpec(
        name="nvml",
        module="nvml",
        class_name="NvmlSource",
        summary="NVIDIA GPUs through NVML (nvidia-ml-py)",
        default_interval_s=0.1,
        min_interval_s=0.02,
        power="NVIDIA GPU boards only",
        throttle_evidence=("clocks", "trip points", "reason bits"),
        reason_bits=NVML_SLOWDOWN,
    ),
    SourceSpec(
        name="rapl",
        module="rapl",
        class_name="RaplSource",
        summary="x86 CPU package and DRAM energy counters (powercap RAPL)",
        default_interval_s=0.1,
        min_interval_s=0.02,
        power="CPU packages and DRAM only",
    ),
    SourceSpec(
        name="host",
        module="host",
        class_name="HostSource",
        summary="the host through psutil: RSS, CPU load, RAM, swap, temperatures",
        default_interval_s=0.5,
        min_interval_s=0.05,
        power=None,
        throttle_evidence=("trip points",),
    ),
)

NAMES = tuple(s.name for s in SOURCES)
# what a suite's telemetry.sources (and --telemetry) accepts
CHOICES = NAMES + (AUTO, NONE)
_BY_NAME = {s.name: s for s in SOURCES}  # type: Dict[str, SourceSpec]


def spec(name: str) -> SourceSpec:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError("unknown telemetry source {!r}; known: {}".format(name, ", ".join(NAMES))) from None


def make_source(name: str, interval_s: float):
    """Build the source ``name``, importing its module only now."""
    found = spec(name)
    module = importlib.import_module(f"{__package__}.sources.{found.module}")
    return getattr(module, found.class_name)(interval_s)


def registry_problems() -> List[str]:
    """Inconsistencies in SOURCES (checked by the tests)."""
    problems = []
    seen = set()  # type: set
    for s in SOURCES:
        if s.name in seen or s.name in (AUTO, NONE):
            problems.append(f"{s.name}: name taken")
        for other in s.steps_aside_for:
            if other not in seen:
                problems.append(f"{s.name} steps aside for {other!r}, which is not earlier in the order")
        if not 0 < s.min_interval_s <= s.default_interval_s:
            problems.append(f"{s.name}: intervals must satisfy 0 < min <= default")
        if s.reason_bits is not None and "reason bits" not in s.throttle_evidence:
            problems.append(f"{s.name}: has reason bits but does not list them as evidence")
        seen.add(s.name)
    return problems
