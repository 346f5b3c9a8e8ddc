"""The instrumented training loop: one trial, top to bottom.

What is timed: only the training steps (drawing a batch, forward, backward, update).
Evaluation, divergence checks and bookkeeping happen between timed segments. On a GPU
the loop never waits for the device inside a segment: the loss of each step stays on the
device and is fetched at the segment's end, after one synchronisation at each edge of the
timed region (as torch.utils.benchmark and nanoGPT do); step times come from CUDA events.
"""

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Tuple

import torch

from bench import learners
from bench.batches import Batches
from bench.memory import PeakMemory
from bench.plan import TrialSpec
from bench.problems import ModelSpec, Problem, ProblemData, Target
from bench.problems.linear import LINEAR_NAMES, learned_parameters
from bench.record import Outcome, Status
from bench.stability import judge, step_time_summary

# Steps between divergence and time-limit checks, at most: each check point's untimed work
# (the segment's step times, curve points, checks) cost 3.5% of a 100 us linear step's CPU
# time at 25 steps (docs/PERFORMANCE.md); at 100 a diverging trial runs at most 100 steps
# past the point where it could have been stopped.
CHECK_EVERY = 100
DIVERGENCE_FACTOR = 1e4  # a loss this many times the initial one has blown up
EVAL_TRAIN_MAX = 4096  # evaluate the training objective on at most this many samples
# A landscape's trajectory keeps theta after every step up to this many points; a longer
# trial's is thinned to this many, evenly spaced in steps, first and last kept.
TRAJECTORY_POINTS = 1001


@dataclass
class CurvePoint:
    step: int
    time_s: float  # training time after this step (see TrialState.elapsed)
    loss: Optional[float] = None  # the step's batch loss, before its update
    eval_loss: Optional[float] = None  # training objective on the training set (eval mode)
    metric: Optional[float] = None  # the problem's metric on the test split


@dataclass
class TrialResult:
    outcome: Outcome  # what the record keeps
    curve: List[CurvePoint]
    train_start: Optional[float]  # clock time the first timed segment began
    train_end: Optional[float]  # ... and the last one ended
    target_clock: Optional[float]  # clock time at which the target was first seen
    segments: List[Tuple[float, float]]  # (start, end) clock times of each timed segment
    # Landscapes: (step, x, y) of theta, thinned (thin_path); None for other problems.
    trajectory: Optional[List[Tuple[int, Optional[float], Optional[float]]]] = None


