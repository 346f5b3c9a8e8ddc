"""Reading a suite file: YAML in, a validated ``Suite`` out, or every mistake at once.

The grammar (see docs/SUITES.md for the full reference):

    name: tutorial                  # default: the file's stem
    problems: [linear, curve]       # or a mapping: name -> per-problem settings
    optimizers:                     # or a list of names (each takes its default lr grid)
      sgd: {lr: [0.01, 0.1]}
      adam: {lr: [0.001], betas: [0.9, 0.999]}
    activation: [relu, tanh]        # shared axes, each a value or a list
    device: cpu
    seeds: [0, 1, 2]                # or repeats: 3
    batch: full                     # full, a mini-batch size, or 1 (single sample)
    budget: {steps: 300, time_limit: 60}
    exclude: [{problem: curve, activation: none}]
"""

import dataclasses
import difflib
import itertools
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from bench import optimizers
from bench.executors.choice import ExecutorChoice, read_executor
from bench.problems import PROBLEMS, Problem
from bench.suite_reader import read_suite_yaml
from bench.suite_values import (
    AXES,
    read_axis,
    read_hyper,
    read_lr,
    read_matchers,
    read_option_values,
    read_seeds,
    read_telemetry,
)
from bench.telemetry.config import TelemetryConfig
from bench.validation import Checker, SuiteError, short

BUDGET_KEYS = ("steps", "epochs", "time_limit", "eval_every", "log_every")
TOP_KEYS = (
    ("name", "description", "problems", "optimizers", "seeds", "repeats", "budget")
    + AXES
    + ("exclude", "include", "order", "telemetry", "on_missing_device", "warmup", "slowdown", "regressions")
    + ("canary", "canary_slowdown", "vectorise", "executor")
)
PROBLEM_KEYS = AXES + BUDGET_KEYS + ("options", "lr")
ORDERS = ("grid", "random", "interleaved")

DEFAULT_TIME_LIMIT_S = 120.0


@dataclass(frozen=True)
class Budget:
    steps: Optional[int]  # optimizer steps; exactly one of steps and epochs is set
    epochs: Optional[float]
    time_limit_s: float  # wall-clock limit per trial
    eval_every: int  # steps between (untimed) evaluations
    log_every: int  # steps between recorded training losses


@dataclass(frozen=True)
class OptimizerChoice:
    name: str
    lr: Optional[Tuple[float, ...]]  # None: the problem's (or the optimizer's) default grid
    hyper: Tuple[Tuple[str, Tuple[Any, ...]], ...]  # name -> values to sweep


@dataclass(frozen=True)
class ProblemChoice:
    name: str
    axes: Tuple[Tuple[str, Tuple[Any, ...]], ...]  # axis -> values, after defaults
    budget: Budget
    options: Tuple[Tuple[str, Any], ...]
    lr: Tuple[Tuple[str, Tuple[float, ...]], ...]  # per-optimizer lr grids for this problem

    def axis(self, name: str) -> Tuple[Any, ...]:
        return dict(self.axes)[name]


@dataclass(frozen=True)
class Suite:
    name: str
    path: str
    description: str
    problems: Tuple[ProblemChoice, ...]
    optimizers: Tuple[OptimizerChoice, ...]
    seeds: Tuple[int, ...]
    exclude: Tuple[Dict[str, Tuple[Any, ...]], ...]
    include: Tuple[Dict[str, Tuple[Any, ...]], ...]
    order: str
    telemetry: TelemetryConfig
    on_missing_device: str  # "error" or "skip"
    warmup_s: float  # train untimed this long before the first trial (a cold board runs faster)
    document: Dict[str, Any]  # the YAML as read, for the run manifest
    # A testing aid for the regression gate, not a setting: busy-wait this fraction of each
    # CPU step's own duration inside the timed region (docs/COMPARE.md). Not part of the trial
    # ids, so a slowed run compares cell by cell with an ordinary one.
    slowdown: float = 0.0
    # Time the drift canary (bench/canary.py) at the run's start and end. Like slowdown, these
    # two are not part of the trial ids: turning the canary off does not change what is compared.
    canary: bool = True
    canary_slowdown: float = 0.0  # a testing aid: each canary iteration busy-waits this fraction of itself
    # Train the trials that differ only in learning rate and seed together, as one computation
    # (bench.vectorised). Not part of the trial ids: a vectorised trial is the sequential one.
    vectorise: bool = False
    # Where the trials run (bench/executors/): not part of the trial ids either.
    executor: ExecutorChoice = ExecutorChoice()


