"""The tegrastats parser on real lines of each format, and the source on a child process."""

import os
import stat
import sys
import textwrap
import threading
import time

import pytest

from bench.telemetry import TelemetryConfig, open_recorder
from bench.telemetry.sources.base import Lost, Unavailable
from bench.telemetry.sources.tegrastats import TegrastatsSource, parse_line

MIB = 1024.0 * 1024.0

# Real tegrastats lines, as published by users of each board.
NANO = (  # Jetson Nano, L4T R32 (JetPack 4.x)
    "RAM 1754/3956MB (lfb 4x4MB) SWAP 0/1978MB (cached 0MB) "
    "CPU [9%@1479,3%@1479,2%@1479,1%@1479] EMC_FREQ 0% GR3D_FREQ 0% "
    "PLL@27C CPU@29.5C PMIC@50C GPU@28C AO@36.5C thermal@28.75C "
    "POM_5V_IN 1902/1902 POM_5V_GPU 0/0 POM_5V_CPU 395/395"
)
NANO_IRAM = (  # Nano with IRAM/APE fields and EMC/GPU clocks
    "RAM 1245/3964MB (lfb 147x4MB) SWAP 4/1982MB (cached 0MB) IRAM 0/252kB(lfb 252kB) "
    "CPU [0%@204,2%@204,0%@204,1%@204] EMC_FREQ 0%@204 GR3D_FREQ 0%@76 APE 25 "
    "PLL@25.5C CPU@29C PMIC@50C GPU@27.5C AO@34.5C thermal@28.25C "
    "POM_5V_IN 1003/919 POM_5V_GPU 0/0 POM_5V_CPU 166/145"
)
NANO_5W = (  # Nano in 5 W mode: two cores off
    "RAM 1409/3964MB (lfb 28x4MB) SWAP 0/1982MB (cached 0MB) IRAM 0/252kB(lfb 252kB) "
    "CPU [22%@518,67%@518,off,off] EMC_FREQ 0%@1600 GR3D_FREQ 0%@76 APE 25 "
    "PLL@28.5C CPU@32C PMIC@50C GPU@30.5C AO@39.5C thermal@31.25C "
    "POM_5V_IN 2003/2003 POM_5V_GPU 0/0 POM_5V_CPU 320/320"
)
ORIN_NANO = (  # Orin Nano, L4T R36 (JetPack 6), under load
    "10-08-2026 04:35:02 RAM 6712/7620MB (lfb 12x4MB) SWAP 369/3810MB (cached 8MB) "
    "CPU [38%@1497,2%@729,1%@729,0%@729,1%@729,0%@729] EMC_FREQ 61%@2133 "
    "GR3D_FREQ 99%@[612] NVDEC off NVJPG off VIC off OFA off APE 200 "
    "cpu@57.125C soc2@55.093C soc0@56.625C gpu@58.625C tj@58.312C soc1@55.937C "
    "VDD_IN 16321mW/11204mW VDD_CPU_GPU_CV 7104mW/4944mW VDD_SOC 3120mW/3659mW"
)
ORIN_NANO_OFF_CORE = (
    "08-23-2026 13:57:46 RAM 3595/7607MB (lfb 1x1MB) SWAP 11/3804MB (cached 0MB) "
    "CPU [1%@729,off,3%@729,4%@729,5%@729,6%@729] EMC_FREQ 2%@2133 GR3D_FREQ 7%@[306] "
    "cpu@51C soc2@50.562C soc0@51.031C gpu@50.5C tj@51C soc1@50C "
    "VDD_IN 5832mW/5852mW VDD_CPU_GPU_CV 1307mW/1327mW VDD_SOC 1468mW/1468mW"
)
AGX_ORIN_JP7 = (  # AGX Orin, JetPack 7.2 (L4T R39.2): three values per rail, two per zone
    "07-25-2026 09:08:28 RAM 20642/62817MB (lfb 1x2MB) "
    "CPU [23%@2201,10%@2201,4%@2201,14%@2201,30%@2201,18%@2201,10%@2201,10%@2201,33%@2201,"
    "7%@2201,5%@2201,27%@2201] "
    "EMC_FREQ 3%@3199 GR3D_FREQ 12%@[1300,1300] NVENC0 off NVDEC0 off NVJPG0 off NVJPG1 off "
    "VIC off OFA off NVDLA0 off NVDLA1 off PVA0_FREQ off APE 174 "
    "cpu@52.968C/52.968C soc2@48.406C/48.406C soc0@49.531C/49.531C gpu@47.625C/47.625C "
    "VDD_GPU_SOC 5139mW/5139mW/5139mW VDD_CPU_CV 3268mW/3268mW/3268mW "
    "VIN_SYS_5V0 5500mW/5500mW/5500mW"
)
TX1 = (  # TX1, L4T R28: VDD_IN without a unit
    "RAM 1179/3983MB (lfb 120x4MB) IRAM 0/252kB(lfb 252kB) CPU [1%@102,4%@102,0%@102,0%@102] "
    "EMC_FREQ 7%@408 GR3D_FREQ 0%@76 APE 25 AO@42.5C CPU@37.5C GPU@39C PLL@37C "
    "Tdiode@42.75C PMIC@100C Tboard@42C thermal@38.5C VDD_IN 2532/2698 VDD_CPU 76/178 VDD_GPU 19/19"
)
# jetson-stats' own tegrastats emulator line for an AGX Orin: offline sensors read -256
ORIN_OFFLINE_ZONES = (
    "01-03-2023 16:10:22 RAM 2257/30536MB (lfb 5392x4MB) SWAP 0/15268MB (cached 0MB) "
    "CPU [5%@729,3%@729,off,off] EMC_FREQ 0% GR3D_FREQ 4% CV0@-256C CPU@41.375C Tboard@29C "
    "SOC2@39C Tdiode@30.75C SOC0@38.906C CV1@-256C GPU@-256C tj@41.468C SOC1@38.843C CV2@-256C"
)


