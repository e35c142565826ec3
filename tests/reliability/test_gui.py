"""The wizard itself against the lab: faults on connect and check, and a full flow's secrets.

The window is the real one (real gateway, real executor, real worker thread); only the modal
dialogs are answered by the recorder (trust the certificate once). Faults come from the loopback
proxy the wizard connects through, as from a flaky network.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from tests.gui.conftest import DialogRecorder, no_qt_warnings, recorder
from tests.gui.lab_flow import (
    apply_fix,
    check_vm,
    fill_connect,
    open_windows,
    pick_vm,
    to_done,
    to_ready,
)
from tests.helpers.apply import SCENARIO
from tests.helpers.faultproxy import Fault, FaultProxy
from tests.helpers.lab import running_lab
from tests.reliability.figures import record
from tests.reliability.test_secrets import Search, lab_scenario, secret
from wizard.lab.process import LabInfo
from wizard.ui import dialogs
from wizard.ui.app import MainWindow, setup_logging
from wizard.ui.pages.base import PageId
from wizard.ui.pages.check import CheckPage

pytestmark = [pytest.mark.lab, pytest.mark.slow, pytest.mark.gui]
__all__ = ["no_qt_warnings", "recorder"]  # fixtures shared with tests/gui

VM = "Dual W7"
WAIT_MS = 30000


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[MainWindow]:
    with open_windows(qtbot) as open_window:
        yield open_window()


def test_connect_and_check_faults_show_the_error_and_retry_works(
    qtbot: QtBot,
    lab_binary_path: Path,
    tmp_path: Path,
    window: MainWindow,
    recorder: DialogRecorder,
) -> None:
    recorder.answers["CertificateDialog"] = dialogs.CertificateDialog.TRUST_ONCE
    injected = survived = 0
    with (
        running_lab(SCENARIO, tmp_path, lab_binary_path) as lab,
        FaultProxy(lab.info.port, lifetime=120.0) as proxy,
    ):
        info: LabInfo = lab.info
        wz = window.wizard
        # Connect: the link drops on the first exchange; the page says so; Next again works.
        page = fill_connect(window, f"{info.host}:{proxy.port}", info.user, info.password)
        proxy.arm(Fault.RESET)
        wz.next()
        qtbot.waitUntil(lambda: page.banner.isVisible() and page.isComplete(), timeout=WAIT_MS)
        assert proxy.fired == [Fault.RESET]
        injected += 1
        assert wz.currentId() == PageId.CONNECT
        assert page.banner.title_text() == "Not connected"
        assert "connection" in page.banner.body_text().lower()
        assert page.banner.next_text()
        wz.next()
        qtbot.waitUntil(lambda: wz.currentId() == PageId.CHOOSE_VM, timeout=WAIT_MS)
        survived += 1
        pick_vm(qtbot, window, VM, timeout=WAIT_MS)

        # Check: the link breaks (reset, then an answer cut mid-way); the page says so and
        # "Check again" works.
        check = wz.page_of(PageId.CHECK)
        assert isinstance(check, CheckPage)
        for fault, skip in ((Fault.RESET, 0), (Fault.CUT_MID_RESPONSE, 1)):
            proxy.arm(fault, skip=skip, cut_bytes=40)
            if wz.currentId() == PageId.CHOOSE_VM:
                wz.next()
            else:
                check.again_button.click()
            qtbot.waitUntil(
                lambda: check.banner.isVisible() and check.again_button.isEnabled(),
                timeout=WAIT_MS,
            )
            assert proxy.fired[-1] is fault
            injected += 1
            assert check.banner.title_text() == "The VM could not be checked"
            assert "connection" in check.banner.body_text().lower()
            assert check.banner.next_text()
            assert not check.isComplete()
            check.again_button.click()
            qtbot.waitUntil(check.isComplete, timeout=WAIT_MS)
            assert check.banner.title_text().startswith("Confirmed")
            survived += 1
        window.close()
        window.shutdown()
    record(
        "faults",
        op="gui connect+check",
        steps=0,
        runs=injected,
        injected=injected,
        survived=survived,
        problems=0,
    )


def test_a_full_wizard_flow_writes_no_secret(
    qtbot: QtBot,
    lab_binary_path: Path,
    tmp_path: Path,
    hermetic_basedir: Path,
    window: MainWindow,
    recorder: DialogRecorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder.answers["CertificateDialog"] = dialogs.CertificateDialog.ALWAYS_TRUST  # a pin file
    caplog.set_level(logging.DEBUG)
    log_path = setup_logging()
    password = secret("Pw")
    search = Search(password)
    try:
        with running_lab(lab_scenario(password), tmp_path, lab_binary_path) as lab:
            info = lab.info
            assert lab.pid is not None
            wz = window.wizard
            page = fill_connect(window, f"{info.host}:{info.port}", info.user, password)
            page.remember_check.setChecked(True)
            wz.next()
            qtbot.waitUntil(lambda: wz.currentId() == PageId.CHOOSE_VM, timeout=WAIT_MS)
            pick_vm(qtbot, window, VM, timeout=WAIT_MS)
            check = check_vm(qtbot, window, timeout=WAIT_MS)
            check.on_log_button_clicked()
            qtbot.waitUntil(
                lambda: check.log_busy.isHidden() and check.isComplete(), timeout=WAIT_MS
            )
            wz.next()  # choose fix: the recommended one is preselected
            to_ready(window).confirm_check.setChecked(True)
            apply_fix(qtbot, window, timeout=60000)
            to_done(window)
            search.process(lab.pid)
            for widget in window.findChildren(QObject):
                for attr in ("text", "toPlainText", "toolTip", "accessibleName"):
                    getter = getattr(widget, attr, None)
                    if callable(getter) and widget is not page.password_edit:
                        try:
                            value = getter()
                        except TypeError:
                            continue
                        if isinstance(value, str) and value:
                            search.text(f"widget {type(widget).__name__}.{attr}", value)
            window.close()
            window.shutdown()
    finally:
        root = logging.getLogger()
        for handler in [
            h for h in root.handlers if getattr(h, "baseFilename", "") == str(log_path)
        ]:
            root.removeHandler(handler)
            handler.close()
    assert log_path.exists()
    assert any(hermetic_basedir.rglob("pinned-certificates.json"))
    files = search.tree(hermetic_basedir, skip=set())
    search.records(caplog.records)
    record("secrets", flow="wizard", places=search.places, files=files, hits=len(search.hits))
    assert not search.hits, search.hits
