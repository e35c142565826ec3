"""The Done page against the lab with the real executor: test vMotion, undo, test again, report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog, QFileDialog
from pytestqt.qtbot import QtBot

from tests.gui.conftest import DialogRecorder
from tests.gui.lab_flow import (
    LAB_MARKS,
    SLOW,
    apply_fix,
    check_vm,
    choose_fix,
    pick_vm,
    sign_in,
    to_done,
    to_ready,
)
from wizard.kb.model import Verdict
from wizard.lab.process import LabInfo
from wizard.ui import dialogs
from wizard.ui.app import MainWindow
from wizard.ui.pages.done import DonePage

pytestmark = LAB_MARKS


VM = "HD-W7-042"
MESSAGE = "A general system error occurred: Failed to flush checkpoint data!"


def walk_to_done(qtbot: QtBot, win: MainWindow, lab: LabInfo) -> DonePage:
    """Connect, pick the VM, check it, apply the recommended fix, and arrive at Done."""
    sign_in(qtbot, win, lab)
    pick_vm(qtbot, win, VM)
    check_vm(qtbot, win)
    fix = choose_fix(win)
    assert fix.cards[0].remedy.id.value == "raise_buffer"
    to_ready(win).confirm_check.setChecked(True)
    apply_fix(qtbot, win)
    return to_done(win)


def _test_to(qtbot: QtBot, done: DonePage, host: str) -> None:
    section = done.vmotion
    qtbot.waitUntil(lambda: section.host_combo.findText(host) >= 0, timeout=SLOW)
    section.host_combo.setCurrentIndex(section.host_combo.findText(host))
    qtbot.waitUntil(section.test_button.isEnabled, timeout=SLOW)
    count = len(done.tests)
    section.test_button.click()
    qtbot.waitUntil(lambda: len(done.tests) > count, timeout=SLOW)


def test_vmotion_works_after_the_fix_and_fails_again_after_undo(
    qtbot: QtBot,
    lab: LabInfo,
    window: MainWindow,
    recorder: DialogRecorder,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    recorder.answers["CertificateDialog"] = dialogs.CertificateDialog.TRUST_ONCE
    recorder.answers["VmotionConfirmDialog"] = int(QDialog.DialogCode.Accepted)
    recorder.answers["UndoConfirmDialog"] = int(QDialog.DialogCode.Accepted)  # it shuts down
    done = walk_to_done(qtbot, window, lab)
    assert done.banner.title_text() == "Fixed and verified"
    assert not window.wizard.button(window.wizard.WizardButton.BackButton).isEnabled()

    _test_to(qtbot, done, "esx-o2.lab.local")
    moved = done.tests[-1]
    assert moved.succeeded, moved.message
    assert (moved.source_host, moved.destination_host) == ("esx-o1.lab.local", "esx-o2.lab.local")
    assert done.vmotion.outcome.title_text() == "vMotion succeeded"

    done.undo_button.click()
    qtbot.waitUntil(lambda: done.banner.title_text() == "Change undone", timeout=SLOW)
    assert "the earlier values are back" in done.banner.body_text()
    assert not done.undo_button.isVisible()
    # Words, not the verdict's id; and "What changed" no longer lists the change as in place.
    shown = done.banner.body_text() + done.note.text() + done.changes.text()
    assert not any(v.value in shown for v in Verdict if "_" in v.value), shown
    assert "undone" in done.changes_head.text().lower()
    assert "back to" in done.changes.text()

    # The VM now runs on esx-o2: its old host is offered, and the move fails as before the fix.
    _test_to(qtbot, done, "esx-o1.lab.local")
    failed = done.tests[-1]
    assert not failed.succeeded
    assert failed.message == MESSAGE
    assert done.vmotion.outcome.title_text() == "vMotion failed"
    note = done.note.text()
    assert "esx-o1.lab.local -> esx-o2.lab.local: succeeded" in note
    assert f"esx-o2.lab.local -> esx-o1.lab.local: FAILED ({failed.task_id}): {MESSAGE}" in note
    assert note.index("Change undone at ") < note.index("FAILED")
    assert lab.password not in note

    def save_as(dialog: QDialog, on_done: Callable[[int], None]) -> None:
        assert isinstance(dialog, QFileDialog)
        dialog.selectFile(str(tmp_path / "report.html"))
        on_done(int(QDialog.DialogCode.Accepted))

    monkeypatch.setattr(dialogs, "show_modal", save_as)
    done.report_button.click()
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")
    for expected in (
        "The change was undone",
        "Shut down the guest",  # the real executor's steps, with their outcomes
        "Power the VM on again",
        MESSAGE,
        moved.task_id,
        failed.task_id,
        "Verified:",
    ):
        assert expected in page, expected
    assert lab.password not in page
