"""The run's progress display: one line per trial, with how it ended and the time left."""

from typing import List, TextIO

from bench import estimate
from bench.plan import Plan, TrialSpec
from bench.record import Stability, Status, TrialRecord


class Progress:
    """One line per trial: position, what runs, how it ended, and the time left."""

    def __init__(self, plan: Plan, todo: List[TrialSpec], out: TextIO, estimator: estimate.Estimator):
        self.total = len(plan.trials)
        self.offset = self.total - len(todo)
        self.todo = todo
        self.out = out
        self.estimator = estimator
        self.done = 0
        self.width = max([len(t.label()) for t in todo] + [10])
        # What is left, counted by kind once and decremented per finished trial (whichever
        # finishes: an executor may finish them out of order), not re-counted after each.
        self.left = estimate.count_kinds(todo)

    def begin(self, trial: TrialSpec) -> None:
        position = "[{:>{w}}/{}]".format(self.offset + self.done + 1, self.total, w=len(str(self.total)))
        self.out.write(f"{position} {trial.label().ljust(self.width)} ")
        self.out.flush()

    def end(self, trial: TrialSpec, record: TrialRecord) -> None:
        self.done += 1
        self.estimator.add(record.config, record.wall_time_s)
        figure = ""
        if record.final_loss is not None:
            figure = f"loss {record.final_loss:.3g}"
        if record.final_metric is not None and record.metric_name == "accuracy":
            figure += f" acc {record.final_metric:.3f}"
        kind = estimate.kind_of_record(record.config)
        if kind in self.left:
            problem, count = self.left[kind]
            if count <= 1:
                del self.left[kind]
            else:
                self.left[kind] = (problem, count - 1)
        seconds, unknown = self.estimator.total_of(self.left)
        eta = (
            "ETA {}{}".format(estimate.format_duration(seconds), "+" if unknown else "")
            if self.done < len(self.todo)
            else ""
        )
        timing = "unstable" if record.stability is Stability.UNSTABLE else ""
        self.out.write("{:<13} {:<24} {:>7} {:<8}  {}\n".format(
            record.status.value, figure, f"{record.wall_time_s:.2f}s", timing, eta))  # fmt: skip
        if record.status in (Status.ERROR, Status.OUT_OF_MEMORY) and record.reason:
            self.out.write(f"    {record.reason}\n")
        if timing:
            self.out.write(f"    timing unstable: {record.stability_reason}\n")
        self.out.flush()
