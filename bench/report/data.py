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
    baseline = load_report_data(baseline_dir) if baseline_dir else None
    return ReportData(
        run_dir=run_dir, manifest=store.read_manifest(run_dir), trials=trials, curves=curves,
        telemetry=load.load_telemetry(run_dir), baseline=baseline,
    )  # fmt: skip
