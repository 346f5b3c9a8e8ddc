"""Telemetry failing under a real run: tegrastats exits mid-sweep.

A stand-in `tegrastats` on PATH prints a Jetson Nano's real lines at the interval optbench
asks for; the first one started exits (code 3, "simulated crash") once two trials are
recorded, as tegrastats does when its board's driver hiccups. optbench is run for real in a
subprocess: the sweep goes on, the loss is a gap in the records of the trials it touched
(with tegrastats' own words), a trial with more than a tenth of it (and an interval)
unsampled has no energy figure and says why, its temperatures are the peaks over the samples
it has, and the source, restarted, measures later trials in full. (jtop stopped mid-run: tests/test_telemetry_jtop.py
and test_nightly_jtop.py; an NVML error: tests/test_telemetry_nvml.py.)
"""

import json
import os
import re
import stat
import subprocess
import sys
import textwrap

from conftest import ROOT
from test_telemetry_tegrastats import NANO

SUITE = """
problems: {curve: {steps: 3000}}
optimizers: {sgd: {lr: [0.01, 0.02, 0.05, 0.1, 0.2]}, adam: {lr: [0.001, 0.002, 0.005, 0.01, 0.02]}}
telemetry: {sources: [tegrastats], interval: 0.1}
"""


def _tegrastats_that_exits_once(bin_dir, trials_path, marker):
    script = bin_dir / "tegrastats"
    script.write_text(
        textwrap.dedent(
            """\
            #!{python}
            import os, sys, time
            interval = int(sys.argv[sys.argv.index("--interval") + 1]) / 1000.0
            first = not os.path.exists({marker!r})
            open({marker!r}, "a").close()
            while True:
                print({line!r}, flush=True)
                if first and os.path.exists({trials!r}) and open({trials!r}).read().count("\\n") >= 2:
                    sys.stderr.write("simulated crash\\n")
                    sys.exit(3)
                time.sleep(interval)
            """
        ).format(python=sys.executable, marker=marker, line=NANO, trials=trials_path)
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_tegrastats_exiting_mid_sweep_is_a_gap_and_the_sweep_goes_on(tmp_path):
    suite = tmp_path / "teg.yaml"
    suite.write_text(SUITE)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    run_dir = tmp_path / "results" / "teg" / "run"
    _tegrastats_that_exits_once(bin_dir, str(run_dir / "trials.jsonl"), str(tmp_path / "started"))
    done = subprocess.run(
        [sys.executable, "-m", "bench", "run", str(suite), "--results", str(tmp_path / "results"), "--run-id", "run"],
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT, PATH=str(bin_dir) + os.pathsep + os.environ["PATH"]),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "warning: telemetry source tegrastats lost 1 time(s)" in done.stderr
    assert "tegrastats exited: exit code 3: simulated crash" in done.stderr
    records = [json.loads(line) for line in open(str(run_dir / "trials.jsonl"))]
    assert len(records) == 10 and {r["status"] for r in records} == {"ok"}  # the sweep went on
    touched = [r["telemetry"] for r in records if r["telemetry"]["gaps"]]
    assert touched and all(r["telemetry"]["sources"] == ["tegrastats"] for r in records)
    assert not any(r["telemetry"]["gaps"] for r in records[:2])  # lost only after two were recorded
    for figures in touched:
        (gap,) = figures["gaps"]
        assert gap["reason"] == "tegrastats exited: exit code 3: simulated crash" and gap["overlap_s"] > 0
        # too little sampled (more than an interval, 0.1 s, and a tenth of the trial): no figure, and why
        if gap["overlap_s"] > max(0.1, 0.1 * figures["window_s"]):
            assert figures["energy_j"] is None
            said = re.match(r"tegrastats had no power samples for ([\d.]+) s of the ([\d.]+) s trial$",
                            figures["unmeasured"]["energy_j"])  # fmt: skip
            assert said and float(said.group(1)) <= float(said.group(2)), figures["unmeasured"]
        if figures["samples"]["tegrastats"]:  # the figures it can give are over what it sampled
            assert figures["temp_peak_c"]["CPU"] == 29.5
    # restarted (the recorder retries after 1 s, then 2, 4, ...), it measures later trials in full
    first_touched = next(i for i, r in enumerate(records) if r["telemetry"]["gaps"])
    after = [r["telemetry"] for r in records[first_touched:] if not r["telemetry"]["gaps"]]
    assert after, "the source never came back during the sweep"
    assert all(t["energy_j"] > 0 and t["temp_peak_c"]["CPU"] == 29.5 for t in after)
