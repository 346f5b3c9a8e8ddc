"""What the night needs to know about its baseline, on the device half: which configurations
the comparison will look at (so the window runs them first) and the power mode it was
measured in. Read with the standard library: a saved baseline (``baselines/NAME.json``, as
``optbench baseline save`` writes it), a run directory, or a suite's results directory (its
latest run). The comparison itself is the analysis half's (bench.compare).
"""

import json
import os
from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, List, Mapping, Optional

from bench import store

# As bench.compare.sides matches cells: without the seed, and without threads and device
# (a difference there is "not comparable", not another cell).
NOT_MATCHED = ("seed_index", "threads", "device")


class BaselineError(ValueError):
    """A --baseline that names nothing readable; the message says what was tried."""


@dataclass(frozen=True)
class Baseline:
    argument: str  # as given on the command line (passed on to optbench compare)
    path: str  # the file or run directory it was read from
    configurations: FrozenSet[str]  # match keys (match_key)
    power_modes: List[Optional[Dict[str, Any]]]  # per run, as the manifests' telemetry.nvpmodel


def match_key(config: Mapping[str, Any]) -> str:
    plain = json.loads(json.dumps(dict(config)))  # tuples to lists, as a record holds them
    return json.dumps({k: v for k, v in plain.items() if k not in NOT_MATCHED}, sort_keys=True)


def read(argument: str, baselines_dir: str) -> Baseline:
    named = os.path.join(baselines_dir, argument + ".json")
    if "/" not in argument and os.path.isfile(named):
        return _saved(argument, named)
    if argument.endswith(".json") and os.path.isfile(argument):
        return _saved(argument, argument)
    if os.path.isdir(argument):
        run_dir = (
            argument if os.path.exists(os.path.join(argument, store.MANIFEST)) else store.latest_run(argument)
        )
        if run_dir is not None:
            records = store.read_trials(run_dir)  # StoreError names what cannot be read
            telemetry = store.read_manifest(run_dir).get("telemetry") or {}
            return Baseline(argument, run_dir, frozenset(match_key(r.config) for r in records),
                            [telemetry.get("nvpmodel")])  # fmt: skip
    saved = (
        sorted(n[:-5] for n in os.listdir(baselines_dir) if n.endswith(".json"))
        if os.path.isdir(baselines_dir)
        else []
    )
    raise BaselineError(
        "--baseline {!r}: not a saved baseline ({} does not exist), a .json file, a run directory or a "
        "suite's results directory; saved baselines in {}: {}".format(
            argument, named, baselines_dir, ", ".join(saved) or "none")
    )  # fmt: skip


def _saved(argument: str, path: str) -> Baseline:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except ValueError as error:
        raise BaselineError(f"{path}: not a baseline (corrupt JSON: {error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("trials"), list):
        raise BaselineError(f"{path}: not a baseline: no 'trials' list (optbench baseline save writes one)")
    keys = set()
    for trial in data["trials"]:
        try:
            keys.add(match_key(json.loads(trial["configuration"])))
        except (KeyError, TypeError, ValueError):
            raise BaselineError(f"{path}: a trial without a readable 'configuration'") from None
    modes = [(m or {}).get("power_mode") for m in data.get("machines") or []]
    return Baseline(argument, path, frozenset(keys), modes)
