"""The training loop of a batch: K trials of one configuration, differing only in learning
rate and seed, trained as one computation, each still ending with its own TrialResult.

The loop is bench.trainer's, step for step: the same segments (at most CHECK_EVERY steps,
ending at each evaluation), the same divergence checks on each trial's own losses, the same
evaluations, the same curve points. What differs is that one step trains every trial still
running, and that a trial which stops (diverged, or reached its last step) is taken out of
the stacked tensors at the end of its segment while the others go on.

Timing is the batch's: every trial's step times, training time and curve times are those of
the steps it took part in, shared with the other trials (the record says so in
``timing_shared``). Memory is the batch's peak. A time limit applies to the batch as a
whole: it is the wall time the trials spent together.
"""

import math
import time
from typing import Any, Callable, List, Optional, Sequence

import torch

from bench.memory import PeakMemory
from bench.plan import TrialSpec
from bench.problems import ModelSpec, Problem, ProblemData
from bench.problems.linear import LINEAR_NAMES
from bench.record import Status
from bench.trainer import (
    CHECK_EVERY,
    DIVERGENCE_FACTOR,
    EVAL_TRAIN_MAX,
    CurvePoint,
    NoGuard,
    StopTrial,
    TrialResult,
    TrialState,
    check_divergence,
    check_escape,
    loss_dtype,
    resolve_device,
    thin_path,
)
from bench.vectorised.batches import StackedBatches
from bench.vectorised.points import StackedPoints
from bench.vectorised.stacked import StackedMLP, StackedUpdate


def run_batch(
    specs: Sequence[TrialSpec],
    problem: Problem,
    datas: Sequence[ProblemData],
    clock: Callable[[], float] = time.perf_counter,
    timed_region: Optional[Callable[[], Any]] = None,
) -> List[TrialResult]:
    """Train ``specs`` (one batch: bench.vectorised.grouping) together; ``datas[k]`` is
    trial k's data. Never raises for a failing trial: an error stops every trial still
    running, each with that status, as bench.trainer.run_trial records one.
    ``timed_region``: as run_trial's, a context manager entered around every timed segment."""
    first = specs[0]
    device = resolve_device(first.device)
    torch.set_num_threads(first.threads)
    states = [TrialState(clock) for _ in specs]
    memory = None
    batch = None
    try:
        memory = PeakMemory(device)
        batch = _Batch(specs, problem, datas, device, states, memory, clock, timed_region or NoGuard)
        batch.train()
    except Exception as error:  # a failed batch is data, as a failed trial is
        message = f"{type(error).__name__}: {error}"
        out_of_memory = isinstance(error, MemoryError) or (
            isinstance(error, RuntimeError)
            and any(words in str(error).lower() for words in ("out of memory", "can't allocate memory"))
        )
        for k, state in enumerate(states):
            if batch is None or k in batch.rows:
                state.status = Status.OUT_OF_MEMORY if out_of_memory else Status.ERROR
                state.reason = message
        if batch is not None:
            for r, k in enumerate(batch.rows):
                batch.close(r, k)
        if device.type == "cuda" and out_of_memory:
            torch.cuda.empty_cache()
    return [state.result(data, memory) for state, data in zip(states, datas)]


def _initial_models(specs: Sequence[TrialSpec], problem: Problem) -> List[torch.nn.Module]:
    """Each trial's initial model, built as bench.trainer builds it (torch seeded with the
    trial's seed first); trials of one seed share one."""
    by_seed = {}  # type: Dict[int, torch.nn.Module]
    for spec in specs:
        if spec.seed not in by_seed:
            torch.manual_seed(spec.seed)
            model_spec = ModelSpec(spec.activation, spec.dropout, spec.batch_norm, dict(spec.options))
            by_seed[spec.seed] = problem.make_model(model_spec)
    return [by_seed[spec.seed] for spec in specs]


