"""Easy to scan: a step list, plain words first (ids on demand), pages short enough to decide.

Against the lab, signed in as a technician does (not training): what a newcomer reads on each
page names no condition id, enum id, guest id, hardware key, property path or moref; the step
list says where the run is; at 1366x768 the first decision of Check and Choose fix is on the
screen without scrolling.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QScrollArea,
    QWidget,
    QWizard,
)
from pytestqt.qtbot import QtBot

from tests.gui.lab_flow import LAB_MARKS, check_vm, choose_fix, pick_vm, sign_in
from tests.gui.plain_words import ids_in, main_text
from wizard.lab.process import LabInfo
from wizard.ui.app import MainWindow
from wizard.ui.pages.base import PageId
from wizard.ui.pages.check import CheckPage
from wizard.ui.steps import CURRENT_MARK, DONE_MARK

pytestmark = [*LAB_MARKS, pytest.mark.usefixtures("trust_once")]

VM = "HD-W7-042"


def to_check(qtbot: QtBot, win: MainWindow, lab: LabInfo) -> CheckPage:
    sign_in(qtbot, win, lab)
    pick_vm(qtbot, win, VM)
    return check_vm(qtbot, win)


def test_the_check_page_speaks_words_and_keeps_ids_behind_details(
    qtbot: QtBot, window: MainWindow, lab: LabInfo
) -> None:
    check = to_check(qtbot, window, lab)
    shown = "\n".join(main_text(check))
    assert ids_in(check) == []
    assert "Windows 7 (64-bit)" in shown
    assert "hardware version 8" in shown
    # (the whole page on failure: seen once in CI without this line, not reproduced since)
    assert "Evidence of the failure: 2 traces" in shown, shown

    # The ids are one key press away, for the one who wants them.
    assert check.details_button.text() == "Show &details"
    check.details_button.setFocus()
    QTest.keyClick(check.details_button, Qt.Key.Key_Space)
    details = "\n".join(main_text(check))
    assert "config.version: vmx-08" in details
    assert "guest.guestId: windows7_64Guest" in details
    assert "vim.event" in details


def test_the_step_list_says_where_the_run_is_and_never_takes_the_focus(
    qtbot: QtBot, window: MainWindow, lab: LabInfo
) -> None:
    steps = window.wizard.steps
    assert steps.isVisible()
    assert steps.current_step() == "Start"
    to_check(qtbot, window, lab)
    labels = {pid: steps.labels[int(pid)].text() for pid in PageId}
    assert labels[PageId.CHECK] == f"{CURRENT_MARK} Check"
    assert labels[PageId.CHOOSE_VM] == f"{DONE_MARK} Choose VM"
    assert labels[PageId.CONNECT] == f"{DONE_MARK} Connect"
    assert not labels[PageId.DONE].startswith((CURRENT_MARK, DONE_MARK))
    assert steps.labels[int(PageId.CHECK)].font().bold()
    # Tab all the way round the window: the focus never lands in the step list.
    seen = set()
    for _ in range(30):
        focus = QApplication.focusWidget()
        assert focus is not None
        assert not steps.isAncestorOf(focus)
        assert focus is not steps
        seen.add(focus)
        QTest.keyClick(focus, Qt.Key.Key_Tab)
    assert len(seen) > 3


def _inside_viewport(area: QScrollArea, widget: QWidget) -> bool:
    view = area.viewport()
    top_left = widget.mapTo(view, QPoint(0, 0))
    return view.rect().contains(QRect(top_left, widget.size()))


def test_at_1366x768_check_and_choose_fix_show_the_first_decision_without_scrolling(
    qtbot: QtBot, window: MainWindow, lab: LabInfo
) -> None:
    window.resize(1366, 768 - 40)  # a 1366x768 screen less a task bar
    check = to_check(qtbot, window, lab)
    qtbot.wait(50)
    area = check.findChild(QScrollArea)
    assert area is not None
    assert _inside_viewport(area, check.banner)
    for row in check._condition_rows:
        assert _inside_viewport(area, row), row.accessibleName()
    assert window.wizard.button(QWizard.WizardButton.NextButton).isVisible()

    fix = choose_fix(window)
    qtbot.wait(50)
    area = fix.findChild(QScrollArea)
    assert area is not None
    for card in fix.cards:
        assert _inside_viewport(area, card.radio), card.remedy.title
