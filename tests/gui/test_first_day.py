"""A first-day technician's hands: real key presses on whatever has the focus.

The widgets are not driven directly: keys go to ``QApplication.focusWidget()``, as they do when
a person types, so a page that moves the focus under the typist shows up as lost characters.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.gui.conftest import DialogRecorder, WindowFactory, connect, to_check
from tests.gui.fakes import FakeGateway, confirmed_facts
from tests.gui.lab_flow import lab_process, open_windows
from wizard import paths
from wizard.kb.model import RemedyId
from wizard.ui import dialogs
from wizard.ui.app import MainWindow
from wizard.ui.gateway import TRAINING_FOLDER
from wizard.ui.pages.base import PageId
from wizard.ui.pages.choose_fix import ChooseFixPage
from wizard.ui.pages.choose_vm import ChooseVmPage
from wizard.ui.pages.connect import ConnectPage
from wizard.ui.widgets import Badge
from wizard.vsphere.tls import PIN_FILE_NAME

pytestmark = [pytest.mark.lab]

SCENARIO = Path(__file__).resolve().parents[2] / "resources" / "scenarios" / "dual-screen-win7.json"
LAB_MS = 120_000


@pytest.fixture
def training_window(qtbot: QtBot) -> Iterator[MainWindow]:
    with open_windows(qtbot) as open_window:
        yield open_window(lab_factory=lab_process, training_scenario=SCENARIO)


def type_keys(text: str) -> None:
    """Type ``text`` one key at a time into whatever has the keyboard focus now."""
    for ch in text:
        target = QApplication.focusWidget()
        assert target is not None, "nothing has the keyboard focus"
        QTest.keyClicks(target, ch)


def to_connect(qtbot: QtBot, win: MainWindow) -> ConnectPage:
    wz = win.wizard
    welcome = wz.page_of(PageId.WELCOME)
    qtbot.waitUntil(lambda: win.ctx.lab_info is not None and welcome.isComplete(), timeout=LAB_MS)
    QTest.keyClick(wz, Qt.Key.Key_Return)  # Enter presses the default button: Next
    qtbot.waitUntil(lambda: wz.currentId() == PageId.CONNECT)
    page = wz.page_of(PageId.CONNECT)
    assert isinstance(page, ConnectPage)
    return page


def test_typing_the_password_in_training_keeps_every_key(
    qtbot: QtBot, training_window: MainWindow
) -> None:
    page = to_connect(qtbot, training_window)
    page.password_edit.clear()
    QTest.mouseClick(page.password_edit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.password_edit)
    type_keys("Helpdesk!1")
    assert page.password_edit.text() == "Helpdesk!1"
    assert QApplication.focusWidget() is page.password_edit


def press_enter() -> None:
    target = QApplication.focusWidget()
    assert target is not None, "nothing has the keyboard focus"
    QTest.keyClick(target, Qt.Key.Key_Return)


def test_after_a_refused_password_enter_tries_again_with_the_new_one(
    qtbot: QtBot, training_window: MainWindow, recorder: DialogRecorder
) -> None:
    recorder.answers["CertificateDialog"] = dialogs.CertificateDialog.TRUST_ONCE
    wz = training_window.wizard
    page = to_connect(qtbot, training_window)
    page.password_edit.clear()
    QTest.mouseClick(page.password_edit, Qt.MouseButton.LeftButton)
    type_keys("wrong-password")
    press_enter()
    qtbot.waitUntil(
        lambda: page.banner.isVisible() and page.password_edit.isEnabled(), timeout=30_000
    )
    assert wz.currentId() == PageId.CONNECT
    # The typist is put back in the password, its text selected: typing replaces it.
    assert QApplication.focusWidget() is page.password_edit
    assert page.password_edit.selectedText() == "wrong-password"
    lab = training_window.ctx.lab_info
    assert lab is not None
    type_keys(lab.password)  # as the trainee reads it in the briefing
    assert page.password_edit.text() == lab.password
    press_enter()
    qtbot.waitUntil(lambda: wz.currentId() == PageId.CHOOSE_VM, timeout=30_000)


def test_trusting_the_training_lab_always_leaves_the_real_pins_alone(
    qtbot: QtBot, training_window: MainWindow, recorder: DialogRecorder
) -> None:
    recorder.answers["CertificateDialog"] = dialogs.CertificateDialog.ALWAYS_TRUST
    wz = training_window.wizard
    page = to_connect(qtbot, training_window)
    lab = training_window.ctx.lab_info
    assert lab is not None
    if not page.password_edit.text():
        page.password_edit.setText(lab.password)
    wz.next()
    qtbot.waitUntil(lambda: wz.currentId() == PageId.CHOOSE_VM, timeout=30_000)
    real = paths.data_dir() / PIN_FILE_NAME
    assert not real.exists() or lab.thumbprint_sha256 not in real.read_text(encoding="utf-8")
    training = paths.data_dir() / TRAINING_FOLDER / PIN_FILE_NAME
    assert lab.thumbprint_sha256 in training.read_text(encoding="utf-8")


def _mnemonic(text: str) -> str | None:
    i = text.replace("&&", "").find("&")
    return text.replace("&&", "")[i + 1].lower() if i >= 0 else None


def test_no_two_things_on_screen_answer_the_same_alt_key(
    make_window: WindowFactory,
) -> None:
    win = make_window(FakeGateway(trusted=True))
    wz = win.wizard
    keys = [_mnemonic(a.text()) for a in win.menuBar().actions()]
    for which in (
        wz.WizardButton.BackButton,
        wz.WizardButton.NextButton,
        wz.WizardButton.CancelButton,
        wz.WizardButton.HelpButton,
    ):
        button = wz.button(which)
        if button is not None and button.isVisible():
            keys.append(_mnemonic(button.text()))
    taken = [k for k in keys if k is not None]
    assert len(taken) == len(set(taken)), taken


def _type_the_vm_name(qtbot: QtBot, win: MainWindow, recorder: DialogRecorder) -> ChooseVmPage:
    """Sign in, then type the ticket's VM into Choose VM's filter until it is chosen."""
    connect(qtbot, win, recorder)
    page = win.wizard.page_of(PageId.CHOOSE_VM)
    assert isinstance(page, ChooseVmPage)
    qtbot.waitUntil(lambda: page.model.rowCount() > 0)
    QTest.keyClicks(page.filter_edit, "HD-W7")
    qtbot.waitUntil(lambda: win.ctx.vm is not None)
    return page


def test_a_filter_that_hides_the_chosen_vm_takes_the_choice_and_next_away(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    win = make_window(FakeGateway(trusted=True))
    page = _type_the_vm_name(qtbot, win, recorder)
    wz = win.wizard
    next_button = wz.button(wz.WizardButton.NextButton)
    assert next_button.isEnabled()
    page.filter_edit.selectAll()
    QTest.keyClicks(page.filter_edit, "no-such-vm")
    qtbot.waitUntil(lambda: page.proxy.rowCount() == 0)
    assert win.ctx.vm is None
    assert not next_button.isEnabled()
    assert not page.selected_label.text()


def test_signing_in_again_forgets_the_vm_chosen_on_the_last_inventory(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    win = make_window(FakeGateway(trusted=True))
    page = _type_the_vm_name(qtbot, win, recorder)
    # Back to Connect, and the same address again (a new lab may reuse it): a new inventory.
    win.ctx.set_connected(win.ctx.endpoint, win.ctx.user)
    page.initializePage()
    assert win.ctx.vm is None


def test_the_in_guest_way_without_tools_says_so_and_keeps_the_card(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    facts = replace(confirmed_facts(), tools_running=False)
    win = make_window(FakeGateway(trusted=True, facts=facts))
    to_check(qtbot, win, recorder)
    wz = win.wizard
    wz.next()
    fix = wz.page_of(PageId.CHOOSE_FIX)
    assert isinstance(fix, ChooseFixPage)
    card = next(c for c in fix.cards if c.remedy.id is RemedyId.LOWER_RESOLUTION)
    QTest.mouseClick(card.radio, Qt.MouseButton.LeftButton)
    guest = card.variant_guest
    assert guest is not None
    qtbot.waitUntil(guest.isVisible)
    QTest.mouseClick(  # on its circle, where a person clicks
        guest, Qt.MouseButton.LeftButton, pos=QPoint(8, guest.height() // 2)
    )
    assert guest.isChecked()
    qtbot.waitUntil(lambda: "Not possible this way" in [b.text() for b in card.findChildren(Badge)])
    assert card.radio.isEnabled()
    assert card.radio.isChecked()
    next_button = wz.button(wz.WizardButton.NextButton)
    assert not next_button.isEnabled()
    assert card.variant_cap is not None
    cap = card.variant_cap
    QTest.mouseClick(cap, Qt.MouseButton.LeftButton, pos=QPoint(8, cap.height() // 2))
    assert cap.isChecked()
    qtbot.waitUntil(next_button.isEnabled)
