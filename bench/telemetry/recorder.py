"""The recorder: opens the sources, samples them on background threads, slices per trial.

One daemon thread per active source (a jtop client blocks until the server pushes, tegrastats
blocks on its pipe, the polled sources sleep between reads) and one that flushes
telemetry.csv every few seconds. The training thread only ever calls trial_begin/trial_end,
which read what the samplers stored. Timestamps come from the clock the runner passes
(time.perf_counter), the trainer's clock, so train_start/train_end slice the samples directly.
"""

import contextlib
import logging
import threading
import time
from typing import Any, Callable, Dict, List, Optional

from . import registry
from .config import TelemetryConfig
from .figures import ActiveSource, IdleBaseline, source_energy, trial_figures
from .samples import SampleStore
from .sources.base import Lost, Source, Unavailable

log = logging.getLogger(__name__)

FLUSH_EVERY_S = 2.0
RECONNECT_FIRST_S = 1.0
RECONNECT_MAX_S = 10.0
# Series whose every value over the run matters (kept aside: old samples are pruned).
TRACKED = ("nvpmodel_id", "jetson_clocks")
# Keys of a source's info() that describe the board, copied to the top of the manifest.
BOARD_FACTS = ("board", "l4t", "jetpack", "nvpmodel", "jetson_clocks", "fan")


