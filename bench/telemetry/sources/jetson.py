"""Jetson boards through jtop (jetson-stats 4.3 on the Nano's Python 3.6, and 7.x).

Facts this relies on (measured against the real server; shared/notes/jetson-stats.md):
* ``power['tot']`` is the board-input rail itself (POM_5V_IN on a Nano, VDD_IN on an Orin
  Nano), moved out of ``power['rail']`` and carrying its ``name``; on a board with no such
  rail jtop sums the rails and gives no name. Values are integer mW.
* ``avg`` is not a time average (each sample sets it to (power + previous avg) // 2), so we
  integrate ``power`` ourselves and never read ``avg``.
* An unreadable thermal sensor reads -256 with ``online: False``: that is no reading.
* The server pushes at the interval its client asks for, shared by every client; a sample is
  stamped with our clock when it arrives (within one interval of the sysfs change).
"""

import contextlib
import importlib.util
import os
import platform
import threading
import time
from typing import Any, Dict, Optional

from .base import Lost, Readings, Source, Unavailable
from .jetson_sysfs import passive_trip_points, read_l4t_release

SOCKET = "/run/jtop.sock"
OFFLINE_TEMP = -256
HANDSHAKE_TRIES = 3
# How long a handshake may take before the service counts as hung. A live service answers in
# well under a second (the tests' simulated board, and jtop's own clients); a hung one never
# does, and the night must go on without it.
HANDSHAKE_TIMEOUT_S = 15.0


def explain_failure(error: BaseException, socket: str = SOCKET, client_version: Optional[str] = None) -> str:
    """A reason a person can act on, from whatever jtop's client raised at start."""
    text = " ".join(str(error).split())
    if isinstance(error, ImportError):
        return f"jetson-stats is not installed (pip install jetson-stats): {text}"
    if "Mismatch version" in text or "Mismatch of Python" in text:
        return (
            f"jtop client/service version mismatch ({text}); install the jetson-stats version the "
            "service runs, or restart the service after upgrading"
        )
    if "can't access" in text or isinstance(error, PermissionError):
        return (
            f"permission denied on {socket} (it is readable by root and the jtop group only): "
            "sudo usermod -aG jtop $USER, then log in again"
        )
    if isinstance(error, (EOFError, BrokenPipeError, ConnectionResetError)):
        # what a client meets when the service speaks another jetson-stats or Python
        # version's protocol (measured: a 4.3 client on Python 3.6 against a 7.x service)
        return (
            "jtop service dropped the connection during the handshake ({}, 3 tries): "
            "usually a jetson-stats or Python version mismatch between this client "
            "(jetson-stats {}, Python {}) and the service".format(
                type(error).__name__, client_version or "?", platform.python_version()
            )
        )
    if "not active" in text or not os.path.exists(socket):
        return not_running(socket)
    return f"jtop failed to start: {type(error).__name__}: {text}"


def not_running(socket: str = SOCKET) -> str:
    return f"jtop service not running ({socket} absent or refusing): sudo systemctl restart jtop.service"


