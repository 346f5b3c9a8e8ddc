"""Each torch.optim optimizer against its published update rule (bench.learners.textbook), step
by step on the landscapes; and the three implementations (torch, autograd, numpy) on one path.

Float64 throughout: the paths must agree to a relative 1e-9 over 500 steps. Measured here
(torch 2.13), the largest difference is 6.2e-15 of the path's scale (heavy-ball momentum on
Rosenbrock): the rules are the same arithmetic in a different order, and at these learning
rates the paths contract, so rounding does not grow. Where torch's update is *not* the
paper's, the test says how, and shows that the paper's rule taken literally gives another path.
"""

import dataclasses

import numpy as np
import pytest
import torch

from bench import optimizers, surfaces
from bench.learners import textbook
from bench.plan import TrialSpec
from bench.problems import PROBLEMS
from bench.trainer import run_trial

STEPS = 500
RTOL = 1e-9
OPTIMIZERS = tuple(optimizers.OPTIMIZERS)  # sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw

# Stable learning rates that still move far in 500 steps (Rosenbrock: along its valley).
LEARNING_RATES = {
    "quadratic": {"sgd": 0.5, "momentum": 0.1, "nesterov": 0.1, "adagrad": 0.5, "rmsprop": 0.01, "adam": 0.05,
                  "adamw": 0.05},
    "rosenbrock": {"sgd": 1e-3, "momentum": 3e-4, "nesterov": 3e-4, "adagrad": 0.1, "rmsprop": 3e-3, "adam": 1e-2,
                   "adamw": 1e-2},
}  # fmt: skip
QUADRATIC = {"condition": 10.0}


def torch_path(surface, name, lr, hyper=None, steps=STEPS):
    """theta along torch.optim's own loop: zero_grad, f, backward, step."""
    theta = torch.tensor(surface.start, dtype=torch.float64, requires_grad=True)
    optimizer = optimizers.build(name, [theta], lr, hyper or {})
    path = [theta.detach().clone().numpy()]
    for _ in range(steps):
        optimizer.zero_grad()
        surface.value(theta[0], theta[1]).backward()
        optimizer.step()
        path.append(theta.detach().clone().numpy())
    return np.array(path)


def textbook_path(surface, update, steps=STEPS, states=None):
    """theta along a published rule, with the closed-form gradient; ``states`` collects each
    step's state (for the Nesterov test's theta)."""
    theta = np.array(surface.start, dtype=np.float64)
    state = {}
    path = [theta.copy()]
    for _ in range(steps):
        update(theta, np.array(surface.gradient(theta[0], theta[1])), state)
        path.append(theta.copy())
        if states is not None:
            states.append(dict(state))
    return np.array(path)


def relative_difference(a, b):
    """The largest distance between the paths' points, over the largest distance from the origin."""
    return float(np.max(np.linalg.norm(a - b, axis=1)) / np.max(np.linalg.norm(b, axis=1)))


@pytest.mark.parametrize("function", ["quadratic", "rosenbrock"])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_torch_optim_follows_the_published_rule_for_500_steps(function, name):
    surface = surfaces.surface(function, QUADRATIC)
    lr = LEARNING_RATES[function][name]
    expected = torch_path(surface, name, lr)
    assert relative_difference(textbook_path(surface, textbook.rule(name, lr, {})), expected) <= RTOL
    # A path that goes somewhere: 1e-9 of a path that never moved would say nothing.
    assert np.linalg.norm(expected[-1] - expected[0]) > 0.3


def test_the_tolerance_sees_a_small_change():
    """1e-9 is far from every difference the rules could hide: 0.1% off the rate is caught."""
    surface = surfaces.surface("rosenbrock", {})
    torch_adam = torch_path(surface, "adam", 1e-2)
    assert (
        relative_difference(textbook_path(surface, textbook.rule("adam", 1.001e-2, {})), torch_adam)
        > 1e3 * RTOL
    )


def test_torch_nesterov_parameters_are_the_papers_look_ahead_point_not_its_theta():
    """Sutskever et al. (2013) step theta and take the gradient at theta + mu v; torch.optim.SGD
    (nesterov=True) stores theta + mu v itself (Bengio et al. 2013's rewriting): its path is
    the paper's look-ahead path, and the paper's theta lags it by mu v."""
    surface, mu = surfaces.surface("quadratic", QUADRATIC), 0.9
    expected = torch_path(surface, "nesterov", 0.1)
    states = []
    look_ahead = textbook_path(surface, textbook.rule("nesterov", 0.1, {}), states=states)
    assert relative_difference(look_ahead, expected) <= RTOL
    theta = np.array([surface.start] + [state["theta"] for state in states])
    assert relative_difference(theta, expected) > 1e-3  # the paper's theta is another path
    velocity = np.array([[0.0, 0.0]] + [state["velocity"] for state in states])
    assert relative_difference(theta + mu * velocity, expected) <= RTOL


