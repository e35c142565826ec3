"""Connect page: errors with the next step, certificate trust, remembering the password."""

from __future__ import annotations

import sys
import threading

import keyring
import pytest
from keyring.errors import KeyringError
from PySide6.QtWidgets import QLabel, QMessageBox
from pytestqt.qtbot import QtBot

from tests.gui.conftest import DialogRecorder, WindowFactory, connect
from tests.gui.fakes import FAKE_AUTHORITY, FAKE_FINGERPRINT, PASSWORD, FakeGateway
from wizard import credentials
from wizard.ui import dialogs
from wizard.ui.pages.base import PageId
from wizard.ui.pages.connect import ConnectPage
from wizard.ui.settings import GuiSettings
from wizard.vsphere.errors import AuthorityUnavailable
from wizard.vsphere.results import Reconciliation


def _page(win: object) -> ConnectPage:
    page = win.wizard.page_of(PageId.CONNECT)  # type: ignore[attr-defined]
    assert isinstance(page, ConnectPage)
    return page


def _fill(page: ConnectPage, password: str = PASSWORD) -> None:
    page.endpoint_combo.setEditText("vc01.lab.local")
    page.user_edit.setText("helpdesk@lab.local")
    page.password_edit.setText(password)


def _filled(win: object, password: str = PASSWORD) -> ConnectPage:
    """From Welcome: go to the Connect page and fill it in."""
    win.wizard.next()  # type: ignore[attr-defined]
    page = _page(win)
    _fill(page, password)
    return page


def _sign_in(win: object, password: str = PASSWORD) -> ConnectPage:
    """From Welcome: fill in the Connect page and press Next on it."""
    page = _filled(win, password)
    win.wizard.next()  # type: ignore[attr-defined]
    return page


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """A keyring that refuses to store a password (as one without a backend does)."""

    def refuse(*_args: object) -> None:
        raise KeyringError("no backend")

    monkeypatch.setattr(keyring, "set_password", refuse)


