"""Expanding a suite into trials: every cell of the grid, minus what is meaningless or excluded.

Each trial gets a stable id (a hash of its resolved configuration) and a seed. The seed is
derived from the problem, its options and the suite's seed only -- not from the optimizer,
learning rate or activation -- so that, for one seed, every optimizer starts from the same
data, the same initial weights and the same batch order: a paired comparison, which needs
far fewer repeats to tell two optimizers apart than independent draws would.
"""

import functools
import hashlib
import itertools
import json
import random
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional, Tuple

from bench import optimizers
from bench.problems import PROBLEMS
from bench.suite import Suite
from bench.suite_values import AXES
from bench.validation import SuiteError


@dataclass(frozen=True)
class TrialSpec:
    problem: str
    optimizer: str
    lr: float
    hyper: Tuple[Tuple[str, Any], ...]  # optimizer hyper-parameters set by the suite
    activation: str  # "none" where the problem takes no activation
    device: str  # as the suite says: cpu, cuda, cuda:N, auto
    batch: Any  # "full" or a batch size
    dropout: float
    batch_norm: bool
    implementation: str
    threads: int  # torch's intra-op threads, set before the trial
    seed_index: int  # the suite's seed; the trial's seed is derived from it
    steps: Any  # int, or None when the budget is in epochs
    epochs: Any
    time_limit_s: float
    eval_every: int
    log_every: int
    options: Tuple[Tuple[str, Any], ...]  # the problem's options
    # implementation tensorflow's settings ("keras" or "manual"; tf.function or eager), None
    # for every other implementation: left out of its configuration, so that no earlier
    # trial's id changed when these axes came.
    tf_updates: Optional[str] = None
    tf_function: Optional[bool] = None

    def config(self) -> Dict[str, Any]:
        """The resolved configuration, as recorded: plain JSON types."""
        data = asdict(self)
        data["hyper"] = {k: list(v) if isinstance(v, tuple) else v for k, v in self.hyper}
        data["options"] = dict(self.options)
        for key in TENSORFLOW_AXES:
            if data[key] is None:
                del data[key]
        return data

    @property
    def trial_id(self) -> str:
        return _identity(self)[0]

    @property
    def seed(self) -> int:
        return _identity(self)[1]

    def label(self) -> str:
        """A short human-readable description for progress lines."""
        parts = [self.problem, self.optimizer, f"lr={self.lr:g}"]
        parts += [f"{k}={v}" for k, v in self.hyper]
        if self.activation != "none" or PROBLEMS[self.problem].takes_activation:
            parts.append(self.activation)
        defaults = PROBLEMS[self.problem].options
        parts += [_option_label(k, v) for k, v in self.options if k in defaults and v != defaults[k].default]
        if self.batch != "full":
            parts.append(f"batch={self.batch}")
        if self.dropout:
            parts.append(f"dropout={self.dropout:g}")
        if self.batch_norm:
            parts.append("bn")
        if self.implementation != "torch":
            parts.append(self.implementation)
        if self.tf_updates == "manual":
            parts.append("manual")
        if self.tf_function:
            parts.append("tf.function")
        if self.device != "cpu":
            parts.append(self.device)
        if self.threads != 1:
            parts.append(f"threads={self.threads}")
        parts.append(f"seed={self.seed_index}")
        return " ".join(parts)


def _option_label(name: str, value: Any) -> str:
    if isinstance(value, tuple):
        return "{}=({})".format(name, ", ".join(f"{v:g}" for v in value))
    return f"{name}={value:g}" if isinstance(value, float) else f"{name}={value}"


TENSORFLOW_AXES = ("tf_updates", "tf_function")


@functools.lru_cache(maxsize=None)
def _identity(spec: TrialSpec) -> Tuple[str, int]:
    """(trial id, seed), computed once per spec: the runner asks for them often."""
    trial_id = f"{spec.problem}-{_digest(spec.config())[:12]}"
    identity = {"problem": spec.problem, "seed": spec.seed_index, "options": dict(spec.options)}
    return trial_id, int(_digest(identity)[:8], 16) & 0x7FFFFFFF