def test_torch_adamw_decay_is_the_papers_lambda_divided_by_the_learning_rate():
    """Loshchilov & Hutter's theta <- theta - (alpha m_hat / (sqrt(v_hat) + eps) + lambda theta) does
    not multiply lambda by alpha; torch does (p *= 1 - lr * weight_decay). Literally the paper's
    lambda = 0.01 decays 1/lr = 100 times harder than torch's weight_decay=0.01."""
    surface, lr = surfaces.surface("quadratic", QUADRATIC), 0.05
    expected = torch_path(surface, "adamw", lr, {"weight_decay": 0.01})
    as_torch_means_it = textbook.rule("adamw", lr, {"weight_decay": 0.01})  # lambda = lr * 0.01
    assert relative_difference(textbook_path(surface, as_torch_means_it), expected) <= RTOL
    literal = textbook.functools.partial(
        textbook.adam, lr=lr, betas=(0.9, 0.999), eps=1e-8, decoupled_decay=0.01
    )
    assert relative_difference(textbook_path(surface, literal), expected) > 1e-3


def test_torch_rmsprop_adds_eps_outside_the_root_where_goodfellow_et_al_add_it_inside():
    """Deep Learning (Goodfellow et al.), Algorithm 8.5: theta <- theta - eta g / sqrt(delta + r).
    torch: theta <- theta - eta g / (sqrt(r) + eps). With eps = 1e-8 inside the root, the step is
    bounded by eta g / 1e-4 instead of eta g / 1e-8: at the minimum of the bowl, where r is tiny,
    the two paths part."""
    surface, lr, alpha, eps = surfaces.surface("quadratic", QUADRATIC), 0.01, 0.99, 1e-8
    expected = torch_path(surface, "rmsprop", lr)

    def inside(p, g, state):
        state["r"] = alpha * state.get("r", 0.0) + (1 - alpha) * g * g
        p -= lr * g / np.sqrt(eps + state["r"])

    assert relative_difference(textbook_path(surface, textbook.rule("rmsprop", lr, {})), expected) <= RTOL
    assert relative_difference(textbook_path(surface, inside), expected) > 1e-6


# Where eps goes only shows once eps is comparable to the root it is added to: at the defaults
# (Adagrad's 1e-10 beside sqrt(G) >= 0.1 here) sqrt(G) + eps and sqrt(G + eps) part by less than
# the tolerance in 500 steps, so a rule with eps in the wrong place would pass the test above.
# With eps = 0.1 every placement is visible; the rules must still follow torch to 1e-9.
EPS_OPTIMIZERS = ("adagrad", "rmsprop", "adam", "adamw")
VISIBLE_EPS = 0.1


@pytest.mark.parametrize("function", ["quadratic", "rosenbrock"])
@pytest.mark.parametrize("name", EPS_OPTIMIZERS)
def test_eps_is_where_torch_puts_it_with_an_eps_large_enough_to_show(function, name):
    surface, lr = surfaces.surface(function, QUADRATIC), LEARNING_RATES[function][name]
    hyper = {"eps": VISIBLE_EPS}
    expected = torch_path(surface, name, lr, hyper)
    assert relative_difference(textbook_path(surface, textbook.rule(name, lr, hyper)), expected) <= RTOL
    # eps changes this path: matching it to 1e-9 pins eps's place, not only the rest of the rule
    assert relative_difference(torch_path(surface, name, lr), expected) > 1e3 * RTOL


def test_torch_adagrad_adds_eps_outside_the_root_as_duchi_et_al_do():
    """Duchi, Hazan & Singer's diagonal step is eta g / (delta + sqrt(G)), and torch's too; eps
    inside the root, sqrt(delta + G), is another path once eps is large enough to see (above)."""
    surface, lr = surfaces.surface("quadratic", QUADRATIC), LEARNING_RATES["quadratic"]["adagrad"]
    expected = torch_path(surface, "adagrad", lr, {"eps": VISIBLE_EPS})

    def inside(p, g, state):
        state["sum"] = state.get("sum", 0.0) + g * g
        p -= lr * g / np.sqrt(VISIBLE_EPS + state["sum"])

    assert relative_difference(textbook_path(surface, inside), expected) > 1e-3


def test_torch_adam_adds_eps_after_the_bias_correction_as_algorithm_1_not_the_efficient_form():
    """Kingma & Ba's Algorithm 1 adds eps to sqrt(v_hat), the bias-corrected v, and so does torch.
    The paper's section 2 also gives a faster form: alpha_t = alpha sqrt(1 - b2^t) / (1 - b1^t),
    theta <- theta - alpha_t m / (sqrt(v) + eps_hat), which is Algorithm 1 only with eps_hat =
    eps sqrt(1 - b2^t). With the same eps in that place it is another path (the form TensorFlow 1's
    tf.train.AdamOptimizer takes: its epsilon is the paper's eps_hat)."""
    surface, lr = surfaces.surface("quadratic", QUADRATIC), LEARNING_RATES["quadratic"]["adam"]
    beta1, beta2 = 0.9, 0.999
    expected = torch_path(surface, "adam", lr, {"eps": VISIBLE_EPS})

    def efficient(p, g, state):
        step = state["step"] = state.get("step", 0) + 1
        state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
        state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g * g
        alpha_t = lr * np.sqrt(1 - beta2**step) / (1 - beta1**step)
        p -= alpha_t * state["m"] / (np.sqrt(state["v"]) + VISIBLE_EPS)

    assert relative_difference(textbook_path(surface, efficient), expected) > 1e-3


