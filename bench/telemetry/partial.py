"""When a trial's telemetry covers only part of it: one rule for the nightly summary and the
report. Standard library only (the Nano's Python 3.6 writes the summary)."""

from typing import Any, Dict, Optional


def source_intervals(manifest: Dict[str, Any]) -> Dict[str, float]:
    """Each active telemetry source's sampling interval, as the run's manifest records it."""
    sources = (manifest.get("telemetry") or {}).get("sources") or {}
    return {name: float(entry.get("interval_s") or 0.0) for name, entry in sources.items()
            if isinstance(entry, dict) and entry.get("active")}  # fmt: skip


def partial_telemetry(trial_id: str, figures: Optional[Dict[str, Any]], intervals: Dict[str, float]):
    """Why a trial's telemetry is partial, or None: a source was lost during it (a gap: jtop
    died), or an active source gave no sample in a trial lasting three of its intervals (it
    hung). A trial shorter than that may fall between two samples: that is not a failure.
    ``figures``: the record's telemetry (bench.telemetry.figures.trial_figures)."""
    if not figures:
        return None
    gaps = figures.get("gaps") or []
    window = float(figures.get("window_s") or 0.0)
    silent = [f"{source} gave no sample in the trial's {window:.1f} s (the service hung?)"
              for source, count in sorted((figures.get("samples") or {}).items())
              if not count and source in intervals and window >= 3 * intervals[source]]  # fmt: skip
    if not gaps and not silent:
        return None
    reasons = sorted({str(g.get("reason")) for g in gaps}) + silent
    lost = sum(float(g.get("overlap_s") or 0.0) for g in gaps)
    return {"trial_id": trial_id, "gaps": len(gaps), "lost_s": round(lost, 3), "reasons": reasons}
