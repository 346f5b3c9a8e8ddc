"""Implementations of one training step, from the NumPy-to-PyTorch progression.

* ``torch``: nn.Module + torch.optim (the default; every problem).
* ``autograd``: the model's parameters as plain tensors with requires_grad, the forward
  pass written out, and a hand-written update under ``torch.no_grad()``.
* ``numpy``: forward, backward and update all written by hand in NumPy (CPU only).
* ``tensorflow``: the model as tf.Variables, gradients from tf.GradientTape, the update by
  hand (assign_sub) or through Keras (bench.learners.tensorflow_tape; the optional extra
  optbench[tensorflow], imported only when a trial asks for it; CPU only).

Every learner starts from the same initial weights (those of the torch model built under
the trial's seed), so they can be compared step for step.

A learner has:
    step(x, y) -> 0-dim tensor, the batch loss before the update, detached (no host sync)
    predict(x) -> outputs, for evaluation (the caller wraps it in no_grad / eval mode)
    train() / eval() -> switch dropout and batch norm
    module() -> an nn.Module holding the current parameters (learned-parameter reports)
A landscape's learner (bench.learners.landscape) also has prepare(steps), called before the
timed loop, and path() / position(): theta along the way, and now.
"""

from typing import Any, Dict, Optional

from torch import nn

from bench import optimizers
from bench.learners.torch_nn import TorchLearner

IMPLEMENTATIONS = {
    "torch": "nn.Module + torch.optim (every problem)",
    "autograd": "tensors with requires_grad, hand-written update under no_grad (MLP and landscape problems)",
    "numpy": "hand-written forward, backward and update in NumPy; on the landscapes, the updates as "
    "published (MLP and landscape problems, CPU only)",
    "tensorflow": "tf.Variables, tf.GradientTape, updates by hand (assign_sub) or by Keras; eager or "
    "tf.function (linear, curve MLP and landscape problems, CPU only; needs optbench[tensorflow])",
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
    tensorflow: Optional[Dict[str, Any]] = None,
):
    """``tensorflow``: the trial's tf_updates, tf_function and threads, for that implementation."""
    from bench.problems.landscapes import Point

    if isinstance(model, Point):  # a landscape: a point on a 2-D function (bench.learners.landscape)
        from bench.learners import landscape

        return landscape.build(implementation, model, optimizer, lr, hyper, tensorflow)
    if implementation == "torch":
        return TorchLearner(model, loss_fn, optimizers.build(optimizer, model.parameters(), lr, hyper))
    if implementation == "autograd":
        from bench.learners.autograd import AutogradLearner

        return AutogradLearner(model, loss_fn, optimizer, lr, hyper)
    if implementation == "numpy":
        from bench.learners.numpy_mlp import NumpyLearner

        return NumpyLearner(model, loss_fn, optimizer, lr, hyper)
    if implementation == "tensorflow":
        from bench.learners.tensorflow_tape import TensorflowLearner

        settings = tensorflow or {}
        return TensorflowLearner(
            model, loss_fn, optimizer, lr, hyper, updates=settings.get("updates", "keras"),
            compiled=bool(settings.get("compiled", False)), threads=int(settings.get("threads", 1)),
        )  # fmt: skip
    raise ValueError(f"unknown implementation {implementation!r}")
