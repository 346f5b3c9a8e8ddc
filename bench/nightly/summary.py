"""The morning summary: ``summary.json`` (for tools) and ``summary.md`` (for a person), in the
run directory. Built from the run's own files (manifest, trials, night.json) with the standard
library, plus what the analysis half found where it ran (bench.nightly.analysis): the device
half writes it too, with the analysis marked as left for another Python.
"""

import json
import os
from typing import Any, Dict, List, Optional

from bench import store
from bench.nightly import night
from bench.record import Stability, Status
from bench.telemetry.partial import partial_telemetry, source_intervals

SUMMARY_FORMAT = 1
JSON_NAME, MARKDOWN_NAME = "summary.json", "summary.md"

# One verdict per exit code (docs/NIGHTLY.md): the night's, from the compare and history steps.
VERDICTS = {
    "no regression": 0, "regressed": 1, "not comparable": 3, "insufficient data": 3, "could not measure": 3,
    "analysis left for another Python": 0,
}  # fmt: skip


def collect(run_dir: str, tonight: str) -> Dict[str, Any]:
    """The device half's part of the summary: what ran, how, and what did not."""
    manifest = store.read_manifest(run_dir)
    records = store.read_trials(run_dir)
    record = night.read_record(run_dir) or {}
    last = night.last_night(record) or {}
    nights = night.trial_nights(run_dir)
    by_status = {}  # type: Dict[str, int]
    for r in records:
        by_status[r.status.value] = by_status.get(r.status.value, 0) + 1
    per_night = {}  # type: Dict[str, int]
    for trial_id in (r.trial_id for r in records):
        key = nights.get(trial_id, "?")
        per_night[key] = per_night.get(key, 0) + 1
    telemetry = manifest.get("telemetry") or {}
    intervals = source_intervals(manifest)
    sessions = last.get("sessions") or [{}]
    board = sessions[-1].get("board") or {}
    return {
        "format": SUMMARY_FORMAT,
        "suite": manifest.get("suite"),
        "run_dir": run_dir,
        "run_id": manifest.get("run_id"),
        "night": tonight,
        "trials_by_night": per_night,
        "window_end": last.get("window_end"),
        "trials": {
            "planned": manifest.get("trials_planned"),
            "recorded": len(records),
            "by_status": by_status,
            "ran_tonight": per_night.get(tonight, 0),
            "finished": bool(manifest.get("finished_at")),
        },  # fmt: skip
        "deferred": list(last.get("deferred") or []),
        "not_run": [
            {"trial_id": r.trial_id, "reason": r.reason} for r in records if r.status is Status.SKIPPED
        ],
        "failed": [
            {"trial_id": r.trial_id, "status": r.status.value, "reason": r.reason}
            for r in records
            if r.status not in (Status.OK, Status.SKIPPED)
        ],  # fmt: skip
        "throttled": [r.trial_id for r in records if (r.telemetry or {}).get("throttled") is True],
        "unstable": [r.trial_id for r in records if r.stability is Stability.UNSTABLE],
        "partial_telemetry": [
            p for p in (partial_telemetry(r.trial_id, r.telemetry, intervals) for r in records) if p
        ],
        "telemetry_warnings": list(manifest.get("warnings") or []),
        "power_mode": telemetry.get("nvpmodel") or board.get("power_mode"),
        "jetson_clocks": telemetry.get("jetson_clocks")
        if telemetry.get("jetson_clocks") is not None
        else board.get("jetson_clocks"),
    }


def finish(summary: Dict[str, Any], verdict: str, **parts: Any) -> Dict[str, Any]:
    out = dict(summary, **parts)
    out["verdict"] = verdict
    out["exit_code"] = VERDICTS[verdict]
    return out


def write(run_dir: str, summary: Dict[str, Any]) -> List[str]:
    paths = [os.path.join(run_dir, JSON_NAME), os.path.join(run_dir, MARKDOWN_NAME)]
    for path, text in zip(paths, (json.dumps(summary, indent=1, sort_keys=True) + "\n", markdown(summary))):
        temporary = path + ".tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    return paths