class JetsonSource(Source):
    name = "jetson"

    def __init__(self, interval_s: float) -> None:
        super().__init__(interval_s)
        self._jetson = None
        self._version = None  # type: Optional[str]
        self.power_scope = None
        self._lost = False  # the service stopped answering this client (see close)
        self._pending = None  # type: Optional[threading.Thread]  # a handshake still waiting

    def open(self) -> None:
        if not os.path.exists(SOCKET) and importlib.util.find_spec("jtop") is not None:
            # No service to talk to. Said before importing jtop: its import and its client's
            # failed start and close cost ~0.17 s of every run on a machine that is no Jetson.
            raise Unavailable(not_running())
        try:
            import jtop as jtop_module  # jetson-stats; imported only when this source is used
        except ImportError as error:
            raise Unavailable(explain_failure(error)) from error
        self._version = getattr(jtop_module, "__version__", None)
        if self._pending is not None and self._pending.is_alive():
            # one handshake at a time: a reconnect every few seconds must not pile up threads
            raise Unavailable("jtop has not answered the last handshake (the service hung?)")
        for attempt in range(HANDSHAKE_TRIES):
            client = jtop_module.jtop(interval=self.interval_s)
            try:
                if not self._start_within(client, HANDSHAKE_TIMEOUT_S):
                    _forget_server_references(client)
                    raise Unavailable(
                        f"jtop did not answer its handshake within {HANDSHAKE_TIMEOUT_S:.0f} s (the service hung?)"
                    )
                break
            except Unavailable:
                raise  # not closed: its close() would wait on the handshake's thread
            except (EOFError, BrokenPipeError, ConnectionResetError) as error:
                # seen from a service that has just (re)started; a persistent one is a mismatch
                _close_quietly(client)
                if attempt + 1 == HANDSHAKE_TRIES:
                    reason = explain_failure(error, client_version=self._version)
                    raise Unavailable(reason) from error
                time.sleep(0.5)
            except Exception as error:  # jtop raises JtopException, OSError, queue.Empty, ...
                _close_quietly(client)
                reason = explain_failure(error, client_version=self._version)
                raise Unavailable(reason) from error
        self._jetson = client
        self._lost = False
        self.power_scope = self._power_scope()

    def _start_within(self, client, timeout_s: float) -> bool:
        """client.start() on a daemon thread, waited for ``timeout_s``: a hung service accepts
        the connection and never answers the handshake (False then; the thread stays blocked,
        and is the one pending handshake). Its exceptions are raised here."""
        outcome = {}  # type: Dict[str, BaseException]

        def start() -> None:
            try:
                client.start()
            except BaseException as error:  # noqa: BLE001 -- handed to the caller's thread
                outcome["error"] = error

        thread = threading.Thread(target=start, name="jtop-handshake")
        thread.daemon = True  # never keeps the process alive
        thread.start()
        thread.join(timeout_s)
        if thread.is_alive():
            self._pending = thread
            return False
        if "error" in outcome:
            raise outcome["error"]
        return True

    def _power_scope(self) -> Optional[str]:
        power = self._jetson.power or {}
        total = power.get("tot")
        if not total:
            return None
        if total.get("name"):
            return "board input rail {} (jtop power['tot'])".format(total["name"])
        return "sum of the rails {} (this board has no input rail)".format(
            ", ".join(sorted(power.get("rail", {})))
        )

    def info(self) -> Dict[str, Any]:
        j = self._jetson
        info = {
            "jetson_stats": self._version,
            "server_interval_s": _attempt(lambda: float(j.interval)),
            "power_scope": self.power_scope,
            "rails": sorted((j.power or {}).get("rail", {})),
            "board": _attempt(lambda: _jsonable(j.board.get("hardware", {}))),
            "l4t": read_l4t_release(),
            "nvpmodel": _attempt(lambda: {"id": j.nvpmodel.id, "name": j.nvpmodel.name}),
            "jetson_clocks": _attempt(lambda: bool(j.jetson_clocks)),
            "fan": _attempt(lambda: _jsonable(j.fan)),
            "trip_points_c": self.trip_points_c(),
        }
        hardware = info["board"] or {}
        if hardware.get("L4T"):
            info["l4t"] = hardware["L4T"]
        info["jetpack"] = hardware.get("Jetpack")
        if j.nvpmodel is None:
            info["nvpmodel"] = None
        if j.jetson_clocks is None:
            info["jetson_clocks"] = None
        return info

    def trip_points_c(self) -> Dict[str, float]:
        return passive_trip_points()

    def run(self, emit, stop) -> None:
        j = self._jetson
        while not stop.is_set():
            try:
                fresh = j.ok()  # blocks until the server pushes the next sample
            except Exception as error:
                self._lost = True
                raise Lost(f"jtop connection lost: {type(error).__name__}: {error}") from error
            if not fresh:
                self._lost = True
                raise Lost(f"jtop sent nothing for {3 * self.interval_s:.1f} s (service stopped or hung)")
            emit(self.readings())

    def readings(self) -> Readings:
        j = self._jetson
        out = []  # type: Readings
        power = j.power or {}
        total = power.get("tot")
        if total and "power" in total:
            out.append(("power_w.total", total["power"] / 1000.0))
        for rail, values in sorted(power.get("rail", {}).items()):
            if values.get("online", True) and "power" in values:
                out.append(("power_w." + rail, values["power"] / 1000.0))
        for zone, values in sorted((j.temperature or {}).items()):
            temp = values.get("temp")
            if values.get("online", True) and temp is not None and temp > OFFLINE_TEMP:
                out.append(("temp_c." + zone, float(temp)))
        out.extend(_gpu_readings(j.gpu))
        out.extend(_cpu_readings(j.cpu))
        out.extend(_memory_readings(j.memory))
        for fan in (j.fan or {}).values():
            speeds = fan.get("speed") or []
            if speeds:
                out.append(("fan_pct", float(speeds[0])))
                break
        nvp = j.nvpmodel
        if nvp is not None:
            out.append(("nvpmodel_id", _attempt(lambda: float(nvp.id))))
        if j.jetson_clocks is not None:
            out.append(("jetson_clocks", _attempt(lambda: 1.0 if j.jetson_clocks else 0.0)))
        return out

    def close(self) -> None:
        if self._jetson is not None:
            if self._lost:
                _forget_server_references(self._jetson)
            _close_quietly(self._jetson)
            self._jetson = None


