"""What the telemetry recorder costs: CPU time of its threads per wall second, and step time.

    python benchmarks/bench_telemetry.py                      # host source (psutil), here
    python benchmarks/bench_telemetry.py --sources jetson     # on a Jetson with jtop running
    sudo python benchmarks/bench_telemetry.py --simulated-nano  # real jtop server, simulated Nano

CPU cost: the main thread sleeps while the recorder samples, so the process's CPU time over
the wall time is the recorder's (sampler threads, flusher, CSV) as a fraction of one core.
Measured at each source's default interval and at the fastest it allows.
Step time: a fixed numpy workload timed per step with the recorder off and on (median, IQR),
to show whether sampling perturbs training.
"""

import argparse
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.telemetry import TelemetryConfig, open_recorder  # noqa: E402
from bench.telemetry.config import DEFAULT_INTERVAL_S, MIN_INTERVAL_S  # noqa: E402


def cpu_cost(sources, interval, seconds):
    config = TelemetryConfig(sources=tuple(sources), interval_s=interval)
    with tempfile.TemporaryDirectory() as tmp:
        rec = open_recorder(config, samples_path=os.path.join(tmp, "telemetry.csv"))
        rec.start()
        info = rec.manifest_info()
        active = info["active"]
        for name, entry in info["sources"].items():
            if not entry["active"]:
                print("  {} unavailable: {}".format(name, entry.get("reason")))
        served = (info["sources"].get("jetson", {}).get("info") or {}).get("server_interval_s")
        if served is not None:
            active = [a + f"@{served:g}s" if a == "jetson" else a for a in active]
        time.sleep(1.0)  # past start-up (imports, first connection)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        time.sleep(seconds)
        cpu1, wall1 = time.process_time(), time.perf_counter()
        rec.close()
    return active, (cpu1 - cpu0) / (wall1 - wall0)


def step_times(recorder_on, sources, steps):
    import numpy as np

    rng = np.random.RandomState(0)
    a = rng.rand(256, 256)
    rec = None
    if recorder_on:
        rec = open_recorder(TelemetryConfig(sources=tuple(sources)))
        rec.start()
        time.sleep(1.0)
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        for _ in range(4):
            a = np.tanh(a @ a.T / 256.0)
        times.append(time.perf_counter() - t)
    if rec is not None:
        rec.close()
    times.sort()
    n = len(times)
    return times[n // 2], times[(3 * n) // 4] - times[n // 4]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", nargs="+", default=["host"])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--simulated-nano", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=["default", "fastest"], help="measure one interval")
    args = parser.parse_args(argv)
    if args.simulated_nano:
        return simulated_nano(args)
    print("python {}, sources {}".format(sys.version.split()[0], " ".join(args.sources)))
    print("{:<10} {:>10} {:>22}".format("interval", "active", "CPU / wall (one core)"))
    for label in [args.only] if args.only else ["default", "fastest"]:
        if label == "default":
            interval = None
            shown = "/".join(f"{DEFAULT_INTERVAL_S[s]:g}" for s in args.sources)
        else:
            interval = max(MIN_INTERVAL_S[s] for s in args.sources)
            shown = f"{interval:g}"
        active, ratio = cpu_cost(args.sources, interval, args.seconds)
        print("{:<10} {:>10} {:>21.3f}%".format(shown + " s", ",".join(active), 100 * ratio))
    off = step_times(False, args.sources, args.steps)
    on = step_times(True, args.sources, args.steps)
    print(f"step time, recorder off: median {1e3 * off[0]:.3f} ms, IQR {1e3 * off[1]:.3f} ms")
    print(f"step time, recorder on:  median {1e3 * on[0]:.3f} ms, IQR {1e3 * on[1]:.3f} ms")
    return 0


def simulated_nano(args):
    """Re-run this benchmark with --sources jetson inside the jtop sandbox of the tests."""
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    import subprocess

    import jtop_fixture

    if os.environ.get("OPTBENCH_IN_SANDBOX"):
        jtop_fixture.build_nano()
        server = jtop_fixture.start_server()
        try:
            argv = ["--sources", "jetson", "--seconds", str(args.seconds), "--steps", str(args.steps)]
            return main(argv + ["--only", args.only] if args.only else argv)
        finally:
            jtop_fixture.kill_server(server)
    reason = jtop_fixture.sandbox_unavailable_reason()
    if reason:
        print("cannot simulate a Nano here: " + reason)
        return 1
    # the jtop server keeps the interval of its first client: one fresh sandbox per interval
    os.environ["OPTBENCH_IN_SANDBOX"] = "1"
    status = 0
    for only in ("default", "fastest"):
        argv = [sys.executable, os.path.abspath(__file__), "--simulated-nano", "--only", only]
        argv += ["--seconds", str(args.seconds), "--steps", str(args.steps)]
        status |= subprocess.call(jtop_fixture.sandbox_command(tempfile.mkdtemp(), argv))
    return status


if __name__ == "__main__":
    sys.exit(main())
