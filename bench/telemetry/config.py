"""What the suite's ``telemetry:`` mapping asks for: sources, interval, cool-down, idle baseline."""

from dataclasses import dataclass
from typing import Optional, Tuple

from . import registry

# All three derived from the registry (bench/telemetry/registry.py), kept here for importers.
# In the order "auto" tries them; the first power source active names a trial's energy.
KNOWN_SOURCES = registry.NAMES
# Per-source sampling interval (s) when the suite names none.
DEFAULT_INTERVAL_S = {s.name: s.default_interval_s for s in registry.SOURCES}
# The shortest interval each source is run at, whatever the suite asks.
MIN_INTERVAL_S = {s.name: s.min_interval_s for s in registry.SOURCES}


@dataclass(frozen=True)
class TelemetryConfig:
    sources: Tuple[str, ...] = ("auto",)  # registry names, or ("auto",), or ("none",)
    interval_s: Optional[float] = None  # None -> per-source default (0.5 s for jetson/tegrastats)
    cooldown_zone: Optional[str] = None  # e.g. "CPU"; cooling gate off when None
    cooldown_below_c: Optional[float] = None
    cooldown_max_wait_s: float = 300.0
    idle_baseline_s: float = 0.0  # measure idle power this long before the sweep (0: skip)

    def __post_init__(self) -> None:
        problems = config_problems(self)
        if problems:
            raise ValueError("telemetry: " + "; ".join(problems))

    @property
    def auto(self) -> bool:
        return tuple(self.sources) == (registry.AUTO,)

    @property
    def off(self) -> bool:
        return tuple(self.sources) == (registry.NONE,)

    def source_names(self) -> Tuple[str, ...]:
        """The sources to try, in registry order for auto."""
        if self.off:
            return ()
        return registry.NAMES if self.auto else tuple(self.sources)

    def interval_for(self, source: str) -> float:
        spec = registry.spec(source)
        wanted = spec.default_interval_s if self.interval_s is None else self.interval_s
        return max(float(wanted), spec.min_interval_s)


def config_problems(config: TelemetryConfig) -> list:
    """Every reason the config is invalid, each naming the key and the allowed values."""
    problems = []
    sources = tuple(config.sources)
    allowed = registry.CHOICES
    unknown = [s for s in sources if s not in allowed]
    if not sources:
        problems.append("sources is empty; allowed: {}".format(", ".join(allowed)))
    elif unknown:
        problems.append(
            "unknown source {}; allowed: {}".format(", ".join(map(repr, unknown)), ", ".join(allowed))
        )
    elif len(sources) > 1 and ("auto" in sources or "none" in sources):
        problems.append(f"'auto' and 'none' stand alone in sources, got {list(sources)}")
    elif len(set(sources)) < len(sources):
        problems.append(f"a source is named twice in sources, got {list(sources)}")
    if config.interval_s is not None and not config.interval_s > 0:
        problems.append(f"interval must be > 0 s, got {config.interval_s!r}")
    if (config.cooldown_zone is None) != (config.cooldown_below_c is None):
        problems.append("cooldown needs both a zone and a below_c threshold")
    if not config.cooldown_max_wait_s >= 0:
        problems.append("cooldown max_wait must be >= 0 s")
    if not config.idle_baseline_s >= 0:
        problems.append("idle_baseline must be >= 0 s")
    return problems