def load_suite(path: str) -> Suite:
    """Read and validate ``path``; raises SuiteError listing every mistake."""
    document = read_suite_yaml(path)
    check = Checker(path)
    suite = _parse(document, path, check)
    check.raise_if_any()
    return suite


def _parse(doc: Dict[str, Any], path: str, check: Checker) -> Optional[Suite]:
    check.unknown_keys("", doc, TOP_KEYS)
    name = doc.get("name", os.path.splitext(os.path.basename(path))[0])
    if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
        check.fail("name", f"expected a plain name (no '/'), got {name!r}")
    shared_axes = {axis: read_axis(check, axis, doc[axis]) for axis in AXES if axis in doc}
    shared_budget = _read_budget(check, "budget", check.mapping("budget", doc.get("budget", {})) or {})
    optimizer_choices = _read_optimizers(check, doc.get("optimizers"))
    problem_choices = _read_problems(check, doc.get("problems"), shared_axes, shared_budget)
    seeds = read_seeds(check, doc)
    exclude = tuple(read_matchers(check, "exclude", doc.get("exclude", [])))
    include = tuple(read_matchers(check, "include", doc.get("include", [])))
    order = check.choice("order", doc.get("order", "grid"), list(ORDERS))
    on_missing = check.choice("on_missing_device", doc.get("on_missing_device", "error"), ["error", "skip"])
    telemetry = read_telemetry(check, doc.get("telemetry", {}))
    warmup = check.number("warmup", doc.get("warmup", 0.0), minimum=0.0)
    slowdown = check.number("slowdown", doc.get("slowdown", 0.0), minimum=0.0)
    if "regressions" in doc:
        _check_regressions(check, path, doc["regressions"])
    canary = check.boolean("canary", doc.get("canary", True))
    canary_slowdown = check.number("canary_slowdown", doc.get("canary_slowdown", 0.0), minimum=0.0)
    vectorise = check.boolean("vectorise", doc.get("vectorise", False))
    if vectorise:
        from bench.vectorised.grouping import suite_mistakes

        for key, message in suite_mistakes(problem_choices):
            check.fail(key, message)
    executor = read_executor(check, doc.get("executor", "local"))
    description = doc.get("description", "")
    if not isinstance(description, str):
        check.fail("description", f"expected text, got {description!r}")
    if check.problems:
        return None
    return Suite(
        name=name, path=path, description=description, problems=tuple(problem_choices),
        optimizers=tuple(optimizer_choices), seeds=seeds, exclude=exclude, include=include,
        order=order, telemetry=telemetry, on_missing_device=on_missing, warmup_s=float(warmup),
        slowdown=float(slowdown or 0.0), canary=canary, canary_slowdown=float(canary_slowdown or 0.0),
        document=doc, vectorise=bool(vectorise), executor=executor,
    )  # fmt: skip


def _check_regressions(check: Checker, path: str, block: Any) -> None:
    """The gate's policy for this suite (docs/COMPARE.md), checked now with the parser
    `optbench compare` uses: a mistake is found before a night's run, not after it."""
    from bench.compare.policy import PolicyError, from_mapping

    try:
        from_mapping(block, f"{path}: regressions")
    except PolicyError as error:
        check.add(str(error))


def _read_budget(check: Checker, key: str, raw: Dict[str, Any], base: Budget = None) -> Budget:
    check.unknown_keys(key, raw, BUDGET_KEYS)
    values = {} if base is None else dict(base.__dict__)
    if "steps" in raw and "epochs" in raw:
        check.fail(key, "give either steps or epochs, not both")
    if "steps" in raw:
        values["steps"], values["epochs"] = (
            check.integer(key + ".steps", raw["steps"], minimum=1),
            None,
        )
    if "epochs" in raw:
        epochs = check.number(key + ".epochs", raw["epochs"], positive=True)
        values["steps"], values["epochs"] = None, epochs
    if "time_limit" in raw:
        values["time_limit_s"] = check.number(key + ".time_limit", raw["time_limit"], positive=True)
    for name in ("eval_every", "log_every"):
        if name in raw:
            values[name] = check.integer(f"{key}.{name}", raw[name], minimum=1)
    values.setdefault("steps", None)
    values.setdefault("epochs", None)
    values.setdefault("time_limit_s", DEFAULT_TIME_LIMIT_S)
    values.setdefault("eval_every", None)  # None: the problem's default
    values.setdefault("log_every", 1)
    return Budget(**values)