class Recorder:
    def __init__(
        self,
        config: TelemetryConfig,
        clock: Callable[[], float] = time.perf_counter,
        samples_path: Optional[str] = None,
        sources: Optional[List[Source]] = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self._clock = clock
        self._sleep = sleep  # how the idle baseline lets time pass (tests drive it)
        self._samples_path = samples_path
        self._store = None  # type: Optional[SampleStore]
        if sources is not None:
            self._candidates = list(sources)
            for src in self._candidates:
                registry.spec(src.name)  # an injected source must be a registered one
        else:
            names = config.source_names()
            self._candidates = [registry.make_source(n, config.interval_for(n)) for n in names]
        self._active = []  # type: List[Source]
        self._unavailable = {}  # type: Dict[str, str]
        self._info = {}  # type: Dict[str, Dict[str, Any]]
        self._views = []  # type: List[ActiveSource]
        self._threads = []  # type: List[threading.Thread]
        self._stop = threading.Event()
        self._offsets = {}  # type: Dict[tuple, float]
        self._last_counter = {}  # type: Dict[tuple, float]
        self._seen = {}  # type: Dict[tuple, set]
        self._idle = None  # type: Optional[IdleBaseline]
        self._trials = 0
        self._throttled = []  # type: List[str]
        self._cooldown_timeouts = 0
        self._started = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self._store = SampleStore(self._samples_path)
        for src in self._candidates:
            spec = registry.spec(src.name)
            covered = [other for other in spec.steps_aside_for if self._has(other)]
            if self.config.auto and covered:
                self._unavailable[src.name] = f"not needed: the {covered[0]} source is active"
                continue
            try:
                src.open()
                self._info[src.name] = src.info()
                trips = src.trip_points_c()
            except Unavailable as error:
                self._unavailable[src.name] = str(error)
                src.close()
                continue
            except Exception as error:  # a source must never stop the run
                self._unavailable[src.name] = f"{type(error).__name__}: {error}"
                src.close()
                continue
            self._active.append(src)
            self._views.append(ActiveSource(src.name, src.interval_s, src.power_scope, trips, spec))
        for src in self._active:
            thread = threading.Thread(target=self._sample_loop, args=(src,), name="telemetry-" + src.name)
            thread.daemon = True  # a hung source must not keep the process alive
            thread.start()
            self._threads.append(thread)
        flusher = threading.Thread(target=self._flush_loop, name="telemetry-flush")
        flusher.daemon = True
        flusher.start()
        self._threads.append(flusher)

    def close(self) -> None:
        if not self._started or self._stop.is_set():
            return
        self._stop.set()
        for src in self._active:
            with contextlib.suppress(Exception):
                src.close()  # unblocks a sampler waiting on its source
        for thread in self._threads:
            thread.join(timeout=5.0)
        self._store.close()

    def __enter__(self) -> "Recorder":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _has(self, name: str) -> bool:
        return any(s.name == name for s in self._active)

    # -- sampling threads --------------------------------------------------------------------

    def _emit(self, source: str, readings) -> None:
        t = self._clock()
        fixed = []
        for name, value in readings:
            if value is not None and name.startswith("energy_j."):
                # A counter that restarted (a source re-bases its counter to zero when it
                # reconnects) must not run backwards: what it reads now is the energy since
                # the restart, so it goes on from the last value before it.
                key = (source, name)
                raw = value
                value = raw + self._offsets.get(key, 0.0)
                last = self._last_counter.get(key)
                if last is not None and value < last:
                    self._offsets[key] = last
                    value = last + max(raw, 0.0)
                self._last_counter[key] = value
            elif value is not None and name in TRACKED:
                self._seen.setdefault((source, name), set()).add(value)
            fixed.append((name, value))
        self._store.add(source, t, fixed)

    def _sample_loop(self, src: Source) -> None:
        stop = self._stop
        while not stop.is_set():
            try:
                src.run(lambda readings: self._emit(src.name, readings), stop)
                return
            except Lost as error:
                reason = str(error)
            except Exception as error:
                reason = f"{type(error).__name__}: {error}"
            if stop.is_set():
                return
            lost_at = self._clock()
            self._store.gap_begin(src.name, lost_at, reason)
            log.warning("telemetry source %s lost: %s; the run goes on", src.name, reason)
            delay = RECONNECT_FIRST_S
            while not stop.wait(delay):
                try:
                    src.reconnect()
                    break
                except Exception as error:
                    log.debug("telemetry source %s still unavailable: %s", src.name, error)
                    delay = min(2 * delay, RECONNECT_MAX_S)
            else:
                return
            self._store.gap_end(src.name, self._clock())
            log.warning("telemetry source %s is back", src.name)

    def _flush_loop(self) -> None:
        while not self._stop.wait(FLUSH_EVERY_S):
            try:
                self._store.flush()
            except Exception as error:  # a full disk must not stop training
                log.warning("telemetry.csv flush failed: %s", error)

    def _wait_for_samples_after(self, t: float) -> None:
        """Let each live power source deliver one sample at or after t, so the energy over
        [.., t] is not extrapolated. Sources without power (host) are not waited for: their
        figures are peaks and means, and waiting would add up to an interval to every trial."""
        gaps = self._store.gaps()
        for view in self._views:
            if not view.power_scope:
                continue
            if any(g.source == view.name and g.end_s is None for g in gaps):
                continue  # lost: waiting would not help
            deadline = time.monotonic() + 2 * view.interval_s + 0.2
            while time.monotonic() < deadline:
                last = self._store.last_tick(view.name)
                if last is not None and last >= t:
                    break
                time.sleep(min(0.02, view.interval_s / 4))

    # -- what the runner calls ---------------------------------------------------------------

    def manifest_info(self) -> Dict[str, Any]:
        sources = {}
        for src in self._candidates:
            entry = {"active": self._has(src.name), "interval_s": src.interval_s}  # type: Dict[str, Any]
            if src.name in self._unavailable:
                entry["reason"] = self._unavailable[src.name]
            if src.name in self._info:
                entry["info"] = self._info[src.name]
            sources[src.name] = entry
        out = {
            "requested": list(self.config.sources),
            "sources": sources,
            "active": [s.name for s in self._active],
            "power_source": next((v.name for v in self._views if v.power_scope), None),
        }  # type: Dict[str, Any]
        # facts about the board: from the first active source (registry order) that knows each
        for key in BOARD_FACTS:
            out[key] = next(
                (self._info[s.name][key] for s in self._active if self._info[s.name].get(key) is not None),
                None,
            )
        out["idle_baseline"] = self._idle.to_json() if self._idle else None
        return out

    def measure_idle_baseline(self) -> Optional[Dict[str, Any]]:
        if self.config.idle_baseline_s <= 0:
            return None
        t0 = self._clock()
        self._sleep(self.config.idle_baseline_s)
        t1 = self._clock()
        self._wait_for_samples_after(t1)
        gaps = self._store.gaps()
        for view in self._views:
            figures = source_energy(self._store, view, t0, t1, gaps, self._clock())
            if figures is None:
                continue
            if figures["power_mean_w"] is None:
                return {"power_w": None, "source": view.name, "reason": figures["reason"]}
            self._idle = IdleBaseline(
                view.name, figures["power_mean_w"], t1 - t0, self._store.sample_count(view.name, t0, t1)
            )
            return self._idle.to_json()
        return {"power_w": None, "source": None, "reason": "no active source measures power"}

    def wait_cool(self) -> Optional[Dict[str, Any]]:
        zone, below = self.config.cooldown_zone, self.config.cooldown_below_c
        if zone is None or below is None:
            return None
        started = time.monotonic()
        result = {"waited_s": 0.0, "reached": False, "zone": zone, "temp_c": None}  # type: Dict[str, Any]
        while True:
            reading = self._latest_temperature(zone)
            if reading is not None:
                result["temp_c"], result["source"] = reading[1], reading[0]
                if reading[1] < below:
                    result["reached"] = True
                    break
            waited = time.monotonic() - started
            if waited >= self.config.cooldown_max_wait_s:
                break
            time.sleep(min(0.5, max(0.01, self.config.cooldown_max_wait_s - waited)))
        result["waited_s"] = time.monotonic() - started
        if result["temp_c"] is None:
            result["reason"] = "no fresh reading of zone {!r} from {}".format(
                zone, ", ".join(v.name for v in self._views) or "any source"
            )
        if not result["reached"]:
            self._cooldown_timeouts += 1
        return result

    def _latest_temperature(self, zone: str):
        now = self._clock()
        wanted = zone.lower()
        for view in self._views:
            for name in self._store.names(view.name, "temp_c."):
                if name[len("temp_c.") :].lower() != wanted:
                    continue
                last = self._store.last(view.name, name)
                if last is not None and now - last[0] <= 3 * view.interval_s + 0.5:
                    return view.name, last[1]
        return None

    def trial_begin(self, trial_id: str) -> None:
        now = self._clock()
        if self._store is not None:
            # the previous trial is done (and its energy_between asked): forget older samples
            margin = 4 * max([v.interval_s for v in self._views] or [1.0])
            self._store.drop_before(now - margin)

    def trial_end(self, trial_id: str, train_start: float, train_end: float) -> Dict[str, Any]:
        if self._store is None:
            raise RuntimeError("Recorder.trial_end before start()")
        self._wait_for_samples_after(train_end)
        figures = trial_figures(self._store, self._views, train_start, train_end, self._idle, self._clock())
        figures["trial_id"] = trial_id
        self._trials += 1
        if figures["throttled"]:
            self._throttled.append(trial_id)
        return figures

    def energy_between(self, start: float, end: float) -> Optional[float]:
        """Energy (J) from the headline power source over [start, end] (e.g. time-to-target)."""
        if self._store is None:
            return None
        gaps = self._store.gaps()
        for view in self._views:
            figures = source_energy(self._store, view, start, end, gaps, self._clock())
            if figures is not None:
                return figures["energy_j"]
        return None

    def run_warnings(self) -> List[str]:
        warnings = []
        if self._throttled:
            warnings.append(
                "{} of {} trials throttled: {}".format(
                    len(self._throttled),
                    self._trials,
                    ", ".join(self._throttled[:5]) + (", ..." if len(self._throttled) > 5 else ""),
                )
            )
        for (_source, name), values in sorted(self._seen.items()):
            if len(values) > 1:
                what = "power mode (nvpmodel)" if name == "nvpmodel_id" else "jetson_clocks"
                shown = ", ".join(f"{v:g}" for v in sorted(values))
                warnings.append(f"{what} changed during the run (values seen: {shown})")
        by_source = {}  # type: Dict[str, list]
        now = self._clock() if self._store is not None else 0.0
        for gap in self._store.gaps() if self._store is not None else []:
            by_source.setdefault(gap.source, []).append(gap)
        for source, gaps in sorted(by_source.items()):
            lost_s = sum((g.end_s if g.end_s is not None else now) - g.start_s for g in gaps)
            warnings.append(
                f"telemetry source {source} lost {len(gaps)} time(s), {lost_s:.1f} s without samples: {gaps[0].reason}"
            )
        if not self.config.auto:
            for name, reason in sorted(self._unavailable.items()):
                warnings.append(f"telemetry source {name} requested but unavailable: {reason}")
        if self._cooldown_timeouts:
            warnings.append(
                f"cool-down gate gave up {self._cooldown_timeouts} time(s) after {self.config.cooldown_max_wait_s:g} s"
            )
        return warnings


def open_recorder(
    config: TelemetryConfig,
    clock: Callable[[], float] = time.perf_counter,
    samples_path: Optional[str] = None,
    sources: Optional[List[Source]] = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Recorder:
    """A recorder for ``config``; nothing is opened or sampled until ``start()``."""
    return Recorder(config, clock=clock, samples_path=samples_path, sources=sources, sleep=sleep)
