"""The collector paused around large reads: garbage made meanwhile is still collected, and only a
kept read (the picker's list) freezes what survives."""

from __future__ import annotations

import gc
import weakref

from wizard.vsphere.collector import gc_paused


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


def test_a_cycle_made_during_a_kept_read_is_collected_not_frozen() -> None:
    frozen = gc.get_freeze_count()
    try:
        with gc_paused(keep=True):
            garbage = weakref.ref(_Node())  # garbage at once, as a dropped exception's frames
            kept = _Node()  # what the read keeps
            assert not gc.isenabled()
        assert gc.isenabled()
        assert garbage() is None  # collected when the block ended, not frozen for ever
        assert gc.get_freeze_count() > frozen  # the rest is frozen: full passes skip it
        assert kept.me is kept
    finally:
        gc.unfreeze()


def test_an_ordinary_read_freezes_nothing_and_nests() -> None:
    frozen = gc.get_freeze_count()
    with gc_paused():
        with gc_paused(keep=False):
            pass
        assert not gc.isenabled()  # the outer block still pauses it
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
