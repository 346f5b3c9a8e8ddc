"""history's per-night cache (bench/compare/night_cache.py): a second history of the same nights
parses no trials.jsonl and gives the same series; a night that changed (a resumed run appends
to its trials.jsonl) is read afresh; a cache turned off, unwritable or corrupt only costs time."""

import json
import os
import pathlib

import pytest

pytest.importorskip("pandas", reason="history needs pandas (optbench[report])")

import pandas as pd  # noqa: E402

from bench.compare import night_cache  # noqa: E402
from bench.compare.history import load_series  # noqa: E402
from tests.test_history_runs import write_nights  # noqa: E402


@pytest.fixture
def reads(monkeypatch):
    """The run directories whose trials.jsonl history parsed, in order."""
    parsed = []
    real = night_cache.load_trials

    def counting(run_dir):
        parsed.append(os.path.basename(run_dir))
        return real(run_dir)

    monkeypatch.setattr(night_cache, "load_trials", counting)
    return parsed


@pytest.fixture
def nights(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTBENCH_CACHE_DIR", str(tmp_path / "cache"))
    return write_nights(tmp_path / "results", 4)


def test_a_second_history_reads_the_cache_and_gives_the_same_series(nights, reads, tmp_path):
    first = load_series(nights)
    assert len(reads) == 4
    assert len(os.listdir(tmp_path / "cache" / "history")) == 4  # one kept per night
    second = load_series(nights)
    assert len(reads) == 4  # not one trials.jsonl parsed again
    pd.testing.assert_frame_equal(first, second)


def test_a_night_that_changed_is_read_again(nights, reads):
    before = load_series(nights)
    (night,) = (pathlib.Path(nights) / "nightly").glob("*-night-02")
    trials = night / "trials.jsonl"
    last = json.loads(trials.read_text().splitlines()[-1])  # adam, seed 1
    with open(trials, "a") as handle:  # a resumed run: one more seed of adam
        handle.write(
            json.dumps(dict(last, trial_id="linear-resumed", config=dict(last["config"], seed_index=2)))
            + "\n"
        )
    reads.clear()
    after = load_series(nights)
    assert reads == [night.name]

    def adam_seeds(series):
        rows = series[(series["night"] == 2) & (series["metric"] == "final_loss")]
        return int(rows.loc[rows["configuration"].str.startswith("linear adam"), "seeds"].iloc[0])

    assert (adam_seeds(before), adam_seeds(after)) == (2, 3)


def test_turned_off_every_night_is_read_and_nothing_kept(nights, reads, tmp_path, monkeypatch):
    monkeypatch.setenv("OPTBENCH_CACHE_DIR", night_cache.OFF)
    load_series(nights)
    load_series(nights)
    assert len(reads) == 8
    assert not (tmp_path / "cache").exists()


def test_an_unwritable_or_corrupt_cache_only_costs_time(nights, reads, tmp_path, monkeypatch):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("OPTBENCH_CACHE_DIR", str(blocked))
    expected = load_series(nights)  # nothing can be kept under a file
    assert len(reads) == 4

    monkeypatch.setenv("OPTBENCH_CACHE_DIR", str(tmp_path / "cache"))
    load_series(nights)
    for kept in (tmp_path / "cache" / "history").iterdir():
        kept.write_bytes(kept.read_bytes()[:20])  # torn
    reads.clear()
    pd.testing.assert_frame_equal(load_series(nights), expected)
    assert len(reads) == 4  # each torn one read afresh (and kept whole again)
    reads.clear()
    load_series(nights)
    assert reads == []
