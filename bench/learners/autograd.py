"""The middle of the progression: plain tensors with requires_grad, the forward pass and the
loss written out, autograd for the gradients, and a hand-written update under no_grad.

Also reads an MLP's layers for both hand-written implementations (numpy_mlp uses it too).
"""

from typing import Any, Callable, Dict, List, NamedTuple, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from bench.learners import update_rules


class Layer(NamedTuple):  # not a dataclass: those need Python 3.7 without the backport
    kind: str  # "linear" or an activation name
    constant: float  # leaky_relu's negative slope, elu's alpha; 0 for the others


_ACTIVATIONS = {
    nn.Identity: "identity",
    nn.ReLU: "relu",
    nn.Tanh: "tanh",
    nn.Sigmoid: "sigmoid",
    nn.LeakyReLU: "leaky_relu",
    nn.ELU: "elu",
}
SUPPORTED = "none/identity, relu, tanh, sigmoid, leaky_relu, elu"


def _layer(module: nn.Module, implementation: str) -> Layer:
    kind = type(module)
    if kind is nn.Linear:
        if module.bias is None:
            raise ValueError(f"the {implementation} implementation needs Linear layers with a bias")
        return Layer("linear", 0.0)
    if kind in _ACTIVATIONS:
        constant = getattr(module, "negative_slope", getattr(module, "alpha", 0.0))
        return Layer(_ACTIVATIONS[kind], float(constant))
    if kind in (nn.Dropout, nn.BatchNorm1d):
        raise ValueError(
            f"the {implementation} implementation has no {kind.__name__} (it writes out only "
            f"Linear layers and the activations {SUPPORTED}); use implementation 'torch' for "
            "dropout or batch norm"
        )
    raise ValueError(
        f"the {implementation} implementation cannot run a {kind.__name__} layer; it supports "
        f"Linear layers and the activations {SUPPORTED}"
    )


def read_mlp(model: nn.Module, implementation: str) -> Tuple[List[Layer], List[nn.Linear]]:
    """The layers of an MLP from build_mlp (or a lone nn.Linear, the linear problems' model:
    an MLP of one layer), in order, and its Linear modules; ValueError for anything the
    hand-written implementations do not write out."""
    if type(model) is nn.Linear:
        model = [model]
    elif not isinstance(model, nn.Sequential):
        raise ValueError(
            f"the {implementation} implementation needs an MLP (an nn.Sequential of Linear and "
            f"activation layers), not a {type(model).__name__}"
        )
    layers = [_layer(module, implementation) for module in model]
    return layers, [module for module in model if isinstance(module, nn.Linear)]


def check_loss(loss_fn: nn.Module, implementation: str) -> None:
    """The hand-written losses are the mean squared error only (the regression problems)."""
    if type(loss_fn) is not nn.MSELoss or loss_fn.reduction != "mean":
        raise ValueError(
            f"the {implementation} implementation writes out only nn.MSELoss() (mean reduction), "
            f"not {loss_fn!r}"
        )


TORCH_ACTIVATIONS: Dict[str, Callable[[torch.Tensor, float], torch.Tensor]] = {
    "identity": lambda x, c: x,
    "relu": lambda x, c: torch.relu(x),
    "tanh": lambda x, c: torch.tanh(x),
    "sigmoid": lambda x, c: torch.sigmoid(x),
    "leaky_relu": lambda x, c: F.leaky_relu(x, c),
    "elu": lambda x, c: F.elu(x, c),
}


class AutogradLearner:
    def __init__(
        self,
        model: nn.Module,
        loss_fn: nn.Module,
        optimizer: str,
        lr: float,
        hyper: Dict[str, Any],
    ):
        self.layers, self.linears = read_mlp(model, "autograd")
        check_loss(loss_fn, "autograd")
        self.model = model
        # [W0, b0, W1, b1, ...]: copies, so the model is only written by module().
        self.params = [
            tensor.detach().clone().requires_grad_()
            for linear in self.linears
            for tensor in (linear.weight, linear.bias)
        ]
        self.optimizer = update_rules.HandWrittenOptimizer(optimizer, self.params, lr, hyper)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        params = iter(self.params)
        for layer in self.layers:
            if layer.kind == "linear":
                weight, bias = next(params), next(params)
                x = x @ weight.t() + bias
            else:
                x = TORCH_ACTIVATIONS[layer.kind](x, layer.constant)
        return x

    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        error = self._forward(x) - y
        loss = (error * error).mean()
        loss.backward()
        with torch.no_grad():  # the update itself must not be recorded in the graph
            self.optimizer.step([p.grad for p in self.params])
            for p in self.params:
                p.grad.zero_()  # backward() adds into .grad
        return loss.detach()

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self._forward(x)

    # No dropout or batch norm here (read_mlp refuses them): both modes compute the same.
    def train(self) -> None:
        pass

    def eval(self) -> None:
        pass

    def module(self) -> nn.Module:
        with torch.no_grad():
            for linear, weight, bias in zip(self.linears, self.params[::2], self.params[1::2]):
                linear.weight.copy_(weight)
                linear.bias.copy_(bias)
        return self.model