def test_the_textbook_rules_refuse_what_the_paper_has_no_place_for():
    with pytest.raises(ValueError, match="heavy-ball rule has no dampening"):
        textbook.rule("momentum", 0.1, {"dampening": 0.5})
    with pytest.raises(ValueError, match="no textbook rule for optimizer 'lbfgs'"):
        textbook.rule("lbfgs", 0.1, {})


def _trial(problem, optimizer, lr, implementation, options, hyper=()):
    return TrialSpec(problem=problem, optimizer=optimizer, lr=lr, hyper=hyper, activation="none", device="cpu",
                     batch="full", dropout=0.0, batch_norm=False, implementation=implementation, threads=1,
                     seed_index=0, steps=STEPS, epochs=None, time_limit_s=60.0, eval_every=50, log_every=1,
                     options=tuple(sorted(options.items())))  # fmt: skip


def trainer_paths(function, name, options, hyper=()):
    """implementation -> the trajectory the trainer records (every step), as a suite runs it."""
    problem = PROBLEMS[function]
    paths = {}
    for implementation in ("torch", "autograd", "numpy"):
        trial = _trial(function, name, LEARNING_RATES[function][name], implementation, options, hyper)
        result = run_trial(trial, problem, problem.make_data(trial.seed, options))
        assert result.outcome.status.value == "ok", result.outcome.reason
        paths[implementation] = np.array([(x, y) for _, x, y in result.trajectory])
    assert len(paths["torch"]) == STEPS + 1
    return paths


@pytest.mark.parametrize("function", ["quadratic", "rosenbrock"])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_numpy_autograd_and_torch_implementations_follow_one_path_noise_included(function, name):
    """Through the trainer, as a suite runs them: the same start, the same pre-drawn gradient
    noise, the same trajectory (as recorded, every step) to 1e-9."""
    options = {"noise": 0.1, "start": None}
    if function == "quadratic":
        options.update(condition=10.0, angle=0.0)
    paths = trainer_paths(function, name, options)
    for implementation in ("autograd", "numpy"):
        assert relative_difference(paths[implementation], paths["torch"]) <= RTOL, implementation
    # The noise is there: the noisy path is not the exact one.
    exact = torch_path(surfaces.surface(function, options), name, LEARNING_RATES[function][name])
    assert relative_difference(paths["torch"], exact) > 1e-6


@pytest.mark.parametrize("function,steps", [("beale", 300), ("saddle", 60)])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_the_three_implementations_follow_one_path_on_beale_and_the_saddle_too(function, name, steps):
    """The numpy implementation covers all four functions: on the other two as well, its closed-form
    gradients and textbook rules take torch's path, each at the middle rate of its grid, noise
    included (the saddle's for 60 steps, by when every optimizer has run off along y: f from -38
    for Adagrad to -1e22 for Nesterov)."""
    lr = PROBLEMS[function].default_lr[name][1]  # the middle of each grid
    problem, options, paths = PROBLEMS[function], {"noise": 0.1, "start": None}, {}
    for implementation in ("torch", "autograd", "numpy"):
        trial = dataclasses.replace(_trial(function, name, lr, implementation, options), steps=steps)
        result = run_trial(trial, problem, problem.make_data(trial.seed, options))
        assert result.outcome.status.value == "ok", result.outcome.reason
        paths[implementation] = np.array([(x, y) for _, x, y in result.trajectory])
    assert len(paths["torch"]) == steps + 1
    assert np.linalg.norm(paths["torch"][-1] - paths["torch"][0]) > 0.1  # it went somewhere
    for implementation in ("autograd", "numpy"):
        assert relative_difference(paths[implementation], paths["torch"]) <= RTOL, implementation


@pytest.mark.parametrize("name", EPS_OPTIMIZERS)
def test_the_three_implementations_put_eps_in_one_place(name):
    """The autograd implementation's rules (bench.learners.update_rules) are not the textbook's:
    with an eps large enough to show its place (above), they too follow torch to 1e-9."""
    options = {"noise": 0.0, "start": None, "condition": 10.0, "angle": 0.0}
    paths = trainer_paths("quadratic", name, options, hyper=(("eps", VISIBLE_EPS),))
    for implementation in ("autograd", "numpy"):
        assert relative_difference(paths[implementation], paths["torch"]) <= RTOL, implementation
    default_eps = trainer_paths("quadratic", name, options)["torch"]
    assert relative_difference(default_eps, paths["torch"]) > 1e3 * RTOL
