"""A fix's risk is said wherever the fix is: Choose fix, Ready, Done and the test vMotion.

"An old host in the cluster": turning on 3D is possible, but one host's CPU lacks SSE4.1. The
technician who chooses it anyway must see that as a badge, a warning before confirming, a
"with a risk" on Done, and the old host marked in the test vMotion's list and confirmation.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from tests.gui.conftest import DialogRecorder
from tests.gui.lab_flow import LAB_MARKS, SLOW, apply_fix, to_done, to_fix, to_ready
from tests.helpers.lab import StartLab
from wizard.kb.model import RemedyId
from wizard.ui.app import MainWindow
from wizard.ui.pages.done import VmotionConfirmDialog
from wizard.ui.widgets import Badge

pytestmark = [*LAB_MARKS, pytest.mark.usefixtures("trust_once")]

SCENARIO = Path(__file__).resolve().parents[2] / "resources" / "scenarios" / "old-cpu-no-sse41.json"


def test_turning_on_3d_beside_an_old_host_is_flagged_everywhere(
    qtbot: QtBot, start_lab: StartLab, window: MainWindow, recorder: DialogRecorder
) -> None:
    lab = start_lab(SCENARIO)
    fix = to_fix(qtbot, window, lab, "LAB-W7-51")
    card = next(c for c in fix.cards if c.remedy.id is RemedyId.ENABLE_3D)
    badges = [b.text() for b in card.findChildren(Badge)]
    assert "Host without SSE4.1" in badges, badges
    QTest.mouseClick(card.radio, Qt.MouseButton.LeftButton)
    assert card.radio.isChecked()

    ready = to_ready(window)
    assert ready.risks.isVisible()
    assert "SSE4.1" in ready.risks.body_text()
    QTest.mouseClick(ready.confirm_check, Qt.MouseButton.LeftButton)
    recorder.answers["QMessageBox"] = 0
    apply_fix(qtbot, window)
    done = to_done(window)
    assert done.banner.title_text() == "Fixed and verified, with a risk"

    qtbot.waitUntil(lambda: done.vmotion.host_combo.count() > 0, timeout=SLOW)
    labels = [done.vmotion.host_combo.itemText(i) for i in range(done.vmotion.host_combo.count())]
    assert any("not suitable" in t and "SSE4.1" in t for t in labels), labels
    old = next(i for i, t in enumerate(labels) if "not suitable" in t)
    done.vmotion.host_combo.setCurrentIndex(old)
    recorder.answers["VmotionConfirmDialog"] = int(QDialog.DialogCode.Rejected)
    done.vmotion.test_button.click()
    (confirm,) = recorder.of(VmotionConfirmDialog)
    assert "not suitable" in confirm.risk.text()
