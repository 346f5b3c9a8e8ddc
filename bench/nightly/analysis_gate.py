"""Whether this Python can run the night's analysis steps (report, compare, history), asked
without importing them: the device half on the Nano's Python 3.6 must be able to ask."""

import importlib.util
import sys
from typing import Optional

# What bench.report and bench.compare import beyond the device half (the report extra).
NEEDED = ("pandas", "matplotlib", "seaborn", "scipy", "jinja2", "ruptures")


def missing() -> Optional[str]:
    """Why the analysis steps cannot run here (None when they can)."""
    if sys.version_info < (3, 8):
        return "this is Python {}.{}; the report, compare and history need Python 3.8 or newer with pandas".format(
            *sys.version_info[:2]
        )
    absent = [name for name in NEEDED if importlib.util.find_spec(name) is None]
    if absent:
        return "the analysis half is not installed here (no {}): pip install 'optbench[report]'".format(
            ", ".join(absent)
        )
    return None
