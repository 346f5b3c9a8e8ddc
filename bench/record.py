"""The trial record: the declared schema of one line of ``trials.jsonl``.

What a trial measured is declared once, as ``Outcome``: the trainer fills it, and the record
is that outcome plus the trial's identity and what the runner adds (wall time, telemetry).
Enums live in memory; their values go to disk. Older versions are read through the upgrade
chain in bench.record_upgrades.

Schema history (bump SCHEMA_VERSION on any change a reader could notice; never reuse one):
  1 (2026-11-22) first version.
  2 (2026-12-01) ``config.threads`` (torch's intra-op threads, set per trial, part of the trial
      id); one definition of training time (the timed segments' wall time: ``train_time_s``,
      ``time_to_target_s`` and the curves' ``time_s`` agree); ``stability`` and
      ``stability_reason`` (the verdict on the trial's own step times).
  3 (2026-12-01) the landscape problems (2-D test functions): ``trajectories.csv`` holds theta
      along each landscape trial's way (trial_id, step, x, y); their records have metric_name
      ``suboptimality`` (f - f*, negative past the saddle's stationary value), ``data`` names the
      function, its start, minimiser and minimum, and ``config.options`` may hold a point
      ([x, y]). Nothing in a version-2 record changes: the upgrade only sets the version.
  4 (2026-12-05) ``timing_shared``: null when the trial was timed alone (every trial before
      version 4 was), else why its time and energy figures are not its own: "contended" (run
      beside other trials in parallel processes) or "batched" (trained in one vectorised
      computation with other trials); compare and the report leave such trials out of time and
      energy verdicts. ``environment``: the fingerprint of the machine that ran the trial where
      that is not the run manifest's own (a worker of a distributed run); null otherwise. The
      upgrade sets both to null: what a version-3 record meant.
"""

import enum
import math
from dataclasses import dataclass, fields
from typing import Any, Dict, List, Optional, Tuple, Union

SCHEMA_VERSION = 4

# Why a trial's time and energy figures are not its own (TrialRecord.timing_shared).
CONTENDED = "contended"  # run beside other trials in parallel processes
BATCHED = "batched"  # trained in one vectorised computation with other trials
TIMING_SHARED = (CONTENDED, BATCHED)


class Status(enum.Enum):
    """How a trial ended. A failed trial is data, not a crash."""

    OK = "ok"
    DIVERGED = "diverged"  # NaN/Inf, or the loss blew up by a large factor
    TIMEOUT = "timeout"  # the trial's wall-clock limit passed
    OUT_OF_MEMORY = "out_of_memory"
    ERROR = "error"  # any other exception; the reason holds its message
    SKIPPED = "skipped"  # not run: its device is absent and the user asked to skip


class Stability(enum.Enum):
    """Whether a trial's timing can be compared with another's (bench.stability decides)."""

    STABLE = "stable"
    UNSTABLE = "unstable"  # its step times spread widely, or its sum is dominated by stalls
    UNKNOWN = "unknown"  # too few timed steps to judge


@dataclass(frozen=True)
class Outcome:
    """What one trial measured; the trainer's result and the record share this declaration."""

    status: Status
    reason: Optional[str]  # why it ended so, when not ok
    steps: int  # optimizer steps taken
    epochs: float  # passes over the training set
    final_loss: Optional[float]  # training objective on the training set, at the end
    best_loss: Optional[float]
    final_metric: Optional[float]  # the problem's metric on the test split, at the end
    optimum_loss: Optional[float]  # closed-form optimum of the training loss, where known
    suboptimality: Optional[float]  # final_loss - optimum_loss
    steps_to_target: Optional[int]  # first evaluation at which the target held; null if never
    time_to_target_s: Optional[float]  # training time at that evaluation
    train_time_s: float  # training time: the wall time of the timed segments, summed
    eval_time_s: float
    step_time_median_s: Optional[float]
    step_time_iqr_s: Optional[float]
    step_time_samples: int
    stability: Stability
    stability_reason: Optional[str]  # what made the timing unstable (or unknown)
    memory: Dict[str, Any]  # rss_start_bytes, rss_peak_bytes, rss_peak_method, cuda_* ...
    data: Dict[str, Any]  # train_samples, test_samples, and where the data came from
    learned: Optional[Dict[str, Any]]  # linear problems: weight, bias, truth, optimum

    @classmethod
    def unmeasured(cls, status: Status, reason: str, data: Optional[Dict[str, Any]] = None) -> "Outcome":
        """The outcome of a trial that never trained (skipped, or its data would not load)."""
        return cls(
            status=status, reason=reason, steps=0, epochs=0.0, final_loss=None, best_loss=None,
            final_metric=None, optimum_loss=None, suboptimality=None, steps_to_target=None,
            time_to_target_s=None, train_time_s=0.0, eval_time_s=0.0, step_time_median_s=None,
            step_time_iqr_s=None, step_time_samples=0, stability=Stability.UNKNOWN,
            stability_reason="nothing was timed", memory={}, data=data or {}, learned=None,
        )  # fmt: skip


