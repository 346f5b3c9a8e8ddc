"""Readers for the suite's values and small sections: axes, learning rates, hyper-parameter
grids, seeds, include/exclude patterns and telemetry. Each records its mistakes on the
Checker and returns what it could read (bench.suite assembles the whole suite)."""

from typing import Any, Dict, List, Optional, Tuple

from bench import activations, learners, optimizers
from bench.learners import tensorflow_runtime, tensorflow_updates
from bench.problems import PROBLEMS
from bench.telemetry import registry as telemetry_registry
from bench.telemetry.config import TelemetryConfig
from bench.validation import Checker, short

# tf_updates and tf_function are settings of implementation tensorflow only (bench.plan gives
# every other implementation's trials None there, and leaves them out of its configuration).
AXES = (
    "activation", "device", "batch", "dropout", "batch_norm", "implementation", "threads",
    "tf_updates", "tf_function",
)  # fmt: skip
MATCH_KEYS = ("problem", "optimizer", "lr", "seed") + AXES
TELEMETRY_KEYS = ("sources", "interval", "cooldown", "idle_baseline")
TELEMETRY_SOURCES = telemetry_registry.CHOICES
COOLDOWN_KEYS = ("zone", "below", "max_wait")


def as_list(value: Any) -> List[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def read_axis(check: Checker, key: str, value: Any) -> Tuple[Any, ...]:
    axis = key.rsplit(".", 1)[-1]
    values = as_list(value)
    if not values:
        check.fail(key, "an empty list leaves nothing to run")
    out = []
    for index, item in enumerate(values):
        where = key if len(values) == 1 and not isinstance(value, list) else f"{key}[{index}]"
        converted = read_axis_value(check, where, axis, item)
        if converted is not None:
            out.append(converted)
    return tuple(out)


def read_axis_value(check: Checker, where: str, axis: str, item: Any) -> Any:
    if axis == "activation":
        if item is None:
            item = "none"  # YAML reads a bare `none`-like null as None
        if item in activations.available():
            return item
        if item in activations.known():
            check.fail(where, f"activation {item!r} needs a newer torch than this one",
                       activations.available())  # fmt: skip
            return None
        return check.choice(where, item, activations.available())
    if axis == "device":
        return read_device(check, where, item)
    if axis == "batch":
        if item == "full":
            return "full"
        if isinstance(item, int) and not isinstance(item, bool) and item >= 1:
            return item
        check.fail(where, f"expected 'full' or a batch size (1 for single-sample), got {item!r}")
        return None
    if axis == "dropout":
        rate = check.number(where, item, minimum=0.0)
        if rate is not None and rate >= 1.0:
            check.fail(where, f"a dropout rate is in [0, 1), got {item!r}")
            return None
        return None if rate is None else float(rate)
    if axis == "batch_norm":
        return check.boolean(where, item)
    if axis == "implementation":
        chosen = check.choice(where, item, list(learners.IMPLEMENTATIONS))
        if chosen == "tensorflow" and not tensorflow_runtime.available():
            check.fail(where, "implementation 'tensorflow' " + tensorflow_runtime.MISSING)
            return None
        return chosen
    if axis == "threads":
        return check.integer(where, item, minimum=1)
    if axis == "tf_updates":
        return check.choice(where, item, list(tensorflow_updates.UPDATES))
    if axis == "tf_function":
        return check.boolean(where, item)
    raise AssertionError(axis)


def read_device(check: Checker, where: str, item: Any) -> Optional[str]:
    allowed = ["cpu", "cuda", "cuda:N", "auto"]
    if item in ("cpu", "cuda", "auto"):
        return item
    if isinstance(item, str) and item.startswith("cuda:") and item[5:].isdigit():
        return item
    check.fail(where, f"unknown device {item!r}", allowed, item)
    return None


def read_lr(check: Checker, key: str, raw: Any) -> Tuple[float, ...]:
    values = [check.number(f"{key}[{i}]", v, positive=True) for i, v in enumerate(as_list(raw))]
    if not values:
        check.fail(key, "an empty list leaves nothing to run")
    return tuple(float(v) for v in values if v is not None)


def read_hyper(check: Checker, key: str, name: str, raw: Any) -> Tuple[Any, ...]:
    if name == "betas":
        # [0.9, 0.999] is one value; [[0.9, 0.999], [0.8, 0.99]] sweeps two.
        grid = raw if raw and isinstance(raw[0], (list, tuple)) else [raw]
        out = []
        for i, pair in enumerate(grid):
            ok = isinstance(pair, (list, tuple)) and len(pair) == 2
            numbers = [check.number(f"{key}[{i}]", b, minimum=0.0) for b in pair] if ok else []
            if not ok or any(b is None or b >= 1 for b in numbers):
                check.fail(key, f"expected two numbers in [0, 1), like [0.9, 0.999], got {short(pair)}")
            else:
                out.append(tuple(float(b) for b in numbers))
        return tuple(out)
    values = [check.number(f"{key}[{i}]", v, minimum=0.0) for i, v in enumerate(as_list(raw))]
    return tuple(float(v) for v in values if v is not None)


MAX_REPEATS = 10000  # seeds of one cell; more is a typo, and would be built as a list before any check


def read_option_values(check: Checker, key: str, option: Any, raw: Any) -> List[Any]:
    """A number option's values (one number, or a list of them to sweep), or a point option's
    (one [x, y] pair, or a list of pairs to sweep, as ``betas`` reads pairs); each checked."""
    if option.kind is tuple:
        if raw is None:
            return [None]
        # [x, y] is one point (so is a malformed [1]); [[x, y], ...] sweeps points.
        is_one = isinstance(raw, (list, tuple)) and not any(isinstance(v, (list, tuple)) for v in raw)
        points = [raw] if is_one else as_list(raw)
        out = []
        for index, point in enumerate(points):
            where = key if is_one else f"{key}[{index}]"
            numbers = [check.number(where, v) for v in point] if isinstance(point, (list, tuple)) else []
            if len(numbers) != 2 or any(v is None for v in numbers):
                check.fail(
                    where, f"expected a point [x, y] of two numbers, or a list of them, got {short(point)}"
                )
            else:
                out.append(tuple(float(v) for v in numbers))
        return out
    values = as_list(raw)
    if not values:
        check.fail(key, "an empty list leaves nothing to run")
    where = lambda i: key if not isinstance(raw, list) else f"{key}[{i}]"  # noqa: E731
    numbers = [check.number(where(i), v, minimum=option.minimum) for i, v in enumerate(values)]
    return [float(v) for v in numbers if v is not None]


def read_seeds(check: Checker, doc: Dict[str, Any]) -> Tuple[int, ...]:
    if "seeds" in doc and "repeats" in doc:
        check.fail("seeds", "give either seeds or repeats, not both")
        return ()
    if "repeats" in doc:
        repeats = check.integer("repeats", doc["repeats"], minimum=1)
        if repeats is not None and repeats > MAX_REPEATS:
            check.fail("repeats", f"at most {MAX_REPEATS}, got {repeats}")
            return ()
        return tuple(range(repeats or 0))
    seeds = [check.integer(f"seeds[{i}]", s, minimum=0) for i, s in enumerate(as_list(doc.get("seeds", 0)))]
    if len(set(seeds)) != len(seeds):
        check.fail("seeds", f"a seed is listed twice: {seeds!r}")
    return tuple(s for s in seeds if s is not None)


def read_matchers(check: Checker, key: str, raw: Any) -> List[Dict[str, Tuple[Any, ...]]]:
    if not isinstance(raw, list):
        check.fail(key, f"expected a list of {{key: value}} cell patterns, got {short(raw)}")
        return []
    matchers = []
    for index, entry in enumerate(raw):
        where = f"{key}[{index}]"
        entry = check.mapping(where, entry)
        if entry is None:
            continue
        if not entry:
            check.fail(where, "an empty pattern matches every cell")
        check.unknown_keys(where, entry, MATCH_KEYS)
        matcher = {}
        for name, value in entry.items():
            if name in AXES:
                matcher[name] = read_axis(check, f"{where}.{name}", value)
            elif name == "problem":
                matcher[name] = tuple(
                    check.choice(where + ".problem", v, list(PROBLEMS)) for v in as_list(value)
                )
            elif name == "optimizer":
                matcher[name] = tuple(
                    check.choice(where + ".optimizer", v, list(optimizers.OPTIMIZERS)) for v in as_list(value)
                )  # fmt: skip
            elif name == "lr":
                matcher[name] = read_lr(check, where + ".lr", value)
            elif name == "seed":
                matcher[name] = tuple(as_list(value))
        matchers.append(matcher)
    return matchers


def read_telemetry(check: Checker, raw: Any) -> Optional[TelemetryConfig]:
    mistakes = len(check.problems)
    raw = check.mapping("telemetry", raw) or {}
    check.unknown_keys("telemetry", raw, TELEMETRY_KEYS)
    values = {}  # type: Dict[str, Any]
    if "sources" in raw:
        sources = tuple(as_list(raw["sources"]))
        for i, source in enumerate(sources):
            check.choice(f"telemetry.sources[{i}]", source, list(TELEMETRY_SOURCES))
        values["sources"] = sources
    if "interval" in raw:
        values["interval_s"] = check.number("telemetry.interval", raw["interval"], positive=True)
    if "idle_baseline" in raw:
        values["idle_baseline_s"] = check.number("telemetry.idle_baseline", raw["idle_baseline"], minimum=0.0)
    if "cooldown" in raw:
        cooldown = check.mapping("telemetry.cooldown", raw["cooldown"]) or {}
        check.unknown_keys("telemetry.cooldown", cooldown, COOLDOWN_KEYS)
        if "below" not in cooldown:
            check.fail("telemetry.cooldown.below", "missing: the temperature (deg C) to wait for")
        values["cooldown_zone"] = str(cooldown.get("zone", "CPU"))
        values["cooldown_below_c"] = check.number("telemetry.cooldown.below", cooldown.get("below", 0))
        values["cooldown_max_wait_s"] = check.number(
            "telemetry.cooldown.max_wait", cooldown.get("max_wait", 300), positive=True
        )
    if len(check.problems) > mistakes:
        return None  # each mistake is recorded already
    try:
        return TelemetryConfig(**values)  # checks how the settings combine
    except ValueError as error:
        check.fail("telemetry", str(error).replace("telemetry: ", "", 1))
        return None
