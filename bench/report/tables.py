"""The report's tables: raw values for tables/*.csv, and how the page shows them.

Each table is a DataFrame of raw values (what the CSV holds, every number traceable to the
trial records) plus the columns the page shows, each with its format. Formatting happens
once, here; the Markdown and the HTML print the same strings.
"""

import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

from bench.analysis import choice, paired, summary, tuning
from bench.report.data import ReportData
from bench.report.figures import file_stem


@dataclass(frozen=True)
class Column:
    key: Optional[str]  # the frame's column; None: ``format`` reads the whole row
    label: str  # the header shown
    format: Callable[[Any], str] = str

    @property
    def numeric(self) -> bool:
        return self.format is not text

    def show(self, record: Dict[str, Any]) -> str:
        return self.format(record if self.key is None else record.get(self.key))


@dataclass(frozen=True)
class Table:
    name: str  # tables/<name>.csv
    title: str
    section: str  # a problem's name, "overview" or "appendix"
    frame: Any  # pandas DataFrame of raw values
    columns: Tuple[Column, ...]
    note: str = ""

    def __post_init__(self):
        object.__setattr__(self, "name", file_stem(self.name))

    def header(self) -> List[str]:
        return [c.label for c in self.columns]

    def rows(self) -> List[List[str]]:
        records = self.frame.to_dict("records")
        return [[c.show(record) for c in self.columns] for record in records]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(spec: str = ".4g", suffix: str = "") -> Callable[[Any], str]:
    def fmt(value: Any) -> str:
        if _missing(value):
            return "–"
        if isinstance(value, float) and math.isinf(value):
            return "∞"
        return format(value, spec) + suffix

    return fmt


def share(value: Any) -> str:
    return "–" if _missing(value) else f"{value:.0%}"


def text(value: Any) -> str:
    return "–" if _missing(value) else str(value)


def lr(value: Any) -> str:
    return "–" if _missing(value) else format(value, "g")


def with_iqr(median_key: str, iqr_key: str, spec: str = ".3g"):
    """A derived display column: 'median (IQR x)'."""

    def fmt(record: Any) -> str:
        median, iqr = record.get(median_key), record.get(iqr_key)
        if _missing(median):
            return "–"
        return f"{median:{spec}}" + ("" if _missing(iqr) else f" (IQR {iqr:{spec}})")

    return fmt


SECONDS = number(".3g", " s")
JOULES = number(".3g", " J")


def _metric(record: Dict[str, Any]) -> str:
    shown = with_iqr("final_metric_median", "final_metric_iqr")(record)
    return shown if shown == "–" else f"{record.get('metric_name')} {shown}"


QUALITY = (
    Column(None, "final loss, median (IQR)", with_iqr("final_loss_median", "final_loss_iqr")),
    Column(None, "test metric, median (IQR)", _metric),
)


def _with_metric_names(frame, data: ReportData):
    """The problem's metric name (mse, accuracy) beside its figures."""
    names = data.trials.groupby("problem")["metric_name"].first()
    frame["metric_name"] = frame["problem"].map(names)
    return frame


def winners(data: ReportData, verdicts) -> Table:
    """Per problem: the best configuration, and how sure the comparison with the next best
    optimizer is (``verdicts``: bench.analysis.paired.compare_optimizers)."""
    frame = _with_metric_names(summary.best_per_problem(data.trials), data)
    frame["verdict"] = [_runner_up_verdict(verdicts, problem) for problem in frame["problem"]]
    frame["setting"] = [
        _setting(data, problem, configuration, with_optimizer=True)
        for problem, configuration in zip(frame["problem"], frame["configuration"])
    ]
    columns = (
        Column("problem", "problem", text),
        Column("setting", "best configuration", text),
        Column("seeds", "seeds", text),
    )
    columns += QUALITY
    columns += (
        Column("reached_share", "reached target", share),
        Column("time_to_target_median_s", "time to target", SECONDS),
        Column("unstable_share", "unstable timing", share),
        Column("verdict", "against the next optimizer", text),
    )
    if frame["energy_to_target_median_j"].notna().any():
        columns = (
            columns[:-1] + (Column("energy_to_target_median_j", "energy to target", JOULES),) + columns[-1:]
        )
    columns += _baseline_columns(data, frame)
    note = ""
    if data.baseline is not None and frame["final_loss_median_vs_baseline"].isna().all():
        note = (f"No best configuration here ran in the baseline ({data.baseline.label}): the ratios need the "
                "same configuration (every axis, threads and budget included) in both runs.")  # fmt: skip
    return Table("summary", "Best configuration per problem", "overview", frame, columns, note)


