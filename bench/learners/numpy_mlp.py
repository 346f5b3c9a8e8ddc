"""The start of the progression: forward pass, backward pass and update by hand in NumPy.

The arrays keep the model's dtype (float32) so that the trajectory matches torch's to
rounding; the update rules are the same objects the autograd learner uses.
"""

from typing import Any, Dict, List, Tuple

import numpy as np
import torch
from torch import nn

from bench.learners import update_rules
from bench.learners.autograd import check_loss, read_mlp


def _sigmoid(z: np.ndarray, c: float) -> np.ndarray:
    return 1 / (1 + np.exp(-z))  # exp(-z) overflows to inf for z < -88: sigmoid 0, as it is


# activation -> (forward f(z, c), backward(z, a, c, grad_a) -> grad_z) with a = f(z, c),
# each derivative written as torch's backward kernel writes it.
_ACTIVATIONS = {
    "identity": (lambda z, c: z, lambda z, a, c, g: g),
    "relu": (lambda z, c: np.maximum(z, 0.0), lambda z, a, c, g: g * (a > 0)),
    "tanh": (lambda z, c: np.tanh(z), lambda z, a, c, g: g * (1 - a * a)),
    "sigmoid": (_sigmoid, lambda z, a, c, g: g * (1 - a) * a),
    "leaky_relu": (
        lambda z, c: np.where(z > 0, z, c * z),
        lambda z, a, c, g: np.where(z > 0, g, c * g),
    ),
    "elu": (  # min(z, 0) keeps exp from overflowing on the branch np.where discards
        lambda z, c: np.where(z > 0, z, c * np.expm1(np.minimum(z, 0.0))),
        lambda z, a, c, g: np.where(z > 0, g, g * c * np.exp(np.minimum(z, 0.0))),
    ),
}


class NumpyLearner:
    def __init__(
        self,
        model: nn.Module,
        loss_fn: nn.Module,
        optimizer: str,
        lr: float,
        hyper: Dict[str, Any],
    ):
        self.layers, self.linears = read_mlp(model, "numpy")
        check_loss(loss_fn, "numpy")
        if any(p.device.type != "cpu" for p in model.parameters()):
            raise ValueError("the numpy implementation runs on the CPU only; use device 'cpu'")
        self.model = model
        # [W0, b0, W1, b1, ...], copied out of the model (W is (out, in), as in nn.Linear).
        self.params = [
            tensor.detach().numpy().copy()
            for linear in self.linears
            for tensor in (linear.weight, linear.bias)
        ]
        self.optimizer = update_rules.HandWrittenOptimizer(optimizer, self.params, lr, hyper)

    def _forward(self, x: np.ndarray) -> Tuple[np.ndarray, List[Tuple[np.ndarray, np.ndarray]]]:
        """The output, and each layer's (input, output) for the backward pass."""
        trace = []
        params = iter(self.params)
        for layer in self.layers:
            if layer.kind == "linear":
                weight, bias = next(params), next(params)
                out = x.dot(weight.T) + bias
            else:
                out = _ACTIVATIONS[layer.kind][0](x, layer.constant)
            trace.append((x, out))
            x = out
        return x, trace

    def _backward(self, grad: np.ndarray, trace: List[Tuple[np.ndarray, np.ndarray]]):
        """The gradients of the loss w.r.t. self.params, given its gradient w.r.t. the output."""
        grads: List[Any] = [None] * len(self.params)
        index = len(self.params)
        for depth in reversed(range(len(self.layers))):
            layer = self.layers[depth]
            x, out = trace[depth]
            if layer.kind == "linear":
                index -= 2
                grads[index] = grad.T.dot(x)  # z = x W^T + b: dL/dW = dL/dz^T x
                grads[index + 1] = grad.sum(axis=0)
                if depth > 0:  # the data needs no gradient
                    grad = grad.dot(self.params[index])
            else:
                grad = _ACTIVATIONS[layer.kind][1](x, out, layer.constant, grad)
        return grads

    # A diverging trial overflows to inf / nan; the trainer reads that from the loss, and
    # NumPy's RuntimeWarnings would only repeat it on stderr each step (torch is silent).
    @np.errstate(over="ignore", invalid="ignore")
    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out, trace = self._forward(x.numpy())
        error = out - y.numpy()
        loss = np.mean(error * error)
        # d mean(e^2) / d out = 2 e / n, as torch's mse_loss backward computes it
        self.optimizer.step(self._backward(error * (2.0 / error.size), trace))
        return torch.tensor(loss)

    @np.errstate(over="ignore", invalid="ignore")
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self._forward(x.numpy())[0])

    # No dropout or batch norm here (read_mlp refuses them): both modes compute the same.
    def train(self) -> None:
        pass

    def eval(self) -> None:
        pass

    def module(self) -> nn.Module:
        with torch.no_grad():
            for linear, weight, bias in zip(self.linears, self.params[::2], self.params[1::2]):
                linear.weight.copy_(torch.from_numpy(weight))
                linear.bias.copy_(torch.from_numpy(bias))
        return self.model
