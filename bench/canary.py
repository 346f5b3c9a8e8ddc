"""The drift canary: a fixed reference workload, timed at a run's start and end.

On a small shared machine the same code's median step time moves by up to 20% from one run
to the next (docs/PERFORMANCE.md, "Regression gate"): the machine moved, not the code. The
canary is how a reader tells the two apart. Every run times the same two pieces of work,
whatever its suite says, and stores the figures in its manifest (docs/RESULTS.md, key
``canary``); ``optbench compare`` and ``optbench history`` set them side by side
(bench/compare/drift.py).

The two parts, each a fixed amount of work from a fixed seed:
* ``matmul``: a 256 x 256 float32 matrix product, MATMUL_ITERATIONS times: the BLAS kernels
  the convolutional problems spend their steps in.
* ``train``: full-batch SGD steps of an 8-64-1 tanh MLP on 256 fixed points: a small model
  whose step is mostly the framework's own overhead (dispatch, autograd, the optimizer loop),
  as the linear and curve problems' steps are.

Each part runs one untimed repeat (first-call costs), then REPEATS timed repeats,
interleaved part by part so both see the same machine. Each iteration is timed on its own, as
the trainer times each step, and summarised by medians: a repeat's median iteration, and the
median and interquartile range of all of them. A repeat's total, by contrast, spans several
of the scheduler's time slices and measures how much of a core the other jobs left, which
the trials' median steps do not see (in an A/A series here, a run's repeat totals moved by up
to 71% from its start to its end while step times held within 0.96 to 1.04 of the run
before); the totals are kept too. torch runs with one thread (the
trials' default; restored afterwards), so the canary measures one core's speed, not how many
cores the scheduler lends. About 0.26 s in all on this project's 2-core VM
(docs/PERFORMANCE.md, "Drift canary").

Device half: Python 3.6, torch 1.10. The weights are made from a private generator, so
the global random state the trials seed is left as it was.
"""

import datetime
import statistics
import time
from typing import Any, Callable, Dict, List, Tuple

import torch

# Bump with any change to the workload below: measurements of different versions are not
# compared (bench/compare/drift.py says so rather than dividing unlike times).
VERSION = 1
REPEATS = 9
SEED = 20261201
MATMUL_SIZE = 256
MATMUL_ITERATIONS = 40  # about 300 microseconds each here: 12 ms a repeat
TRAIN_POINTS, TRAIN_INPUTS, TRAIN_HIDDEN = 256, 8, 64
TRAIN_ITERATIONS = 100  # about 130 microseconds each here: 13 ms a repeat
TRAIN_LR = 0.05
PARTS = ("matmul", "train")
ITERATIONS = {"matmul": MATMUL_ITERATIONS, "train": TRAIN_ITERATIONS}


def _matmul_step(generator: torch.Generator) -> Tuple[Callable[[], None], Callable[[], None]]:
    a = torch.randn(MATMUL_SIZE, MATMUL_SIZE, generator=generator)
    b = torch.randn(MATMUL_SIZE, MATMUL_SIZE, generator=generator) / MATMUL_SIZE**0.5

    def step() -> None:
        with torch.no_grad():
            torch.mm(a, b)  # the same product each time: the same work

    return step, lambda: None


def _train_step(generator: torch.Generator) -> Tuple[Callable[[], None], Callable[[], None]]:
    x = torch.randn(TRAIN_POINTS, TRAIN_INPUTS, generator=generator)
    y = torch.sin(x.sum(dim=1, keepdim=True))
    w1 = (torch.randn(TRAIN_INPUTS, TRAIN_HIDDEN, generator=generator) * TRAIN_INPUTS**-0.5).requires_grad_()
    b1 = torch.zeros(TRAIN_HIDDEN, requires_grad=True)
    w2 = (torch.randn(TRAIN_HIDDEN, 1, generator=generator) * TRAIN_HIDDEN**-0.5).requires_grad_()
    b2 = torch.zeros(1, requires_grad=True)
    params = (w1, b1, w2, b2)
    start = [p.detach().clone() for p in params]
    optimizer = torch.optim.SGD(params, lr=TRAIN_LR)

    def step() -> None:
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(torch.tanh(x @ w1 + b1) @ w2 + b2, y)
        loss.backward()
        optimizer.step()

    def reset() -> None:
        # Every repeat starts from the same weights: the same work, not a model that converges.
        with torch.no_grad():
            for p, p0 in zip(params, start):
                p.copy_(p0)

    return step, reset


def _busy_wait(until: float) -> None:
    while time.perf_counter() < until:
        pass


def _quartiles(values: List[float]) -> Tuple[float, float]:
    """Median and interquartile range, with bench.stability's step-time quartiles."""
    times = sorted(values)
    n = len(times)
    return statistics.median(times), times[(3 * n) // 4] - times[n // 4]


def _repeat(step: Callable[[], None], iterations: int, slowdown: float) -> List[float]:
    """Each iteration timed on its own, as the trainer times each step."""
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        step()
        if slowdown:
            _busy_wait(time.perf_counter() + slowdown * (time.perf_counter() - start))
        times.append(time.perf_counter() - start)
    return times


def measure(when: str, session: int = 0, slowdown: float = 0.0) -> Dict[str, Any]:
    """Time the reference workload once; the manifest entry (docs/RESULTS.md, ``canary``).

    ``when`` is "start" or "end" of the run's session ``session`` (0, then one more for each
    resumption). ``slowdown`` is a testing aid: each iteration busy-waits that fraction of its
    own time, inside its timing, as if the machine had slowed (the suite key ``canary_slowdown``)."""
    began = time.perf_counter()
    at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        generator = torch.Generator().manual_seed(SEED)
        works = {"matmul": _matmul_step(generator), "train": _train_step(generator)}
        threads = torch.get_num_threads()
        times = {name: [] for name in PARTS}  # type: Dict[str, List[List[float]]]
        for repeat in range(REPEATS + 1):
            for name in PARTS:
                step, reset = works[name]
                reset()
                measured = _repeat(step, ITERATIONS[name], slowdown)
                if repeat:  # the first is untimed: first-call costs (allocation, kernel choice)
                    times[name].append(measured)
    finally:
        torch.set_num_threads(previous_threads)
    parts = {}
    for name in PARTS:
        median, iqr = _quartiles([t for repeat in times[name] for t in repeat])
        parts[name] = {
            "iterations": ITERATIONS[name],
            "median_s": median,
            "iqr_s": iqr,
            "repeats_s": [sum(repeat) for repeat in times[name]],
            "repeat_medians_s": [statistics.median(repeat) for repeat in times[name]],
        }
    entry = {
        "version": VERSION,
        "when": when,
        "session": session,
        "at": at,
        "threads": threads,
        "parts": parts,
        "cost_s": time.perf_counter() - began,
    }
    if slowdown:
        entry["slowdown"] = slowdown  # a testing aid's run: said in its record, as the suite's slowdown is
    return entry
