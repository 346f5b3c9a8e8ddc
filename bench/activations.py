"""Activation functions by suite name. Which exist depends on the installed torch."""

from typing import Callable, List

from torch import nn

# name -> the torch.nn class name that provides it ("Identity" for none).
_CLASS_NAMES = {
    "none": "Identity",
    "identity": "Identity",
    "relu": "ReLU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
    "gelu": "GELU",
    "silu": "SiLU",
    "mish": "Mish",
}

SUMMARIES = {
    "none": "no activation: the model stays linear however deep it is",
    "identity": "same as none",
    "relu": "max(0, x)",
    "tanh": "hyperbolic tangent, output in (-1, 1)",
    "sigmoid": "logistic, output in (0, 1)",
    "leaky_relu": "max(0.01x, x)",
    "elu": "exponential linear unit",
    "gelu": "Gaussian error linear unit",
    "silu": "x * sigmoid(x), a.k.a. swish",
    "mish": "x * tanh(softplus(x))",
}


def available() -> List[str]:
    """The activation names the installed torch provides."""
    return [name for name, cls in _CLASS_NAMES.items() if hasattr(nn, cls)]


def known() -> List[str]:
    return list(_CLASS_NAMES)


def factory(name: str) -> Callable[[], nn.Module]:
    """A constructor for the activation ``name``; KeyError if this torch lacks it."""
    cls = getattr(nn, _CLASS_NAMES[name], None)
    if cls is None:
        raise KeyError(name)
    return cls
