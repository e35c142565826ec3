"""Fixtures for the wizard's tests: a window on fakes, answered dialogs, no stray Qt warnings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtCore import QtMsgType
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from tests.gui.fakes import FakeGateway, FakeLab
from tests.gui.lab_flow import DUAL_SCENARIO, open_windows
from tests.gui.lab_flow import to_done as next_to_done
from tests.helpers.lab import StartLab, lab_binary_path, start_lab
from wizard.ui import dialogs
from wizard.ui.app import MainWindow
from wizard.ui.gateway import Gateway
from wizard.ui.pages.base import PageId

if TYPE_CHECKING:
    from wizard.lab.process import LabInfo
    from wizard.ui.pages.apply import ApplyPage
    from wizard.ui.pages.done import DonePage

# The offscreen platform cannot resize or raise windows and says so; nothing of ours is wrong.
OFFSCREEN_NOTICES = (
    "This plugin does not support propagateSizeHints()",
    "This plugin does not support raise()",
)

__all__ = ["lab_binary_path", "start_lab"]  # the lab tests' fixtures, used by name


@pytest.fixture(autouse=True)
def no_qt_warnings(qtlog: Any) -> Iterator[None]:
    """A Qt warning fails the test (except the offscreen platform's own notices)."""
    yield
    bad = [
        r.message
        for r in qtlog.records
        if r.type in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg)
        and not any(r.message.startswith(n) for n in OFFSCREEN_NOTICES)
    ]
    assert not bad, f"Qt warnings: {bad}"


@dataclass
class DialogRecorder:
    """Answers every dialog shown through ``dialogs.show_modal`` and keeps it for inspection.

    Attributes:
        answers: result codes by dialog class name; missing ones are rejected (Cancel).
        shown: every dialog shown, in order.
    """

    answers: dict[str, int] = field(default_factory=dict)
    shown: list[QDialog] = field(default_factory=list)

    def __call__(self, dialog: QDialog, on_done: Callable[[int], None]) -> None:
        self.shown.append(dialog)
        on_done(self.answers.get(type(dialog).__name__, int(QDialog.DialogCode.Rejected)))

    def of(self, cls: type[QDialog]) -> list[Any]:
        return [d for d in self.shown if isinstance(d, cls)]


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> DialogRecorder:
    rec = DialogRecorder()
    monkeypatch.setattr(dialogs, "show_modal", rec)
    return rec


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def trust_once(recorder: DialogRecorder) -> None:
    """The certificate dialog is answered "Trust once" (for ``pytest.mark.usefixtures``)."""
    recorder.answers["CertificateDialog"] = dialogs.CertificateDialog.TRUST_ONCE


@pytest.fixture
def lab(start_lab: StartLab) -> LabInfo:
    """A lab on the dual-screen Windows 7 case (a module may define its own ``lab``)."""
    info: LabInfo = start_lab(DUAL_SCENARIO)
    return info


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[MainWindow]:
    """A main window on the real gateway, closed after the test (a module may define its own)."""
    with open_windows(qtbot) as open_window:
        yield open_window()


WindowFactory = Callable[..., MainWindow]


@pytest.fixture
def make_window(qtbot: QtBot) -> Iterator[WindowFactory]:
    """Build main windows on a gateway; each is closed (threads stopped) after the test."""
    with open_windows(qtbot) as open_window:

        def make(
            gateway: Gateway[Any],
            *,
            vm: str | None = None,
            training_scenario: Path | None = None,
            show: bool = True,
        ) -> MainWindow:
            return open_window(
                show=show,
                gateway=gateway,
                lab_factory=FakeLab,
                vm=vm,
                training_scenario=training_scenario,
            )

        yield make


def connect(qtbot: QtBot, win: MainWindow, recorder: DialogRecorder) -> None:
    """From Welcome, fill Connect and sign in (trusting the certificate once)."""
    from wizard.ui.pages.connect import ConnectPage

    recorder.answers["CertificateDialog"] = dialogs.CertificateDialog.TRUST_ONCE
    wz = win.wizard
    if wz.currentId() == PageId.WELCOME:
        wz.next()
    page = wz.page_of(PageId.CONNECT)
    assert isinstance(page, ConnectPage)
    if not page.endpoint_combo.currentText():
        page.endpoint_combo.setEditText("vc01.lab.local")
    if not page.user_edit.text():
        page.user_edit.setText("helpdesk@lab.local")
    if not page.password_edit.text():
        page.password_edit.setText("s3cret-Lab!")
    wz.next()
    qtbot.waitUntil(lambda: wz.currentId() == PageId.CHOOSE_VM, timeout=5000)


def to_check(qtbot: QtBot, win: MainWindow, recorder: DialogRecorder) -> None:
    """Connect, pick the VM of interest, and wait for the check."""
    from wizard.ui.pages.choose_vm import ChooseVmPage

    connect(qtbot, win, recorder)
    wz = win.wizard
    page = wz.page_of(PageId.CHOOSE_VM)
    assert isinstance(page, ChooseVmPage)
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=5000)
    page.filter_edit.setText("HD-W7")
    page.apply_filter()
    assert win.ctx.vm is not None
    wz.next()
    qtbot.waitUntil(lambda: wz.page_of(PageId.CHECK).isComplete(), timeout=5000)


def to_applied(qtbot: QtBot, win: MainWindow, recorder: DialogRecorder) -> ApplyPage:
    """Check, choose the fix, confirm it, and wait on Apply until the change is done."""
    from wizard.ui.pages.apply import ApplyPage
    from wizard.ui.pages.ready import ReadyPage

    to_check(qtbot, win, recorder)
    wz = win.wizard
    wz.next()
    wz.next()
    ready = wz.page_of(PageId.READY)
    assert isinstance(ready, ReadyPage)
    ready.confirm_check.setChecked(True)
    wz.next()
    apply = wz.page_of(PageId.APPLY)
    assert isinstance(apply, ApplyPage)
    qtbot.waitUntil(apply.isComplete)
    assert win.ctx.result is not None
    return apply


def to_done(qtbot: QtBot, win: MainWindow, recorder: DialogRecorder) -> DonePage:
    """Apply the fix as :func:`to_applied` does, then go on to Done."""
    to_applied(qtbot, win, recorder)
    return next_to_done(win)
