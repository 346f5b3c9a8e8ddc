"""`optbench nightly`: one night of a suite, unattended (docs/NIGHTLY.md).

Device half (Python 3.6, standard library and the runner only), one job per module:
  night.py      which night it is, which run directory it writes, night.json (its sessions)
  window.py     the time window: which trials run first, and which wait for the next night
  power.py      the board's power mode and jetson_clocks state, and --require-power-mode
  retention.py  keep the last N nightly runs whole; prune older curve data
  summary.py    summary.md and summary.json: the morning's verdict
  timer.py      systemd service and timer units, and a cron line
  command.py    the command: run, then the analysis steps where this Python has them
Analysis half (Python >= 3.8 and pandas; imported lazily by command.py):
  analysis.py   report, compare against the baseline, history
"""