def test_wrong_password_shows_the_error_and_next_step(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    gw = FakeGateway(trusted=True)
    win = make_window(gw)
    page = _sign_in(win, "wrong")
    qtbot.waitUntil(lambda: page.banner.isVisible() and page.isComplete())
    assert win.wizard.currentId() == PageId.CONNECT
    assert "refused" in page.banner.body_text()
    assert "type the password again" in page.banner.next_text()  # LoginFailed's own words
    assert not win.ctx.worker.connected


@pytest.mark.parametrize(
    ("answer", "pinned"),
    [
        pytest.param(dialogs.CertificateDialog.TRUST_ONCE, [], id="trust-once-pins-nothing"),
        pytest.param(
            dialogs.CertificateDialog.ALWAYS_TRUST, [FAKE_FINGERPRINT], id="always-trust-pins"
        ),
    ],
)
def test_an_untrusted_certificate_is_shown_then_trusted(
    qtbot: QtBot,
    make_window: WindowFactory,
    recorder: DialogRecorder,
    answer: int,
    pinned: list[str],
) -> None:
    gw = FakeGateway()
    win = make_window(gw)
    recorder.answers["CertificateDialog"] = answer
    _sign_in(win)
    qtbot.waitUntil(lambda: win.wizard.currentId() == PageId.CHOOSE_VM)
    (dialog,) = recorder.of(dialogs.CertificateDialog)
    assert dialog.fingerprint_label.text().replace("\n", ":") == FAKE_FINGERPRINT
    assert gw.pinned == pinned
    assert win.ctx.worker.connected
    assert "Connected to vc01.lab.local as helpdesk@lab.local" in win.connection.label.text()


def test_cancelled_trust_stays_with_a_message(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    win = make_window(FakeGateway())
    page = _sign_in(win)
    qtbot.waitUntil(lambda: page.banner.isVisible())
    assert "did not trust" in page.banner.body_text()
    assert win.wizard.currentId() == PageId.CONNECT


def test_changed_certificate_is_a_blocking_warning(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    win = make_window(FakeGateway(changed=True))
    page = _sign_in(win)
    qtbot.waitUntil(lambda: page.banner.isVisible())
    assert recorder.of(dialogs.CertificateChangedDialog)
    assert not recorder.of(dialogs.CertificateDialog)
    assert "changed" in page.banner.body_text()


def test_trust_the_authority_fetches_it_on_the_worker_shows_it_then_trusts_it(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    gw = FakeGateway()
    win = make_window(gw)
    recorder.answers["CertificateDialog"] = dialogs.CertificateDialog.TRUST_AUTHORITY
    recorder.answers["AuthorityDialog"] = dialogs.AuthorityDialog.TRUST
    _sign_in(win)
    qtbot.waitUntil(lambda: win.wizard.currentId() == PageId.CHOOSE_VM)
    (shown,) = recorder.of(dialogs.AuthorityDialog)
    assert shown.fingerprint_label.text().replace("\n", ":") == FAKE_AUTHORITY.sha256
    assert gw.authorities == [FAKE_AUTHORITY.sha256]
    assert gw.pinned == []
    assert gw.fetch_threads
    assert gw.fetch_threads[0] != threading.main_thread().name  # never on the GUI thread
    assert win.ctx.worker.connected


def test_declining_the_authority_does_not_sign_in(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    gw = FakeGateway()
    win = make_window(gw)
    recorder.answers["CertificateDialog"] = dialogs.CertificateDialog.TRUST_AUTHORITY
    page = _sign_in(win)
    qtbot.waitUntil(lambda: page.banner.isVisible() and page.isComplete())
    assert recorder.of(dialogs.AuthorityDialog)
    assert "did not trust vCenter's certificate authority" in page.banner.body_text()
    assert gw.authorities == []
    assert not win.ctx.worker.connected


def test_an_authority_that_cannot_be_fetched_says_why(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    gw = FakeGateway(
        authority=AuthorityUnavailable(
            "vc01.lab.local:443",
            "its download.zip holds a file named '../evil.0', which climbs out of the archive",
        )
    )
    win = make_window(gw)
    recorder.answers["CertificateDialog"] = dialogs.CertificateDialog.TRUST_AUTHORITY
    page = _sign_in(win)
    qtbot.waitUntil(lambda: page.banner.isVisible() and page.isComplete())
    assert not recorder.of(dialogs.AuthorityDialog)
    assert "climbs out of the archive" in page.banner.body_text()
    assert "own fingerprint" in page.banner.next_text()
    assert not win.ctx.worker.connected


def test_a_certificate_from_another_authority_is_the_changed_warning(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    win = make_window(FakeGateway(changed=True, changed_authority=True))
    page = _sign_in(win)
    qtbot.waitUntil(lambda: page.banner.isVisible())
    (dialog,) = recorder.of(dialogs.CertificateChangedDialog)
    assert "not issued by the certificate authority you trusted" in page.banner.body_text()
    titles = {w.accessibleName() for w in dialog.findChildren(QLabel)}
    assert "Trusted authority" in titles
    assert not recorder.of(dialogs.CertificateDialog)


def test_cancel_while_connecting(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    gate = threading.Event()
    win = make_window(FakeGateway(trusted=True, gate=gate))
    page = _sign_in(win)
    qtbot.waitUntil(lambda: page.busy.isVisible())
    assert not page.isComplete()
    page.busy.on_cancel_clicked()
    assert page.isComplete()
    assert page.banner.title_text() == "Connection cancelled"
    gate.set()


def test_invalid_address_is_said_at_once(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    win = make_window(FakeGateway())
    page = _filled(win)
    page.endpoint_combo.setEditText("vc01:99999")
    win.wizard.next()
    assert page.banner.isVisible()
    assert "port" in page.banner.body_text()


def test_remember_saves_in_the_keyring_only(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    win = make_window(FakeGateway(trusted=True))
    page = _filled(win)
    page.remember_check.setChecked(True)
    win.wizard.next()
    qtbot.waitUntil(
        lambda: credentials.load_password("vc01.lab.local", "helpdesk@lab.local") == PASSWORD
    )
    settings_text = GuiSettings().path.read_text(encoding="utf-8")
    assert PASSWORD not in settings_text
    assert "vc01.lab.local" in settings_text


def test_a_slow_password_store_does_not_hold_up_signing_in(
    qtbot: QtBot,
    make_window: WindowFactory,
    recorder: DialogRecorder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The page asks the password store whether it is usable as it opens; the store's first
    answer may take long (the keyring looks for its backends, the OS may ask). Connect does not
    wait for it. The keyring is a stand-in that answers only when let go: the OS's store cannot
    be made slow on purpose."""
    release = threading.Event()
    asked = threading.Event()
    real = keyring.get_keyring

    def slow() -> keyring.backend.KeyringBackend:
        asked.set()
        release.wait(30)
        return real()

    monkeypatch.setattr(keyring, "get_keyring", slow)
    try:
        win = make_window(FakeGateway(trusted=True))
        _filled(win)
        qtbot.waitUntil(asked.is_set)
        win.wizard.next()
        qtbot.waitUntil(lambda: win.wizard.currentId() == PageId.CHOOSE_VM, timeout=5000)
        assert not release.is_set()
    finally:
        release.set()


def test_no_keyring_is_said_once(
    qtbot: QtBot,
    make_window: WindowFactory,
    recorder: DialogRecorder,
    no_keyring: None,
) -> None:
    win = make_window(FakeGateway(trusted=True))
    page = _filled(win)
    page.remember_check.setChecked(True)
    with qtbot.waitSignal(win.ctx.notice) as blocker:
        win.wizard.next()
    assert "will not be" in str(blocker.args[0])
    assert not page.remember_check.isEnabled()
    assert GuiSettings().keyring_warning_shown


def test_recent_vcenter_fills_user_and_password(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    GuiSettings().add_recent("vc02.corp.local", "alice@corp", remember=True)
    credentials.save_password("vc02.corp.local", "alice@corp", "pw-from-keyring")
    win = make_window(FakeGateway(trusted=True))
    win.wizard.next()
    page = _page(win)
    assert page.endpoint_combo.currentText() == "vc02.corp.local"
    assert page.user_edit.text() == "alice@corp"
    qtbot.waitUntil(lambda: page.password_edit.text() == "pw-from-keyring")
    assert page.password_edit.echoMode() == page.password_edit.EchoMode.Password


def test_every_connect_settles_what_an_earlier_run_left_unfinished(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    left = Reconciliation(
        "entry-7", "not_applied", "poweredOn", "HD-W7-042: the change was not made."
    )
    gw = FakeGateway(reconciled=[left])
    win = make_window(gw)
    connect(qtbot, win, recorder)
    qtbot.waitUntil(lambda: bool(recorder.of(QMessageBox)))
    assert gw.calls.count("reconcile_dangling") == 1
    (shown,) = recorder.of(QMessageBox)
    assert "did not finish" in shown.text()
    assert "HD-W7-042: the change was not made." in shown.informativeText()
    assert "entry-7" in shown.informativeText()


def test_a_password_that_could_not_be_remembered_is_not_called_remembered(
    qtbot: QtBot,
    make_window: WindowFactory,
    recorder: DialogRecorder,
    no_keyring: None,
) -> None:
    GuiSettings().set_keyring_warning_shown()  # said once before: it must still not lie
    win = make_window(FakeGateway(trusted=True))
    page = _filled(win)
    page.remember_check.setChecked(True)
    win.wizard.next()
    qtbot.waitUntil(lambda: not page.remember_check.isChecked())
    (recent,) = GuiSettings().recent()
    assert recent.remember is False  # Settings must not say "remembered"


def test_without_a_password_store_the_box_says_so_before_it_is_ticked(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]
    try:
        win = make_window(FakeGateway(trusted=True))
        win.wizard.next()
        page = _page(win)
        qtbot.waitUntil(lambda: not page.remember_check.isEnabled())
        assert not page.remember_check.isChecked()
        assert "password store" in page.keyring_note_text()
    finally:
        keyring.set_keyring(previous)


def test_the_remember_box_names_this_computers_password_store(
    make_window: WindowFactory,
) -> None:
    win = make_window(FakeGateway(trusted=True))
    tip = _page(win).remember_check.toolTip()
    assert credentials.store_name() in tip
    if not sys.platform.startswith("win"):
        assert "Windows" not in tip
