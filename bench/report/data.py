"""What the report is made from: one run, loaded once, and the run it is compared with."""

import os
from dataclasses import dataclass
from typing import Any, Dict, Optional

from bench import store
from bench.analysis import load


@dataclass(frozen=True)
class ReportData:
    run_dir: str
    manifest: Dict[str, Any]  # as bench.store.read_manifest returns it (upgraded)
    trials: Any  # pandas DataFrame: bench.analysis.load's trials
    curves: Any  # ... and its curves
    telemetry: Any  # time_s, source, name, value; empty where the run had no telemetry
    baseline: Optional["ReportData"] = None  # --baseline: the run this one is compared with

    @property
    def label(self) -> str:
        """How the report names this run: suite/run-id."""
        return "{}/{}".format(
            self.manifest.get("suite"), self.manifest.get("run_id") or os.path.basename(self.run_dir)
        )


def load_report_data(run_dir: str, baseline_dir: Optional[str] = None) -> ReportData:
    """Load a run (and its baseline); StoreError for a directory that cannot be read."""
    trials, curves = load.load(run_dir)
    manifest = store.read_manifest(run_dir)
    baseline = load_report_data(baseline_dir) if baseline_dir else None
    return ReportData(
        run_dir=run_dir, manifest=manifest, trials=with_machines(trials, manifest), curves=curves,
        telemetry=load.load_telemetry(run_dir), baseline=baseline,
    )  # fmt: skip


def machine_label(env: Dict[str, Any]) -> str:
    """A machine as a record's or a manifest's fingerprint names it: host (cpu, cores, board)."""
    return "{} ({}, {} cores{})".format(
        env.get("host"), env.get("cpu"), env.get("cpu_count"),
        ", " + env["board"] if env.get("board") else "",
    )  # fmt: skip


def with_machines(trials, manifest: Dict[str, Any]):
    """``trials`` with a ``machine`` column where the records name the machines that ran them
    (a distributed run's workers: TrialRecord.environment); unchanged for a run whose trials
    all ran on the manifest's machine. The report groups times by it (times of two machines
    do not compare) and the appendix says where each trial ran."""
    if trials.empty or "environment" not in trials or not trials["environment"].map(bool).any():
        return trials
    own = machine_label(manifest.get("environment") or {})
    return trials.assign(machine=[machine_label(env) if env else own for env in trials["environment"]])
