"""The wizard against the real training lab (pyVmomi over TLS to the govmomi simulator)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.gui.conftest import DialogRecorder
from wizard.ui import dialogs
from wizard.ui.app import MainWindow
from wizard.ui.gateway import missing_backend
from wizard.ui.pages.base import PageId
from wizard.ui.pages.check import CheckPage
from wizard.ui.pages.choose_fix import ChooseFixPage
from wizard.ui.pages.choose_vm import ChooseVmPage
from wizard.ui.pages.connect import ConnectPage

_missing = missing_backend()
pytestmark = [
    pytest.mark.lab,
    pytest.mark.slow,
    pytest.mark.skipif(_missing is not None, reason=f"{_missing} is not written yet"),
]

if _missing is None:
    from tests.helpers.lab import StartLab, lab_binary_path, start_lab  # noqa: F401 - fixtures
    from wizard.lab.process import LabInfo
    from wizard.lab.scenario import bundled_scenarios_dir

SCENARIO = "dual-screen-win7.json"
VM = "HD-W7-042"


@pytest.fixture
def lab(start_lab: StartLab) -> LabInfo:
    info: LabInfo = start_lab(Path(bundled_scenarios_dir()) / SCENARIO)
    return info


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[MainWindow]:
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
    win.shutdown()


def _connect(qtbot: QtBot, win: MainWindow, lab: LabInfo, password: str) -> ConnectPage:
    win.wizard.next()
    page = win.wizard.page_of(PageId.CONNECT)
    assert isinstance(page, ConnectPage)
    page.endpoint_combo.setEditText(f"{lab.host}:{lab.port}")
    page.user_edit.setText(lab.user)
    page.password_edit.setText(password)
    win.wizard.next()
    return page


def test_wrong_password_against_the_lab(
    qtbot: QtBot, lab: LabInfo, window: MainWindow, recorder: DialogRecorder
) -> None:
    recorder.answers["CertificateDialog"] = dialogs.CertificateDialog.TRUST_ONCE
    page = _connect(qtbot, window, lab, "not-the-password")
    qtbot.waitUntil(lambda: page.banner.isVisible() and page.isComplete(), timeout=30000)
    assert page.banner.title_text() == "Not connected"
    assert "password" in page.banner.body_text()
    assert page.banner.next_text()
    assert window.wizard.currentId() == PageId.CONNECT


def test_lab_walk_certificate_vm_check_fix(
    qtbot: QtBot, lab: LabInfo, window: MainWindow, recorder: DialogRecorder
) -> None:
    recorder.answers["CertificateDialog"] = dialogs.CertificateDialog.TRUST_ONCE
    _connect(qtbot, window, lab, lab.password)
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
    wz.next()
    check = wz.page_of(PageId.CHECK)
    assert isinstance(check, CheckPage)
    qtbot.waitUntil(check.isComplete, timeout=60000)
    assert check.banner.title_text().startswith("Confirmed:")
    wz.next()
    fix = wz.page_of(PageId.CHOOSE_FIX)
    assert isinstance(fix, ChooseFixPage)
    assert fix.cards[0].remedy.id.value == "raise_buffer"
    assert fix.cards[0].radio.isChecked()
