"""The optimizers a suite can name, their hyper-parameters, and how to build them."""

from dataclasses import dataclass
from typing import Any, Dict, Iterable, Tuple

import torch


@dataclass(frozen=True)
class OptimizerSpec:
    name: str
    summary: str
    torch_class: str  # the torch.optim class
    fixed: Dict[str, Any]  # arguments that define the variant (momentum for "momentum", ...)
    hyper: Dict[str, Any]  # settable hyper-parameters (besides lr) and their defaults
    default_lr: Tuple[float, ...]  # a sensible grid when neither suite nor problem gives one


OPTIMIZERS = {
    spec.name: spec
    for spec in [
        OptimizerSpec(
            "sgd",
            "plain stochastic gradient descent",
            "SGD",
            {},
            {"weight_decay": 0.0},
            (0.001, 0.01, 0.1),
        ),
        OptimizerSpec(
            "momentum",
            "SGD with heavy-ball momentum",
            "SGD",
            {},
            {"momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0},
            (0.001, 0.01, 0.1),
        ),
        OptimizerSpec(
            "nesterov",
            "SGD with Nesterov momentum",
            "SGD",
            {"nesterov": True},
            {"momentum": 0.9, "weight_decay": 0.0},
            (0.001, 0.01, 0.1),
        ),
        OptimizerSpec(
            "adagrad",
            "per-parameter steps scaled by accumulated squared gradients",
            "Adagrad",
            {},
            {"lr_decay": 0.0, "weight_decay": 0.0, "eps": 1e-10},
            (0.01, 0.1, 0.5),
        ),
        OptimizerSpec(
            "rmsprop",
            "steps scaled by a running mean of squared gradients",
            "RMSprop",
            {},
            {"alpha": 0.99, "eps": 1e-8, "momentum": 0.0, "weight_decay": 0.0},
            (0.0001, 0.001, 0.01),
        ),
        OptimizerSpec(
            "adam",
            "adaptive moments (Kingma & Ba)",
            "Adam",
            {},
            {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
            (0.0001, 0.001, 0.01),
        ),
        OptimizerSpec(
            "adamw",
            "Adam with decoupled weight decay",
            "AdamW",
            {},
            {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.01},
            (0.0001, 0.001, 0.01),
        ),
    ]
}


def build(
    name: str, params: Iterable[torch.nn.Parameter], lr: float, hyper: Dict[str, Any]
) -> torch.optim.Optimizer:
    """The torch.optim optimizer for a trial; ``hyper`` holds only names from spec.hyper."""
    spec = OPTIMIZERS[name]
    arguments = dict(spec.hyper)
    arguments.update(hyper)
    arguments.update(spec.fixed)
    if "betas" in arguments:
        arguments["betas"] = tuple(arguments["betas"])
    return getattr(torch.optim, spec.torch_class)(params, lr=lr, **arguments)
