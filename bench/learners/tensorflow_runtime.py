"""Finding and starting TensorFlow, the optional framework behind implementation ``tensorflow``.

TensorFlow is the extra ``optbench[tensorflow]`` (tensorflow-cpu), never part of the device
stack a Jetson Nano runs: nothing imports it until a trial asks for it, and a suite that asks
for it where it is absent is refused when it loads (``available``), before any trial runs.
"""

import importlib.util
import os
from typing import Any

EXTRA = "optbench[tensorflow]"
MISSING = f"needs TensorFlow, which is not installed here: pip install '{EXTRA}' (tensorflow-cpu)"

_threads = None  # the thread count this process started TensorFlow with


def available() -> bool:
    """Whether ``import tensorflow`` would find it (looked up without importing it: 5 s here)."""
    return importlib.util.find_spec("tensorflow") is not None


def start(threads: int) -> Any:
    """The tensorflow module, its thread pools sized to ``threads`` on first use.

    TensorFlow sizes its pools once per process, when its runtime starts; torch's
    set_num_threads can change between trials, TensorFlow's cannot. A trial asking for
    another count than the first one's fails with the reason (run such sweeps in separate
    suites), rather than being timed on pools it did not ask for."""
    global _threads
    if not available():
        raise ValueError("implementation tensorflow " + MISSING)
    # Its C++ INFO lines (oneDNN, CPU features) on every run's stderr say nothing about the trial.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    import tensorflow as tf

    if _threads is None:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # started already, by its importer (a test, a notebook)
            running = tf.config.threading.get_intra_op_parallelism_threads()
            if running != threads:
                raise ValueError(
                    f"TensorFlow was started in this process with {running} intra-op threads (0: its "
                    f"default, every core) before optbench could set {threads}"
                ) from None
        _threads = threads
    elif _threads != threads:
        raise ValueError(
            f"TensorFlow's thread pools are sized once per process: this one runs {_threads} thread(s), "
            f"this trial asks for {threads}; run each threads value of implementation tensorflow in a "
            "suite of its own"
        )
    return tf
