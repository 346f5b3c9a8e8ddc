"""Where the sampler threads put their readings: an in-memory store plus ``telemetry.csv``.

The store keeps one time series per (source, name), appended under a lock by the sampler
threads and read by the runner's thread at trial boundaries. The CSV is long format
(time_s, source, name, value), written in batches by a flusher thread, never per sample,
so a sampler never waits on the disk.
"""

import bisect
import threading
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

CSV_HEADER = "time_s,source,name,value\n"


@dataclass(frozen=True)
class Gap:
    """A stretch of time in which a source gave nothing (lost, restarting)."""

    source: str
    start_s: float
    end_s: Optional[float]  # None while the source is still lost
    reason: str

    def overlap(self, t0: float, t1: float, now: float) -> float:
        end = now if self.end_s is None else self.end_s
        return max(0.0, min(end, t1) - max(self.start_s, t0))

    def to_json(self) -> Dict[str, object]:
        return {
            "source": self.source,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "reason": self.reason,
        }


class Series:
    """Times and values of one quantity, in time order."""

    __slots__ = ("times", "values")

    def __init__(self) -> None:
        self.times = []  # type: List[float]
        self.values = []  # type: List[float]

    def window(self, t0: float, t1: float, margin: int = 0) -> Tuple[List[float], List[float]]:
        """Samples with t0 <= t <= t1, plus ``margin`` samples either side (for interpolation)."""
        lo = max(0, bisect.bisect_left(self.times, t0) - margin)
        hi = min(len(self.times), bisect.bisect_right(self.times, t1) + margin)
        return self.times[lo:hi], self.values[lo:hi]

    def last(self) -> Optional[Tuple[float, float]]:
        if not self.times:
            return None
        return self.times[-1], self.values[-1]

    def drop_before(self, t: float) -> None:
        # keep one sample before t so an interval starting at t can still be interpolated
        cut = max(0, bisect.bisect_left(self.times, t) - 1)
        if cut:
            del self.times[:cut]
            del self.values[:cut]


class SampleStore:
    """Thread-safe series by (source, name); optional CSV sink."""

    def __init__(self, csv_path: Optional[str] = None) -> None:
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()  # the flusher thread and close() both write
        self._series = {}  # type: Dict[Tuple[str, str], Series]
        self._pending = []  # type: List[str]
        self._gaps = []  # type: List[Gap]
        self._ticks = {}  # type: Dict[str, Series]  # when each source delivered a sample
        self._csv_path = csv_path
        self._csv = None
        if csv_path is not None:
            self._csv = open(csv_path, "w")  # noqa: SIM115 -- open for the whole run, closed in close()
            self._csv.write(CSV_HEADER)
            self._csv.flush()

    def add(self, source: str, t: float, readings: List[Tuple[str, float]]) -> None:
        rows = []
        with self._lock:
            ticks = self._ticks.get(source)
            if ticks is None:
                ticks = self._ticks[source] = Series()
            if not ticks.times or t >= ticks.times[-1]:
                ticks.times.append(t)
                ticks.values.append(1.0)
            for name, value in readings:
                if value is None:
                    continue  # unmeasured: absent, never a fake zero
                value = float(value)
                key = (source, name)
                series = self._series.get(key)
                if series is None:
                    series = self._series[key] = Series()
                if series.times and t < series.times[-1]:
                    continue  # a late reading would break time order
                series.times.append(t)
                series.values.append(value)
                if self._csv is not None:
                    rows.append(f"{t:.6f},{source},{name},{value!r}\n")
            self._pending.extend(rows)

    def gap_begin(self, source: str, t: float, reason: str) -> None:
        with self._lock:
            self._gaps.append(Gap(source, t, None, reason))

    def gap_end(self, source: str, t: float) -> None:
        with self._lock:
            for i in range(len(self._gaps) - 1, -1, -1):
                gap = self._gaps[i]
                if gap.source == source and gap.end_s is None:
                    self._gaps[i] = Gap(source, gap.start_s, t, gap.reason)
                    break

    def gaps(self) -> List[Gap]:
        with self._lock:
            return list(self._gaps)

    def window(
        self, source: str, name: str, t0: float, t1: float, margin: int = 0
    ) -> Tuple[List[float], List[float]]:
        with self._lock:
            series = self._series.get((source, name))
            if series is None:
                return [], []
            return series.window(t0, t1, margin)

    def sample_count(self, source: str, t0: float, t1: float) -> int:
        """How many times ``source`` delivered readings within [t0, t1]."""
        with self._lock:
            ticks = self._ticks.get(source)
            return 0 if ticks is None else len(ticks.window(t0, t1)[0])

    def last_tick(self, source: str) -> Optional[float]:
        with self._lock:
            ticks = self._ticks.get(source)
            last = None if ticks is None else ticks.last()
            return None if last is None else last[0]

    def names(self, source: str, prefix: str = "") -> List[str]:
        with self._lock:
            return sorted(n for s, n in self._series if s == source and n.startswith(prefix))

    def last(self, source: str, name: str) -> Optional[Tuple[float, float]]:
        with self._lock:
            series = self._series.get((source, name))
            return None if series is None else series.last()

    def drop_before(self, t: float) -> None:
        """Forget samples before t (the CSV keeps them): a long run must not grow without end."""
        with self._lock:
            for series in list(self._series.values()) + list(self._ticks.values()):
                series.drop_before(t)

    def flush(self) -> None:
        with self._write_lock:
            with self._lock:
                rows, self._pending = self._pending, []
            if self._csv is not None and rows:
                self._csv.write("".join(rows))
                self._csv.flush()

    def close(self) -> None:
        self.flush()
        with self._write_lock:
            if self._csv is not None:
                self._csv.close()
                self._csv = None