def _setting(data: ReportData, problem: str, configuration: str, with_optimizer: bool) -> str:
    """'adam, lr 0.002, activation relu': what sets a configuration apart on its problem (the
    axes the suite varied there), for a reader; the CSV keeps every axis in its own column."""
    label = choice.setting_label(data.trials, configuration, choice.varying_axes(data.trials, problem))
    if not with_optimizer:
        return label or "–"
    row = data.trials.loc[data.trials["configuration"] == configuration].iloc[0]
    return ", ".join(part for part in (f"{row['optimizer']}, lr {row['lr']:g}", label) if part)


def _runner_up_verdict(verdicts, problem: str) -> str:
    """The winner against the best of the other optimizers: the closest call."""
    rows = verdicts[(verdicts["problem"] == problem) & (verdicts["optimizer"] != verdicts["winner"])]
    if rows.empty:
        return "only one optimizer ran"
    return str(rows.iloc[0]["verdict"])


def _baseline_columns(data: ReportData, frame) -> Tuple[Column, ...]:
    """With --baseline: this run's medians over the baseline's, for the same configuration."""
    if data.baseline is None:
        return ()
    base = summary.per_configuration(data.baseline.trials).set_index(["problem", "configuration"])
    for key in ("final_loss_median", "time_to_target_median_s", "step_time_median_s"):
        ratios = []
        for problem, configuration, value in zip(frame["problem"], frame["configuration"], frame[key]):
            old = base[key].get((problem, configuration)) if (problem, configuration) in base.index else None
            ratios.append(value / old if not _missing(old) and old and not _missing(value) else float("nan"))
        frame[key + "_vs_baseline"] = ratios
    return (
        Column("final_loss_median_vs_baseline", "loss vs baseline", number(".3g", "×")),
        Column("time_to_target_median_s_vs_baseline", "time to target vs baseline", number(".3g", "×")),
        Column("step_time_median_s_vs_baseline", "step time vs baseline", number(".3g", "×")),
    )


def optimizers(data: ReportData, problem: str, best, verdicts) -> Table:
    """One problem: each optimizer at its best configuration (``best``:
    choice.best_per_optimizer), against the problem's winner (``verdicts``)."""
    frame = _with_metric_names(best[best["problem"] == problem].reset_index(drop=True), data)
    verdicts = verdicts[verdicts["problem"] == problem].set_index("optimizer")["verdict"]
    frame["verdict"] = [verdicts.get(o, "the winner") for o in frame["optimizer"]]
    frame["setting"] = [_setting(data, problem, c, with_optimizer=False) for c in frame["configuration"]]
    columns = (
        Column("optimizer", "optimizer", text),
        Column("lr", "best lr", lr),
        Column("setting", "with", text),
        Column("seeds", "seeds", text),
    )
    columns += QUALITY
    columns += (
        Column("reached_share", "reached target", share),
        Column("time_to_target_median_s", "time to target", SECONDS),
        Column("step_time_median_s", "step time", number(".3g", " s")),
        Column("diverged_share", "diverged", share),
        Column("unstable_share", "unstable timing", share),
        Column("verdict", "against the winner", text),
    )
    return Table(f"optimizers-{problem}", f"{problem}: each optimizer at its best learning rate", problem, frame,
                 columns)  # fmt: skip


def tuning_cost(problem: str, costs) -> Table:
    """One problem: what each optimizer's learning-rate sweep cost, beside its best cell
    (``costs``: bench.analysis.tuning.tuning_cost)."""
    frame = costs[costs["problem"] == problem].reset_index(drop=True)
    columns = (
        Column("optimizer", "optimizer", text),
        Column("lrs", "rates tried", text),
        Column("sweep_train_time_s", "sweep: training time", SECONDS),
        Column("sweep_wall_time_s", "sweep: wall time", SECONDS),
        Column("best_train_time_s", "best cell: training time", SECONDS),
        Column("sweep_to_best", "sweep / best", number(".3g", "×")),
    )
    if frame["sweep_energy_j"].notna().any():
        columns += (
            Column("sweep_energy_j", "sweep: energy", JOULES),
            Column("best_energy_j", "best cell: energy", JOULES),
        )
    note = "Times summed over every rate and seed of the setting that holds each optimizer's best configuration, failed trials included: they were paid for."
    return Table(f"tuning-cost-{problem}", f"{problem}: the cost of tuning the learning rate", problem, frame,
                 columns, note)  # fmt: skip


