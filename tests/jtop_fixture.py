"""A simulated Jetson board for the real jtop server, inside a private mount namespace.

jetson-stats tests itself by running its real server with ``JTOP_TESTING`` set, which makes
it read the board from ``/fake_sys`` instead of ``/sys`` (all but the thermal zones, which it
still reads from ``/sys/devices/virtual/thermal``). We do the same, without touching the real
machine (see shared/notes/jetson-stats.md):

* ``sandbox_command`` (run by the test, on the host side) wraps a command in
  ``unshare -m -p -f``: a private mount and PID namespace, so every process the server starts
  dies with the namespace. Inside, ``/`` is overlaid with a tmpfs upper layer and entered with
  ``chroot``, so the server's writes (``/run/jtop.sock``, its config folder under its Python
  prefix, the ``jtop`` group added to ``/etc/group``, ``/fake_sys``) never reach the disk, and
  a tmpfs hides the real ``/sys/devices/virtual``. Mounts use ``-n`` (no ``/run/mount/utab``).
* The rest of this module runs *inside* the namespace, under the interpreter being tested
  (Python 3.6 with jetson-stats 4.3.2, or current Python with 7.2.2), so it keeps 3.6 syntax:
  it builds a Jetson Nano (L4T R32 INA3221 iio layout) or an Orin Nano (hwmon layout) tree,
  starts and stops the server, and rewrites rail values mid-run.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time

FAKE = "/fake_sys"
THERMAL = "/sys/devices/virtual/thermal"
SOCKET = "/run/jtop.sock"

# Runs as the namespace's PID 1 (bash), on the host side of the chroot. $1: a scratch folder
# on the real disk (only empty mount points are made there); the rest: the command to run.
_SETUP = r"""
set -e
T=$1; shift
mkdir -p "$T/scratch" "$T/root"
mount -n -t tmpfs tmpfs "$T/scratch"
mkdir "$T/scratch/upper" "$T/scratch/work"
mount -n -t overlay overlay -o "lowerdir=/,upperdir=$T/scratch/upper,workdir=$T/scratch/work" "$T/root"
R=$T/root
mount -n --rbind /proc "$R/proc"
mount -n --rbind /dev "$R/dev"
mount -n --rbind /sys "$R/sys"
mount -n -t tmpfs tmpfs "$R/sys/devices/virtual"
grep -q '^jtop:' "$R/etc/group" || echo 'jtop:x:3901:' >> "$R/etc/group"
# the Python 3.6 venv lives under /root: let an unprivileged user reach it (in the overlay only)
chmod 755 "$R/root"
cd "$R"
exec chroot "$R" "$@"
"""


def sandbox_unavailable_reason():
    """None when the sandbox can run here, else why not (for pytest.skip)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root: the real jtop server runs in a private mount namespace"
    for tool in ("unshare", "chroot", "mount"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    probe = subprocess.call(
        ["unshare", "-m", "-p", "-f", "--mount-proc", "true"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if probe != 0:
        return f"unshare -m -p cannot create namespaces here (exit {probe})"
    return None


def sandbox_command(scratch, argv):
    """The argv that runs ``argv`` inside the sandbox; ``scratch`` is an empty folder."""
    return [
        "unshare",
        "-m",
        "-p",
        "-f",
        "--mount-proc",
        "--propagation",
        "private",
        "bash",
        "-c",
        _SETUP,
        "jtop-sandbox",
        str(scratch),
    ] + list(argv)


# ---- inside the namespace -----------------------------------------------------------------


def write_value(path, value):
    """Write-then-rename, so the server never reads half a number."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(value) + "\n")
    os.rename(tmp, path)


def _mkdir(path):
    if not os.path.isdir(path):
        os.makedirs(path)
    return path


def _cpus(count, max_khz):
    stat = "cpu  26716126 25174 7198445 948399047 900582 0 354519 0 0 0\n"
    for n in range(count):
        stat += f"cpu{n} 1673575 1889 461134 59280326 55795 0 10322 0 0 0\n"
        d = _mkdir(os.path.join(FAKE, f"devices/system/cpu/cpu{n}/cpufreq"))
        for name, value in (
            ("scaling_governor", "schedutil"),
            ("scaling_min_freq", "102000"),
            ("scaling_max_freq", max_khz),
            ("scaling_cur_freq", max_khz),
            ("cpuinfo_min_freq", "102000"),
            ("cpuinfo_max_freq", max_khz),
            ("cpuinfo_cur_freq", max_khz),
        ):
            write_value(os.path.join(d, name), value)
    stat += "intr 1 0\nctxt 1028840383\nbtime 1674644431\nprocesses 30001646\n"
    stat += "procs_running 1\nprocs_blocked 0\n"
    write_value(os.path.join(FAKE, "stat"), stat)


def _gpu(node, max_hz, cur_hz, load_permille):
    dev = _mkdir(os.path.join(FAKE, "devices/platform", node, "devfreq", node))
    _mkdir(os.path.join(dev, "device/of_node"))
    # a device-tree property has no trailing newline, and jtop 4.3 compares it unstripped
    with open(os.path.join(dev, "device/of_node/name"), "w") as f:
        f.write("gpu")
    link = os.path.join(_mkdir(os.path.join(FAKE, "class/devfreq")), node)
    if not os.path.islink(link):
        os.symlink(dev, link)
    for name, value in (
        ("cur_freq", cur_hz),
        ("max_freq", max_hz),
        ("min_freq", 76800000),
        ("governor", "nvhost_podgov"),
    ):
        write_value(os.path.join(dev, name), value)
    for name, value in (("railgate_enable", 0), ("enable_3d_scaling", 1), ("load", load_permille)):
        write_value(os.path.join(dev, "device", name), value)
    return dev


def _thermal(zones):
    """zones: list of (type, millidegrees or None for an unreadable sensor, passive trip)."""
    _mkdir(THERMAL)
    for n, (kind, milli, trip) in enumerate(zones):
        d = _mkdir(os.path.join(THERMAL, f"thermal_zone{n}"))
        write_value(os.path.join(d, "type"), kind)
        # jtop reads -256 when the value cannot be parsed: that is how an offline sensor shows
        write_value(os.path.join(d, "temp"), "" if milli is None else milli)
        if trip is not None:
            write_value(os.path.join(d, "trip_point_0_type"), "passive")
            write_value(os.path.join(d, "trip_point_0_temp"), trip)


def _dmi():
    # jtop on x86-64 describes the host from DMI; give it one inside the hidden /sys/devices/virtual
    d = _mkdir("/sys/devices/virtual/dmi/id")
    for name, value in (("board_vendor", "optbench"), ("product_name", "simulated Jetson")):
        write_value(os.path.join(d, name), value)


def _release(text):
    with open("/etc/nv_tegra_release", "w") as f:
        f.write(text)


class Board:
    """A simulated board; ``rails`` maps rail name to (mV, mA)."""

    def __init__(self, kind, rails, rail_dir, rail_index):
        self.kind = kind
        self.rails = dict(rails)
        self._dir = rail_dir
        self._index = rail_index  # rail name -> file number

    def power_mw(self, name):
        volt, curr = self.rails[name]
        return volt * curr // 1000  # what the INA3221 driver's in_power file holds

    def set_rail(self, name, volt_mv, curr_ma):
        self.rails[name] = (volt_mv, curr_ma)
        n = self._index[name]
        if self.kind == "nano":
            write_value(os.path.join(self._dir, f"in_voltage{n}_input"), volt_mv)
            write_value(os.path.join(self._dir, f"in_current{n}_input"), curr_ma)
            write_value(os.path.join(self._dir, f"in_power{n}_input"), self.power_mw(name))
        else:
            write_value(os.path.join(self._dir, f"in{n}_input"), volt_mv)
            write_value(os.path.join(self._dir, f"curr{n}_input"), curr_ma)

    def set_temperature(self, zone_index, milli):
        write_value(os.path.join(THERMAL, f"thermal_zone{zone_index}", "temp"), milli)

    def set_gpu(self, cur_hz=None, load_permille=None):
        dev = os.path.join(FAKE, "class/devfreq", self.gpu_node)
        if cur_hz is not None:
            write_value(os.path.join(dev, "cur_freq"), cur_hz)
        if load_permille is not None:
            write_value(os.path.join(dev, "device/load"), load_permille)


NANO_RAILS = (("POM_5V_IN", 5000, 920), ("POM_5V_GPU", 5000, 120), ("POM_5V_CPU", 5000, 300))
ORIN_NANO_RAILS = (("VDD_IN", 5000, 1400), ("VDD_CPU_GPU_CV", 5000, 300), ("VDD_SOC", 5000, 280))


def build_nano(rails=NANO_RAILS):
    """Jetson Nano, L4T R32: INA3221 under iio at 6-0040, GPU devfreq 57000000.gpu."""
    _cpus(4, 1479000)
    dev = _mkdir(os.path.join(FAKE, "bus/i2c/devices/6-0040"))
    write_value(os.path.join(dev, "name"), "ina3221x")
    iio = _mkdir(os.path.join(dev, "iio:device0"))
    index = {}
    for n, (name, _volt, _curr) in enumerate(rails):
        index[name] = n
        write_value(os.path.join(iio, f"rail_name_{n}"), name)
        write_value(os.path.join(iio, f"warn_current_limit_{n}"), 4000)
        write_value(os.path.join(iio, f"crit_current_limit_{n}"), 5000)
    board = Board("nano", [(r[0], (r[1], r[2])) for r in rails], iio, index)
    for name, volt, curr in rails:
        board.set_rail(name, volt, curr)
    board.gpu_node = "57000000.gpu"
    _gpu(board.gpu_node, 921600000, 921600000, 0)
    _thermal(
        [
            ("AO-therm", 36500, None),
            ("CPU-therm", 33500, 97000),
            ("GPU-therm", 31000, 97000),
            ("PLL-therm", 29500, None),
            ("PMIC-Die", 100000, None),
            ("thermal-fan-est", 32000, None),
        ]
    )
    _dmi()
    _release("# R32 (release), REVISION: 7.1, GCID: 29818004, BOARD: t210ref, EABI: aarch64\n")
    return board


def build_orin_nano(rails=ORIN_NANO_RAILS):
    """Jetson Orin Nano, L4T R36: INA3221 under hwmon at 1-0040, GPU devfreq 17000000.ga10b."""
    _cpus(6, 1510400)
    dev = _mkdir(os.path.join(FAKE, "bus/i2c/devices/1-0040"))
    write_value(os.path.join(dev, "name"), "ina3221")
    hwmon = _mkdir(os.path.join(dev, "hwmon/hwmon1"))
    index = {}
    for n, (name, _volt, _curr) in enumerate(rails, 1):
        index[name] = n
        write_value(os.path.join(hwmon, f"in{n}_label"), name)
        write_value(os.path.join(hwmon, f"curr{n}_max"), 4000)
        write_value(os.path.join(hwmon, f"curr{n}_crit"), 5000)
    board = Board("orin", [(r[0], (r[1], r[2])) for r in rails], hwmon, index)
    for name, volt, curr in rails:
        board.set_rail(name, volt, curr)
    board.gpu_node = "17000000.ga10b"
    _gpu(board.gpu_node, 624750000, 624750000, 0)
    _thermal(
        [
            ("cpu-thermal", 48500, 99000),
            ("gpu-thermal", 47000, 99000),
            ("cv0-thermal", None, None),  # absent on an Orin Nano: reads -256
            ("soc0-thermal", 46000, None),
            ("tj-thermal", 49000, None),
        ]
    )
    _dmi()
    _release("# R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic, EABI: aarch64\n")
    return board


def start_server(timeout=30.0, jtop_bin=None):
    """Start the real jtop service (this interpreter's jetson-stats unless ``jtop_bin``)."""
    env = dict(os.environ, JTOP_TESTING="true", JTOP_SERVICE="True")
    jtop_bin = jtop_bin or os.path.join(os.path.dirname(sys.executable), "jtop")
    with open("/tmp/jtop-server.log", "ab") as log:
        proc = subprocess.Popen(
            [jtop_bin, "--force"], env=env, stdout=log, stderr=subprocess.STDOUT, close_fds=True
        )
    deadline = time.time() + timeout
    while not os.path.exists(SOCKET):
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError("jtop server did not start:\n" + server_log())
        time.sleep(0.05)
    return proc


def server_log():
    try:
        with open("/tmp/jtop-server.log") as f:
            return f.read()[-4000:]
    except OSError:
        return ""


def kill_server(proc):
    """Kill the server and its helper processes at once (losing it, as on a crash)."""
    for pid in _descendants(proc.pid) + [proc.pid]:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    proc.wait()


def _descendants(pid):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid:
            found.append(int(entry))
            found.extend(_descendants(int(entry)))
    return found


# ---- scenarios: ``python tests/jtop_fixture.py SCENARIO BOARD`` inside the sandbox ----------
# Each prints one line "RESULT <json>" for the test (on the host side) to check.

DEADLINE_S = 30.0  # generous: waits poll for a condition, and only a broken setup takes this long


def _recorder(samples_path=None):
    from bench.telemetry import TelemetryConfig, open_recorder

    config = TelemetryConfig(sources=("jetson",), interval_s=0.5)
    return open_recorder(config, clock=time.perf_counter, samples_path=samples_path)


def _wait_samples(recorder, after, timeout=DEADLINE_S, count=1):
    """Wait until the recorder holds ``count`` samples stamped after ``after``."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if recorder._store.sample_count("jetson", after, float("inf")) >= count:
            return True
        time.sleep(0.05)
    return False


def _wait_value(recorder, name, value, timeout=DEADLINE_S):
    """Wait until the last sample of ``name`` reads ``value``; the time it was seen, or None."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        last = recorder._store.last("jetson", name)
        if last is not None and last[1] == value:
            return time.perf_counter()
        time.sleep(0.02)
    return None


def _csv_rows(path):
    import csv

    with open(path) as f:
        return [
            (float(r["time_s"]), r["name"], float(r["value"]))
            for r in csv.DictReader(f)
            if r["source"] == "jetson"
        ]


def scenario_trial(board):
    """A trial whose board-input power steps up half-way through."""
    server = start_server()
    total = "POM_5V_IN" if board.kind == "nano" else "VDD_IN"
    volt, curr = board.rails[total]
    before_w = board.power_mw(total) / 1000.0
    recorder = _recorder("/tmp/telemetry.csv")
    recorder.start()
    assert _wait_samples(recorder, time.perf_counter())
    recorder.trial_begin("trial-1")
    t0 = time.perf_counter()
    assert _wait_samples(recorder, t0, count=2)
    # the last sample before the change: up to it, the power was constant
    steady_end = recorder._store.last_tick("jetson")
    switched = time.perf_counter()
    board.set_rail(total, volt, curr + 250)
    board.set_temperature(1, 61500)
    # no assumption on how soon the server shows it: wait until the recorder has it ...
    seen = _wait_value(recorder, "power_w.total", board.power_mw(total) / 1000.0)
    assert seen is not None, "the new power never reached the recorder"
    assert _wait_samples(recorder, seen, count=2)  # ... and a little of the new power
    t1 = time.perf_counter()
    figures = recorder.trial_end("trial-1", t0, t1)
    steady = recorder.energy_between(t0, steady_end)
    manifest = recorder.manifest_info()
    recorder.close()
    kill_server(server)
    return {
        "t0": t0,
        "t1": t1,
        "switched": switched,
        "seen": seen,
        "steady_end": steady_end,
        "before_w": before_w,
        "after_w": board.power_mw(total) / 1000.0,
        "rails_w": dict((n, board.power_mw(n) / 1000.0) for n in board.rails),
        "figures": figures,
        "steady_energy_j": steady,
        "manifest": manifest,
        "samples": _csv_rows("/tmp/telemetry.csv"),
    }


def scenario_lost(board):
    """The server dies mid-trial (as jtop does under load on a Nano), then comes back."""
    server = start_server()
    recorder = _recorder()
    recorder.start()
    assert _wait_samples(recorder, time.perf_counter())
    t0 = time.perf_counter()
    time.sleep(1.0)
    killing = time.perf_counter()
    kill_server(server)
    time.sleep(1.0)
    restarting = time.perf_counter()
    server = start_server()
    back = _wait_samples(recorder, restarting)
    back_at = time.perf_counter()
    time.sleep(1.0)
    t1 = time.perf_counter()
    figures = recorder.trial_end("trial-1", t0, t1)
    warnings = recorder.run_warnings()
    recorder.close()
    kill_server(server)
    return {
        "t0": t0,
        "t1": t1,
        "killing": killing,
        "restarting": restarting,
        "back": back,
        "back_at": back_at,
        "figures": figures,
        "warnings": warnings,
    }


def _open_reason():
    from bench.telemetry.sources.base import Unavailable
    from bench.telemetry.sources.jetson import JetsonSource

    source = JetsonSource(0.5)
    try:
        source.open()
    except Unavailable as error:
        return str(error)
    source.close()
    return None


def _as_nobody():
    os.setgid(65534)
    os.setgroups([])
    os.setuid(65534)


def scenario_failures(board, other_jtop=None):
    """Service absent; socket permission denied; (optionally) a server of another version."""
    result = {"absent": _open_reason()}
    recorder = _recorder()
    recorder.start()
    result["absent_manifest"] = recorder.manifest_info()["sources"]["jetson"]
    result["absent_warnings"] = recorder.run_warnings()
    recorder.close()
    server = start_server()
    child = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "open-reason", board.kind],
        stdout=subprocess.PIPE,
        universal_newlines=True,
        preexec_fn=_as_nobody,
        env=dict(os.environ, HOME="/tmp"),
    )
    out, _ = child.communicate(timeout=60)
    result["denied"] = _result_of(out)
    result["root_ok"] = _open_reason()
    kill_server(server)
    if other_jtop:
        os.remove(SOCKET)
        server = start_server(jtop_bin=other_jtop)
        result["mismatch"] = _open_reason()
        kill_server(server)
    return result


E2E_SUITE = """\
name: jetson-e2e
problems:
  linear: {}
optimizers:
  sgd: {lr: 0.01}
budget: {steps: 400, eval_every: 100, time_limit: 60}
seeds: [0]
telemetry: {sources: [jetson], interval: 0.5}
"""


def scenario_e2e(board):
    """The whole harness, ``optbench run`` in a subprocess, with the jetson source."""
    import json

    server = start_server()
    with open("/tmp/e2e.yaml", "w") as f:
        f.write(E2E_SUITE)
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=repo)
    child = subprocess.Popen(
        [sys.executable, "-m", "bench", "run", "/tmp/e2e.yaml", "--results", "/tmp/results"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        universal_newlines=True,
        env=env,
        cwd=repo,
    )
    output, _ = child.communicate(timeout=300)
    kill_server(server)
    trials, manifest, csv_names = [], None, set()
    for folder, _dirs, files in os.walk("/tmp/results"):
        if "trials.jsonl" in files:
            with open(os.path.join(folder, "trials.jsonl")) as f:
                trials = [json.loads(line) for line in f if line.strip()]
        for name in files:
            if name.startswith("manifest") and name.endswith(".json"):
                with open(os.path.join(folder, name)) as f:
                    manifest = json.load(f)
        if "telemetry.csv" in files:
            with open(os.path.join(folder, "telemetry.csv")) as f:
                csv_names = sorted(set(line.split(",")[2] for line in f.readlines()[1:]))
    return {
        "exit": child.returncode,
        "output": output[-3000:],
        "power_w": board.power_mw("POM_5V_IN") / 1000.0 if board.kind == "nano" else None,
        "trials": trials,
        "manifest": manifest,
        "csv_names": csv_names,
    }


NIGHTLY_SUITE = """\
name: jetson-night
problems:
  curve: {steps: 2500}
optimizers:
  sgd: {lr: [0.01, 0.02, 0.05, 0.1]}
budget: {eval_every: 500, time_limit: 60}
seeds: [0]
telemetry: {sources: [jetson], interval: 0.5, idle_baseline: 0}
"""


def scenario_nightly(board, hang=False, hung_before=False):
    """`optbench nightly` with the jetson source; the jtop service killed mid-night (as jtop
    dies under load on a Nano) and not brought back, or (``hang``) stopped with SIGSTOP, alive
    but answering nothing (as jtop hangs under load): the night must finish and say so."""
    import json

    server = start_server()
    if hung_before:  # hung since an earlier night: the night must start without it
        for pid in _descendants(server.pid) + [server.pid]:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGSTOP)
    with open("/tmp/night.yaml", "w") as f:
        f.write(NIGHTLY_SUITE)
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    child = subprocess.Popen(
        [sys.executable, "-m", "bench", "nightly", "/tmp/night.yaml", "--results", "/tmp/results", "--reports",
         "/tmp/reports", "--now", "2026-12-01T22:00"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
        env=dict(os.environ, PYTHONPATH=repo, PYTHONFAULTHANDLER="1"), cwd=repo,
    )  # fmt: skip
    trials = "/tmp/results/jetson-night/2026-12-01/trials.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and child.poll() is None:
        if os.path.exists(trials) and open(trials).read().count("\n") >= 1:
            break
        time.sleep(0.02)
    with open(trials) as f:
        before_kill = f.read().count("\n")
    stopped = _descendants(server.pid) + [server.pid]
    if hang and not hung_before:
        for pid in stopped:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGSTOP)
    else:
        kill_server(server)
    try:
        output, _ = child.communicate(timeout=90)  # within the test's own 120 s
    except subprocess.TimeoutExpired:
        child.send_signal(signal.SIGABRT)  # faulthandler prints where every thread is
        output, _ = child.communicate()
        return {"exit": None, "output": "the night did not finish in 90 s:\n" + output[-8000:],
                "before_kill": before_kill, "summary": {}}  # fmt: skip
    finally:
        if hang or hung_before:
            kill_server(server)  # SIGKILL ends stopped processes too
    with open("/tmp/results/jetson-night/2026-12-01/summary.json") as f:
        summary = json.load(f)
    with open("/tmp/results/jetson-night/2026-12-01/manifest.json") as f:
        telemetry = json.load(f).get("telemetry")
    return {
        "exit": child.returncode,
        "output": output[-3000:],
        "before_kill": before_kill,
        "summary": summary,
        "telemetry": telemetry,
    }


def _result_of(out):
    import json

    for line in out.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError("no RESULT line in:\n" + out)


def main(argv):
    import json

    scenario, kind = argv[1], argv[2]
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if scenario == "open-reason":  # run as an unprivileged user by scenario_failures
        print("RESULT " + json.dumps(_open_reason()))
        return
    board = build_nano() if kind == "nano" else build_orin_nano()
    if scenario == "trial":
        result = scenario_trial(board)
    elif scenario == "lost":
        result = scenario_lost(board)
    elif scenario == "e2e":
        result = scenario_e2e(board)
    elif scenario == "nightly":
        result = scenario_nightly(board)
    elif scenario == "nightly-hang":
        result = scenario_nightly(board, hang=True)
    elif scenario == "nightly-hung":
        result = scenario_nightly(board, hung_before=True)
    elif scenario == "failures":
        result = scenario_failures(board, other_jtop=argv[3] if len(argv) > 3 else None)
    else:
        raise SystemExit("unknown scenario " + scenario)
    sys.stdout.flush()
    print("RESULT " + json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv)
