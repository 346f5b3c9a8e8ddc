"""The cyclic garbage collector kept off the objects that live as long as the process.

Importing torch, and what torch imports lazily with the first optimizer (torch._dynamo,
sympy), leaves ~290,000 objects alive until exit. Left to the collector, every full
collection walks them all (~0.1 s each on this 2-core VM): several times during the import,
wherever one falls later (in a timed step too), and again while the interpreter shuts down.
Importing torch and building one optimizer took 2.64 s of CPU as a whole process; with the
collector paused during the import and those objects frozen after it, 1.77 s
(docs/PERFORMANCE.md, "The garbage collector"). Frozen objects are still freed by reference
counting; only a reference cycle among them outlives its use, as it would have until exit.

Standard library only, Python 3.6 (which has no gc.freeze: there only the pause applies).
"""

import contextlib
import gc


def freeze_long_lived() -> None:
    """Take every object alive now out of the collector's sight (gc.freeze, Python 3.7+)."""
    freeze = getattr(gc, "freeze", None)
    if freeze is not None:
        freeze()


@contextlib.contextmanager
def collector_paused():
    """No collection during the block (a heavy import); what it loaded is frozen after it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        freeze_long_lived()
        if enabled:
            gc.enable()
