"""Implementation ``tensorflow``: the GradientTape path of the autodiff tutorial.

The model's weights as tf.Variables, copied from the torch model built under the trial's
seed (so both frameworks start from the same numbers, in the model's dtype); the forward
pass and the mean squared error written out in TensorFlow ops; gradients from
tf.GradientTape; the update by hand or through Keras (bench.learners.tensorflow_updates).
Eager by default; with ``compiled`` the whole step is one tf.function, traced here, before
the trainer's timed loop.

The trainer hands torch tensors in and keeps torch scalars out, as with every learner. The
conversion is part of the timed step, as NumPy's is for implementation ``numpy``; a full
batch is the same tensor every step, so its TensorFlow copy is made once and reused.
"""

from typing import Any, Dict

import numpy as np
import torch
from torch import nn

from bench.learners import tensorflow_runtime, tensorflow_updates
from bench.learners.autograd import check_loss, read_mlp

_DTYPES = {torch.float32: "float32", torch.float64: "float64"}


def _activations(tf) -> Dict[str, Any]:
    """activation -> f(z, c), as torch computes it (c: leaky_relu's slope, elu's alpha)."""
    return {
        "identity": lambda z, c: z,
        "relu": lambda z, c: tf.nn.relu(z),
        "tanh": lambda z, c: tf.tanh(z),
        "sigmoid": lambda z, c: tf.sigmoid(z),
        # not tf.nn.leaky_relu: its alpha is a float32 attribute, the slope rounded in float64
        "leaky_relu": lambda z, c: tf.where(z > 0, z, c * z),
        # tf.nn.elu has no alpha; min(z, 0) keeps expm1 finite on the branch where() discards
        "elu": lambda z, c: tf.where(z > 0, z, c * tf.math.expm1(tf.minimum(z, 0.0))),
    }


class TensorflowLearner:
    def __init__(
        self,
        model: nn.Module,
        loss_fn: nn.Module,
        optimizer: str,
        lr: float,
        hyper: Dict[str, Any],
        updates: str = "keras",
        compiled: bool = False,
        threads: int = 1,
    ):
        self.layers, self.linears = read_mlp(model, "tensorflow")
        check_loss(loss_fn, "tensorflow")
        parameters = list(model.parameters())
        if any(p.device.type != "cpu" for p in parameters):
            raise ValueError("the tensorflow implementation runs on the CPU only (tensorflow-cpu); use device 'cpu'")  # fmt: skip
        if parameters[0].dtype not in _DTYPES:
            raise ValueError(
                f"the tensorflow implementation runs float32 or float64, not {parameters[0].dtype}"
            )
        tf = self.tf = tensorflow_runtime.start(threads)
        self.model = model
        self.dtype = getattr(tf, _DTYPES[parameters[0].dtype])
        # [W0, b0, W1, b1, ...], W as (out, in) like nn.Linear's.
        self.variables = [
            tf.Variable(tensor.detach().numpy().copy(), trainable=True)
            for linear in self.linears
            for tensor in (linear.weight, linear.bias)
        ]
        self.activations = _activations(tf)
        self.update = tensorflow_updates.build(tf, updates, optimizer, lr, hyper, self.variables)
        self._train_step = self._eager_step
        if compiled:
            inputs, outputs = self.linears[0].in_features, self.linears[-1].out_features
            signature = [
                tf.TensorSpec([None, inputs], self.dtype),
                tf.TensorSpec([None, outputs], self.dtype),
            ]
            # Traced now, once for every batch size: not inside the trial's first timed step.
            # No autograph: the step has no tensor-dependent Python control flow to convert, and
            # once, in a process that had built and dropped many learners, autograph's converted
            # _forward was called with self twice (a TypeError seen in the agreement benchmark).
            self._train_step = tf.function(self._eager_step, input_signature=signature, autograph=False)
            self._train_step.get_concrete_function()
        self._batch = (None, None, None, None)  # the last (x, y) and their TensorFlow copies

    def _forward(self, x):
        tf = self.tf
        params = iter(self.variables)
        for layer in self.layers:
            if layer.kind == "linear":
                weight, bias = next(params), next(params)
                x = tf.matmul(x, weight, transpose_b=True) + bias
            else:
                x = self.activations[layer.kind](x, layer.constant)
        return x

    def _eager_step(self, x, y):
        with self.tf.GradientTape() as tape:
            error = self._forward(x) - y
            loss = self.tf.reduce_mean(error * error)
        self.update(tape.gradient(loss, self.variables))
        return loss

    def _as_tf(self, x: torch.Tensor, y: torch.Tensor):
        last_x, last_y, tf_x, tf_y = self._batch
        if x is not last_x or y is not last_y:
            tf_x, tf_y = self.tf.constant(x.numpy()), self.tf.constant(y.numpy())
            self._batch = (x, y, tf_x, tf_y)
        return tf_x, tf_y

    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = self._train_step(*self._as_tf(x, y))
        return torch.from_numpy(np.asarray(loss.numpy()))

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(np.asarray(self._forward(self.tf.constant(x.numpy())).numpy()))

    # No dropout or batch norm here (read_mlp refuses them): both modes compute the same.
    def train(self) -> None:
        pass

    def eval(self) -> None:
        pass

    def module(self) -> nn.Module:
        with torch.no_grad():
            for linear, weight, bias in zip(self.linears, self.variables[::2], self.variables[1::2]):
                linear.weight.copy_(torch.from_numpy(weight.numpy()))
                linear.bias.copy_(torch.from_numpy(bias.numpy()))
        return self.model