def readings(line):
    return dict(parse_line(line).readings)


def readings_with(line, cpu_max_mhz, gpu_max_mhz):
    return dict(parse_line(line, cpu_max_mhz, gpu_max_mhz).readings)


def test_nano_line():
    parsed = parse_line(NANO)
    r = dict(parsed.readings)
    assert parsed.total_rail == "POM_5V_IN"
    assert parsed.rails == ("POM_5V_IN", "POM_5V_GPU", "POM_5V_CPU")
    assert r["power_w.total"] == pytest.approx(1.902)
    assert r["power_w.POM_5V_GPU"] == 0.0
    assert r["power_w.POM_5V_CPU"] == pytest.approx(0.395)
    assert "power_w.POM_5V_IN" not in r  # it is the total, not a rail beside it
    assert r["temp_c.CPU"] == 29.5 and r["temp_c.GPU"] == 28.0 and r["temp_c.thermal"] == 28.75
    assert "temp_c.PMIC" not in r  # a fixed 50 C on the Nano, not a measurement
    assert r["ram_used_bytes"] == 1754 * MIB and r["ram_total_bytes"] == 3956 * MIB
    assert r["swap_used_bytes"] == 0.0
    assert r["cpu_load_pct"] == pytest.approx((9 + 3 + 2 + 1) / 4.0)
    assert "cpu_freq_ratio" not in r  # no clock caps given: no ratio
    assert r["gpu_load_pct"] == 0.0
    assert "gpu_freq_mhz" not in r  # "GR3D_FREQ 0%" has no clock
    # every name emitted is one the figures read (docs/TELEMETRY.md lists them)
    read = ("power_w.", "temp_c.", "cpu_load_pct", "cpu_freq_ratio", "gpu_load_pct", "gpu_freq_mhz")
    read += ("gpu_freq_max_mhz", "ram_used_bytes", "ram_total_bytes", "swap_used_bytes")
    for line in (NANO, NANO_IRAM, NANO_5W, ORIN_NANO, AGX_ORIN_JP7, TX1, ORIN_OFFLINE_ZONES):
        names = dict(parse_line(line, [1500.0] * 12, 1000.0).readings)
        assert [n for n in names if not n.startswith(read)] == []


