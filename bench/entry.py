"""optbench's first lines: Ctrl-C and SIGTERM are handled from here on, before anything heavy
is imported (`optbench` and `python -m bench` both start here).

Importing the command line and what it needs takes about a tenth of a second (longer on a
Jetson Nano); a Ctrl-C in that time was a KeyboardInterrupt traceback, and a SIGTERM killed
the process without a word. Only the interpreter's own start-up, before this module runs
(about 15 ms here), keeps Python's defaults. Standard library only, Python 3.6.
"""

import contextlib
import signal
import sys

EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


class Terminated(KeyboardInterrupt):
    """SIGTERM (what systemd and `kill` send), handled as Ctrl-C is: the trial in flight is
    abandoned, every finished one is already recorded, the run directory is closed cleanly."""


def _terminate(signum, frame):
    raise Terminated()


def handle_sigterm() -> None:
    signal.signal(signal.SIGTERM, _terminate)


@contextlib.contextmanager
def held():
    """Ctrl-C and SIGTERM held until the block ends, then raised as usual.

    For imports: a KeyboardInterrupt that cuts a C extension's import short (numpy's, under
    torch) leaves it half-initialised, and the next import of it fails with an ImportError
    ("cannot load module more than once per process") instead of the interrupt."""
    caught = []  # type: list
    previous = {
        s: signal.signal(s, lambda signum, frame: caught.append(signum))
        for s in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if caught:
            raise Terminated() if caught[0] == signal.SIGTERM else KeyboardInterrupt()


def stopped(stop: KeyboardInterrupt) -> int:
    """Say why the command stopped; its exit code (130 for Ctrl-C, 143 for SIGTERM)."""
    what = "terminated (SIGTERM)" if isinstance(stop, Terminated) else "interrupted"
    sys.stderr.write(f"\n{what}: every finished trial is recorded; run again to resume\n")
    return EXIT_TERMINATED if isinstance(stop, Terminated) else EXIT_INTERRUPTED


def main() -> int:
    handle_sigterm()
    try:  # the command line handles an interrupt once it is running; this, one before
        with held():
            from bench.cli import main as command_line
        return command_line()
    except KeyboardInterrupt as stop:
        return stopped(stop)
