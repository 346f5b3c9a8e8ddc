"""The gate as data: which metrics are checked, the minimum effect each must show, and alpha.

A check is parsed from a short string, as pytest-benchmark parses ``median:5%``:
``step_time:5%`` means "regressed when the candidate's step time is worse by 5% or more AND a
one-sided rank test says so at alpha". A suite's ``regressions:`` block, a policy file (YAML)
or the command line sets them, each overriding the one before:

    alpha: 0.01
    checks: [step_time:5%, final_loss:10%]      # replaces the defaults' list

Python 3.6 syntax: the device half validates a suite's ``regressions:`` block with it when the
suite is loaded, so a mistake there is found before a night's run, not after.
"""

import os
from dataclasses import dataclass, replace
from typing import Any, Dict, Iterable, List, Optional, Tuple

import yaml

DEFAULT_ALPHA = 0.01


@dataclass(frozen=True)
class Metric:
    name: str
    column: str  # the trials frame's column
    kind: str  # "time", "quality", "memory" or "energy"
    unit: str
    default_effect: float  # the minimum relative change that counts, unless the policy says
    why: str  # what the default rests on


# Defaults: a regression must be at least this large *and* significant. Time effects sit above
# the run-to-run drift of a median step time measured by A/A pairs here (docs/PERFORMANCE.md,
# "Regression gate"): seeds of one run share the machine's state, so the rank test over seeds
# alone does not see that drift, and the minimum effect must.
METRICS = (
    Metric("step_time", "step_time_median_s", "time", "s", 0.10, "10%: in 100 A/A pairs here the median step moved past 1.055 in 5% of cells and past 1.172 in 1%; at 5% 14 pairs of 100 'regressed', at 10% 3 (docs/PERFORMANCE.md)"),
    Metric("time_to_target", "steady_time_to_target_s", "time", "s", 0.10, "10%: it also moves with the evaluation grid"),
    Metric("steps_to_target", "steps_to_target", "quality", "steps", 0.10, "10%: one evaluation interval in ten"),
    Metric("final_loss", "final_loss", "quality", "", 0.10, "10%: seeds of one configuration spread about that much"),
    Metric("final_metric", "final_metric", "quality", "", 0.02, "2%: of accuracy or test MSE"),
    Metric("peak_rss", "rss_peak_bytes", "memory", "B", 0.10, "10%: allocator and page-cache noise"),
    Metric("energy", "energy_train_j", "energy", "J", 0.10, "as step_time"),
    Metric("power_mean", "power_mean_w", "energy", "W", 0.05, "mean power moves less than time: unmeasured here (no power source)"),
    # Not checked by default: a sum of wall time carries every stall of a busy machine (an A/A
    # pair here differed by 10% in it while the median step moved 1%); ask for it with --check.
    Metric("train_time", "train_time_s", "time", "s", 0.10, "as step_time"),
)  # fmt: skip
DEFAULT_CHECKS = ("step_time", "time_to_target", "steps_to_target", "final_loss", "final_metric", "peak_rss",
                  "energy", "power_mean")  # fmt: skip
BY_NAME = {m.name: m for m in METRICS}


class PolicyError(ValueError):
    """A check, alpha or policy file that cannot be used; the message names it and what is allowed."""


@dataclass(frozen=True)
class Check:
    metric: Metric
    min_effect: float  # relative: 0.05 is 5%

    @classmethod
    def parse(cls, text: str, where: str = "--check") -> "Check":
        name, _, effect = str(text).partition(":")
        metric = BY_NAME.get(name.strip())
        if metric is None:
            raise PolicyError(f"{where}: unknown metric {name!r}; allowed: {', '.join(BY_NAME)}")
        if not effect:
            return cls(metric, metric.default_effect)
        try:
            value = float(effect.strip().rstrip("%")) / (100.0 if effect.strip().endswith("%") else 1.0)
        except ValueError:
            raise PolicyError(f"{where}: {text!r}: the effect is a percentage, like {name}:5%") from None
        if not 0 <= value < 10:
            raise PolicyError(f"{where}: {text!r}: the effect must be between 0% and 1000%")
        return cls(metric, value)

    def __str__(self) -> str:
        return f"{self.metric.name}:{self.min_effect:.0%}"