def test_clock_ratios_from_the_caps():
    # Nano in 5 W mode: cores 0-1 at 518 of a 918 MHz cap, cores 2-3 off (no cap either)
    r = readings_with(NANO_5W, [918.0, 918.0, None, None], 921.6)
    assert r["cpu_freq_ratio"] == pytest.approx(518 / 918.0)
    assert r["gpu_freq_mhz"] == 76.0 and r["gpu_freq_max_mhz"] == 921.6
    # Orin Nano: six cores, core 0 at its 1497 MHz cap, the others at 729 of 1510.4
    r = readings_with(ORIN_NANO, [1497.0] + [1510.4] * 5, 624.75)
    assert r["cpu_freq_ratio"] == pytest.approx((1.0 + 5 * 729 / 1510.4) / 6)
    assert r["gpu_freq_mhz"] == 612.0 and r["gpu_freq_max_mhz"] == 624.75
    # a core whose cap is unknown is left out, not counted at 0 or 1
    r = readings_with(NANO, [1479.0, None, 1479.0, None], None)
    assert r["cpu_freq_ratio"] == 1.0 and "gpu_freq_max_mhz" not in r


def test_nano_first_value_is_instantaneous():
    r = readings(NANO_IRAM)
    assert r["power_w.total"] == pytest.approx(1.003)  # not the 919 average
    assert r["power_w.POM_5V_CPU"] == pytest.approx(0.166)
    assert r["gpu_freq_mhz"] == 76.0
    assert "temp_c.IRAM" not in r and not any(k.startswith("power_w.RAM") for k in r)


def test_nano_offline_cores_are_skipped():
    r = readings(NANO_5W)
    assert r["cpu_load_pct"] == pytest.approx((22 + 67) / 2.0)
    assert r["power_w.total"] == pytest.approx(2.003)


def test_orin_nano_line():
    parsed = parse_line(ORIN_NANO)
    r = dict(parsed.readings)
    assert parsed.total_rail == "VDD_IN"
    assert r["power_w.total"] == pytest.approx(16.321)
    assert r["power_w.VDD_CPU_GPU_CV"] == pytest.approx(7.104)
    assert r["power_w.VDD_SOC"] == pytest.approx(3.120)
    assert r["gpu_load_pct"] == 99.0 and r["gpu_freq_mhz"] == 612.0
    assert r["temp_c.gpu"] == 58.625 and r["temp_c.tj"] == 58.312
    assert r["swap_used_bytes"] == 369 * MIB
    assert readings(ORIN_NANO_OFF_CORE)["cpu_load_pct"] == pytest.approx(19 / 5.0)


def test_jetpack7_three_value_rails_and_two_value_temperatures():
    parsed = parse_line(AGX_ORIN_JP7)
    r = dict(parsed.readings)
    # no VIN/POM_5V_IN/VDD_IN: the total is the sum of the rails, and says so
    assert parsed.total_rail is None
    assert r["power_w.total"] == pytest.approx(5.139 + 3.268 + 5.500)
    assert r["power_w.VIN_SYS_5V0"] == pytest.approx(5.5)
    assert r["temp_c.cpu"] == 52.968 and r["temp_c.gpu"] == 47.625
    assert r["gpu_load_pct"] == 12.0 and r["gpu_freq_mhz"] == 1300.0
    assert "swap_used_bytes" not in r


def test_tx1_unitless_vdd_in():
    parsed = parse_line(TX1)
    assert parsed.total_rail == "VDD_IN"
    assert dict(parsed.readings)["power_w.total"] == pytest.approx(2.532)


def test_offline_zones_are_no_reading():
    r = readings(ORIN_OFFLINE_ZONES)
    assert "temp_c.CV0" not in r and "temp_c.GPU" not in r
    assert r["temp_c.CPU"] == 41.375
    assert not any(k.startswith("power_w") for k in r)  # no rails on this line: no power


