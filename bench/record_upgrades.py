"""Reading older results: the explicit chain that lifts every older schema version to this one.

Each step takes a trial record (or a manifest) of version N and returns one of version N + 1.
Readers run the chain up to bench.record.SCHEMA_VERSION, so a run written by any earlier
optbench stays readable; they refuse only a version newer than their own, naming it. Golden
directories under tests/golden/ pin what each version looked like.
"""

from typing import Any, Callable, Dict

from bench import stability
from bench.record import SCHEMA_VERSION

Step = Callable[[Dict[str, Any]], Dict[str, Any]]


def check_version(version: Any, what: str) -> int:
    """``version`` if this optbench can read it; ValueError naming it otherwise."""
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"{what} has schema version {version!r}; expected a whole number from 1")
    if version > SCHEMA_VERSION:
        raise ValueError(
            f"{what} has schema version {version}, newer than this optbench reads "
            f"(1 to {SCHEMA_VERSION}); upgrade optbench to read it"
        )
    return version


def _record_1_to_2(data: Dict[str, Any]) -> Dict[str, Any]:
    data = dict(data)
    # Version 1 left the thread count to torch and recorded what it was: that is the setting.
    data["config"] = dict(data["config"], threads=data.get("num_threads"))
    # Version 1's train_time_s and time_to_target_s were already the timed segments' wall
    # time, and its step-time summary is all the verdict needs: it is judged as version 2 would.
    verdict, reason = stability.judge(
        data.get("step_time_median_s"), data.get("step_time_iqr_s"),
        data.get("step_time_samples") or 0, data.get("train_time_s"),
    )  # fmt: skip
    data["stability"], data["stability_reason"] = verdict.value, reason
    data["schema"] = 2
    return data


def _manifest_1_to_2(manifest: Dict[str, Any]) -> Dict[str, Any]:
    return dict(manifest, schema=2)


def _record_2_to_3(data: Dict[str, Any]) -> Dict[str, Any]:
    # Version 3 added the landscape problems and trajectories.csv beside the records; a
    # version-2 run has neither, and its records mean what they meant.
    return dict(data, schema=3)


def _manifest_2_to_3(manifest: Dict[str, Any]) -> Dict[str, Any]:
    return dict(manifest, schema=3)


def _record_3_to_4(data: Dict[str, Any]) -> Dict[str, Any]:
    # Before version 4 every trial was timed alone, on the machine its run's manifest names.
    return dict(data, schema=4, timing_shared=None, environment=None)


def _manifest_3_to_4(manifest: Dict[str, Any]) -> Dict[str, Any]:
    return dict(manifest, schema=4)


RECORD_STEPS = {1: _record_1_to_2, 2: _record_2_to_3, 3: _record_3_to_4}  # type: Dict[int, Step]
MANIFEST_STEPS = {1: _manifest_1_to_2, 2: _manifest_2_to_3, 3: _manifest_3_to_4}  # type: Dict[int, Step]


def _run_chain(data: Dict[str, Any], steps: Dict[int, Step], what: str) -> Dict[str, Any]:
    version = check_version(data.get("schema"), what)
    while version < SCHEMA_VERSION:
        data = steps[version](data)
        version += 1
    return data


def upgrade_record(data: Dict[str, Any]) -> Dict[str, Any]:
    return _run_chain(data, RECORD_STEPS, "trial record")


def upgrade_manifest(manifest: Dict[str, Any]) -> Dict[str, Any]:
    """The manifest at this version; ``written_schema`` keeps the version it was written in."""
    written = check_version(manifest.get("schema"), "manifest")
    return dict(_run_chain(manifest, MANIFEST_STEPS, "manifest"), written_schema=written)


def curve_time_scales(
    written_schema: int, last_time_s: Dict[str, float], train_time_s: Dict[str, float]
) -> Dict[str, float]:
    """Per trial, the factor that lifts its curve's ``time_s`` to this version (1 where none).

    Version 1's curves counted time as the sum of step times, which falls short of the
    training time by the loop's own work between steps; each version-1 curve is scaled so
    that it ends at the record's train_time_s, as version 2 measures it. ``last_time_s`` is
    each trial's last curve time as written."""
    if written_schema >= 2:
        return {}
    return {
        trial: train_time_s[trial] / end
        for trial, end in last_time_s.items()
        if end and train_time_s.get(trial)
    }
