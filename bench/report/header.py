"""The report's header: what ran, where, when, and how it ended, as (label, text) pairs.

Both the Markdown and the HTML show these same facts; they escape them, once, themselves.
"""

import datetime
from typing import Any, Dict, List, Optional, Tuple

from bench.report.data import ReportData, machine_label

Facts = List[Tuple[str, str]]


def _when(text: Optional[str]) -> Optional[datetime.datetime]:
    try:
        return datetime.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {(seconds % 3600) // 60:02d} min"


def run_facts(data: ReportData) -> Facts:
    manifest = data.manifest
    started, finished = _when(manifest.get("started_at")), _when(manifest.get("finished_at"))
    when = manifest.get("started_at") or "unknown"
    if started and finished:
        when += f", finished after {_duration((finished - started).total_seconds())}"
    elif not finished:
        when += ", not finished (interrupted, or still running)"
    counts = data.trials["status"].value_counts()
    tally = ", ".join(f"{int(n)} {status}" for status, n in counts.items())
    judged = data.trials[data.trials["stability"] != "unknown"]
    unstable = int((judged["stability"] == "unstable").sum())
    facts = [
        ("suite", "{} ({})".format(manifest.get("suite"), manifest.get("suite_path"))),
        ("run", "{}, results schema {} (written in {})".format(
            manifest.get("run_id"), manifest.get("schema"), manifest.get("written_schema"))),
        ("date", when),
        ("trials", f"{len(data.trials)} of {manifest.get('trials_planned')} planned: {tally}"),
        ("timing", f"{unstable} of {len(judged)} judged trials unstable; {len(data.trials) - len(judged)} too short to judge"),
    ]  # fmt: skip
    if "timing_shared" in data.trials:
        shared = data.trials["timing_shared"].dropna().value_counts()
        if len(shared):
            facts.append(("timing shared", ", ".join(f"{int(n)} trials {how}" for how, n in shared.items())
                          + ": timed beside other trials, their times and energy are not their own"
                          " and are left out of time verdicts"))  # fmt: skip
    if "night" in data.trials:
        per_night = data.trials["night"].value_counts().sort_index()
        spread = " (a nightly window deferred the later night's trials; the trial table says which ran when)"
        facts.append(("nights" if len(per_night) > 1 else "night",
                      ", ".join(f"{night}: {int(n)} trials" for night, n in per_night.items())
                      + (spread if len(per_night) > 1 else "")))  # fmt: skip
    if manifest.get("resumed"):
        facts.append(
            ("resumed", f"{manifest['resumed']} time(s); each resumption's machine is in the manifest")
        )
    for note in manifest.get("plan_notes") or []:
        facts.append(("plan", note))
    for warning in manifest.get("warnings") or []:
        facts.append(("warning", warning))
    return facts


def worker_facts(data: ReportData) -> Facts:
    """Which machines ran the trials, where that is not only the manifest's (a dask run)."""
    if "machine" not in data.trials:
        return []
    counts = {}  # type: Dict[str, int]
    for label in data.trials["machine"]:
        counts[label] = counts.get(label, 0) + 1
    listed = "; ".join(f"{label}: {n} trials" for label, n in sorted(counts.items()))
    if len(counts) == 1:
        return [("ran on", listed)]
    return [("ran on", listed + ". Times and energy of different machines are not comparable: the "
             "step-time figures keep them apart, the appendix's machine column says which trial ran where")]  # fmt: skip


def machine_facts(manifest: Dict[str, Any]) -> Facts:
    env = manifest.get("environment") or {}
    telemetry = manifest.get("telemetry") or {}
    facts = [("machine", machine_label(env)), ("os", str(env.get("os")))]
    nvpmodel = telemetry.get("nvpmodel")
    if nvpmodel or telemetry.get("jetson_clocks") is not None:
        facts.append(
            (
                "power mode",
                "{}; jetson_clocks {}".format(nvpmodel or "unknown", telemetry.get("jetson_clocks")),
            )
        )
    cuda = (
        "CUDA {} ({})".format(env.get("cuda"), ", ".join(env.get("gpus") or []))
        if env.get("cuda_available")
        else "no CUDA"
    )
    facts.append(("software", "Python {}, torch {}, numpy {}, {}".format(
        env.get("python"), env.get("torch"), env.get("numpy"), cuda)))  # fmt: skip
    commit = env.get("git_commit")
    version = "optbench {}".format(env.get("optbench"))
    if commit:
        version += " at {}{}".format(commit[:10], " (uncommitted changes)" if env.get("git_dirty") else "")
    facts.append(("optbench", version))
    active = telemetry.get("active")
    facts.append(("telemetry", ", ".join(active) if active else "none"))
    return facts