def _fake_tegrastats(tmp_path, lines, then_exit):
    """An executable that prints real lines at the --interval it is given, like tegrastats."""
    script = tmp_path / "tegrastats"
    body = textwrap.dedent(
        """\
        #!{python}
        import sys, time
        interval = int(sys.argv[sys.argv.index("--interval") + 1]) / 1000.0
        lines = {lines!r}
        n = 0
        while True:
            print(lines[n % len(lines)], flush=True)
            n += 1
            if {then_exit} and n >= len(lines):
                sys.stderr.write("simulated crash\\n")
                sys.exit(3)
            time.sleep(interval)
        """
    ).format(python=sys.executable, lines=list(lines), then_exit=then_exit)
    script.write_text(body)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_source_reads_child_process_and_reports_exit(tmp_path):
    exe = _fake_tegrastats(tmp_path, [NANO, NANO_IRAM, NANO_5W], then_exit=True)
    source = TegrastatsSource(0.02, executable=exe)
    source.open()
    assert source.power_scope == "board input rail POM_5V_IN (tegrastats)"
    got = []
    with pytest.raises(Lost, match="exit code 3: simulated crash"):
        source.run(got.append, threading.Event())
    assert [dict(r)["power_w.total"] for r in got] == pytest.approx([1.003, 2.003])
    source.close()


def test_source_stops_cleanly(tmp_path):
    exe = _fake_tegrastats(tmp_path, [ORIN_NANO], then_exit=False)
    source = TegrastatsSource(0.02, executable=exe)
    source.open()
    stop = threading.Event()
    got = []

    def emit(r):
        got.append(r)
        if len(got) >= 3:
            stop.set()

    source.run(emit, stop)
    source.close()
    assert len(got) == 3
    assert source._proc is None


def test_missing_binary_is_unavailable(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(Unavailable, match="tegrastats not found"):
        TegrastatsSource(0.5).open()


# A Nano under load, in the R32 format (as NANO_IRAM above, with its fields at full load):
# all four cores and the GPU at 97-99%, clocks at the MAXN caps (1479 MHz, 921.6 MHz)
NANO_LOADED = (
    "RAM 2931/3964MB (lfb 105x4MB) SWAP 0/1982MB (cached 0MB) IRAM 0/252kB(lfb 252kB) "
    "CPU [97%@1479,98%@1479,99%@1479,99%@1479] EMC_FREQ 43%@1600 GR3D_FREQ 99%@921 APE 25 "
    "PLL@41C CPU@45.5C PMIC@50C GPU@43.5C AO@50C thermal@44.25C "
    "POM_5V_IN 6951/5302 POM_5V_GPU 2749/1836 POM_5V_CPU 1908/1546"
)
# ... the GPU held at 307 MHz of 921.6 while 99% loaded (a power or thermal cap)
NANO_GPU_HELD = NANO_LOADED.replace("GR3D_FREQ 99%@921", "GR3D_FREQ 99%@307")
# ... the CPU zone at 97.5 C, over its 97 C passive trip point, the cores still at their cap
NANO_HOT = NANO_LOADED.replace("CPU@45.5C", "CPU@97.5C")


def _nano_sysfs(root):
    """The sysfs a Jetson Nano shows in MAXN: cpufreq caps, the GPU's devfreq, thermal zones."""

    def write(path, value):
        path = os.path.join(root, path)
        if not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path))
        with open(path, "w") as f:
            f.write(value)

    for n in range(4):
        write(f"devices/system/cpu/cpu{n}/cpufreq/scaling_max_freq", "1479000\n")  # kHz
    gpu = "devices/platform/57000000.gpu/devfreq/57000000.gpu"
    write(gpu + "/max_freq", "921600000\n")  # Hz
    write(gpu + "/device/of_node/name", "gpu")  # a device-tree string: no newline
    os.makedirs(os.path.join(root, "class/devfreq"))
    os.symlink(os.path.join(root, gpu), os.path.join(root, "class/devfreq/57000000.gpu"))
    for n, (kind, trip) in enumerate((("AO-therm", None), ("CPU-therm", 97000), ("GPU-therm", 97000))):
        write(f"devices/virtual/thermal/thermal_zone{n}/type", kind + "\n")
        if trip is not None:
            write(f"devices/virtual/thermal/thermal_zone{n}/trip_point_0_type", "passive\n")
            write(f"devices/virtual/thermal/thermal_zone{n}/trip_point_0_temp", f"{trip}\n")
    return str(root)


