"""A 1024x600 screen (a small laptop, or a remote desktop window), and 150 %: every page fits.

The window is made as small as such a screen allows; on every page of a whole fix the
wizard's buttons must be inside the window, so Next, Back and Cancel can be pressed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QWizard
from pytestqt.qtbot import QtBot

from tests.gui.conftest import DialogRecorder, WindowFactory, to_check
from tests.gui.fakes import FakeGateway
from wizard.ui.app import MainWindow
from wizard.ui.pages.apply import ApplyPage
from wizard.ui.pages.base import PageId
from wizard.ui.pages.ready import ReadyPage

SCREEN = tuple(int(n) for n in os.environ.get("SMALL_SCREEN", "1024x600").split("x"))
"""The screen in logical pixels: 1024x600, or 1280x720 for a 1920x1080 screen at 150 %."""


def fits(win: MainWindow) -> list[str]:
    """What does not fit in a 1024x600 window now (empty: everything does)."""
    wrong = []
    hint = win.minimumSizeHint()
    minimum = win.minimumSize().expandedTo(hint)
    if minimum.width() > SCREEN[0] or minimum.height() > SCREEN[1]:
        wrong.append(f"page {win.wizard.currentId()} needs {minimum.width()}x{minimum.height()}")
    win.resize(*SCREEN)
    wz = win.wizard
    for which in (QWizard.WizardButton.NextButton, QWizard.WizardButton.CancelButton):
        button = wz.button(which)
        if button is None or not button.isVisible():
            continue
        bottom = button.mapTo(win, QPoint(0, button.height())).y()
        if bottom > win.height():
            wrong.append(f"page {wz.currentId()}: {button.text()!r} is cut off at {bottom}")
    return wrong


def test_every_page_fits_at_150_percent() -> None:
    """The same walk in a fresh process at 150 % (Qt's scale is fixed when it starts)."""
    env = {**os.environ, "QT_SCALE_FACTOR": "1.5", "SMALL_SCREEN": "1280x720"}
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"{__file__}::{WALK}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


WALK = "test_every_page_of_a_fix_fits_a_small_screen"


def test_every_page_of_a_fix_fits_a_small_screen(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    win = make_window(FakeGateway(trusted=True))
    problems = fits(win)  # Welcome
    win.wizard.next()
    problems += fits(win)  # Connect
    to_check(qtbot, win, recorder)
    problems += fits(win)  # Check
    wz = win.wizard
    wz.next()
    problems += fits(win)  # Choose fix
    wz.next()
    ready = wz.page_of(PageId.READY)
    assert isinstance(ready, ReadyPage)
    problems += fits(win)
    ready.confirm_check.setChecked(True)
    wz.next()
    apply = wz.page_of(PageId.APPLY)
    assert isinstance(apply, ApplyPage)
    qtbot.waitUntil(apply.isComplete)
    problems += fits(win)
    wz.next()
    problems += fits(win)  # Done
    assert not problems, "\n".join(problems)
