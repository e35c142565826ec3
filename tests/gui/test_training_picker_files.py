"""The picker's folder scan never waits on a file: a named pipe named like a scenario is listed
as not usable, with the reason, instead of freezing training mode before its window appears."""

from __future__ import annotations

import contextlib
import os
import sys
import time

import pytest
from pytestqt.qtbot import QtBot

from wizard.ui.training.picker import ScenarioPicker, trainer_folder

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="named pipes in the file system")


def test_a_named_pipe_in_the_trainer_folder_is_listed_as_not_usable(qtbot: QtBot) -> None:
    pipe = trainer_folder() / "stuck.json"
    os.mkfifo(pipe)
    try:
        start = time.monotonic()
        w = ScenarioPicker(None)
        took = time.monotonic() - start
    finally:
        with contextlib.suppress(OSError):  # a reader still waiting on it is let go
            os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
    qtbot.addWidget(w)
    assert took < 5.0
    [entry] = [e for e in w.entries if e.path == pipe]
    assert not entry.ok
    assert "is a named pipe (FIFO), not a regular file" in (entry.error or "")
    assert w.current() is not None  # the bundled scenarios are still there to pick
    item = w.list.item(w.entries.index(entry))
    assert item.text() == "stuck.json: not usable"
    assert "named pipe" in item.toolTip()
