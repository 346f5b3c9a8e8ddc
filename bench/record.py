"""The trial record: the declared schema of one line of ``trials.jsonl``.

Schema history (bump SCHEMA_VERSION on any change a reader could notice):
  1 (2026-11-22) first version.
"""

import enum
import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Dict, List, Optional

SCHEMA_VERSION = 1


class Status(enum.Enum):
    """How a trial ended. A failed trial is data, not a crash."""

    OK = "ok"
    DIVERGED = "diverged"  # NaN/Inf, or the loss blew up by a large factor
    TIMEOUT = "timeout"  # the trial's wall-clock limit passed
    OUT_OF_MEMORY = "out_of_memory"
    ERROR = "error"  # any other exception; the reason holds its message
    SKIPPED = "skipped"  # not run: its device is absent and the user asked to skip


@dataclass(frozen=True)
class TrialRecord:
    schema: int
    trial_id: str
    suite: str
    run_id: str
    config: Dict[str, Any]  # the trial's resolved configuration (see bench.plan.TrialSpec)
    seed: int  # derived from the configuration; seeds data, initialisation and batching
    status: str  # a Status value
    reason: Optional[str]  # why it ended so, when not ok
    started_at: str  # ISO 8601, UTC
    finished_at: str
    steps: int  # optimizer steps taken
    epochs: float  # passes over the training set
    metric_name: Optional[str]
    final_loss: Optional[float]  # training objective on the whole training set, at the end
    best_loss: Optional[float]
    final_metric: Optional[float]  # the problem's metric on the test split, at the end
    optimum_loss: Optional[float]  # closed-form optimum of the training loss, where known
    suboptimality: Optional[float]  # final_loss - optimum_loss
    target: Dict[str, Any]  # {"quantity", "value", "direction"}
    steps_to_target: Optional[int]  # first evaluation at which the target held; null if never
    time_to_target_s: Optional[float]  # training time (evaluation excluded) at that point
    wall_time_s: float  # the whole trial: setup, training, evaluation
    train_time_s: float  # the timed training steps only
    eval_time_s: float
    step_time_median_s: Optional[float]
    step_time_iqr_s: Optional[float]
    step_time_samples: int
    device: str  # the device the trial ran on, resolved ("auto" becomes "cpu" or "cuda")
    num_threads: int  # torch.get_num_threads() during the trial
    memory: Dict[str, Any]  # rss_start_bytes, rss_peak_bytes, rss_peak_method, cuda_* ...
    data: Dict[str, Any]  # train_samples, test_samples, and where the data came from
    learned: Optional[Dict[str, Any]]  # linear problems: weight, bias, truth, optimum
    telemetry: Optional[Dict[str, Any]]  # per-trial figures from bench.telemetry, or null

    def to_json_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json_dict(cls, data: Dict[str, Any]) -> "TrialRecord":
        version = data.get("schema")
        if version != SCHEMA_VERSION:
            raise ValueError(
                f"trial record has schema version {version!r}; this optbench reads version {SCHEMA_VERSION}"
            )
        names = field_names()
        missing = [n for n in names if n not in data]
        if missing:
            raise ValueError("trial record lacks " + ", ".join(missing))
        return cls(**{n: data[n] for n in names})


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
    return [f.name for f in fields(TrialRecord)]
