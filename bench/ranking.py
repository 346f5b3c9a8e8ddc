"""The one rule that says which configuration is best, for both halves.

The device half's end-of-run table and the analysis half (pandas) both rank through this
module, so they cannot disagree. Standard library only: it runs on the Jetson Nano.

A configuration is a trial's configuration without its seed. Each of its trials scores its
final quality: the final loss, or minus the final metric where the target is an accuracy
(lower is better either way). A trial that diverged, failed or measured nothing scores
worst (infinity): a configuration that diverges on two seeds of three must not win on the
third. Configurations are ranked by the median score over their seeds; ties (accuracy
often ties) go to the shorter median time to target, where a seed that never reached the
target counts as infinitely slow; then to the configuration key, so the order is stable.
"""

import json
import math
import statistics
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Sequence

SCORED = ("ok", "timeout")  # a timed-out trial was evaluated where it stopped
NOT_RANKED = ("skipped",)  # never ran: says nothing about the configuration
WORST = math.inf


def configuration_key(config: Mapping[str, Any]) -> str:
    """Everything that makes a configuration, as one canonical string: all but the seed."""
    return json.dumps({k: v for k, v in config.items() if k != "seed_index"}, sort_keys=True)


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def higher_is_better(target: Mapping[str, Any]) -> bool:
    return target.get("direction") == "above"


def trial_score(status: str, final_loss: Any, final_metric: Any, target: Mapping[str, Any]) -> float:
    """Lower is better; WORST for a trial that failed or left nothing to score."""
    if status not in SCORED:
        return WORST
    if higher_is_better(target):
        return -float(final_metric) if _present(final_metric) else WORST
    return float(final_loss) if _present(final_loss) else WORST


@dataclass(frozen=True)
class Standing:
    """A configuration's place: what the ranking compared, over its seeds."""

    problem: str
    configuration: str  # configuration_key
    seeds: int
    score: float  # median trial score (WORST where most seeds failed)
    time_to_target_s: float  # median over seeds, a seed that never reached it counting as WORST

    def sort_key(self):
        return (self.score, self.time_to_target_s, self.configuration)


def rank(trials: Iterable[Mapping[str, Any]]) -> Dict[str, List[Standing]]:
    """Per problem, its configurations best first.

    Each trial is a mapping with ``problem``, ``configuration`` (configuration_key),
    ``status``, ``final_loss``, ``final_metric``, ``time_to_target_s`` and ``target``:
    a record's fields (see ``trial_row``) or a row of the analysis half's trials frame."""
    groups = {}  # type: Dict[tuple, List[Mapping[str, Any]]]
    for trial in trials:
        if trial["status"] not in NOT_RANKED:
            groups.setdefault((trial["problem"], trial["configuration"]), []).append(trial)
    standings = {}  # type: Dict[str, List[Standing]]
    for (problem, configuration), group in groups.items():
        scores = [trial_score(t["status"], t["final_loss"], t["final_metric"], t["target"]) for t in group]
        times = [float(t["time_to_target_s"]) if _present(t["time_to_target_s"]) else WORST for t in group]
        standings.setdefault(problem, []).append(
            Standing(problem, configuration, len(group), statistics.median(scores), statistics.median(times))
        )
    return {problem: sorted(rows, key=Standing.sort_key) for problem, rows in standings.items()}


def best(trials: Iterable[Mapping[str, Any]]) -> Dict[str, Standing]:
    """Per problem, the winning configuration."""
    return {problem: rows[0] for problem, rows in rank(trials).items()}


def problem_labels(configs: Sequence[Mapping[str, Any]]) -> List[str]:
    """Each configuration's problem as the ranking and the tables name it: the problem's name,
    followed, where the configurations tried that problem with several sets of options (the
    quadratic's condition numbers, a landscape with and without noise), by the options that
    differ: "quadratic (condition 100)". Each set of options is a problem of its own: the best
    optimizer on a round bowl says nothing of the best on a narrow valley."""
    varying = {}  # type: Dict[str, List[str]]
    seen = {}  # type: Dict[str, List[Mapping[str, Any]]]
    for config in configs:
        seen.setdefault(config["problem"], []).append(config.get("options") or {})
    for problem, options in seen.items():
        keys = sorted({k for o in options for k in o})
        varying[problem] = [
            k for k in keys if len({json.dumps(o.get(k), sort_keys=True) for o in options}) > 1
        ]
    labels = []
    for config in configs:
        keys, options = varying[config["problem"]], config.get("options") or {}
        shown = ", ".join(f"{k} {_option_text(options.get(k))}" for k in keys)
        labels.append("{} ({})".format(config["problem"], shown) if keys else config["problem"])
    return labels


def _option_text(value: Any) -> str:
    if value is None:
        return "default"
    if isinstance(value, float):
        return format(value, "g")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_option_text(v) for v in value) + "]"
    return str(value)


def trial_row(record) -> Dict[str, Any]:
    """What ``rank`` reads, from a TrialRecord."""
    return {
        "problem": record.config["problem"],
        "configuration": configuration_key(record.config),
        "status": record.status.value,
        "final_loss": record.final_loss,
        "final_metric": record.final_metric,
        "time_to_target_s": record.time_to_target_s,
        "target": record.target,
    }
