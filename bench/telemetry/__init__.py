"""Telemetry: power, energy, temperature, clocks and memory, sampled off the training thread.

Interface used by the runner (bench.runner) -- owned by this package:

    recorder = open_recorder(config, clock=time.perf_counter, samples_path=run_dir/"telemetry.csv")
    recorder.start()                       # background sampling begins
    info = recorder.manifest_info()        # board/power-mode/sources facts for the run manifest
    idle = recorder.measure_idle_baseline()   # optional, before the sweep (config.idle_baseline_s)
    cool = recorder.wait_cool()            # optional cool-down gate before a trial
    recorder.trial_begin(trial_id)
    ... training; the trainer reports train_start/train_end on the same clock ...
    figures = recorder.trial_end(trial_id, train_start, train_end)   # dict for TrialRecord.telemetry
    joules = recorder.energy_between(train_start, time_of_target)     # energy-to-target
    warnings = recorder.run_warnings()     # for the run summary
    recorder.close()

Sources: registry.py is the one list (jetson via jtop, tegrastats, nvml, rapl, host via
psutil), with what each measures; config.KNOWN_SOURCES is derived from it. A source that
cannot be used is listed in the manifest with the reason; one lost mid-run leaves a gap and
the run goes on. Layout: registry.py (the sources), config.py (the suite's settings),
sources/ (one module per source, plus jetson_sysfs.py shared by the two Jetson sources),
samples.py (in-memory series + telemetry.csv), energy.py (integration), throttle.py (the
throttled verdict), figures.py (per-trial figures), recorder.py (threads).
See docs/TELEMETRY.md.
"""

from .config import KNOWN_SOURCES, TelemetryConfig
from .recorder import Recorder, open_recorder

__all__ = ["KNOWN_SOURCES", "Recorder", "TelemetryConfig", "open_recorder"]