def _named_entries(check: Checker, key: str, raw: Any) -> Dict[str, Any]:
    """``problems:`` and ``optimizers:`` as name -> settings: a list of names or a mapping."""
    if isinstance(raw, list):
        entries = {}  # type: Dict[str, Any]
        for index, name in enumerate(raw):
            if isinstance(name, str):
                entries[name] = {}
            elif isinstance(name, dict):
                check.fail(f"{key}[{index}]", f"expected a name, got a mapping; to give settings, write {key} "
                           f"as a mapping ({key}: {{name: {{...}}}}) instead of a list")  # fmt: skip
            else:
                check.fail(f"{key}[{index}]", f"expected a name, got {type(name).__name__} {short(name)}")
        return entries
    entries = check.mapping(key, raw) or {}
    for name in list(entries):
        if not isinstance(name, str):
            check.fail(key, f"expected names as keys, got {type(name).__name__} {short(name)}")
            del entries[name]
    return entries


def _read_optimizers(check: Checker, raw: Any) -> List[OptimizerChoice]:
    if raw is None:
        check.fail("optimizers", "missing: name at least one", list(optimizers.OPTIMIZERS))
        return []
    entries = _named_entries(check, "optimizers", raw)
    choices = []
    for name, settings in (entries or {}).items():
        key = f"optimizers.{name}"
        if name not in optimizers.OPTIMIZERS:
            check.fail(key, f"unknown optimizer {name!r}", list(optimizers.OPTIMIZERS), name)
            continue
        settings = check.mapping(key, {} if settings is None else settings)
        if settings is None:
            continue
        spec = optimizers.OPTIMIZERS[name]
        check.unknown_keys(key, settings, ["lr"] + list(spec.hyper))
        lr = read_lr(check, key + ".lr", settings["lr"]) if "lr" in settings else None
        hyper = []
        for hname in spec.hyper:
            if hname in settings:
                hyper.append((hname, read_hyper(check, f"{key}.{hname}", hname, settings[hname])))
        choices.append(OptimizerChoice(name, lr, tuple(hyper)))
    return choices


def _read_problems(check, raw, shared_axes, shared_budget) -> List[ProblemChoice]:
    if raw is None:
        check.fail("problems", "missing: name at least one", list(PROBLEMS))
        return []
    entries = _named_entries(check, "problems", raw)
    choices = []
    for name, settings in (entries or {}).items():
        key = f"problems.{name}"
        if name not in PROBLEMS:
            check.fail(key, f"unknown problem {name!r}", list(PROBLEMS), name)
            continue
        settings = check.mapping(key, {} if settings is None else settings)
        if settings is None:
            continue
        check.unknown_keys(key, settings, PROBLEM_KEYS)
        problem = PROBLEMS[name]
        own_axes = {a: read_axis(check, f"{key}.{a}", settings[a]) for a in AXES if a in settings}
        _check_problem_takes(check, key, problem, own_axes)
        axes = {a: (problem.default_activation if a == "activation" else _AXIS_DEFAULTS[a],) for a in AXES}
        axes.update(shared_axes)
        axes.update(own_axes)
        budget = _read_budget(
            check, key, {k: settings[k] for k in BUDGET_KEYS if k in settings}, shared_budget
        )
        if budget.steps is None and budget.epochs is None:
            budget = dataclasses.replace(budget, steps=problem.default_steps)
        if budget.eval_every is None:
            budget = dataclasses.replace(budget, eval_every=problem.default_eval_every)
        lr = _read_problem_lr(check, key + ".lr", settings.get("lr", {}))
        for options in _read_options(check, key + ".options", problem, settings.get("options", {})):
            choices.append(ProblemChoice(
                name, tuple(sorted(axes.items())), budget, options, lr
            ))  # fmt: skip
    return choices


_AXIS_DEFAULTS = {
    "device": "cpu", "batch": "full", "dropout": 0.0, "batch_norm": False, "implementation": "torch",
    # One thread, as torch.utils.benchmark measures: steady on a busy or small machine, and
    # the same setting on every board; sweep threads: [1, 4] to see what more cores buy.
    "threads": 1,
    # implementation tensorflow: the Keras optimizer of each name, eager (bench.learners.tensorflow_tape)
    "tf_updates": "keras", "tf_function": False,
}  # fmt: skip


def _check_problem_takes(check: Checker, key: str, problem: Problem, own_axes) -> None:
    """An axis set on a problem itself must mean something for that problem."""
    takes = {
        "activation": problem.takes_activation, "dropout": problem.takes_dropout,
        "batch_norm": problem.takes_batch_norm, "batch": problem.takes_batch,
    }  # fmt: skip
    for axis, ok in takes.items():
        if axis in own_axes and not ok:
            check.fail(f"{key}.{axis}", f"problem {problem.name!r} has no {axis} to set")
    for impl in own_axes.get("implementation", ()):
        if impl not in problem.implementations:
            check.fail(key + ".implementation", f"{impl!r} is not implemented for {problem.name!r}",
                       problem.implementations)  # fmt: skip


