"""torch.optim's updates for stacked parameters, in place: each rule of
bench.learners.update_rules, formula for formula, written with torch's in-place and ``out=``
kernels into buffers kept in the parameter's state.

Why a second writing: update_rules is written once for NumPy arrays and torch tensors alike,
with operators only, so every term is a fresh array. For one model that is a few hundred
values; stacked, a term is the whole batch's (500 curve trials: 577,000 values, 2.3 MB), and
each fresh one is new memory from the system. Measured, 500 curve trials' Adam update, one
thread: 2.73 ms a step written with operators, 1.38 ms in place (two threads: 3.44 against
0.72 ms). The learning rate is a (K, 1, ...) tensor, one rate per trial, so each rule
multiplies by it rather than passing it as a scalar ``alpha``/``value``.

A rule never writes into the gradient it is given (update_rules' promise, kept). Buffers
are created at the first step, zero where torch starts a buffer at zero; ``decay * 0 +
increment`` is the increment exactly, so the first step is torch's. tests/test_vectorised.py
holds every optimizer, and each branch of its hyper-parameters, to the sequential trainer's
torch.optim at float64.
"""

from typing import Any, Dict

import torch

from bench.learners import update_rules

State = Dict[str, Any]


def _buffer(state: State, key: str, like: torch.Tensor, zero: bool = False) -> torch.Tensor:
    """state[key], made like ``like`` the first time (zeros where torch starts from zero)."""
    buffer = state.get(key)
    if buffer is None:
        buffer = state[key] = torch.zeros_like(like) if zero else torch.empty_like(like)
    return buffer


def _l2(p, g, state: State, weight_decay: float) -> torch.Tensor:
    """Weight decay folded into the gradient, torch's ``grad.add(param, alpha=wd)``."""
    if weight_decay == 0:
        return g
    return torch.add(g, p, alpha=weight_decay, out=_buffer(state, "decayed", p))


def _descend(p, direction: torch.Tensor, lr, state: State) -> None:
    """p -= lr * direction, the rate per trial."""
    p.sub_(torch.mul(direction, lr, out=_buffer(state, "step_", p)))


def sgd(p, g, state: State, lr, weight_decay, momentum=0.0, dampening=0.0, nesterov=False):
    g = _l2(p, g, state, weight_decay)
    if momentum != 0:
        buffer = state.get("momentum_buffer")
        if buffer is None:  # torch's first step copies g undamped
            buffer = state["momentum_buffer"] = g.clone()
        else:
            buffer.mul_(momentum).add_(g, alpha=1 - dampening)
        g = torch.add(g, buffer, alpha=momentum, out=_buffer(state, "nesterov", p)) if nesterov else buffer
    _descend(p, g, lr, state)


def adagrad(p, g, state: State, lr, lr_decay, weight_decay, eps):
    step = state["step"] = state.get("step", 0) + 1
    g = _l2(p, g, state, weight_decay)
    decayed_lr = lr / (1 + (step - 1) * lr_decay)
    square_sum = _buffer(state, "sum", p, zero=True).addcmul_(g, g)  # initial_accumulator_value = 0
    std = torch.sqrt(square_sum, out=_buffer(state, "std", p)).add_(eps)
    _descend(p, torch.div(g, std, out=std), decayed_lr, state)


def rmsprop(p, g, state: State, lr, alpha, eps, momentum, weight_decay):
    g = _l2(p, g, state, weight_decay)
    square_avg = _buffer(state, "square_avg", p, zero=True).mul_(alpha).addcmul_(g, g, value=1 - alpha)
    avg = torch.sqrt(square_avg, out=_buffer(state, "avg", p)).add_(eps)
    direction = torch.div(g, avg, out=avg)
    if momentum > 0:
        direction = _buffer(state, "momentum_buffer", p, zero=True).mul_(momentum).add_(direction)
    _descend(p, direction, lr, state)


def adam(p, g, state: State, lr, betas, eps, weight_decay, decoupled=False):
    beta1, beta2 = betas
    step = state["step"] = state.get("step", 0) + 1
    if decoupled:
        p.mul_(1 - lr * weight_decay)  # AdamW decays the weights, before and outside the moments
    else:
        g = _l2(p, g, state, weight_decay)
    exp_avg = _buffer(state, "exp_avg", p, zero=True).mul_(beta1).add_(g, alpha=1 - beta1)
    exp_avg_sq = _buffer(state, "exp_avg_sq", p, zero=True).mul_(beta2).addcmul_(g, g, value=1 - beta2)
    # torch's arrangement of the bias corrections: eps is added after dividing by
    # sqrt(1 - beta2^t), and the first correction goes into the step size.
    denom = torch.sqrt(exp_avg_sq, out=_buffer(state, "denom", p)).div_((1 - beta2**step) ** 0.5).add_(eps)
    _descend(p, torch.div(exp_avg, denom, out=denom), lr / (1 - beta1**step), state)


# name (as in bench.optimizers.OPTIMIZERS) -> the rule and the arguments fixing its variant:
# update_rules.RULES, each rule replaced by its in-place writing here, of the same name.
RULES = {
    name: (globals()[function.__name__], variant) for name, (function, variant) in update_rules.RULES.items()
}