@dataclass(frozen=True)
class TrialRecord(Outcome):
    """One line of trials.jsonl: the outcome, who it belongs to, and what the runner adds."""

    schema: int
    trial_id: str
    suite: str
    run_id: str
    config: Dict[str, Any]  # the trial's resolved configuration (see bench.plan.TrialSpec)
    seed: int  # derived from the configuration; seeds data, initialisation and batching
    started_at: str  # ISO 8601, UTC
    finished_at: str
    metric_name: Optional[str]
    target: Dict[str, Any]  # {"quantity", "value", "direction"}
    wall_time_s: float  # the whole trial: setup, training, evaluation
    device: str  # the device the trial ran on, resolved ("auto" becomes "cpu" or "cuda")
    num_threads: int  # torch.get_num_threads() as measured during the trial
    telemetry: Optional[Dict[str, Any]]  # per-trial figures from bench.telemetry, or null
    timing_shared: Optional[str]  # null: timed alone; else one of TIMING_SHARED
    environment: Optional[Dict[str, Any]]  # the machine that ran it, where not the manifest's

    @classmethod
    def of(cls, outcome: Outcome, **identity: Any) -> "TrialRecord":
        """The record of ``outcome``; ``identity`` gives every field Outcome does not declare."""
        measured = {f.name: getattr(outcome, f.name) for f in fields(Outcome)}
        return cls(**measured, **identity)

    def to_json_dict(self) -> Dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["status"] = self.status.value
        data["stability"] = self.stability.value
        return without_non_finite(data)

    @classmethod
    def from_json_dict(cls, data: Dict[str, Any]) -> "TrialRecord":
        """A record of this version from a line of any version up to it (ValueError if not)."""
        from bench.record_upgrades import upgrade_record  # the chain imports this module

        data = upgrade_record(data)
        names = field_names()
        missing = [n for n in names if n not in data]
        if missing:
            raise ValueError("trial record lacks " + ", ".join(missing))
        values = {n: data[n] for n in names}
        for name in names:
            _check_type(name, values[name])
        _check_config(values["config"])
        if values["timing_shared"] not in (None,) + TIMING_SHARED:
            allowed = ", ".join(TIMING_SHARED)
            raise ValueError(f"timing_shared is {values['timing_shared']!r:.60}; allowed: null, {allowed}")
        values["status"] = _enum(Status, "status", values["status"])
        values["stability"] = _enum(Stability, "stability", values["stability"])
        return cls(**values)


def _json_types(annotation: Any) -> Tuple[Tuple[type, ...], bool]:
    """(the JSON types a field of this annotation may hold, whether null is allowed)."""
    args = getattr(annotation, "__args__", None) or ()
    optional = getattr(annotation, "__origin__", None) is Union and type(None) in args
    if optional:
        annotation = next(a for a in args if a is not type(None))
    origin = getattr(annotation, "__origin__", None)
    if annotation is float:
        return (int, float), optional
    if annotation in (int, str):
        return (annotation,), optional
    if annotation in (Status, Stability):
        return (str,), optional
    if annotation is dict or origin in (dict, Dict):
        return (dict,), optional
    return (object,), optional


def _check_type(name: str, value: Any) -> None:
    """A hand-edited or damaged record is refused by name, not read into a wrong report."""
    types, optional = _FIELD_TYPES[name]
    if value is None and optional:
        return
    if isinstance(value, bool) and bool not in types and object not in types:
        types = ()  # JSON's true is not a number here
    if not isinstance(value, types):
        wanted = " or ".join(sorted({_JSON_NAMES.get(t, t.__name__) for t in types})) or "a number"
        raise ValueError(f"{name} is {value!r:.60}; expected {wanted}{' or null' if optional else ''}")


_JSON_NAMES = {int: "a number", float: "a number", str: "text", dict: "an object"}

# The configuration's keys that the analysis groups and computes by, and their JSON types
# (TrialSpec.config writes them): a hand-edited lr of "fast" was grouped as a configuration of
# its own by `show` and crashed `report`. Keys a record lacks (older versions) are not checked.
_NUMBER, _NULL = (int, float), (type(None),)
_CONFIG_TYPES = {
    "problem": (str,), "optimizer": (str,), "activation": (str,), "device": (str,),
    "implementation": (str,), "tf_updates": (str,), "lr": _NUMBER, "dropout": _NUMBER,
    "time_limit_s": _NUMBER + _NULL, "epochs": _NUMBER + _NULL, "steps": (int,) + _NULL,
    "batch": (int, str), "threads": (int,), "seed_index": (int,), "eval_every": (int,),
    "log_every": (int,), "batch_norm": (bool,), "tf_function": (bool,), "hyper": (dict,),
    "options": (dict,),
}  # fmt: skip


def _check_config(config: Dict[str, Any]) -> None:
    for key, types in _CONFIG_TYPES.items():
        if key not in config:
            continue
        value = config[key]
        if isinstance(value, bool) != (bool in types) or not isinstance(value, types):
            names = {
                "a boolean" if t is bool else "null" if t is type(None) else _JSON_NAMES[t] for t in types
            }
            raise ValueError(f"config.{key} is {value!r:.60}; expected {' or '.join(sorted(names))}")


def _enum(kind, key: str, value: Any):
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise ValueError(f"{key} is {value!r}; allowed: {allowed}") from None


def without_non_finite(value: Any) -> Any:
    """``value`` with every NaN and infinity (at any depth) replaced by None.

    JSON has no NaN: a diverged trial's learned weights or a sensor's odd reading must
    become null in the record, not a line that strict readers refuse (or a crashed run).
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: without_non_finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [without_non_finite(v) for v in value]
    return value


def field_names() -> List[str]:
    return list(_FIELD_NAMES)


# Once, not per call: every record read asks for them, and dataclasses.fields() walks the
# class each time (a tenth of the time history took to read 60 nights of 1,000 trials).
_FIELD_NAMES = tuple(f.name for f in fields(TrialRecord))
# Each field's JSON types, from its declaration (checked on every record read).
_FIELD_TYPES = {f.name: _json_types(f.type) for f in fields(TrialRecord)}
