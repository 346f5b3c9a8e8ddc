"""What every telemetry source provides, and the names its readings go by.

A source is opened once (``open`` raises ``Unavailable`` with a reason a person can act on),
then its ``run`` loop is driven on a background sampler thread: polled sources implement
``read``; streaming ones (jtop, tegrastats) override ``run``. Losing the source mid-run is
signalled by raising ``Lost`` from ``read``/``run``; the recorder records the gap and calls
``reconnect`` until it works again or the run ends.

Reading names (the ``name`` column of telemetry.csv):
  power_w.total            the source's total power (its scope is in ``power_scope``)
  power_w.<rail>           each rail / domain / device, in watts
  energy_j.total           cumulative energy counter, unwrapped, in joules (RAPL, NVML)
  temp_c.<zone>            temperatures in degrees C
  gpu_load_pct, gpu_freq_mhz, gpu_freq_max_mhz, cpu_load_pct, cpu_freq_ratio
  ram_used_bytes, ram_total_bytes, swap_used_bytes, gpu_shared_bytes, rss_bytes
  fan_pct, nvpmodel_id, jetson_clocks, throttle_reasons
"""

import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

Readings = List[Tuple[str, Optional[float]]]
Emit = Callable[[Readings], None]


class Unavailable(Exception):
    """The source cannot be used on this machine; the message says why and what to do."""


class Lost(Exception):
    """The source stopped answering mid-run."""


class Source:
    name = "source"
    power_scope = None  # type: Optional[str]  # what power_w.total covers, if the source has it

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s

    def open(self) -> None:
        """Connect; raise Unavailable(reason) when the source cannot be used."""

    def info(self) -> Dict[str, Any]:
        """Static facts for the run manifest."""
        return {}

    def trip_points_c(self) -> Dict[str, float]:
        """Zone name -> temperature (C) at which the hardware starts throttling, where known."""
        return {}

    def read(self) -> Readings:
        raise NotImplementedError

    def run(self, emit: Emit, stop: threading.Event) -> None:
        """Sample until stop is set. Polls ``read`` every interval, on a steady schedule."""
        clock = time.monotonic
        next_at = clock()
        while not stop.is_set():
            emit(self.read())
            next_at += self.interval_s
            delay = next_at - clock()
            if delay < 0:  # fell behind (slow read, suspended): restart the schedule
                next_at = clock()
                delay = 0.0
            stop.wait(delay)

    def reconnect(self) -> None:
        """Try to get the source back after Lost; raise Unavailable or Lost if still gone."""
        self.close()
        self.open()

    def close(self) -> None:
        """Release whatever open() took. Must be safe to call twice."""