def _trial_with_tegrastats(tmp_path, line):
    """A trial recorded from a tegrastats child printing ``line``, on a simulated Nano sysfs."""
    exe = _fake_tegrastats(tmp_path, [line], then_exit=False)
    sys_root = _nano_sysfs(tmp_path / "sys")
    source = TegrastatsSource(0.1, executable=exe, sys_root=sys_root, release_path=str(tmp_path / "none"))
    rec = open_recorder(TelemetryConfig(sources=("tegrastats",)), sources=[source])
    with rec:
        assert rec.manifest_info()["active"] == ["tegrastats"], rec.manifest_info()
        t0 = time.perf_counter()
        deadline = time.monotonic() + 60
        # every line is the same, so the verdict cannot depend on how many arrive: wait for
        # three inside the trial (the clock check needs two loaded samples)
        while rec._store.sample_count("tegrastats", t0, time.perf_counter()) < 3:
            assert time.monotonic() < deadline, "tegrastats gave no samples"
            time.sleep(0.01)
        figures = rec.trial_end("t", t0, time.perf_counter())
        info = rec.manifest_info()["sources"]["tegrastats"]["info"]
    return figures, info


def test_tegrastats_gives_a_throttled_verdict_like_jtop(tmp_path):
    figures, info = _trial_with_tegrastats(tmp_path, NANO_LOADED)
    assert info["cpu_max_mhz"] == [1479.0] * 4 and info["gpu_max_mhz"] == 921.6
    assert info["trip_points_c"] == {"CPU": 97.0, "GPU": 97.0}
    # everything at its cap and below its trip point: checked, and not throttled
    assert figures["throttled"] is False, figures["throttle_evidence"]
    assert figures["throttle_checks"] == [
        "CPU clock vs maximum under load",
        "GPU clock vs maximum under load",
        "CPU temperature vs trip point 97.0 C",
        "GPU temperature vs trip point 97.0 C",
    ]
    assert figures["ram_used_peak_bytes"] == 2931 * MIB
    assert "(CPU and GPU share it)" in figures["source"]["ram_used_peak_bytes"]


def test_tegrastats_sees_a_gpu_clock_held_down_under_load(tmp_path):
    figures, _ = _trial_with_tegrastats(tmp_path, NANO_GPU_HELD)
    assert figures["throttled"] is True
    (evidence,) = figures["throttle_evidence"]
    assert evidence.startswith("GPU clock at 33% of its maximum while >= 90% loaded")


def test_tegrastats_sees_a_zone_over_its_trip_point(tmp_path):
    figures, _ = _trial_with_tegrastats(tmp_path, NANO_HOT)
    assert figures["throttled"] is True
    assert figures["throttle_evidence"] == ["CPU reached 97.5 C, at or over its passive trip point 97.0 C"]


def test_tegrastats_without_sysfs_says_why_no_verdict(tmp_path):
    exe = _fake_tegrastats(tmp_path, [NANO_LOADED], then_exit=False)
    source = TegrastatsSource(0.1, executable=exe, sys_root=str(tmp_path / "no-sys"))
    rec = open_recorder(TelemetryConfig(sources=("tegrastats",)), sources=[source])
    with rec:
        t0 = time.perf_counter()
        deadline = time.monotonic() + 60
        while rec._store.sample_count("tegrastats", t0, time.perf_counter()) < 3:
            assert time.monotonic() < deadline, "tegrastats gave no samples"
            time.sleep(0.01)
        figures = rec.trial_end("t", t0, time.perf_counter())
    # tegrastats shows clocks and temperatures but not the caps nor the trip points
    assert figures["throttled"] is None
    assert figures["unmeasured"]["throttled"] == (
        "no throttle data during the trial from tegrastats (clocks, trip points)"
    )
