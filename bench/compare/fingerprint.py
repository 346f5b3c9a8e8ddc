"""May two sides be compared at all? Their machines' fingerprints must agree.

Like pyperf, which refuses to compare runs from different machines: a "regression" between a
Jetson in 5 W mode and one at MAXN, or between torch 1.10 and 2.x, says nothing about the
code. Listing what differs lets a user see why, and allow a field on purpose.
"""

from typing import Any, Dict, List, Sequence

FIELDS = ("machine", "cpu", "cpu_count", "board", "power_mode", "torch", "cuda", "gpus")


def differences(baseline: Sequence[Dict[str, Any]], candidate: Sequence[Dict[str, Any]],
                allowed: Sequence[str] = ()) -> List[str]:  # fmt: skip
    """'torch: 2.13.0+cpu (baseline) vs 1.10.2 (candidate)' for each field that differs and
    is not allowed; empty when the sides may be compared."""
    found = []
    for field in FIELDS:
        if field in allowed:
            continue
        ours = sorted({repr(m.get(field)) for m in baseline})
        theirs = sorted({repr(m.get(field)) for m in candidate})
        if ours != theirs:
            found.append(f"{field}: {', '.join(ours)} (baseline) vs {', '.join(theirs)} (candidate)")
    return found


def setting_differences(baseline_trials, candidate_trials, allowed: Sequence[str] = ()) -> List[str]:
    """The same cells run with other threads or on another device (per-trial settings)."""
    found = []
    for field in ("threads", "device"):
        if field in allowed:
            continue
        ours = sorted({str(v) for v in baseline_trials[field].dropna()})
        theirs = sorted({str(v) for v in candidate_trials[field].dropna()})
        if ours and theirs and ours != theirs:
            found.append(f"{field}: {', '.join(ours)} (baseline) vs {', '.join(theirs)} (candidate)")
    return found
