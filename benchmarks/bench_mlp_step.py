"""Where a vectorised curve step's time goes: the gradients of K stacked MLPs, kernel by kernel.

    python benchmarks/bench_mlp_step.py [--trials 500] [--threads 1] [--rows N] [--steps 50]

The curve problem's MLP (1 -> 32 -> 32 -> 1, Tanh, 160 points), K trials stacked, the
written-out forward and backward pass of bench.vectorised.mlp_step, a chunk of ROWS trials
at a time (by default the trainer's chunk), as the vectorised trainer runs it. Prints the
time of one step's gradients (the best and the median of 5 repetitions of STEPS steps) and
per trial-step, then torch's profile of them, kernel by kernel with its shapes. The time
per trial-step bounds a vectorised sweep from below (the update, evaluation and curves come
on top): a sequential step's time over it is the most a batch can gain on this machine
(docs/PERFORMANCE.md, "Vectorised sweeps"). Nothing asserts a time.
"""

import argparse
import statistics
import time

import torch

from bench.learners.autograd import Layer
from bench.vectorised.mlp_step import MLPStep
from bench.vectorised.stacked import chunk_rows

POINTS, WIDTH = 160, 32  # the curve problem's defaults


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--rows",
        type=int,
        help="trials a chunk (default: the trainer's, bench.vectorised.stacked.chunk_rows)",
    )
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = args.rows or chunk_rows(POINTS * WIDTH, torch.device("cpu"))
    torch.manual_seed(0)
    k = args.trials
    layers = [
        Layer("linear", 0.0),
        Layer("tanh", 0.0),
        Layer("linear", 0.0),
        Layer("tanh", 0.0),
        Layer("linear", 0.0),
    ]
    shapes = [(k, WIDTH, 1), (k, 1, WIDTH), (k, WIDTH, WIDTH), (k, 1, WIDTH), (k, 1, WIDTH), (k, 1, 1)]
    params = [torch.randn(*shape) * 0.3 for shape in shapes]
    x, y, losses = torch.randn(k, POINTS, 1), torch.randn(k, POINTS, 1), torch.empty(k)
    step = MLPStep(layers, params, min(rows, k), POINTS)
    for _ in range(10):
        step.gradients(params, x, y, losses)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(args.steps):
            step.gradients(params, x, y, losses)
        times.append((time.perf_counter() - start) / args.steps)
    print(
        f"torch {torch.__version__}, {args.threads} thread(s): the gradients of {k} curve trials, chunks of "
        f"{rows}: {min(times) * 1e3:.2f} ms a step (median {statistics.median(times) * 1e3:.2f}), "
        f"{min(times) / k * 1e6:.1f} us per trial-step"
    )
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(10):
            step.gradients(params, x, y, losses)
    table = prof.key_averages(group_by_input_shape=True).table(
        sort_by="self_cpu_time_total", row_limit=16, max_name_column_width=24, max_shapes_column_width=64
    )
    print(table)


if __name__ == "__main__":
    main()
