"""The wizard against the real training lab (pyVmomi over TLS to the govmomi simulator)."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from tests.gui.conftest import DialogRecorder
from tests.gui.lab_flow import (
    LAB_MARKS,
    check_vm,
    choose_fix,
    connect_to_lab,
)
from wizard.lab.process import LabInfo
from wizard.ui import dialogs
from wizard.ui.app import MainWindow
from wizard.ui.pages.base import PageId
from wizard.ui.pages.choose_vm import ChooseVmPage

pytestmark = LAB_MARKS


VM = "HD-W7-042"


def test_wrong_password_against_the_lab(
    qtbot: QtBot, lab: LabInfo, window: MainWindow, recorder: DialogRecorder
) -> None:
    recorder.answers["CertificateDialog"] = dialogs.CertificateDialog.TRUST_ONCE
    page = connect_to_lab(window, lab, "not-the-password")
    qtbot.waitUntil(lambda: page.banner.isVisible() and page.isComplete(), timeout=30000)
    assert page.banner.title_text() == "Not connected"
    assert "password" in page.banner.body_text()
    assert page.banner.next_text()
    assert window.wizard.currentId() == PageId.CONNECT


def test_lab_walk_certificate_vm_check_fix(
    qtbot: QtBot, lab: LabInfo, window: MainWindow, recorder: DialogRecorder
) -> None:
    recorder.answers["CertificateDialog"] = dialogs.CertificateDialog.TRUST_ONCE
    connect_to_lab(window, lab)
    wz = window.wizard
    qtbot.waitUntil(lambda: wz.currentId() == PageId.CHOOSE_VM, timeout=30000)
    (cert,) = recorder.of(dialogs.CertificateDialog)
    assert cert.fingerprint_label.text().replace("\n", ":") == lab.thumbprint_sha256
    choose = wz.page_of(PageId.CHOOSE_VM)
    assert isinstance(choose, ChooseVmPage)
    choose.find_edit.setText(VM)
    choose.find_button.click()
    qtbot.waitUntil(lambda: window.ctx.vm is not None, timeout=30000)
    qtbot.waitUntil(lambda: choose.model.rowCount() > 0, timeout=30000)
    choose.filter_edit.setText("hd-w7-04")
    choose.apply_filter()
    assert window.ctx.vm is not None
    assert window.ctx.vm.name.startswith("HD-W7-04")
    choose.filter_edit.setText(VM)
    choose.apply_filter()
    assert window.ctx.vm.name == VM
    check = check_vm(qtbot, window)
    assert check.banner.title_text().startswith("Confirmed:")
    fix = choose_fix(window)
    assert fix.cards[0].remedy.id.value == "raise_buffer"
    assert fix.cards[0].radio.isChecked()