class _Batch:
    def __init__(self, specs, problem, datas, device, states, memory, clock, timed_region):
        self.specs, self.problem, self.datas, self.states = specs, problem, datas, states
        self.device, self.memory, self.clock, self.timed_region = device, memory, clock, timed_region
        self.trial_start = clock()
        first = specs[0]
        self.landscape = problem.task == "landscape"
        models = _initial_models(specs, problem)
        self.model = (StackedPoints(models) if self.landscape else StackedMLP(models)).to(device)
        stack = lambda tensors: torch.stack(list(tensors)).to(device)  # noqa: E731
        x_train, y_train = stack(d.x_train for d in datas), stack(d.y_train for d in datas)
        self.x_eval, self.y_eval = x_train[:, :EVAL_TRAIN_MAX], y_train[:, :EVAL_TRAIN_MAX]
        self.x_test, self.y_test = stack(d.x_test for d in datas), stack(d.y_test for d in datas)
        self.batches = StackedBatches(x_train, y_train, first.batch, [s.seed for s in specs])
        self.total = first.steps if first.steps is not None else self.batches.steps_for(first.epochs)
        self.batches.prepare(self.total)
        self.model.prepare(self.total)
        like = self.model.params[0]
        self.update = StackedUpdate(first.optimizer, [s.lr for s in specs], dict(first.hyper), like)
        # Row r of every stacked tensor is trial rows[r] of specs.
        self.rows = list(range(len(specs)))
        self.initial = [None] * len(specs)  # type: List[Optional[float]]
        # Each step's losses, a row per trial still running, fetched at each segment's end.
        self.losses = torch.zeros(
            (self.total, len(specs)), device=device, dtype=loss_dtype(problem, datas[0])
        )
        # The batch's own clock: step times and the training-time axis, shared by the trials
        # (each trial's state holds these very lists until it stops, then a copy of its part).
        self.timing = TrialState(clock)
        for state in states:
            state.step_times, state.elapsed = self.timing.step_times, self.timing.elapsed

    def train(self) -> None:
        first = self.specs[0]
        cuda = self.device.type == "cuda"
        self.evaluate(0, self.rows)
        self.initial = [state.final_loss for state in self.states]
        # check_divergence's limits, a column per trial (float64: compared as it compares)
        self.limits = torch.tensor(
            [DIVERGENCE_FACTOR * max(abs(initial or 0.0), 1e-8) for initial in self.initial],
            dtype=torch.float64, device=self.device,
        )  # fmt: skip
        timing, step = self.timing, 0
        while self.rows:
            segment_end = min(
                self.total, step + CHECK_EVERY, (step // first.eval_every + 1) * first.eval_every
            )
            _sync(self.device)
            if cuda:
                marks = [torch.cuda.Event(enable_timing=True) for _ in range(segment_end - step + 1)]
            segment_start = self.clock()
            if timing.train_start is None:
                timing.train_start = segment_start
            # ---- the timed region ----
            running = len(self.rows)
            with self.timed_region():
                for i in range(step, segment_end):
                    if cuda:
                        marks[i - step].record()
                    else:
                        started = self.clock()
                    x, y = self.batches.next()
                    self.losses[i, :running] = self.model.train_step(x, y, self.update)
                    if not cuda:
                        timing.step_times.append(self.clock() - started)
                if cuda:
                    marks[-1].record()
            _sync(self.device)
            timing.train_end = self.clock()
            # ---- end of the timed region ----
            timing.train_time += timing.train_end - segment_start
            timing.segments.append((segment_start, timing.train_end))
            if cuda:
                timing.step_times.extend(a.elapsed_time(b) / 1000.0 for a, b in zip(marks, marks[1:]))
            timing.extend_elapsed(timing.step_times[step:], segment_start)
            self._after_segment(step, segment_end)
            step = segment_end

    def _after_segment(self, start: int, step: int) -> None:
        """bench.trainer's checks after a segment, per trial; the trials that stop leave."""
        first, timing = self.specs[0], self.timing
        losses = self.losses[start:step, : len(self.rows)]
        # Which trials' losses bench.trainer.check_divergence would stop, found for all at
        # once; only those go through it (for its verdict and message, unchanged).
        wide = losses.double()
        suspect = ((~torch.isfinite(wide)) | (wide > self.limits)).any(dim=0).tolist()
        segment = losses.t().tolist()
        epochs = step / float(self.batches.per_epoch)
        self.memory.sample()
        stopping = {}  # type: Dict[int, StopTrial]
        logged = [(i - start, i + 1) for i in range(start, step, first.log_every)]
        elapsed = timing.elapsed
        for values, k, suspected in zip(segment, self.rows, suspect):
            state = self.states[k]
            state.train_time, state.train_end, state.steps, state.epochs = (
                timing.train_time, timing.train_end, step, epochs
            )  # fmt: skip
            curve = state.curve
            for offset, at in logged:  # TrialState.point's work, inline: this loop is K x steps
                value = values[offset]
                value = value if math.isfinite(value) else None
                if at in curve:
                    curve[at].loss = value
                else:
                    curve[at] = CurvePoint(at, elapsed[at], value)
            if suspected:
                try:
                    check_divergence(values, self.initial[k], step)
                except StopTrial as stop:
                    stopping[k] = stop
        if self.landscape:  # bench.trainer.check_escape on each trial's point
            for k, position in zip(self.rows, self.model.positions()):
                if k not in stopping:
                    try:
                        check_escape(_PointAt(self.model.surface, position), step)
                    except StopTrial as stop:
                        stopping[k] = stop
        if step % first.eval_every == 0 or step == self.total:
            self.evaluate(step, self.rows)
            for k in self.rows:
                if k not in stopping:
                    try:
                        check_divergence([self.states[k].final_loss], self.initial[k], step)
                    except StopTrial as stop:
                        stopping[k] = stop
        if self.clock() - self.trial_start > first.time_limit_s and step < self.total:
            reason = f"time limit of {first.time_limit_s:g} s reached after {step} of {self.total} steps (the batch's wall time)"  # fmt: skip
            for k in self.rows:
                stopping.setdefault(k, StopTrial(Status.TIMEOUT, reason))
        unevaluated = [k for k in stopping if self.states[k].evaluated_at != step]
        if unevaluated:
            self.evaluate(step, unevaluated)  # so that the final figures describe where it stopped
        for k, stop in stopping.items():
            self.states[k].status, self.states[k].reason = stop.status, stop.reason
        finished = set(stopping) if step < self.total else set(self.rows)
        if finished:
            self._leave(finished)

    def evaluate(self, step: int, trials: Sequence[int]) -> None:
        """Evaluate every running trial at once; keep the figures of ``trials``."""
        started = self.clock()
        with torch.no_grad():
            eval_losses, metrics = (
                values.tolist()
                for values in self.model.evaluate(self.x_eval, self.y_eval, self.x_test, self.y_test)
            )
        spent = self.clock() - started
        keep = set(trials)
        for r, k in enumerate(self.rows):
            if k in keep:
                state = self.states[k]
                state.eval_time += spent
                state.evaluated(
                    step, eval_losses[r], metrics[r], self.problem.target, self.datas[k].optimum_loss
                )

    def close(self, row: int, k: int) -> None:
        """Trial k (row ``row``) stops here: it keeps its own copy of the shared timing and,
        on a linear problem, its learned parameters (as bench.trainer records them)."""
        timing, state = self.timing, self.states[k]
        state.step_times, state.elapsed = list(timing.step_times), list(timing.elapsed)
        state.train_start, state.segments = timing.train_start, list(timing.segments)
        if self.landscape:
            state.trajectory = thin_path(self.model.path_of(row))
        if self.problem.name in LINEAR_NAMES:
            state.learned = dict(self.model.linear_layer(row))
            state.learned["truth"] = self.datas[k].truth
            state.learned["optimum"] = self.datas[k].optimum_params

    def _leave(self, finished: set) -> None:
        """The finished trials keep their part of the shared timing and their learned
        parameters; the stacked tensors keep only the trials still running."""
        for r, k in enumerate(self.rows):
            if k in finished:
                self.close(r, k)
        keep = [r for r, k in enumerate(self.rows) if k not in finished]
        self.rows = [self.rows[r] for r in keep]
        if self.rows:
            index = torch.tensor(keep, dtype=torch.long, device=self.device)
            self.model.keep(index)
            self.limits = self.limits[index]
            self.update.keep(index)
            self.batches.keep(index)
            self.x_eval, self.y_eval = self.x_eval[index], self.y_eval[index]
            self.x_test, self.y_test = self.x_test[index], self.y_test[index]


class _PointAt:
    """A trial's point as bench.trainer.check_escape reads a landscape learner."""

    def __init__(self, surface, position):
        self.surface, self._position = surface, position

    def position(self):
        return self._position


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
