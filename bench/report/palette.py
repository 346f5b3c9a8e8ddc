"""One colour per optimizer, fixed for the whole report (and every report)."""

from typing import Dict, Iterable, Tuple

from bench import optimizers

# From seaborn's "colorblind" palette, one hue family per kind: SGD and its momentum variants
# blues and green, the adaptive methods warm, Adam and AdamW neighbouring orange and red.
_COLOURS = {
    "sgd": "#0173b2", "momentum": "#56b4e9", "nesterov": "#029e73", "adagrad": "#ca9161",
    "rmsprop": "#cc78bc", "adam": "#d55e00", "adamw": "#de8f05",
}  # fmt: skip
UNKNOWN = "#4d4d4d"

ORDER = tuple(optimizers.OPTIMIZERS)  # sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw


def colour(optimizer: str) -> str:
    """The optimizer's colour; one not known to this optbench is dark grey."""
    return _COLOURS.get(optimizer, UNKNOWN)


def colours(names: Iterable[str]) -> Dict[str, str]:
    """A seaborn ``palette=`` mapping for these optimizers."""
    return {name: colour(name) for name in names}


def ordered(names: Iterable[str]) -> Tuple[str, ...]:
    """Optimizers in the report's fixed order (declared order, then unknown ones by name)."""
    names = set(names)
    known = [n for n in ORDER if n in names]
    return tuple(known + sorted(names - set(known)))