def learning_rates(data: ReportData) -> Table:
    """Every setting's best learning rate and the runner-up (the appendix)."""
    frame = choice.best_learning_rates(data.trials)
    columns = (
        Column("problem", "problem", text),
        Column("optimizer", "optimizer", text),
        Column("activation", "activation", text),
        Column("batch", "batch", text),
        Column("dropout", "dropout", text),
        Column("batch_norm", "bn", text),
        Column("device", "device", text),
        Column("implementation", "implementation", text),
        Column("threads", "threads", text),
        Column("lr", "best lr", lr),
        Column("score_median", "its median score", number()),
        Column("runner_up_lr", "runner-up lr", lr),
        Column("runner_up_score_median", "runner-up's", number()),
        Column("lrs_tried", "rates tried", text),
    )
    note = ("Score: the final training loss, or minus the test metric where the target is an accuracy; "
            "lower is better, ∞ where most seeds failed (bench/ranking.py).")  # fmt: skip
    return Table("learning-rates", "Best learning rate per setting, and the runner-up", "appendix", frame, columns,
                 note)  # fmt: skip


TRIAL_COLUMNS = (
    Column("trial_id", "trial", text),
    Column("problem", "problem", text),
    Column("optimizer", "optimizer", text),
    Column("lr", "lr", lr),
    Column("activation", "activation", text),
    Column("batch", "batch", text),
    Column("dropout", "dropout", text),
    Column("batch_norm", "bn", text),
    Column("device", "device", text),
    Column("threads", "threads", text),
    Column("seed_index", "seed", text),
    Column("status", "status", text),
    Column("final_loss", "final loss", number()),
    Column("final_metric", "metric", number()),
    Column("steps_to_target", "steps to target", number(".0f")),
    Column("time_to_target_s", "time to target", SECONDS),
    Column("train_time_s", "train time", SECONDS),
    Column("step_time_median_s", "step time", SECONDS),
    Column("stability", "timing", text),
    Column("reason", "reason", text),
)


# Only for a nightly's run: which night each trial ran in (bench.nightly.night; the loader adds
# the column then), several where a nightly window deferred some of its trials.
NIGHT_COLUMN = Column("night", "night", text)


# Only for a run whose records name their machines (a distributed run): which one ran each trial.
MACHINE_COLUMN = Column("machine", "machine", text)


def trials(data: ReportData) -> Table:
    """Every trial, as recorded (the appendix)."""
    columns = TRIAL_COLUMNS
    if "night" in data.trials:
        at = [c.key for c in columns].index("seed_index") + 1
        columns = columns[:at] + (NIGHT_COLUMN,) + columns[at:]
    if "machine" in data.trials:
        at = [c.key for c in columns].index("threads") + 1
        columns = columns[:at] + (MACHINE_COLUMN,) + columns[at:]
    frame = data.trials[[c.key for c in columns if c.key in data.trials]].copy()
    return Table("trials", "Every trial", "appendix", frame, columns)


def all_tables(data: ReportData, problems: List[str]) -> List[Table]:
    # Each analysis once, for every table that shows a part of it.
    verdicts = paired.compare_optimizers(data.trials)
    best = choice.best_per_optimizer(data.trials)
    costs = tuning.tuning_cost(data.trials)
    tables = [winners(data, verdicts)]
    for problem in problems:
        tables += [optimizers(data, problem, best, verdicts), tuning_cost(problem, costs)]
    tables += [learning_rates(data), trials(data)]
    return tables


def problems_in(data: ReportData) -> List[str]:
    """The problems that ran, in the order the run recorded them."""
    ran = data.trials[data.trials["status"] != "skipped"]
    return list(dict.fromkeys(ran["problem"]))