def _read_options(check: Checker, key: str, problem: Problem, raw: Any) -> List[Tuple[Tuple[str, Any], ...]]:
    """The problem's options, one tuple per combination: a list given for a number option
    (``condition: [1, 10, 100]``), or a list of points for a point option, sweeps it."""
    raw = check.mapping(key, raw) or {}
    check.unknown_keys(key, raw, problem.options)
    grid = []  # type: List[Tuple[str, List[Any]]]
    for name, option in problem.options.items():
        where = f"{key}.{name}"
        if option.omit_default and name not in raw:
            continue
        value = raw.get(name, option.default)
        if option.kind in (float, tuple) and name in raw:
            grid.append((name, read_option_values(check, where, option, value)))
            continue
        if option.choices is not None:
            check.choice(where, value, list(option.choices))
        elif option.kind is int and (
            isinstance(value, bool) or not isinstance(value, int) or value < option.minimum
        ):
            check.fail(where, f"expected a whole number >= {option.minimum}, got {short(value)}")
        elif option.kind is str and not isinstance(value, str):
            check.fail(where, f"expected text, got {short(value)}")
        if name == "data_dir" and value:
            value = os.path.expanduser(value)
        grid.append((name, [value]))
    names = [name for name, _ in grid]
    return [tuple(sorted(zip(names, values))) for values in itertools.product(*[v for _, v in grid])]


def _read_problem_lr(check: Checker, key: str, raw: Any) -> Tuple[Tuple[str, Tuple[float, ...]], ...]:
    raw = check.mapping(key, raw) or {}
    check.unknown_keys(key, raw, optimizers.OPTIMIZERS)
    return tuple(sorted((n, read_lr(check, f"{key}.{n}", v)) for n, v in raw.items()))


# The suites shipped inside the package, found beside the code (Python 3.6 has no
# importlib.resources); the checkout's top-level suites/ is a symbolic link to this directory.
SHIPPED_SUITES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "suites")


def suite_names(directory: str) -> List[str]:
    """The names of the suites (``NAME.yaml``) in ``directory``, sorted; none if it is absent."""
    if not os.path.isdir(directory):
        return []
    return sorted(f[: -len(".yaml")] for f in os.listdir(directory) if f.endswith(".yaml"))


def suite_by_name(name_or_path: str, search: str = "suites", shipped: str = SHIPPED_SUITES) -> str:
    """The suite file that ``name_or_path`` means, first match winning: the file itself;
    ``search/NAME.yaml`` (./suites/ by default); the suite NAME shipped with optbench.

    So ``tutorial`` runs from any directory once optbench is installed, and a local
    ``suites/tutorial.yaml`` (or a path) overrides it. Anything else is an error listing the
    suites of both places, with the nearest name suggested."""
    if os.path.exists(name_or_path) and not os.path.isdir(name_or_path):
        return name_or_path
    candidate = os.path.join(search, name_or_path + ".yaml")
    if os.path.isfile(candidate):
        return candidate
    is_path = "/" in name_or_path or os.sep in name_or_path or name_or_path.endswith((".yaml", ".yml"))
    if not is_path and os.path.isfile(os.path.join(shipped, name_or_path + ".yaml")):
        return os.path.join(shipped, name_or_path + ".yaml")
    local, ours = suite_names(search), suite_names(shipped)
    # Run in the checkout, ./suites is the shipped directory itself: list it once.
    same = bool(local and ours) and os.path.samefile(search, shipped)
    if os.path.isdir(name_or_path):
        message = f"{name_or_path}: a directory, not a suite file"
    else:
        message = f"{name_or_path}: no such suite file"
        if not is_path:
            message += f" (nor {candidate}, nor a suite of that name shipped with optbench)"
    if local:
        where = " (shipped with optbench)" if same else ""
        message += "; suites in {}/{}: {}".format(search, where, ", ".join(local))
    if ours and not same:
        message += "; shipped with optbench: {}".format(", ".join(ours))
    stem = os.path.splitext(os.path.basename(os.path.normpath(name_or_path)))[0]
    near = difflib.get_close_matches(stem, sorted(set(local) | set(ours)), n=1)
    if near:
        message += f" (did you mean {near[0]!r}?)"
    if not local and not ours:
        message += f"; there is no {search}/ directory here and no suite shipped with optbench: give a path"
    raise SuiteError(name_or_path, [message])
