"""The night's analysis steps (Python >= 3.8 and pandas: optbench[report]): the report, the
comparison against the baseline, and the suite's history. Imported by bench.nightly.command
only where ``missing()`` says they can run; each returns plain data for the summary.
"""

import json
import os
from typing import Any, Dict, List, Optional, Tuple


def report(run_dir: str, reports_dir: str) -> str:
    from bench.report.build import build_report

    manifest_suite, run_id = _names(run_dir)
    return build_report(run_dir, os.path.join(reports_dir, manifest_suite, run_id))


def _names(run_dir: str) -> Tuple[str, str]:
    from bench import store

    manifest = store.read_manifest(run_dir)
    return str(manifest.get("suite")), str(manifest.get("run_id"))


def compare(baseline: str, baselines_dir: str, run_dir: str, policy_path: Optional[str]) -> Dict[str, Any]:
    """Tonight's run against the baseline, as `optbench compare` judges it."""
    from bench.compare import gate, output, policy, sides

    rules = policy.load_policy(policy_path)
    comparison = gate.compare(sides.resolve([baseline], baselines_dir), sides.from_runs([run_dir]), rules)
    data = json.loads(output.as_json(comparison))
    shown = [c for c in data["cells"] if c["verdict"] in ("regressed", "insufficient data")]
    return {
        "baseline": data["baseline"],
        "verdict": data["verdict"],
        "exit_code": data["exit_code"],
        "regressions": [c for c in shown if c["verdict"] == "regressed"],
        "insufficient": [c for c in shown if c["verdict"] == "insufficient data"],
        "improved": sum(c["verdict"] == "improved" for c in data["cells"]),
        "cells": len(data["cells"]),
        "not_comparable": data["not_comparable"],
        "unmatched": data["unmatched"],
    }


def _key(change: Dict[str, Any]) -> str:
    """A change's identity from night to night: a step by where it happened; creep by what
    creeps (its window moves every night)."""
    parts = [change["metric"], change["configuration"], change["machine"], change["kind"]]
    if change["kind"] == "step":
        parts.append(change["run_after"])
    return json.dumps(parts)


def history(suite_dir: str, suite: str, known: List[str]) -> Dict[str, Any]:
    """The suite's changes over its nights; ``known``: keys of changes an earlier night's
    summary already listed, so a step found once turns one night red, not every night after."""
    from bench.compare import changepoints
    from bench.compare.history import find_changes, load_series

    changes = find_changes(load_series(suite_dir, suite))
    nights = int(changes.attrs.get("nights", 0))
    rows = json.loads(changes.to_json(orient="records")) if not changes.empty else []
    found = [dict(r, key=_key(r)) for r in rows]
    new = [c for c in found if c["key"] not in set(known)]
    regressed = any(c["regression"] for c in new)
    if nights < changepoints.MIN_NIGHTS:
        note = (f"{nights} night(s) so far: history needs {changepoints.MIN_NIGHTS} before it can confirm a "
                "change (docs/HISTORY.md)")  # fmt: skip
    else:
        note = f"{len(found)} change(s) over {nights} nights, {len(new)} new tonight"
    return {
        "verdict": "regressed" if regressed else "no new regression",
        "nights": nights,
        "note": note,
        "new": new,
        "keys": [c["key"] for c in found],
    }