def _gpu_readings(gpu) -> Readings:
    for values in (gpu or {}).values():  # the integrated GPU is the first (and only) one
        status = values.get("status", {})
        freq = values.get("freq", {})
        out = []  # type: Readings
        if "load" in status:
            out.append(("gpu_load_pct", float(status["load"])))
        if freq.get("cur") is not None:
            out.append(("gpu_freq_mhz", freq["cur"] / 1000.0))  # jtop gives kHz
        if freq.get("max"):
            out.append(("gpu_freq_max_mhz", freq["max"] / 1000.0))
        return out
    return []


def _cpu_readings(cpu) -> Readings:
    out = []  # type: Readings
    if not cpu:
        return out
    total = cpu.get("total", {})
    if "idle" in total:
        out.append(("cpu_load_pct", 100.0 - float(total["idle"])))
    ratios = []
    for core in cpu.get("cpu", []):
        freq = core.get("freq") or {}
        if core.get("online") and freq.get("cur") and freq.get("max"):
            ratios.append(float(freq["cur"]) / float(freq["max"]))
    if ratios:
        out.append(("cpu_freq_ratio", sum(ratios) / len(ratios)))
    return out


def _memory_readings(memory) -> Readings:
    out = []  # type: Readings
    ram = (memory or {}).get("RAM", {})
    if "used" in ram:
        # jtop gives kB. CPU and GPU share this RAM on a Jetson: 'used' includes the GPU's part
        out.append(("ram_used_bytes", ram["used"] * 1024.0))
        out.append(("ram_total_bytes", ram.get("tot", 0) * 1024.0 or None))
    if ram.get("shared") is not None:
        out.append(("gpu_shared_bytes", ram["shared"] * 1024.0))
    swap = (memory or {}).get("SWAP", {})
    if "used" in swap:
        out.append(("swap_used_bytes", swap["used"] * 1024.0))
    return out


def _attempt(fn):
    try:
        return fn()
    except Exception:
        return None


def _jsonable(value):
    if isinstance(value, dict) or hasattr(value, "items"):  # jtop's Fan is a Mapping, not a dict
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _forget_server_references(client) -> None:
    """Cancel the exit-time finalizers of a lost client's proxies (its shared data, event and
    queue). At exit, multiprocessing tells the server to drop each proxy's reference, and with
    a service that hangs (alive, answering nothing: jetson_stats #485) that call never returns:
    the night's process wrote its summary and then never exited, so a systemd unit would stay
    active and block every later night. A service that has died refuses the call at once; one
    that hangs is left its three references, which it frees when it restarts."""
    from multiprocessing.managers import BaseProxy

    for value in list(vars(client).values()):
        finalizer = getattr(value, "_close", None) if isinstance(value, BaseProxy) else None
        if finalizer is not None:
            finalizer.cancel()


def _close_quietly(client) -> None:
    with contextlib.suppress(Exception):
        client.close()
