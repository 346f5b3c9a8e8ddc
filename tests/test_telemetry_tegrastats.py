"""The tegrastats parser on real lines of each format, and the source on a child process."""

import stat
import sys
import textwrap
import threading

import pytest

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
    assert r["cpu_freq_mhz"] == 1479.0
    assert r["gpu_load_pct"] == 0.0
    assert "gpu_freq_mhz" not in r  # "GR3D_FREQ 0%" has no clock


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
