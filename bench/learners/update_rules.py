"""Hand-written optimizers with torch.optim's semantics, for the autograd and numpy learners.

Each rule is written once, with operators only (``*``, ``+``, ``/``, ``** 0.5``) and
in-place updates (``p -= ...``), so the same code steps NumPy arrays and torch tensors.
State (momentum buffers, moment estimates, step counts) is kept per parameter, as torch
does. The formulas are those of torch.optim's single-tensor code, which torch 1.10 and 2.x
share; where torch starts a buffer at zero we create it at the first step, from the value
it takes then (``decay * 0 + increment``), so no rule needs a zeros_like of either kind.

A rule never writes into the gradient it is given: the autograd learner zeroes it next.
"""

import functools
from typing import Any, Callable, Dict, List, Sequence

from bench import optimizers

State = Dict[str, Any]
Rule = Callable[[Any, Any, State], None]  # (parameter, gradient, state), updates in place


def _l2(p, g, weight_decay: float):
    """Weight decay folded into the gradient: torch's ``grad.add(param, alpha=wd)``."""
    return g + weight_decay * p if weight_decay != 0 else g


def _accumulate(state: State, key: str, decay: float, increment):
    """state[key] = decay * state[key] + increment, in place; ``increment`` must be fresh."""
    buffer = state.get(key)
    if buffer is None:
        state[key] = increment
        return increment
    if decay != 1:
        buffer *= decay
    buffer += increment
    return buffer


def sgd(p, g, state: State, lr, weight_decay, momentum=0.0, dampening=0.0, nesterov=False):
    g = _l2(p, g, weight_decay)
    if momentum != 0:
        buffer = state.get("momentum_buffer")
        if buffer is None:
            # torch's first step copies g undamped (not (1 - dampening) * g); * 1.0 copies
            # either kind of array.
            buffer = state["momentum_buffer"] = g * 1.0
        else:
            buffer *= momentum
            buffer += (1 - dampening) * g
        g = g + momentum * buffer if nesterov else buffer
    p -= lr * g


def adagrad(p, g, state: State, lr, lr_decay, weight_decay, eps):
    step = state["step"] = state.get("step", 0) + 1
    g = _l2(p, g, weight_decay)
    decayed_lr = lr / (1 + (step - 1) * lr_decay)
    square_sum = _accumulate(state, "sum", 1.0, g * g)  # initial_accumulator_value = 0
    p -= decayed_lr * (g / (square_sum**0.5 + eps))


def rmsprop(p, g, state: State, lr, alpha, eps, momentum, weight_decay):
    g = _l2(p, g, weight_decay)
    square_avg = _accumulate(state, "square_avg", alpha, (1 - alpha) * g * g)
    avg = square_avg**0.5 + eps
    if momentum > 0:
        p -= lr * _accumulate(state, "momentum_buffer", momentum, g / avg)
    else:
        p -= lr * (g / avg)


def adam(p, g, state: State, lr, betas, eps, weight_decay, decoupled=False):
    beta1, beta2 = betas
    step = state["step"] = state.get("step", 0) + 1
    if decoupled:
        p *= 1 - lr * weight_decay  # AdamW decays the weights, before and outside the moments
    else:
        g = _l2(p, g, weight_decay)
    exp_avg = _accumulate(state, "exp_avg", beta1, (1 - beta1) * g)
    exp_avg_sq = _accumulate(state, "exp_avg_sq", beta2, (1 - beta2) * g * g)
    # torch's arrangement of the bias corrections: eps is added after dividing by
    # sqrt(1 - beta2^t), and the first correction goes into the step size.
    denom = exp_avg_sq**0.5 / (1 - beta2**step) ** 0.5 + eps
    p -= lr / (1 - beta1**step) * (exp_avg / denom)


# name (as in bench.optimizers.OPTIMIZERS) -> the rule and the arguments fixing its variant.
RULES = {
    "sgd": (sgd, {}),
    "momentum": (sgd, {}),
    "nesterov": (sgd, {"nesterov": True}),
    "adagrad": (adagrad, {}),
    "rmsprop": (rmsprop, {}),
    "adam": (adam, {}),
    "adamw": (adam, {"decoupled": True}),
}


def rule(name: str, lr: float, hyper: Dict[str, Any]) -> Rule:
    """The update for optimizer ``name``: bench.optimizers' defaults, overridden by hyper."""
    resolved = arguments(name, hyper)  # first: it names an unknown optimizer
    function, variant = RULES[name]
    return functools.partial(function, lr=float(lr), **resolved, **variant)


def arguments(name: str, hyper: Dict[str, Any]) -> Dict[str, Any]:
    """The hyper-parameters of optimizer ``name`` but lr, as plain floats: bench.optimizers'
    defaults overridden by ``hyper``; ValueError for an optimizer or name we do not know.

    Apart from ``rule`` so that a caller can pass its own lr: bench.vectorised gives one
    tensor of per-trial rates, shaped to broadcast against its stacked parameters."""
    if name not in RULES:
        known = ", ".join(RULES)
        raise ValueError(f"optimizer {name!r} has no hand-written update; those with one: {known}")
    defaults = optimizers.OPTIMIZERS[name].hyper
    unknown = sorted(set(hyper) - set(defaults))
    if unknown:
        raise ValueError(
            "optimizer {!r} takes no hyper-parameter {}; it takes: {}".format(
                name, ", ".join(repr(key) for key in unknown), ", ".join(defaults)
            )
        )
    arguments = dict(defaults)
    arguments.update(hyper)
    # Plain Python floats: a NumPy float64 scalar would promote float32 state under NEP 50.
    for key, value in arguments.items():
        is_pair = isinstance(value, (tuple, list))
        arguments[key] = tuple(float(v) for v in value) if is_pair else float(value)
    return arguments


class HandWrittenOptimizer:
    """torch.optim's shape, cut down: the parameters at construction, their gradients at step."""

    def __init__(self, name: str, params: Sequence[Any], lr: float, hyper: Dict[str, Any]):
        self.update = rule(name, lr, hyper)
        self.params = list(params)
        self.states: List[State] = [{} for _ in self.params]

    def step(self, grads: Sequence[Any]) -> None:
        for p, g, state in zip(self.params, grads, self.states):
            self.update(p, g, state)
