"""The board's power mode (nvpmodel) and jetson_clocks state before a night starts, and the
check behind ``--require-power-mode``.

Read through the telemetry layer's own jtop source (the facts the manifest's telemetry block
records, bench.telemetry.sources.jetson); where jtop cannot be reached, ``nvpmodel -q``
(readable without root on JetPack), which gives the mode but not jetson_clocks. The run's
manifest records both again from its telemetry, when the suite samples the jetson source.
"""

import subprocess
from dataclasses import dataclass
from typing import Any, Dict, List, Optional


@dataclass(frozen=True)
class BoardState:
    power_mode: Optional[Dict[str, Any]]  # {"id": 0, "name": "MAXN"}, or None where unknown
    jetson_clocks: Optional[bool]
    source: Optional[str]  # "jtop" or "nvpmodel -q"
    reason: Optional[str]  # why the mode is unknown

    def to_json(self) -> Dict[str, Any]:
        return {"power_mode": self.power_mode, "jetson_clocks": self.jetson_clocks, "source": self.source,
                "reason": self.reason}  # fmt: skip


def _from_jtop() -> BoardState:
    from bench.telemetry.sources.base import Unavailable
    from bench.telemetry.sources.jetson import JetsonSource

    source = JetsonSource(1.0)
    try:
        source.open()
    except Unavailable as error:
        return BoardState(None, None, None, str(error))
    try:
        info = source.info()
    finally:
        source.close()
    mode = info.get("nvpmodel")
    return BoardState(mode, info.get("jetson_clocks"), "jtop", None if mode else "jtop reports no nvpmodel")


def _from_nvpmodel(timeout_s: float = 20.0) -> BoardState:
    try:
        done = subprocess.run(["nvpmodel", "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=timeout_s)  # fmt: skip
    except FileNotFoundError:
        return BoardState(None, None, None, "nvpmodel is not installed (not a Jetson?)")
    except (OSError, subprocess.SubprocessError) as error:
        return BoardState(None, None, None, f"nvpmodel -q failed: {error}")
    mode = parse_nvpmodel(done.stdout)
    if done.returncode != 0 or mode is None:
        return BoardState(None, None, None, "nvpmodel -q gave no mode (exit {}): {}".format(
            done.returncode, " ".join((done.stdout + done.stderr).split())[:200]))  # fmt: skip
    return BoardState(mode, None, "nvpmodel -q", None)


def parse_nvpmodel(text: str) -> Optional[Dict[str, Any]]:
    """``NV Power Mode: MAXN`` then the mode's id on the next line, as JetPack prints them."""
    name, number = None, None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("NV Power Mode:"):
            name = line.split(":", 1)[1].strip()
        elif name is not None and number is None and line.isdigit():
            number = int(line)
    return None if name is None else {"id": number, "name": name}


def probe() -> BoardState:
    found = _from_jtop()
    if found.power_mode is not None:
        return found
    fallback = _from_nvpmodel()
    if fallback.power_mode is not None:
        return fallback
    return BoardState(None, found.jetson_clocks, None, f"{found.reason}; {fallback.reason}")


def same_mode(required: str, mode: Optional[Dict[str, Any]]) -> bool:
    """A required mode names a mode by name (case-insensitive) or by its id."""
    if not mode:
        return False
    wanted = required.strip().lower()
    return wanted == str(mode.get("name", "")).lower() or wanted == str(mode.get("id"))


def describe(mode: Optional[Dict[str, Any]]) -> str:
    if not mode:
        return "unknown"
    return "{} (id {})".format(mode.get("name"), mode.get("id"))


def check_required(
    required: str, board: BoardState, baseline_modes: List[Optional[Dict[str, Any]]]
) -> Optional[str]:
    """Why the night must not run (None when it may): the board is not in the required mode,
    the mode cannot be read, or the baseline was measured in another mode."""
    if board.power_mode is None:
        return f"--require-power-mode {required}: cannot read the board's power mode ({board.reason})"
    if not same_mode(required, board.power_mode):
        return (f"--require-power-mode {required}: the board is in power mode {describe(board.power_mode)}; "
                f"set it with `sudo nvpmodel -m <id>` (see /etc/nvpmodel.conf for the ids), or require that mode")  # fmt: skip
    known = [m for m in baseline_modes if m]
    others = [m for m in known if not same_mode(required, m)]
    if others:
        return (f"--require-power-mode {required}: the baseline was measured in power mode {describe(others[0])}, "
                "so tonight's run could not be compared with it; require the baseline's mode, or save a "
                f"baseline measured in {required}")  # fmt: skip
    return None
