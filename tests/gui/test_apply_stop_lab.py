"""Stop and Quit while a fix is being applied, against the lab, pressed as a person would.

The technician presses Stop while the guest is shutting down (or after the change was sent);
the page must say at once what will happen, log it, and then do exactly that. Quit during the
run offers the same. The Stop button must stay where it is while the steps' rows grow.
"""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from tests.gui.conftest import DialogRecorder
from tests.gui.lab_flow import LAB_MARKS, SLOW, to_fix, to_ready
from tests.helpers.apply import SCENARIO, read
from tests.helpers.lab import StartLab
from tests.helpers.vsphere_lab import session_to
from wizard.lab.process import LabInfo
from wizard.ui.app import MainWindow
from wizard.ui.pages.apply import ApplyPage, StepState
from wizard.ui.pages.base import PageId
from wizard.vsphere.results import ApplyResult, Outcome

pytestmark = [*LAB_MARKS, pytest.mark.usefixtures("trust_once")]

KEY = "migrate.baseCptCacheSize"


def start_apply(qtbot: QtBot, win: MainWindow, lab: LabInfo) -> ApplyPage:
    to_fix(qtbot, win, lab, "Dual W7")
    ready = to_ready(win)
    QTest.mouseClick(ready.confirm_check, Qt.MouseButton.LeftButton)
    assert ready.confirm_check.isChecked()
    win.wizard.next()  # Apply
    page = win.wizard.page_of(PageId.APPLY)
    assert isinstance(page, ApplyPage)
    return page


def state(page: ApplyPage, step: str) -> StepState | None:
    row = page.runner.row(step)
    return row.state if row is not None else None


def assert_unchanged_and_running(lab: LabInfo) -> None:
    """The VM has no buffer setting yet and runs, as before the apply."""
    with session_to(lab) as session:
        now = read(session, "Dual W7")
        assert now.extra(KEY) is None  # noqa: S610 (VmFacts.extra)
        assert now.power_state == "poweredOn"


def test_stop_during_the_shutdown_says_so_and_gives_the_vm_back_unchanged(
    qtbot: QtBot, start_lab: StartLab, window: MainWindow
) -> None:
    lab = start_lab(SCENARIO)
    page = start_apply(qtbot, window, lab)
    stop = page.runner.stop_button
    qtbot.waitUntil(lambda: state(page, "shutdown") == StepState.RUNNING, timeout=SLOW)
    where = stop.mapTo(page, QPoint(0, 0))
    seen: list[QPoint] = []
    job = page._job
    assert job is not None
    job.progress.connect(lambda _update: seen.append(stop.mapTo(page, QPoint(0, 0))))
    assert stop.isEnabled()
    QTest.mouseClick(stop, Qt.MouseButton.LeftButton)
    said = page.runner.stop_note.text()
    assert page.runner.stop_note.isVisible()
    assert "after the shutdown" in said
    assert "after the shutdown" in page.runner.log.toPlainText()
    qtbot.waitUntil(page.isComplete, timeout=SLOW)
    assert seen
    assert all(p == where for p in seen)  # it did not move while the rows grew
    result = window.ctx.result
    assert isinstance(result, ApplyResult)
    assert result.outcome is Outcome.CANCELLED, result.message
    assert_unchanged_and_running(lab)


def test_stop_after_the_change_was_sent_says_it_is_too_late(
    qtbot: QtBot, start_lab: StartLab, window: MainWindow
) -> None:
    lab = start_lab(SCENARIO, method_delays={"PowerOnVM_Task": 1500})
    page = start_apply(qtbot, window, lab)
    qtbot.waitUntil(lambda: state(page, "reconfigure") == StepState.DONE, timeout=SLOW)
    QTest.mouseClick(page.runner.stop_button, Qt.MouseButton.LeftButton)
    assert "Too late to stop" in page.runner.stop_note.text()
    qtbot.waitUntil(page.isComplete, timeout=SLOW)
    result = window.ctx.result
    assert isinstance(result, ApplyResult)
    assert result.ok, result.message


def test_quit_during_the_run_offers_a_safe_stop_then_closes(
    qtbot: QtBot, start_lab: StartLab, window: MainWindow, recorder: DialogRecorder
) -> None:
    lab = start_lab(SCENARIO)
    page = start_apply(qtbot, window, lab)
    qtbot.waitUntil(lambda: state(page, "shutdown") == StepState.RUNNING, timeout=SLOW)
    recorder.answers["QMessageBox"] = int(QMessageBox.StandardButton.Yes)
    quit_action = next(a for a in window.findChildren(QAction) if a.text() == "&Quit")
    quit_action.trigger()
    assert "after the shutdown" in page.runner.stop_note.text()
    # The run ends safely; the record question follows (answered: copy the note and close).
    recorder.answers["QMessageBox"] = int(QMessageBox.StandardButton.Save)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=SLOW)
    assert_unchanged_and_running(lab)


def test_the_log_speaks_of_steps_by_their_titles_and_the_subtitle_follows_the_run(
    qtbot: QtBot, start_lab: StartLab, window: MainWindow
) -> None:
    lab = start_lab(SCENARIO)
    page = start_apply(qtbot, window, lab)
    assert "Do not close" in page.subTitle()
    qtbot.waitUntil(page.isComplete, timeout=SLOW)
    log = page.runner.log.toPlainText()
    ids = r"(reread|shutdown|power_off|reconfigure|guest_resolution|power_on|verify):"
    assert not re.search(rf"^\S+\s+{ids}", log, re.MULTILINE), log
    assert "Do not close" not in page.subTitle()
