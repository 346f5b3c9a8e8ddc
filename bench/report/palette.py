"""One colour per optimizer, fixed for the whole report (and every report)."""

from typing import Dict, Iterable, Tuple

from bench import optimizers

# seaborn's "colorblind" palette, in the order optimizers are declared: SGD and its momentum
# variants get neighbouring hues apart from the adaptive methods'.
_COLOURS = (
    "#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc", "#ca9161", "#fbafe4", "#949494",
    "#ece133", "#56b4e9",
)  # fmt: skip
UNKNOWN = "#4d4d4d"

ORDER = tuple(optimizers.OPTIMIZERS)  # sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw


def colour(optimizer: str) -> str:
    """The optimizer's colour; one not known to this optbench is dark grey."""
    try:
        return _COLOURS[ORDER.index(optimizer)]
    except ValueError:
        return UNKNOWN


def colours(names: Iterable[str]) -> Dict[str, str]:
    """A seaborn ``palette=`` mapping for these optimizers."""
    return {name: colour(name) for name in names}


def ordered(names: Iterable[str]) -> Tuple[str, ...]:
    """Optimizers in the report's fixed order (declared order, then unknown ones by name)."""
    names = set(names)
    known = [n for n in ORDER if n in names]
    return tuple(known + sorted(names - set(known)))
