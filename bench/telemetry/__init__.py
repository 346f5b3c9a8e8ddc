"""Telemetry: power, energy, temperature, clocks and memory, sampled off the training thread.

Interface used by the runner (bench.runner) -- owned by this package:

    recorder = open_recorder(config, clock=time.perf_counter, samples_path=run_dir/"telemetry.csv")
    recorder.start()                       # background sampling begins
    info = recorder.manifest_info()        # board/power-mode/sources facts for the run manifest
    recorder.trial_begin(trial_id)
    ... training; the trainer reports train_start/train_end on the same clock ...
    figures = recorder.trial_end(trial_id, train_start, train_end)   # dict for TrialRecord.telemetry
    recorder.close()

Until the samplers land, ``open_recorder`` returns a recorder that measures nothing and says so.
"""
