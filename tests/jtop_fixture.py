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
            return "{} is not installed".format(tool)
    probe = subprocess.call(
        ["unshare", "-m", "-p", "-f", "--mount-proc", "true"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if probe != 0:
        return "unshare -m -p cannot create namespaces here (exit {})".format(probe)
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
        stat += "cpu{} 1673575 1889 461134 59280326 55795 0 10322 0 0 0\n".format(n)
        d = _mkdir(os.path.join(FAKE, "devices/system/cpu/cpu{}/cpufreq".format(n)))
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
        d = _mkdir(os.path.join(THERMAL, "thermal_zone{}".format(n)))
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


class Board(object):
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
            write_value(os.path.join(self._dir, "in_voltage{}_input".format(n)), volt_mv)
            write_value(os.path.join(self._dir, "in_current{}_input".format(n)), curr_ma)
            write_value(
                os.path.join(self._dir, "in_power{}_input".format(n)), self.power_mw(name)
            )
        else:
            write_value(os.path.join(self._dir, "in{}_input".format(n)), volt_mv)
            write_value(os.path.join(self._dir, "curr{}_input".format(n)), curr_ma)

    def set_temperature(self, zone_index, milli):
        write_value(os.path.join(THERMAL, "thermal_zone{}".format(zone_index), "temp"), milli)

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
        write_value(os.path.join(iio, "rail_name_{}".format(n)), name)
        write_value(os.path.join(iio, "warn_current_limit_{}".format(n)), 4000)
        write_value(os.path.join(iio, "crit_current_limit_{}".format(n)), 5000)
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
        write_value(os.path.join(hwmon, "in{}_label".format(n)), name)
        write_value(os.path.join(hwmon, "curr{}_max".format(n)), 4000)
        write_value(os.path.join(hwmon, "curr{}_crit".format(n)), 5000)
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


def start_server(timeout=30.0):
    """Start the real jtop service of this interpreter's jetson-stats; wait for its socket."""
    env = dict(os.environ, JTOP_TESTING="true", JTOP_SERVICE="True")
    jtop_bin = os.path.join(os.path.dirname(sys.executable), "jtop")
    log = open("/tmp/jtop-server.log", "ab")
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
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    proc.wait()


def _descendants(pid):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/{}/stat".format(entry)) as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid:
            found.append(int(entry))
            found.extend(_descendants(int(entry)))
    return found