@dataclass(frozen=True)
class Policy:
    checks: Tuple[Check, ...]
    alpha: float = DEFAULT_ALPHA
    allow_different: Tuple[str, ...] = ()  # fingerprint fields that may differ
    ignore: Tuple[str, ...] = ()  # configuration keys left out when matching cells (e.g. lr)
    sources: Tuple[str, ...] = ()  # what set it beyond the defaults, in order (for the output)

    @classmethod
    def default(cls) -> "Policy":
        return cls(tuple(Check(BY_NAME[n], BY_NAME[n].default_effect) for n in DEFAULT_CHECKS))


def load_policy(path: Optional[str] = None, checks: Iterable[str] = (), alpha: Optional[float] = None,
                allow_different: Iterable[str] = (), ignore: Iterable[str] = (),
                suite_block: Optional[Dict[str, Any]] = None, suite_where: str = "the suite") -> Policy:  # fmt: skip
    """The default policy, then the suite's ``regressions:`` block, then the file's settings,
    then the command line's."""
    policy = Policy.default()
    if suite_block is not None:
        policy = from_mapping(suite_block, f"{suite_where}: regressions", policy)
    if path:
        policy = _from_file(path, policy)
    given = [Check.parse(text) for text in checks]
    if given:
        merged = {c.metric.name: c for c in policy.checks}
        merged.update({c.metric.name: c for c in given})  # the command line's effect wins
        policy = replace(policy, checks=tuple(merged.values()))
    if alpha is not None:
        policy = replace(policy, alpha=_alpha(alpha, "--alpha"))
    if allow_different:
        policy = replace(policy, allow_different=policy.allow_different + tuple(allow_different))
    if ignore:
        policy = replace(policy, ignore=policy.ignore + tuple(ignore))
    if given or alpha is not None or allow_different or ignore:
        policy = replace(policy, sources=policy.sources + ("the command line",))
    return policy


def _alpha(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 0.5:
        raise PolicyError(f"{where}: alpha must be a number between 0 and 0.5, got {value!r}")
    return float(value)


KEYS = ("alpha", "checks", "allow_different", "ignore")


def _from_file(path: str, policy: Policy) -> Policy:
    if not os.path.exists(path):
        raise PolicyError(f"{path}: no such policy file")
    with open(path, encoding="utf-8") as handle:
        try:
            document = yaml.safe_load(handle) or {}
        except yaml.YAMLError as error:
            raise PolicyError(f"{path}: not valid YAML: {error}") from None
    return from_mapping(document, path, policy)


def from_mapping(document: Any, where: str, policy: Optional[Policy] = None) -> Policy:
    """``policy`` (the defaults if None) with the settings of a policy mapping -- a policy file's
    document, or a suite's ``regressions:`` block; ``where`` names it in every error."""
    policy = policy or Policy.default()
    if not isinstance(document, dict):
        raise PolicyError(f"{where}: a policy is a mapping with {', '.join(KEYS)}; got {document!r}")
    unknown = sorted(str(key) for key in set(document) - set(KEYS))
    if unknown:
        raise PolicyError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(KEYS)}")
    changes = {}  # type: Dict[str, Any]
    if "alpha" in document:
        changes["alpha"] = _alpha(document["alpha"], f"{where}: alpha")
    if "checks" in document:
        entries = document["checks"]
        if not isinstance(entries, list) or not entries:
            raise PolicyError(f"{where}: checks: a list like [step_time:5%, final_loss:10%]")
        changes["checks"] = tuple(Check.parse(e, f"{where}: checks") for e in entries)
    for key in ("allow_different", "ignore"):
        if key in document:
            values = document[key] or []
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise PolicyError(f"{where}: {key}: a list of names, like [torch]; got {values!r}")
            changes[key] = tuple(values)
    return replace(policy, sources=policy.sources + (where,), **changes)


def names(checks: Iterable[Check]) -> List[str]:
    return [c.metric.name for c in checks]
