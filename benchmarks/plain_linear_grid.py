"""The tutorial's way of sweeping, as a yardstick for benchmarks/bench_harness_overhead.py.

    python benchmarks/plain_linear_grid.py OUT.json [--steps 2000] [--lrs 0.01,0.03,0.1,0.3,0.5] [--seeds 3] [--gc-freeze]

Nested loops over learning rates and seeds; for each, the line y = 3x + 0.8 on 40 points
(the training split optbench's `linear` trains on), nn.Linear(1, 1), torch.optim.SGD, full
batch, and every step's loss kept (``loss.item()``); the losses written as JSON at the end.
One torch thread, as optbench's trials. Imports nothing of optbench's.

--gc-freeze: the garbage collector handled as optbench handles it (bench.heap): paused while
torch is imported, everything imported then frozen, and frozen again once the first
optimizer exists (torch's lazy imports done), as optbench does after its burn-in. With it,
the script differs from optbench's run only by the harness's own work.
"""

import argparse
import gc
import json
import sys

GC_FREEZE = "--gc-freeze" in sys.argv  # known before the imports it is about
if GC_FREEZE:
    gc.disable()

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

if GC_FREEZE:
    gc.freeze()
    gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--lrs", default="0.01,0.03,0.1,0.3,0.5")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--gc-freeze", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    losses = {}
    for lr in [float(v) for v in args.lrs.split(",")]:
        for seed in range(args.seeds):
            rng = np.random.RandomState(seed)
            x_all = rng.uniform(0.0, 1.0, size=(50, 1))
            x = torch.tensor(x_all[:40], dtype=torch.float32)
            y = 3.0 * x + 0.8
            torch.manual_seed(seed)
            model = nn.Linear(1, 1)
            optimizer = torch.optim.SGD(model.parameters(), lr=lr)
            if args.gc_freeze and not losses:
                gc.freeze()
            loss_fn = nn.MSELoss()
            curve = []
            for _ in range(args.steps):
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()
                curve.append(loss.item())
            losses[f"lr={lr} seed={seed}"] = curve
    with open(args.out, "w") as handle:
        json.dump(losses, handle)


if __name__ == "__main__":
    main()
