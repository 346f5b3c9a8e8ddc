"""What a dask worker says about itself before any trial: its environment fingerprint and its
tags (device kind, board, power mode, host), and how its versions differ from the client's.

The tags route cells: ``device: cuda`` cells go only to workers with CUDA, and a suite's
``executor.workers`` keeps its cells on the workers whose tags match."""

from typing import Any, Dict, List, Optional, Tuple

from bench.environment import fingerprint

# A worker whose Python (major.minor), torch or optbench differs from the client's would run
# other code than the client planned: refused unless --allow-mismatch. Other differences
# (Python's patch level, numpy, the git commit) are reported and allowed.
MUST_MATCH = ("python_minor", "torch", "optbench")
SHOULD_MATCH = ("python", "numpy", "git_commit")


def describe() -> Dict[str, Any]:
    """Run on the worker: its fingerprint, its power mode ({"id", "name"} as the manifest's
    telemetry records it, or None) and its tags."""
    found = fingerprint()
    mode = _power_mode() if found.get("board") else None
    return {"environment": found, "nvpmodel": mode, "tags": tags(found, mode)}


def tags(found: Dict[str, Any], mode: Optional[Dict[str, Any]]) -> Dict[str, str]:
    board = found.get("board")
    return {
        "device": "cuda" if found.get("cuda_available") else "cpu",
        "board": board or "none",
        "power_mode": "none" if not board else str(mode.get("name")) if mode else "unknown",
        "host": found.get("host") or "unknown",
    }


def _power_mode() -> Optional[Dict[str, Any]]:
    """The nvpmodel mode on a Jetson, through jtop, else `nvpmodel -q`; None if unreadable."""
    from bench.nightly import power

    return power.probe().power_mode


def _versions(found: Dict[str, Any]) -> Dict[str, Any]:
    python = str(found.get("python") or "")
    return dict(found, python_minor=".".join(python.split(".")[:2]))


def differences(client: Dict[str, Any], worker: Dict[str, Any]) -> Tuple[List[str], List[str]]:
    """(what must match and does not, what should match and does not), as 'field: worker X, here Y'."""
    here, there = _versions(client), _versions(worker)
    must = [
        f"{k}: {there.get(k)} there, {here.get(k)} here" for k in MUST_MATCH if here.get(k) != there.get(k)
    ]
    should = [
        f"{k}: {there.get(k)} there, {here.get(k)} here"
        for k in SHOULD_MATCH
        # a different minor version is already said once, above
        if here.get(k) != there.get(k)
        and not (k == "python" and here["python_minor"] != there["python_minor"])
    ]
    return must, should


def matches(wanted: Tuple[Tuple[str, Tuple[str, ...]], ...], worker_tags: Dict[str, str]) -> bool:
    """Whether a worker with ``worker_tags`` is one that ``executor.workers`` asks for."""
    return all(worker_tags.get(tag) in values for tag, values in wanted)


def can_run_device(device: str, worker_tags: Dict[str, str], environment: Dict[str, Any]) -> bool:
    """cuda cells only on workers with CUDA (cuda:N on those with more than N GPUs); cpu and
    auto anywhere (auto resolves on the worker, and the record says what it became)."""
    if not device.startswith("cuda"):
        return True
    if worker_tags.get("device") != "cuda":
        return False
    return ":" not in device or int(device.split(":")[1]) < len(environment.get("gpus") or [])
