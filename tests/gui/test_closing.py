"""Closing after a change: the ticket note and report must not vanish with the window.

Driven as a person would: the wizard's own Cancel button on the Apply page once the change is
done, the File menu's Quit on Done, and the window's close. The question is answered through
the dialog recorder by the button's standard role.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from tests.gui.conftest import DialogRecorder, WindowFactory, to_applied, to_done
from tests.gui.fakes import FakeGateway
from wizard.ui.pages.base import PageId
from wizard.ui.pages.done import DonePage

QUESTION = "QMessageBox"


def asked(recorder: DialogRecorder) -> list[QMessageBox]:
    return [d for d in recorder.of(QMessageBox) if "Keep the record" in d.windowTitle()]


def test_cancel_on_apply_after_the_change_asks_and_can_go_back(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    win = make_window(FakeGateway(trusted=True))
    to_applied(qtbot, win, recorder)
    wz = win.wizard
    recorder.answers[QUESTION] = int(QMessageBox.StandardButton.Cancel)
    wz.button(wz.WizardButton.CancelButton).click()
    assert len(asked(recorder)) == 1
    assert win.isVisible()
    assert wz.isVisible()
    assert wz.currentId() == PageId.APPLY
    wz.next()  # the note is still there to copy
    done = wz.page_of(PageId.DONE)
    assert isinstance(done, DonePage)
    assert "HD-W7-042" in done.note_text()


def test_quit_on_done_asks_and_copying_keeps_the_note(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    win = make_window(FakeGateway(trusted=True))
    to_done(qtbot, win, recorder)
    QGuiApplication.clipboard().clear()
    recorder.answers[QUESTION] = int(QMessageBox.StandardButton.Save)
    quit_action = next(a for a in win.findChildren(QAction) if a.text() == "&Quit")
    quit_action.trigger()
    assert len(asked(recorder)) == 1
    assert "HD-W7-042" in QGuiApplication.clipboard().text()
    qtbot.waitUntil(lambda: not win.isVisible())


def test_nothing_is_asked_once_the_note_was_copied(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    win = make_window(FakeGateway(trusted=True))
    done = to_done(qtbot, win, recorder)
    done.note.button.click()
    win.close()
    assert asked(recorder) == []
    qtbot.waitUntil(lambda: not win.isVisible())


def test_nothing_is_asked_when_nothing_was_run(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    win = make_window(FakeGateway(trusted=True))
    win.close()
    assert asked(recorder) == []
    assert not win.isVisible()
