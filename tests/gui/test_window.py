"""The window: keyboard-only walk, help, About, log file, and threads stopped on close."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from tests.gui.conftest import DialogRecorder, WindowFactory, connect
from tests.gui.fakes import PASSWORD, FakeGateway, FakeLab, confirmed_facts
from wizard.ui import app as app_module
from wizard.ui import dialogs
from wizard.ui.app import MainWindow
from wizard.ui.pages.base import PageId
from wizard.ui.pages.check import CheckPage
from wizard.ui.pages.ready import ReadyPage
from wizard.ui.pages.welcome import WelcomePage


def _focus(win: MainWindow) -> QWidget:
    """The widget with the keyboard focus (the wizard sets it just after a page shows)."""
    qtbot_wait = QApplication.instance()
    assert qtbot_wait is not None
    w = QApplication.focusWidget()
    assert w is not None
    assert win.isAncestorOf(w), f"focus is on {w!r}"
    return w


def _key_when_focused(qtbot: QtBot, win: MainWindow, key: Qt.Key) -> None:
    def focused() -> bool:
        w = QApplication.focusWidget()
        return w is not None and win.isAncestorOf(w)

    qtbot.waitUntil(focused)
    QTest.keyClick(_focus(win), key)


def _key(qtbot: QtBot, win: MainWindow, key: Qt.Key) -> None:
    _key_when_focused(qtbot, win, key)


def test_keyboard_only_walk(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    """Return, Tab, Space and typing alone take a technician from Welcome to Done."""
    recorder.answers["CertificateDialog"] = dialogs.CertificateDialog.TRUST_ONCE
    win = make_window(FakeGateway(facts=confirmed_facts()))
    win.activateWindow()
    qtbot.waitActive(win)
    wz = win.wizard
    welcome = wz.page_of(PageId.WELCOME)
    assert isinstance(welcome, WelcomePage)
    welcome.fix_button.setFocus()
    _key(qtbot, win, Qt.Key.Key_Return)
    assert wz.currentId() == PageId.CONNECT
    QTest.keyClicks(_focus(win), "vc01.lab.local")
    _key(qtbot, win, Qt.Key.Key_Tab)
    QTest.keyClicks(_focus(win), "helpdesk@lab.local")
    _key(qtbot, win, Qt.Key.Key_Tab)
    QTest.keyClicks(_focus(win), PASSWORD)
    _key(qtbot, win, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: wz.currentId() == PageId.CHOOSE_VM)
    qtbot.waitUntil(lambda: win.ctx.worker.busy is False)
    QTest.keyClicks(_focus(win), "hd-w7")
    qtbot.waitUntil(lambda: win.ctx.vm is not None)
    _key(qtbot, win, Qt.Key.Key_Return)
    assert wz.currentId() == PageId.CHECK
    check = wz.page_of(PageId.CHECK)
    assert isinstance(check, CheckPage)
    qtbot.waitUntil(check.isComplete)
    _key(qtbot, win, Qt.Key.Key_Return)
    assert wz.currentId() == PageId.CHOOSE_FIX
    _key(qtbot, win, Qt.Key.Key_Return)
    assert wz.currentId() == PageId.READY
    ready = wz.page_of(PageId.READY)
    assert isinstance(ready, ReadyPage)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is ready.confirm_check)
    _key(qtbot, win, Qt.Key.Key_Return)  # refused: not confirmed yet
    assert wz.currentId() == PageId.READY
    _key(qtbot, win, Qt.Key.Key_Space)  # the confirmation has the focus
    _key(qtbot, win, Qt.Key.Key_Return)
    assert wz.currentId() == PageId.APPLY
    qtbot.waitUntil(lambda: wz.currentPage().isComplete())
    _key(qtbot, win, Qt.Key.Key_Return)
    assert wz.currentId() == PageId.DONE


def test_buttons_and_fields_have_mnemonics(make_window: WindowFactory) -> None:
    from PySide6.QtWidgets import QCheckBox, QLabel

    win = make_window(FakeGateway())
    for which in (
        win.wizard.WizardButton.NextButton,
        win.wizard.WizardButton.BackButton,
        win.wizard.WizardButton.HelpButton,
    ):
        assert "&" in win.wizard.buttonText(which) or which != win.wizard.WizardButton.HelpButton
    for page in win.wizard.pages.values():
        for label in page.findChildren(QLabel):
            if "&" in label.text() and label.textFormat() != Qt.TextFormat.PlainText:
                assert label.buddy() is not None, label.text()
        for box in page.findChildren(QCheckBox):
            assert "&" in box.text() or not box.text(), box.text()


def test_every_control_has_an_accessible_name(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractScrollArea,
        QAbstractSpinBox,
        QComboBox,
        QLineEdit,
        QTabBar,
    )

    win = make_window(FakeGateway(trusted=True, facts=confirmed_facts()))
    missing = []
    for page in win.wizard.pages.values():
        for cls in (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox):
            for w in page.findChildren(cls):
                if isinstance(
                    w.parent(),
                    (QComboBox, QAbstractSpinBox, QLineEdit, QAbstractScrollArea, QTabBar),
                ):
                    continue  # parts Qt builds inside a control (clear buttons, corner button)
                if not w.accessibleName() and not (isinstance(w, QAbstractButton) and w.text()):
                    missing.append(f"{type(page).__name__}: {type(w).__name__}")
    assert missing == []


def test_help_and_about(qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder) -> None:
    win = make_window(FakeGateway())
    win.wizard.button(win.wizard.WizardButton.HelpButton).click()
    assert win.wizard.help_window.isVisible()
    assert "What this wizard does" in win.wizard.help_window.browser.toHtml()
    win.about_action.trigger()
    (about,) = recorder.of(dialogs.AboutDialog)
    text = " ".join(label.text() for label in about.findChildren(type(win.connection.label)))
    from wizard import __version__
    from wizard.kb.model import ARTICLE_ID

    assert __version__ in text
    assert ARTICLE_ID in text


def test_open_log_file(
    qtbot: QtBot, make_window: WindowFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[Path] = []

    def fake_open(path: Path) -> bool:
        opened.append(path)
        return True

    monkeypatch.setattr(app_module, "open_path", fake_open)
    win = make_window(FakeGateway())
    win.open_log_action.trigger()
    assert opened == [app_module.log_file()]


def test_close_stops_threads_and_lab(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    gate = threading.Event()
    gw = FakeGateway(trusted=True)
    FakeLab.instances.clear()
    win = make_window(gw, training_scenario=None)
    welcome = win.wizard.page_of(PageId.WELCOME)
    assert isinstance(welcome, WelcomePage)
    welcome.training_button.setChecked(True)
    qtbot.waitUntil(welcome.isComplete)
    connect(qtbot, win, recorder)
    assert gw.sessions
    gw.gate = gate  # a list request hangs until the window is closing
    win.ctx.worker.submit_session(gw.list_vms)
    threading.Timer(0.1, gate.set).start()
    win.close()
    assert win.ctx.worker._thread.isFinished()
    assert win.ctx.lab_worker._thread.isFinished()
    assert gw.sessions[0].closed
    assert FakeLab.instances
    assert FakeLab.instances[-1].stopped


def test_training_prefills_connect_and_masks_password(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    from wizard.ui.pages.connect import ConnectPage

    win = make_window(FakeGateway())
    welcome = win.wizard.page_of(PageId.WELCOME)
    assert isinstance(welcome, WelcomePage)
    welcome.training_button.setChecked(True)
    qtbot.waitUntil(welcome.isComplete)
    win.wizard.next()
    page = win.wizard.page_of(PageId.CONNECT)
    assert isinstance(page, ConnectPage)
    assert page.endpoint_combo.currentText() == "127.0.0.1:18443"
    assert page.password_edit.echoMode() == page.password_edit.EchoMode.Password
    assert not page.remember_check.isEnabled()
    image = page.password_edit.grab().toImage()
    assert not image.isNull()
