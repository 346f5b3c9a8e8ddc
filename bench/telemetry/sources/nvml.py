"""Desktop and server NVIDIA GPUs through NVML (the nvidia-ml-py package, module ``pynvml``).

Power is the board power of the GPUs only (nvmlDeviceGetPowerUsage, mW), summed over devices.
Where every device has the total-energy counter (Volta and later;
nvmlDeviceGetTotalEnergyConsumption, mJ since driver load) it is recorded too, and a trial's
energy comes from it rather than from integrating sampled power.
"""

import contextlib
from typing import Any, Dict

from .base import Lost, Readings, Source, Unavailable


class NvmlSource(Source):
    name = "nvml"
    power_scope = "NVIDIA GPU board power, all devices (NVML)"

    def __init__(self, interval_s: float) -> None:
        super().__init__(interval_s)
        self._nv = None
        self._handles = []  # type: List[Any]
        self._energy_counter = False
        self._energy_base_mj = []  # type: List[float]

    def open(self) -> None:
        try:
            import pynvml  # from nvidia-ml-py; imported only when this source is used
        except ImportError:
            raise Unavailable("nvidia-ml-py is not installed (pip install nvidia-ml-py)") from None
        try:
            pynvml.nvmlInit()
        except Exception as error:
            raise Unavailable(f"NVML did not initialise (no NVIDIA driver or GPU?): {error}") from error
        self._nv = pynvml
        try:
            count = pynvml.nvmlDeviceGetCount()
            self._handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        except Exception as error:
            self.close()
            raise Unavailable(f"NVML lists no devices: {error}") from error
        if not self._handles:
            self.close()
            raise Unavailable("NVML found no NVIDIA GPU")
        try:
            self._energy_base_mj = [
                float(pynvml.nvmlDeviceGetTotalEnergyConsumption(h)) for h in self._handles
            ]
            self._energy_counter = True
        except Exception:  # pre-Volta GPUs and some drivers lack the counter
            self._energy_counter = False

    def info(self) -> Dict[str, Any]:
        nv = self._nv
        devices = []
        for h in self._handles:
            devices.append(
                {
                    "name": _text(_try(nv.nvmlDeviceGetName, h)),
                    "power_limit_w": _scaled(_try(nv.nvmlDeviceGetEnforcedPowerLimit, h), 1e-3),
                    "sm_clock_max_mhz": _try(nv.nvmlDeviceGetMaxClockInfo, h, nv.NVML_CLOCK_SM),
                }
            )
        return {
            "driver": _text(_try(nv.nvmlSystemGetDriverVersion)),
            "devices": devices,
            "energy_counter": self._energy_counter,
            "power_scope": self.power_scope,
        }

    def trip_points_c(self) -> Dict[str, float]:
        nv = self._nv
        trips = {}
        for i, h in enumerate(self._handles):
            slowdown = _try(nv.nvmlDeviceGetTemperatureThreshold, h, nv.NVML_TEMPERATURE_THRESHOLD_SLOWDOWN)
            if slowdown:
                trips[f"gpu{i}"] = float(slowdown)
        return trips

    def read(self) -> Readings:
        nv = self._nv
        out = []  # type: Readings
        total_w = 0.0
        energy_j = 0.0
        try:
            for i, h in enumerate(self._handles):
                watts = nv.nvmlDeviceGetPowerUsage(h) / 1000.0
                total_w += watts
                out.append((f"power_w.gpu{i}", watts))
                if self._energy_counter:
                    mj = float(nv.nvmlDeviceGetTotalEnergyConsumption(h))
                    energy_j += (mj - self._energy_base_mj[i]) / 1000.0
                temp = nv.nvmlDeviceGetTemperature(h, nv.NVML_TEMPERATURE_GPU)
                out.append((f"temp_c.gpu{i}", float(temp)))
                # the throttle check reads the unsuffixed names: those are device 0's
                tag = "" if i == 0 else f".gpu{i}"
                load = nv.nvmlDeviceGetUtilizationRates(h).gpu
                out.append(("gpu_load_pct" + tag, float(load)))
                sm_mhz = nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_SM)
                out.append(("gpu_freq_mhz" + tag, float(sm_mhz)))
                sm_max = _try(nv.nvmlDeviceGetMaxClockInfo, h, nv.NVML_CLOCK_SM)
                out.append(("gpu_freq_max_mhz" + tag, sm_max))
                out.append(("gpu_mem_used_bytes" + tag, float(nv.nvmlDeviceGetMemoryInfo(h).used)))
                # the bits that mean throttling: registry.NVML_SLOWDOWN
                out.append(("throttle_reasons" + tag, _throttle_mask(nv, h)))
        except Exception as error:  # NVMLError_GpuIsLost, driver unloaded, ...
            raise Lost(f"NVML read failed: {error}") from error
        out.append(("power_w.total", total_w))
        if self._energy_counter:
            out.append(("energy_j.total", energy_j))
        return out

    def close(self) -> None:
        if self._nv is not None:
            with contextlib.suppress(Exception):
                self._nv.nvmlShutdown()
            self._nv = None


def _throttle_mask(nv, handle):
    # renamed "clock event reasons" in newer NVML; the bits are the same
    for fn in ("nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons"):
        if hasattr(nv, fn):
            value = _try(getattr(nv, fn), handle)
            if value is not None:
                return float(value)
    return None


def _try(fn, *args):
    try:
        return fn(*args)
    except Exception:
        return None


def _scaled(value, factor):
    return None if value is None else value * factor


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value
