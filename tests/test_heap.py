"""The collector paused over a heavy import and kept off what lives until exit (bench.heap)."""

import gc

import pytest
from conftest import ROOT

from bench import cli
from bench.heap import collector_paused

HAS_FREEZE = hasattr(gc, "freeze")  # Python 3.7+; the Nano's 3.6 gets only the pause


def test_the_collector_is_paused_inside_and_as_it_was_after():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()  # a caller that had turned it off keeps it off
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_error_inside_still_gives_the_collector_back():
    with pytest.raises(ImportError), collector_paused():
        import bench.no_such_module  # noqa: F401
    assert gc.isenabled()


@pytest.mark.skipif(not HAS_FREEZE, reason="gc.freeze is Python 3.7+")
def test_what_was_loaded_inside_is_frozen_after():
    gc.unfreeze()
    with collector_paused():
        loaded = [[n] for n in range(5000)]  # objects the collector tracks, as a module's are
    assert gc.get_freeze_count() > len(loaded)
    assert not any(item is loaded for item in gc.get_objects())


def test_the_command_line_leaves_the_collector_on_after_its_heavy_import(capsys):
    if HAS_FREEZE:
        gc.unfreeze()  # what earlier tests in this process froze would pass the check below
    code = cli.main(["plan", f"{ROOT}/suites/smoke.yaml"])
    capsys.readouterr()
    assert code == 0
    assert gc.isenabled()
    if HAS_FREEZE:
        assert gc.get_freeze_count() > 0