class StopTrial(Exception):
    def __init__(self, status: Status, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def finite_or_none(value: Optional[float]) -> Optional[float]:
    return value if value is not None and math.isfinite(value) else None


def run_trial(
    spec: TrialSpec,
    problem: Problem,
    data: ProblemData,
    clock: Callable[[], float] = time.perf_counter,
    timed_region: Optional[Callable[[], Any]] = None,
    slowdown: float = 0.0,
) -> TrialResult:
    """Train one trial. Never raises for a failing trial: failures come back as a status.

    ``timed_region``, if given, makes a context manager entered around every timed segment
    (tests use it to turn on torch.cuda.set_sync_debug_mode there).
    """
    device = resolve_device(spec.device)
    # Part of the trial's configuration: torch's default (every core) lets one busy process
    # on a small machine stall every step's thread barrier (docs/PERFORMANCE.md).
    torch.set_num_threads(spec.threads)
    state = TrialState(clock)
    memory = None
    try:
        memory = PeakMemory(device)
        _train(spec, problem, data, device, state, memory, timed_region or NoGuard, slowdown)
    except StopTrial as stop:
        state.status, state.reason = stop.status, stop.reason
    except MemoryError as error:
        state.status, state.reason = Status.OUT_OF_MEMORY, f"MemoryError: {error}"
    except RuntimeError as error:
        # torch 1.10 has no OutOfMemoryError class; CUDA says "out of memory", the CPU
        # allocator "can't allocate memory" (under a memory limit, or past the machine's).
        if any(words in str(error).lower() for words in ("out of memory", "can't allocate memory")):
            state.status = Status.OUT_OF_MEMORY
        else:
            state.status = Status.ERROR
        state.reason = f"{type(error).__name__}: {error}"
    except Exception as error:  # a failed trial is data: record it and go on
        state.status, state.reason = Status.ERROR, f"{type(error).__name__}: {error}"
    finally:
        if device.type == "cuda" and state.status == Status.OUT_OF_MEMORY:
            torch.cuda.empty_cache()
    return state.result(data, memory)


class TrialState:
    """What the loop accumulates; turned into a TrialResult at the end."""

    def __init__(self, clock: Callable[[], float]):
        self.clock = clock
        self.status, self.reason = Status.OK, None  # type: Status, Optional[str]
        self.steps = 0
        self.epochs = 0.0
        self.train_time = 0.0
        self.eval_time = 0.0
        self.step_times = []  # type: List[float]
        # Training time after each step. Training time has one definition: the wall time of
        # the timed segments, summed. Within a segment, each step gets a share of the segment
        # in proportion to its own measured time, so a segment's last step lands exactly on
        # train_time -- the time the curves, train_time_s and time_to_target_s all report.
        self.elapsed = [0.0]
        self.curve = {}  # type: Dict[int, CurvePoint]
        self.best_loss = None  # type: Optional[float]
        self.final_loss = None  # type: Optional[float]
        self.final_metric = None  # type: Optional[float]
        self.target_step = None  # type: Optional[int]
        self.target_time = None  # type: Optional[float]
        self.target_clock = None  # type: Optional[float]
        self.train_start = None  # type: Optional[float]
        self.train_end = None  # type: Optional[float]
        self.learned = None  # type: Optional[Dict[str, Any]]
        self.evaluated_at = -1  # the step of the latest evaluation
        self.segments = []  # type: List[Tuple[float, float]]
        self.trajectory = None  # type: Optional[List[Tuple[int, Optional[float], Optional[float]]]]

    def add_losses(self, first: int, end: int, every: int, losses: List[float]) -> None:
        """The curve's points for steps first + 1 .. end, every ``every``-th, with their
        batch losses (losses[i] is step first + 1 + i's). A segment's points are all new:
        only an evaluation, at a segment's end, makes a point before its loss is known."""
        curve, elapsed = self.curve, self.elapsed
        for i in range(first, end, every):
            loss = losses[i - first]
            curve[i + 1] = CurvePoint(i + 1, elapsed[i + 1], loss if math.isfinite(loss) else None)

    def point(self, step: int) -> CurvePoint:
        if step not in self.curve:
            self.curve[step] = CurvePoint(step, self.elapsed[step])
        return self.curve[step]

    def evaluated(
        self, step: int, eval_loss: float, metric: float, target: Target, optimum: Optional[float]
    ) -> None:
        """Keep an evaluation at ``step``: the curve's point, final and best figures, the target."""
        self.evaluated_at = step
        point = self.point(step)
        point.eval_loss, point.metric = finite_or_none(eval_loss), finite_or_none(metric)
        self.final_loss, self.final_metric = eval_loss, metric
        if math.isfinite(eval_loss) and (self.best_loss is None or eval_loss < self.best_loss):
            self.best_loss = eval_loss
        observed = {"loss": eval_loss, "metric": metric}
        if optimum is not None:
            observed["suboptimality"] = eval_loss - optimum
        if self.target_step is None and target.reached(observed[target.quantity]):
            self.target_step, self.target_time = step, self.train_time
            self.target_clock = self.train_end if step else self.clock()

    def extend_elapsed(self, durations: List[float], segment_start: float) -> None:
        """Place the segment's steps on the training-time axis (see ``elapsed``)."""
        base, wall, measured = self.elapsed[-1], self.train_end - segment_start, sum(durations)
        done = 0.0
        for duration in durations:
            done += duration
            share = done / measured if measured > 0 else 1.0
            self.elapsed.append(base + wall * share)
        self.elapsed[-1] = self.train_time  # the same number, not one a rounding away

    def result(self, data: ProblemData, memory: Optional[PeakMemory]) -> TrialResult:
        median, iqr = step_time_summary(self.step_times)
        verdict, why = judge(median, iqr, len(self.step_times), self.train_time)
        final = finite_or_none(self.final_loss)
        subopt = None
        if final is not None and data.optimum_loss is not None:
            subopt = max(0.0, final - data.optimum_loss)
        outcome = Outcome(
            status=self.status, reason=self.reason, steps=self.steps, epochs=self.epochs,
            final_loss=final, best_loss=finite_or_none(self.best_loss),
            final_metric=finite_or_none(self.final_metric), optimum_loss=data.optimum_loss,
            suboptimality=subopt, steps_to_target=self.target_step,
            time_to_target_s=self.target_time, train_time_s=self.train_time,
            eval_time_s=self.eval_time, step_time_median_s=median, step_time_iqr_s=iqr,
            step_time_samples=len(self.step_times), stability=verdict, stability_reason=why,
            memory=memory.result() if memory else {},
            data=dict(data.notes, train_samples=len(data.x_train), test_samples=len(data.x_test)),
            learned=self.learned,
        )  # fmt: skip
        curve = [self.curve[s] for s in sorted(self.curve)]
        return TrialResult(outcome, curve, self.train_start, self.train_end, self.target_clock, self.segments,
                           self.trajectory)  # fmt: skip


class NoGuard:
    """The timed region's guard when none is given (contextlib.nullcontext is Python 3.7+)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False


def _train(
    spec, problem, data, device, state: TrialState, memory: PeakMemory, timed_region, slowdown=0.0
) -> None:
    trial_start = state.clock()
    torch.manual_seed(spec.seed)  # the same initial weights for every optimizer, per seed
    model_spec = ModelSpec(spec.activation, spec.dropout, spec.batch_norm, dict(spec.options))
    model = problem.make_model(model_spec).to(device)
    tensorflow = None
    if spec.implementation == "tensorflow":
        tensorflow = {"updates": spec.tf_updates, "compiled": spec.tf_function, "threads": spec.threads}
    learner = learners.build(
        spec.implementation, model, problem.loss_fn(), spec.optimizer, spec.lr, dict(spec.hyper), tensorflow
    )
    x_train, y_train = data.x_train.to(device), data.y_train.to(device)
    x_eval, y_eval = x_train[:EVAL_TRAIN_MAX], y_train[:EVAL_TRAIN_MAX]
    x_test, y_test = data.x_test.to(device), data.y_test.to(device)
    batches = Batches(x_train, y_train, spec.batch, spec.seed)
    total = spec.steps if spec.steps is not None else batches.steps_for(spec.epochs)
    batches.prepare(total)
    # A landscape's learner records theta after each step into a buffer allocated now.
    landscape = problem.task == "landscape"
    if landscape:
        learner.prepare(total)
    loss_fn = problem.loss_fn()
    # The per-step losses stay on the device until a segment ends: no host sync per step.
    dtype = loss_dtype(problem, data)
    cuda = device.type == "cuda"

    def evaluate(step: int) -> None:
        started = state.clock()
        learner.eval()
        with torch.no_grad():
            eval_loss = float(loss_fn(learner.predict(x_eval), y_eval))
            metric = float(problem.metric(learner.predict(x_test), y_test))
        learner.train()
        state.eval_time += state.clock() - started
        state.evaluated(step, eval_loss, metric, problem.target, data.optimum_loss)

    learner.train()
    evaluate(0)
    initial = state.final_loss
    step = 0
    try:
        while step < total:
            segment_end = min(total, step + CHECK_EVERY, (step // spec.eval_every + 1) * spec.eval_every)
            _sync(device)
            if cuda:
                marks = [torch.cuda.Event(enable_timing=True) for _ in range(segment_end - step + 1)]
            segment_start = state.clock()
            if state.train_start is None:
                state.train_start = segment_start
            # ---- the timed region ----
            # Each step's loss is kept as the 0-dim tensor the learner returns, where it is (no
            # host sync), and stacked once the segment ends: an indexed copy into a buffer per
            # step cost more than the rest of the bookkeeping together (docs/PERFORMANCE.md).
            step_losses = []  # type: List[torch.Tensor]
            with timed_region():
                if cuda:
                    for i in range(step, segment_end):
                        marks[i - step].record()
                        x, y = batches.next()
                        step_losses.append(learner.step(x, y))
                    marks[-1].record()
                elif slowdown:  # the gate's testing aid: each step takes (1 + slowdown) times as long
                    clock, reads = state.clock, [state.clock()]
                    for _ in range(step, segment_end):
                        x, y = batches.next()
                        step_losses.append(learner.step(x, y))
                        _busy_wait(clock, clock() + slowdown * (clock() - reads[-1]))
                        reads.append(clock())
                else:
                    # One clock read per step: a step's time runs from the read before it to its own.
                    clock, reads, draw, train_step = state.clock, [state.clock()], batches.next, learner.step
                    for _ in range(step, segment_end):
                        x, y = draw()
                        step_losses.append(train_step(x, y))
                        reads.append(clock())
            _sync(device)
            state.train_end = state.clock()
            # ---- end of the timed region ----
            state.train_time += state.train_end - segment_start
            state.segments.append((segment_start, state.train_end))
            if cuda:
                state.step_times.extend(a.elapsed_time(b) / 1000.0 for a, b in zip(marks, marks[1:]))
            else:
                state.step_times.extend(b - a for a, b in zip(reads, reads[1:]))
            state.extend_elapsed(state.step_times[step:], segment_start)
            segment_losses = torch.stack(step_losses).to(dtype).tolist()
            state.add_losses(step, segment_end, spec.log_every, segment_losses)
            step = state.steps = segment_end
            state.epochs = step / float(batches.per_epoch)
            memory.sample()
            check_divergence(segment_losses, initial, step)
            if landscape:
                check_escape(learner, step)
            if step % spec.eval_every == 0 or step == total:
                evaluate(step)
                check_divergence([state.final_loss], initial, step)
            if state.clock() - trial_start > spec.time_limit_s and step < total:
                raise StopTrial(Status.TIMEOUT, f"time limit of {spec.time_limit_s:g} s reached after {step} of {total} steps")  # fmt: skip
    except StopTrial:
        if state.evaluated_at != step:
            evaluate(step)  # so that the final figures describe where it stopped
        raise
    finally:
        if landscape:
            state.trajectory = thin_path(learner.path())
        if problem.name in LINEAR_NAMES:
            state.learned = dict(learned_parameters(learner.module()))
            state.learned["truth"] = data.truth
            state.learned["optimum"] = data.optimum_params


def loss_dtype(problem: Problem, data: ProblemData) -> torch.dtype:
    """The per-step loss buffer's dtype: float64 for a landscape (the saddle's f falls past
    float32's range long before theta overflows) and for float64 data (the tests that hold
    curves to 1e-9), float32 otherwise."""
    wide = problem.task == "landscape" or data.x_train.dtype == torch.float64
    return torch.float64 if wide else torch.float32


def thin_path(path, points: int = TRAJECTORY_POINTS) -> List[Tuple[int, Optional[float], Optional[float]]]:
    """(step, x, y) rows of a path (theta at steps 0, 1, ...): every step while there are at
    most ``points``, else ``points`` steps evenly spaced from the first to the last. A
    coordinate that overflowed is None, as every non-finite number in the results is."""
    last = len(path) - 1
    if last + 1 <= points:
        steps = range(last + 1)
    else:
        steps = sorted({int(round(i * last / (points - 1.0))) for i in range(points)})
    return [(s, finite_or_none(float(path[s][0])), finite_or_none(float(path[s][1]))) for s in steps]


def check_escape(learner, step: int) -> None:
    """A landscape's point that became NaN or left its function's escape radius has diverged
    (the loss check alone misses a point running off along a flat direction)."""
    x, y = learner.position()
    if not (math.isfinite(x) and math.isfinite(y)):
        raise StopTrial(Status.DIVERGED, f"theta became ({x}, {y}) by step {step}")
    surface = learner.surface
    if surface.escape_radius is not None:
        distance = math.hypot(x - surface.minimiser[0], y - surface.minimiser[1])
        if distance > surface.escape_radius:
            raise StopTrial(Status.DIVERGED, f"theta is {distance:.3g} from the minimiser, beyond {surface.escape_radius:g}, by step {step}")  # fmt: skip


def _busy_wait(clock: Callable[[], float], until: float) -> None:
    while clock() < until:
        pass


def check_divergence(losses: List[float], initial: Optional[float], step: int) -> None:
    limit = DIVERGENCE_FACTOR * max(abs(initial or 0.0), 1e-8)
    for loss in losses:
        if not math.isfinite(loss):
            raise StopTrial(Status.DIVERGED, f"loss became {loss} by step {step}")
        if loss > limit:
            raise StopTrial(Status.DIVERGED, f"loss {loss:.3g} exceeded {DIVERGENCE_FACTOR:g}x the initial {initial:.3g} by step {step}")  # fmt: skip
