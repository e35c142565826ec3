"""The picker shows the first rows of a long VM list while the rest is still being read.

Against the real lab (600 VMs) through the real gateway. The lab answers the first page and the
whole list within milliseconds of each other, so the test holds the rest back (a subclass of
the real gateway that lets the first batch of rows through and keeps the others until the
test releases them): the first rows must be in the table, sorted and selectable, with the
count saying they are not all, while the rest has not arrived.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from tests.gui.conftest import DialogRecorder
from tests.gui.lab_flow import LAB_MARKS, connect_to_lab, open_windows
from tests.helpers.lab import StartLab
from wizard.kb.facts import VmSummary
from wizard.lab.process import LabInfo
from wizard.lab.scenario import bundled_scenarios_dir
from wizard.ui import dialogs
from wizard.ui.gateway import VsphereGateway
from wizard.ui.pages.base import PageId
from wizard.ui.pages.choose_vm import ChooseVmPage
from wizard.ui.vm_model import Column
from wizard.vsphere.inventory import FIRST_ROWS
from wizard.vsphere.session import Session

pytestmark = LAB_MARKS

VMS = 600


class RestHeldBack(VsphereGateway):
    """The real gateway; rows after its first batch wait for :attr:`release`."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.listed = 0

    def list_vms(
        self, session: Session, report: Callable[[list[VmSummary]], None]
    ) -> list[VmSummary]:
        batches = 0

        def held(rows: list[VmSummary]) -> None:
            nonlocal batches
            batches += 1
            if batches > 1:
                self.release.wait(60)
            report(rows)

        rows = super().list_vms(session, held)
        self.release.wait(60)
        self.listed = len(rows)
        return rows


@pytest.fixture
def lab(start_lab: StartLab) -> LabInfo:
    scenario = Path(bundled_scenarios_dir()) / "dual-screen-win7.json"
    info: LabInfo = start_lab(scenario, filler_vms=VMS)
    return info


def test_the_first_rows_show_and_can_be_chosen_before_the_list_is_complete(
    qtbot: QtBot, lab: LabInfo, recorder: DialogRecorder
) -> None:
    recorder.answers["CertificateDialog"] = dialogs.CertificateDialog.TRUST_ONCE
    gateway = RestHeldBack()
    try:
        with open_windows(qtbot) as open_window:
            win = open_window(gateway=gateway)
            connect_to_lab(win, lab)
            wz = win.wizard
            qtbot.waitUntil(lambda: wz.currentId() == PageId.CHOOSE_VM, timeout=30000)
            choose = wz.page_of(PageId.CHOOSE_VM)
            assert isinstance(choose, ChooseVmPage)
            qtbot.waitUntil(lambda: choose.model.rowCount() > 0, timeout=30000)
            first = choose.model.rowCount()
            assert first < VMS
            assert first <= FIRST_ROWS
            assert choose.count_label.text() == f"{first:,} VMs so far"
            assert not choose.busy.isHidden()
            names = [choose.proxy.index(r, Column.NAME).data() for r in range(first)]
            assert names == sorted(names, key=str.lower)
            # The technician picks one of the first rows with the keyboard.
            choose.table.setFocus()
            QTest.keyClick(choose.table, Qt.Key.Key_Down)
            assert win.ctx.vm is not None
            picked = win.ctx.vm.name
            gateway.release.set()
            qtbot.waitUntil(lambda: choose.busy.isHidden(), timeout=30000)
            total = gateway.listed
            assert total > VMS  # the filler and the scenario's own VMs
            assert choose.model.rowCount() == total
            assert choose.count_label.text() == f"{total:,} VMs"
            # The choice survived the rest of the list landing around it.
            assert win.ctx.vm is not None
            assert win.ctx.vm.name == picked
            selected = choose.table.selectionModel().selectedRows()
            assert [i.data() for i in selected] == [picked]
    finally:
        gateway.release.set()
