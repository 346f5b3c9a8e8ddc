"""The optimizers as their papers write them, in NumPy: the reference the landscapes check
torch.optim against (tests/test_landscapes_reference.py), and the ``numpy`` implementation
of the landscape problems.

Each rule is the published update, with every choice the paper leaves open (or makes
differently) set to torch's default and said so in a comment: where eps goes, what an
accumulator starts at, which point Nesterov's parameters are. Where torch's update is not
the paper's, the difference is named here and measured in the tests, not smoothed over:

* Nesterov: torch's parameter is the paper's look-ahead point theta + mu v, not theta.
* AdamW: torch multiplies the decay by the learning rate; its weight_decay is the paper's
  lambda divided by lr.
* RMSprop: torch adds eps outside the square root (Goodfellow et al. add it inside) and
  starts the average at zero, uncorrected, so its first steps are 1/sqrt(1 - alpha) = 10
  times lr.

A rule updates ``p`` in place from the gradient ``g`` (never written) and its ``state``.
"""

import functools
from typing import Any, Callable, Dict

import numpy as np

from bench import optimizers

State = Dict[str, Any]
Rule = Callable[[np.ndarray, np.ndarray, State], None]


def _with_l2(p, g, weight_decay):
    """L2 regularisation, lambda/2 |theta|^2 added to the loss: its gradient lambda theta."""
    return g + weight_decay * p if weight_decay else g


def sgd(p, g, state: State, lr: float, weight_decay: float = 0.0) -> None:
    """theta <- theta - eta g (Robbins & Monro 1951)."""
    p -= lr * _with_l2(p, g, weight_decay)


def heavy_ball(p, g, state: State, lr: float, momentum: float, weight_decay: float = 0.0) -> None:
    """Polyak (1964): theta_{t+1} = theta_t - eta g_t + mu (theta_t - theta_{t-1}), with
    theta_{-1} = theta_0. torch keeps a buffer b = mu b + g and steps -eta b: the same
    iterates while eta is constant (b_t = (theta_{t-1} - theta_t) / eta)."""
    previous = state.get("previous", p.copy())
    state["previous"] = p.copy()
    p += -lr * _with_l2(p, g, weight_decay) + momentum * (p - previous)


def nesterov(p, g, state: State, lr: float, momentum: float, weight_decay: float = 0.0) -> None:
    """Sutskever et al. (2013), eq. 3-4: v <- mu v - eta grad f(theta + mu v); theta <- theta + v,
    with v_0 = 0. ``p`` holds the look-ahead point theta + mu v -- where the gradient is taken,
    and what torch's parameters hold (Bengio et al. 2013's rewriting, which torch.optim.SGD
    implements) -- so ``g`` is the gradient at ``p``; ``state["theta"]`` keeps the paper's theta."""
    velocity = state.get("velocity", np.zeros_like(p))
    theta = p - momentum * velocity
    velocity = momentum * velocity - lr * _with_l2(p, g, weight_decay)
    theta = theta + velocity
    state["velocity"], state["theta"] = velocity, theta
    p[...] = theta + momentum * velocity


def adagrad(p, g, state: State, lr: float, eps: float, lr_decay: float = 0.0, weight_decay: float = 0.0):
    """Duchi, Hazan & Singer (2011), diagonal form: G <- G + g^2; theta <- theta - eta g / (delta + sqrt G).
    torch's defaults: G starts at 0 (initial_accumulator_value), delta = eps = 1e-10 outside
    the root, as the paper has it. lr_decay is torch's addition: eta / (1 + (t - 1) lr_decay)."""
    step = state["step"] = state.get("step", 0) + 1
    g = _with_l2(p, g, weight_decay)
    state["sum"] = state.get("sum", np.zeros_like(p)) + g * g
    p -= lr / (1 + (step - 1) * lr_decay) * g / (eps + np.sqrt(state["sum"]))