def _digest(data: Dict[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Plan:
    suite: Suite
    trials: Tuple[TrialSpec, ...]
    notes: Tuple[str, ...]  # cells dropped automatically, and why


# More trials than this is a typo (a learning-rate list pasted twice, repeats: 1000000) far
# more often than a plan: a Jetson night runs a few hundred. --yes plans it anyway.
MAX_TRIALS = 100000


class PlanTooLarge(SuiteError):
    """The suite expands to more than MAX_TRIALS trials; counted before anything is expanded.
    ``by_problem``: how many of them each problem has (what an estimate of its time needs)."""

    def __init__(self, path: str, problems: List[str], by_problem: Dict[str, int]):
        super().__init__(path, problems)
        self.by_problem = by_problem


def _learning_rates(problem, choice, opt) -> Tuple[float, ...]:
    return (
        dict(choice.lr).get(opt.name)
        or opt.lr
        or problem.default_lr.get(opt.name)
        or optimizers.OPTIMIZERS[opt.name].default_lr
    )


def count_cells(suite: Suite) -> int:
    """The grid's size before include/exclude, by multiplying axis lengths: instant at any size."""
    return sum(count_cells_by_problem(suite).values())


def count_cells_by_problem(suite: Suite) -> Dict[str, int]:
    """count_cells, for each problem of the suite."""
    by_problem = {}  # type: Dict[str, int]
    for choice in suite.problems:
        total = 0
        problem = PROBLEMS[choice.name]
        for opt in suite.optimizers:
            cells = len(_learning_rates(problem, choice, opt)) * len(suite.seeds)
            for _, values in opt.hyper:
                cells *= len(values)
            for axis in AXES:
                cells *= len(_neutralised(problem, axis, choice.axis(axis)))
            total += cells
        by_problem[choice.name] = total
    return by_problem


def make_plan(suite: Suite, limit: Optional[int] = MAX_TRIALS) -> Plan:
    """Every trial of the suite; PlanTooLarge (counted first) above ``limit`` unless it is None."""
    if limit is not None:
        by_problem = count_cells_by_problem(suite)
        cells = sum(by_problem.values())
        if cells > limit:
            raise PlanTooLarge(suite.path, [
                f"{suite.path}: expands to {cells:,} trials before include/exclude, more than the limit of "
                f"{limit:,}; pass --yes to plan it anyway"], by_problem)  # fmt: skip
    trials = []  # type: List[TrialSpec]
    dropped = {}  # type: Dict[str, int]
    for choice in suite.problems:
        problem = PROBLEMS[choice.name]
        for opt in suite.optimizers:
            lrs = _learning_rates(problem, choice, opt)
            hyper_names = [name for name, _ in opt.hyper]
            hyper_grid = list(itertools.product(*[values for _, values in opt.hyper]))
            axis_values = [_neutralised(problem, axis, choice.axis(axis)) for axis in AXES]
            for lr, hyper, cell, seed in itertools.product(
                lrs, hyper_grid, itertools.product(*axis_values), suite.seeds
            ):
                cell = dict(zip(AXES, cell))
                reason = _meaningless(problem, cell) or _without_tensorflow(cell, axis_values)
                if reason:
                    dropped[reason] = dropped.get(reason, 0) + 1
                    continue
                trials.append(TrialSpec(
                    problem=problem.name, optimizer=opt.name, lr=lr,
                    hyper=tuple(zip(hyper_names, hyper)), seed_index=seed,
                    steps=choice.budget.steps, epochs=choice.budget.epochs,
                    time_limit_s=choice.budget.time_limit_s, eval_every=choice.budget.eval_every,
                    log_every=choice.budget.log_every, options=choice.options, **cell
                ))  # fmt: skip
    before = len(trials)
    trials = _unique([t for t in trials if _selected(suite, t)])
    notes = [f"{n} cells dropped: {why}" for why, n in sorted(dropped.items())]
    if before != len(trials):
        notes.append(f"{before - len(trials)} cells dropped by the suite's include/exclude")
    return Plan(suite, tuple(_ordered(suite, trials)), tuple(notes))


def _neutralised(problem, axis: str, values: Tuple[Any, ...]) -> Tuple[Any, ...]:
    """An axis the problem's model does not take collapses to its neutral value."""
    neutral = {"activation": "none", "dropout": 0.0, "batch_norm": False, "batch": "full"}
    takes = {
        "activation": problem.takes_activation,
        "dropout": problem.takes_dropout,
        "batch_norm": problem.takes_batch_norm,
        "batch": problem.takes_batch,
    }
    if axis in takes and not takes[axis]:
        return (neutral[axis],)
    return values


def _without_tensorflow(cell: Dict[str, Any], axis_values) -> str:
    """For another implementation than tensorflow, the tf_ axes are no setting: its cell keeps
    None there (the first value of each stands for all), and the others are dropped."""
    if cell["implementation"] == "tensorflow":
        return ""
    firsts = {axis: values[0] for axis, values in zip(AXES, axis_values)}
    if any(cell[axis] != firsts[axis] for axis in TENSORFLOW_AXES):
        return "tf_updates and tf_function are settings of implementation tensorflow only"
    for axis in TENSORFLOW_AXES:
        cell[axis] = None
    return ""


def _meaningless(problem, cell: Dict[str, Any]) -> str:
    """Why a cell from the shared axes cannot run for this problem ('' if it can)."""
    implementation = cell["implementation"]
    if implementation not in problem.implementations:
        return f"implementation {implementation} does not exist for {problem.name}"
    if implementation != "torch" and (cell["dropout"] or cell["batch_norm"]):
        return f"implementation {implementation} has no dropout or batch norm"
    if implementation == "numpy" and cell["device"] != "cpu":
        return "implementation numpy runs on the cpu only"
    if implementation == "tensorflow" and cell["device"] != "cpu":
        return "implementation tensorflow runs on the cpu only (tensorflow-cpu)"
    if cell["batch_norm"] and cell["batch"] == 1:
        return "batch norm needs batches of more than one sample"
    if implementation != "torch" and cell["activation"] not in _HAND_WRITTEN_ACTIVATIONS:
        return "implementation {} has no {} activation".format(implementation, cell["activation"])
    return ""


_HAND_WRITTEN_ACTIVATIONS = ("none", "identity", "relu", "tanh", "sigmoid", "leaky_relu", "elu")


def _matches(pattern: Dict[str, Tuple[Any, ...]], trial: TrialSpec) -> bool:
    values = {"problem": trial.problem, "optimizer": trial.optimizer, "seed": trial.seed_index}
    for key, allowed in pattern.items():
        value = values[key] if key in values else getattr(trial, key)
        if key == "lr":
            if not any(abs(value - a) <= 1e-12 * max(abs(a), 1.0) for a in allowed):
                return False
        elif value not in allowed:
            return False
    return True


def _selected(suite: Suite, trial: TrialSpec) -> bool:
    if suite.include and not any(_matches(p, trial) for p in suite.include):
        return False
    return not any(_matches(p, trial) for p in suite.exclude)


def _unique(trials: List[TrialSpec]) -> List[TrialSpec]:
    seen = set()
    out = []
    for trial in trials:
        if trial.trial_id not in seen:
            seen.add(trial.trial_id)
            out.append(trial)
    return out


def _ordered(suite: Suite, trials: List[TrialSpec]) -> List[TrialSpec]:
    """grid: as declared. random: shuffled with a seed from the suite's name, so that
    thermal drift over a long run does not line up with one optimizer. interleaved: round
    robin over optimizers, so neighbouring trials compare different optimizers."""
    if suite.order == "random":
        shuffled = list(trials)
        random.Random(_digest({"suite": suite.name})).shuffle(shuffled)
        return shuffled
    if suite.order == "interleaved":
        by_optimizer = {}  # type: Dict[str, List[TrialSpec]]
        for trial in trials:
            by_optimizer.setdefault(trial.optimizer, []).append(trial)
        columns = list(by_optimizer.values())
        out = []
        for row in itertools.zip_longest(*columns):
            out.extend(t for t in row if t is not None)
        return out
    return trials
