"""A VM named on the command line (``--vm``) is checked without waiting for the VM list, and
the list is asked for once the check's answers are read.

Against the real lab through the real gateway. The one thing the lab cannot do on its own is
answer the list read last every time, so the test holds that read back (a subclass of the real
gateway whose ``list_vms`` waits until the test lets it go): the verdict must arrive while the
list has not. With one job at a time on the worker, the check queued behind the list and this
test timed out. The gateway also notes whether the check had returned when the list read
started (the list's answer must not compete with the check's for the cores).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.gui.conftest import DialogRecorder
from tests.gui.lab_flow import LAB_MARKS, check_vm, connect_to_lab, open_windows
from tests.helpers.lab import StartLab
from wizard.kb.facts import VmSummary
from wizard.lab.process import LabInfo
from wizard.lab.scenario import bundled_scenarios_dir
from wizard.ui import dialogs
from wizard.ui.gateway import CheckResult, VsphereGateway
from wizard.ui.pages.base import PageId
from wizard.ui.pages.choose_vm import ChooseVmPage
from wizard.vsphere.session import Session

pytestmark = LAB_MARKS

SCENARIO = "dual-screen-win7.json"
VM = "HD-W7-042"


class ListHeldBack(VsphereGateway):
    """The real gateway; its VM list read waits for :attr:`release` (a stand-in for a list
    that takes long to read: the lab answers a few VMs at once)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.list_started = threading.Event()
        self.checked = threading.Event()
        self.list_after_check: bool | None = None

    def check(self, session: Session, moref: str, *, evidence_days: int = 30) -> CheckResult:
        result = super().check(session, moref, evidence_days=evidence_days)
        self.checked.set()
        return result

    def list_vms(
        self, session: Session, report: Callable[[list[VmSummary]], None]
    ) -> list[VmSummary]:
        self.list_after_check = self.checked.is_set()
        self.list_started.set()
        self.release.wait(60)
        return super().list_vms(session, report)


@pytest.fixture
def lab(start_lab: StartLab) -> LabInfo:
    info: LabInfo = start_lab(Path(bundled_scenarios_dir()) / SCENARIO)
    return info


def test_the_named_vm_gets_its_verdict_while_the_list_is_still_read(
    qtbot: QtBot, lab: LabInfo, recorder: DialogRecorder
) -> None:
    recorder.answers["CertificateDialog"] = dialogs.CertificateDialog.TRUST_ONCE
    gateway = ListHeldBack()
    try:
        with open_windows(qtbot) as open_window:
            win = open_window(gateway=gateway, vm=VM)
            connect_to_lab(win, lab)
            wz = win.wizard
            qtbot.waitUntil(lambda: wz.currentId() == PageId.CHOOSE_VM, timeout=30000)
            choose = wz.page_of(PageId.CHOOSE_VM)
            assert isinstance(choose, ChooseVmPage)
            qtbot.waitUntil(lambda: win.ctx.vm is not None, timeout=30000)
            assert win.ctx.vm is not None
            assert win.ctx.vm.name == VM
            qtbot.waitUntil(gateway.list_started.is_set, timeout=30000)
            assert gateway.list_after_check is True
            check = check_vm(qtbot, win, timeout=30000)
            assert check.banner.title_text().startswith("Confirmed:")
            # The list is still being read: its rows are not there, its progress still shows.
            assert choose.model.rowCount() == 0
            assert not choose.busy.isHidden()
            gateway.release.set()
            qtbot.waitUntil(lambda: choose.model.rowCount() > 0, timeout=30000)
            wz.back()
            assert wz.currentId() == PageId.CHOOSE_VM
            assert choose.model.row_of(VM) is not None
            assert win.ctx.vm.name == VM
    finally:
        gateway.release.set()


def test_closing_while_the_list_is_in_flight_after_the_check(
    qtbot: QtBot, lab: LabInfo, recorder: DialogRecorder
) -> None:
    recorder.answers["CertificateDialog"] = dialogs.CertificateDialog.TRUST_ONCE
    gateway = ListHeldBack()
    try:
        with open_windows(qtbot) as open_window:
            win = open_window(gateway=gateway, vm=VM)
            connect_to_lab(win, lab)
            qtbot.waitUntil(lambda: win.ctx.vm is not None, timeout=30000)
            # The early check of the VM has started; the list read follows it and is held back.
            # Closing then logs out and stops both threads once the read returns.
            assert win.ctx.early_check is not None
            qtbot.waitUntil(gateway.list_started.is_set, timeout=30000)
            threading.Timer(0.2, gateway.release.set).start()
            win.shutdown()
            worker = win.ctx.worker
            assert worker._thread.isFinished()
            assert worker._bulk_thread is not None
            assert worker._bulk_thread.isFinished()
            qtbot.wait(100)  # the late outcomes reach the GUI thread and are dropped
            assert win.ctx.check is None
    finally:
        gateway.release.set()
