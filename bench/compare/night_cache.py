"""Each night's trials as history reads them, kept between one history (or report) and the next.

History reads every night of a suite, and a night's trials.jsonl is parsed whole (JSON, then
the record upgrade chain) for the dozen columns history uses: 60 nights of a 1,000-trial suite
took longer than the rest of that run's report (docs/PERFORMANCE.md). A finished night does
not change (results are append-only), so those columns are kept, one small pickle per night,
in the user's cache directory, and read back while the night's trials.jsonl and manifest.json
have the size and modification time they had. A resumed run appends to trials.jsonl: its size
changes and it is read afresh. So is every night after an upgrade of optbench or pandas
(both are in the key), and after a change to the columns asked for.

Where: ``$OPTBENCH_CACHE_DIR/history``, else ``$XDG_CACHE_HOME/optbench/history``, else
``~/.cache/optbench/history``. ``OPTBENCH_CACHE_DIR=off`` reads every night afresh. Deleting
the directory is always safe. A cache that cannot be written (a read-only home) is skipped.
"""

import hashlib
import os
import pickle
import tempfile
from typing import Optional, Sequence

import bench
from bench import store
from bench.analysis.load import load_trials

# Bump when what is kept changes meaning (not when the columns change: they are in the key).
FORMAT = 2  # 2: "problem" names the variant where a run tried several option sets (bench.ranking)
OFF = "off"


def cache_dir() -> Optional[str]:
    """The history cache's directory, or None when it is turned off."""
    chosen = os.environ.get("OPTBENCH_CACHE_DIR")
    if chosen == OFF:
        return None
    if not chosen:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        chosen = os.path.join(base, "optbench")
    return os.path.join(chosen, "history")


def _key(run_dir: str, columns: Sequence[str]) -> Optional[str]:
    import pandas

    parts = [str(FORMAT), bench.__version__, pandas.__version__, ",".join(columns)]
    for name in (store.TRIALS, store.MANIFEST):
        path = os.path.realpath(os.path.join(run_dir, name))
        try:
            stat = os.stat(path)
        except OSError:
            return None  # nothing recorded yet: nothing worth keeping
        parts += [path, str(stat.st_size), str(stat.st_mtime_ns)]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def trials(run_dir: str, columns: Sequence[str]):
    """bench.analysis.load.load_trials(run_dir), those of ``columns`` it has; from the cache
    when the night is unchanged. StoreError as load_trials raises it."""
    directory, key = cache_dir(), _key(run_dir, columns)
    path = os.path.join(directory, key + ".pickle") if directory and key else None
    if path:
        try:
            with open(path, "rb") as handle:
                return pickle.load(handle)
        except Exception:  # not kept yet, or damaged (whatever unpickling raises): read afresh
            pass
    frame = load_trials(run_dir)
    frame = frame[[c for c in columns if c in frame.columns]]
    if path:
        _keep(path, frame)
    return frame


def _keep(path: str, frame) -> None:
    """Write atomically (a temporary file renamed), so a reader never sees half a pickle."""
    temporary = None
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".partial")
        with os.fdopen(handle, "wb") as out:
            pickle.dump(frame, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except OSError:  # a cache that cannot be written is only slower
        if temporary and os.path.exists(temporary):
            os.remove(temporary)