def rmsprop(p, g, state: State, lr: float, alpha: float, eps: float, momentum: float = 0.0,
            weight_decay: float = 0.0) -> None:  # fmt: skip
    """Tieleman & Hinton (2012, lecture 6e): E <- rho E + (1 - rho) g^2; theta <- theta - eta g / sqrt(E).
    The lecture has no eps; torch adds eps = 1e-8 outside the root (Goodfellow et al.'s
    Algorithm 8.5 adds it inside), takes rho = alpha = 0.99 (the lecture suggests 0.9), and
    starts E at 0 without a bias correction. momentum (Graves 2013's form, torch's too):
    b <- mu b + g / (sqrt(E) + eps); theta <- theta - eta b."""
    g = _with_l2(p, g, weight_decay)
    state["mean_square"] = alpha * state.get("mean_square", np.zeros_like(p)) + (1 - alpha) * g * g
    scaled = g / (np.sqrt(state["mean_square"]) + eps)
    if momentum:
        state["buffer"] = momentum * state.get("buffer", np.zeros_like(p)) + scaled
        scaled = state["buffer"]
    p -= lr * scaled


def adam(p, g, state: State, lr: float, betas, eps: float, weight_decay: float = 0.0,
         decoupled_decay: float = 0.0) -> None:  # fmt: skip
    """Kingma & Ba (2015), Algorithm 1: m <- b1 m + (1 - b1) g; v <- b2 v + (1 - b2) g^2;
    theta <- theta - alpha m_hat / (sqrt(v_hat) + eps), m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t).
    eps outside the root of the bias-corrected v_hat, as Algorithm 1 (and torch) place it,
    not the paper's "efficient" variant's eps-hat. m and v start at 0.

    ``decoupled_decay`` is AdamW's lambda (Loshchilov & Hutter 2019, Algorithm 2, schedule
    multiplier 1): theta <- theta - (alpha m_hat / (sqrt(v_hat) + eps) + lambda theta), the decay
    outside the moments and not multiplied by alpha."""
    beta1, beta2 = betas
    step = state["step"] = state.get("step", 0) + 1
    g = _with_l2(p, g, weight_decay)
    state["m"] = beta1 * state.get("m", np.zeros_like(p)) + (1 - beta1) * g
    state["v"] = beta2 * state.get("v", np.zeros_like(p)) + (1 - beta2) * g * g
    m_hat = state["m"] / (1 - beta1**step)
    v_hat = state["v"] / (1 - beta2**step)
    p -= lr * m_hat / (np.sqrt(v_hat) + eps) + decoupled_decay * p


def rule(name: str, lr: float, hyper: Dict[str, Any]) -> Rule:
    """The published update for optimizer ``name`` with bench.optimizers' (torch's) defaults,
    overridden by ``hyper``; ValueError for a hyper-parameter the paper's rule has no place for."""
    spec = optimizers.OPTIMIZERS.get(name)
    if spec is None:
        raise ValueError(
            f"no textbook rule for optimizer {name!r}; known: {', '.join(optimizers.OPTIMIZERS)}"
        )
    values = dict(spec.hyper)
    values.update(hyper)
    values = {
        k: tuple(float(b) for b in v) if isinstance(v, (list, tuple)) else float(v) for k, v in values.items()
    }
    if values.pop("dampening", 0.0):
        raise ValueError("the heavy-ball rule has no dampening; use implementation torch or autograd for it")
    lr = float(lr)
    if name == "sgd":
        return functools.partial(sgd, lr=lr, **values)
    if name == "momentum":
        return functools.partial(heavy_ball, lr=lr, **values)
    if name == "nesterov":
        return functools.partial(nesterov, lr=lr, **values)
    if name == "adagrad":
        return functools.partial(adagrad, lr=lr, **values)
    if name == "rmsprop":
        return functools.partial(rmsprop, lr=lr, **values)
    if name == "adam":
        return functools.partial(adam, lr=lr, **values)
    # AdamW: torch's weight_decay times lr is the paper's lambda (torch decays by lr * wd).
    decay = values.pop("weight_decay")
    return functools.partial(adam, lr=lr, decoupled_decay=lr * decay, **values)
