"""Implementations of one training step, from the NumPy-to-PyTorch progression.

* ``torch``: nn.Module + torch.optim (the default; every problem).
* ``autograd``: the model's parameters as plain tensors with requires_grad, the forward
  pass written out, and a hand-written update under ``torch.no_grad()``.
* ``numpy``: forward, backward and update all written by hand in NumPy (CPU only).

Every learner starts from the same initial weights (those of the torch model built under
the trial's seed), so the three can be compared step for step.

A learner has:
    step(x, y) -> 0-dim tensor, the batch loss before the update, detached (no host sync)
    predict(x) -> outputs, for evaluation (the caller wraps it in no_grad / eval mode)
    train() / eval() -> switch dropout and batch norm
    module() -> an nn.Module holding the current parameters (learned-parameter reports)
A landscape's learner (bench.learners.landscape) also has prepare(steps), called before the
timed loop, and path() / position(): theta along the way, and now.
"""

from typing import Any, Dict

from torch import nn

from bench import optimizers
from bench.learners.torch_nn import TorchLearner

IMPLEMENTATIONS = {
    "torch": "nn.Module + torch.optim (every problem)",
    "autograd": "tensors with requires_grad, hand-written update under no_grad (MLP and landscape problems)",
    "numpy": "hand-written forward, backward and update in NumPy; on the landscapes, the updates as "
    "published (MLP and landscape problems, CPU only)",
}

# The optimizers written by hand for the autograd and numpy implementations.
HAND_WRITTEN_OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")


def build(
    implementation: str,
    model: nn.Module,
    loss_fn: nn.Module,
    optimizer: str,
    lr: float,
    hyper: Dict[str, Any],
):
    from bench.problems.landscapes import Point

    if isinstance(model, Point):  # a landscape: a point on a 2-D function (bench.learners.landscape)
        from bench.learners import landscape

        return landscape.build(implementation, model, optimizer, lr, hyper)
    if implementation == "torch":
        return TorchLearner(model, loss_fn, optimizers.build(optimizer, model.parameters(), lr, hyper))
    if implementation == "autograd":
        from bench.learners.autograd import AutogradLearner

        return AutogradLearner(model, loss_fn, optimizer, lr, hyper)
    if implementation == "numpy":
        from bench.learners.numpy_mlp import NumpyLearner

        return NumpyLearner(model, loss_fn, optimizer, lr, hyper)
    raise ValueError(f"unknown implementation {implementation!r}")
