"""The fully connected models: a linear map is an MLP with no hidden layer.

Kept as a plain ``nn.Sequential`` of Linear / activation / Dropout / BatchNorm1d so that the
hand-written implementations (bench.learners) can read the same layers and weights.
"""

from typing import List

from torch import nn

from bench import activations


def build_mlp(
    sizes: List[int], activation: str = "none", dropout: float = 0.0, batch_norm: bool = False
) -> nn.Sequential:
    """sizes = [inputs, hidden..., outputs]; hidden layers get BN, activation and dropout."""
    make_activation = activations.factory(activation)
    layers = []  # type: List[nn.Module]
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if index == len(sizes) - 2:
            break  # the output layer stays linear
        if batch_norm:
            layers.append(nn.BatchNorm1d(fan_out))
        layers.append(make_activation())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)