def read(run_dir: str) -> Optional[Dict[str, Any]]:
    try:
        with open(os.path.join(run_dir, JSON_NAME), encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def _ids(items: List[Any], limit: int = 12) -> str:
    names = [i if isinstance(i, str) else i.get("trial_id", "?") for i in items]
    return ", ".join(names[:limit]) + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def markdown(s: Dict[str, Any]) -> str:
    t = s["trials"]
    lines = [
        f"# optbench nightly: {s['suite']}, night {s['night']}: {s['verdict']} (exit {s['exit_code']})",
        "",
    ]
    lines.append(f"- run: `{s['run_dir']}`" + (f"; report: `{s['report']}`" if s.get("report") else ""))
    nights = s.get("trials_by_night") or {}
    if len(nights) > 1:
        lines.append(
            "- this run spans nights: " + ", ".join(f"{n} ({c} trials)" for n, c in sorted(nights.items()))
        )
    statuses = ", ".join(f"{n} {k}" for k, n in sorted(t["by_status"].items())) or "none"
    lines.append(f"- trials: {t['recorded']} of {t['planned']} recorded ({statuses}); {t['ran_tonight']} ran tonight"
                 + ("" if t["finished"] else "; the run is not finished"))  # fmt: skip
    lines.append("- power mode: {}; jetson_clocks: {}".format(
        (s.get("power_mode") or {}).get("name", "unknown") if s.get("power_mode") else "unknown",
        {True: "on", False: "off"}.get(s.get("jetson_clocks"), "unknown")))  # fmt: skip
    if s["deferred"]:
        lines.append(
            f"- deferred to the next night by the window: {len(s['deferred'])} ({_ids(s['deferred'])})"
        )
    for key, title in (("not_run", "not run"), ("failed", "failed (recorded as data)"), ("throttled", "throttled"),
                       ("unstable", "timing unstable")):  # fmt: skip
        if s[key]:
            lines.append(f"- {title}: {len(s[key])} ({_ids(s[key])})")
    for item in s["partial_telemetry"]:
        lines.append("- partial telemetry: {} ({} gap(s), {:.1f} s without samples: {})".format(
            item["trial_id"], item["gaps"], item["lost_s"], "; ".join(item["reasons"])))  # fmt: skip
    for warning in s["telemetry_warnings"]:
        lines.append(f"- telemetry: {warning}")
    for entry in s.get("retention") or []:
        lines.append("- retention: pruned {} from {}".format(", ".join(entry["files"]), entry["run_dir"]))
    for error in s.get("errors") or []:
        lines.append(f"- step failed: {error}")
    compare = s.get("compare")
    if compare:
        lines += [
            "",
            f"## Against the baseline: {compare['verdict']}",
            "",
            f"baseline: {compare['baseline']}",
        ]
        lines += [f"- not comparable: {d}" for d in compare["not_comparable"]]
        for cell in compare["regressions"] + compare["insufficient"]:
            ratio = "" if cell.get("ratio") is None else " ratio {:.3f}".format(cell["ratio"])
            lines.append(f"- {cell['verdict']}: {cell['problem']} {cell['configuration']} {cell['metric']}{ratio}"
                         + (f" ({cell['note']})" if cell.get("note") else ""))  # fmt: skip
        if any(compare.get("unmatched") or []):
            lines.append(
                "- configurations in one side only: {} baseline, {} tonight".format(*compare["unmatched"])
            )
    history = s.get("history")
    if history:
        lines += ["", f"## History: {history['verdict']}", "", history["note"]]
        for change in history["new"]:
            lines.append("- new {}: {} {} {} ratio {:.3f} ({} -> {})".format(
                "regression" if change["regression"] else "improvement", change["metric"], change["kind"],
                change["configuration"], change["ratio"], change["run_before"], change["run_after"]))  # fmt: skip
    left = s.get("left_for_analysis")
    if left:
        lines += ["", "## Left for another Python", "", left["why"], "", "Steps left: " + ", ".join(left["steps"]),
                  "", "```sh", left["command"], "```"]  # fmt: skip
    return "\n".join(lines) + "\n"
