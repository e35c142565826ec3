"""The real main window: open it (on fakes or the lab), and walk it as a technician does.

Each step presses what a technician presses, waits for the page it leads to and returns that
page, so a test asserts on it and goes on. Timeouts are in milliseconds; a slow lab wants more.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtWidgets import QWizard
from pytestqt.qtbot import QtBot

from tests.helpers.lab import lab_binary_for_tests
from wizard.lab.process import LabProcess
from wizard.lab.scenario import bundled_scenarios_dir
from wizard.ui.app import MainWindow
from wizard.ui.pages.apply import ApplyPage
from wizard.ui.pages.base import PageId
from wizard.ui.pages.check import CheckPage
from wizard.ui.pages.choose_fix import ChooseFixPage
from wizard.ui.pages.choose_vm import ChooseVmPage
from wizard.ui.pages.connect import ConnectPage
from wizard.ui.pages.done import DonePage
from wizard.ui.pages.ready import ReadyPage
from wizard.ui.wizard_state import LabHandle

if TYPE_CHECKING:
    from wizard.lab.process import LabInfo

LAB_MARKS = [pytest.mark.lab, pytest.mark.slow]
"""``pytestmark`` of a module that drives the window against the lab."""

SLOW = 60000
"""How long one step may take against the lab, in milliseconds."""

OpenWindow = Callable[..., MainWindow]

DUAL_SCENARIO = Path(bundled_scenarios_dir()) / "dual-screen-win7.json"
"""The bundled dual-screen Windows 7 case that most lab tests of the window run on."""


def lab_process(scenario: Path) -> LabHandle:
    """Start a lab for a training scenario, as the training mode does (a window's
    ``lab_factory``), from the tests' build of the lab."""
    handle: LabHandle = LabProcess(scenario, binary=lab_binary_for_tests())
    return handle


def close_window(win: MainWindow) -> None:
    """Close a window and stop its threads, also in the middle of an apply or with a record
    of a change not yet kept (the test is over: nobody is there to answer)."""
    win.ctx.applying = False
    win.shutdown()
    win.close()


@contextlib.contextmanager
def open_windows(qtbot: QtBot) -> Iterator[OpenWindow]:
    """Yield ``open(show=True, **options)``, which opens a main window; all close afterwards.

    The options go to :class:`MainWindow`; a shown window is waited for until it is exposed.
    """
    made: list[MainWindow] = []

    def open_window(*, show: bool = True, **options: Any) -> MainWindow:
        win = MainWindow(**options)
        # pytest-qt closes its widgets before fixtures end: stop the window first, so that
        # closing asks nothing (nobody is there to answer).
        qtbot.addWidget(win, before_close_func=lambda w: close_window(win))
        made.append(win)
        if show:
            win.show()
            qtbot.waitExposed(win)
        return win

    try:
        yield open_window
    finally:
        for win in made:
            close_window(win)


def fill_connect(win: MainWindow, endpoint: str, user: str, password: str) -> ConnectPage:
    """Go on from Welcome if the window is there, and fill the Connect page (Next not pressed)."""
    wz = win.wizard
    if wz.currentId() == PageId.WELCOME:
        wz.next()
    page = wz.page_of(PageId.CONNECT)
    assert isinstance(page, ConnectPage)
    page.endpoint_combo.setEditText(endpoint)
    page.user_edit.setText(user)
    page.password_edit.setText(password)
    return page


def connect_to_lab(win: MainWindow, lab: LabInfo, password: str | None = None) -> ConnectPage:
    """Fill Connect with the lab's address and login (or another password) and press Next."""
    page = fill_connect(
        win, f"{lab.host}:{lab.port}", lab.user, lab.password if password is None else password
    )
    win.wizard.next()
    return page


def sign_in(qtbot: QtBot, win: MainWindow, lab: LabInfo, *, timeout: int = SLOW) -> None:
    """Connect to the lab with its login and wait for Choose VM."""
    connect_to_lab(win, lab)
    qtbot.waitUntil(lambda: win.wizard.currentId() == PageId.CHOOSE_VM, timeout=timeout)


def pick_vm(qtbot: QtBot, win: MainWindow, name: str, *, timeout: int = SLOW) -> ChooseVmPage:
    """On Choose VM, wait for the whole list, then filter it down to the VM called ``name``."""
    choose = win.wizard.page_of(PageId.CHOOSE_VM)
    assert isinstance(choose, ChooseVmPage)
    qtbot.waitUntil(lambda: choose.model.rowCount() > 0 and choose.busy.isHidden(), timeout=timeout)
    choose.filter_edit.setText(name)
    choose.apply_filter()
    assert win.ctx.vm is not None
    assert win.ctx.vm.name == name
    return choose


def check_vm(qtbot: QtBot, win: MainWindow, *, timeout: int = SLOW) -> CheckPage:
    """Press Next to Check and wait for the check to finish."""
    win.wizard.next()
    check = win.wizard.page_of(PageId.CHECK)
    assert isinstance(check, CheckPage)
    qtbot.waitUntil(check.isComplete, timeout=timeout)
    return check


def to_fix(qtbot: QtBot, win: MainWindow, lab: LabInfo, vm: str) -> ChooseFixPage:
    """Sign in to the lab, pick ``vm``, check it, and arrive on Choose fix."""
    sign_in(qtbot, win, lab)
    pick_vm(qtbot, win, vm)
    check_vm(qtbot, win)
    return choose_fix(win)


def choose_fix(win: MainWindow) -> ChooseFixPage:
    """Press Next from Check to Choose fix."""
    win.wizard.next()
    fix = win.wizard.page_of(PageId.CHOOSE_FIX)
    assert isinstance(fix, ChooseFixPage)
    return fix


def to_ready(win: MainWindow) -> ReadyPage:
    """Press Next from Choose fix to Ready (nothing ticked yet)."""
    wz = win.wizard
    wz.next()
    assert wz.currentId() == PageId.READY
    ready = wz.page_of(PageId.READY)
    assert isinstance(ready, ReadyPage)
    return ready


def apply_button(win: MainWindow) -> Any:
    """Ready's commit button ("Apply")."""
    return win.wizard.button(QWizard.WizardButton.CommitButton)


def apply_fix(qtbot: QtBot, win: MainWindow, *, timeout: int = SLOW) -> ApplyPage:
    """Press Apply on Ready (it must be enabled) and wait for the apply to finish."""
    wz = win.wizard
    assert apply_button(win).isEnabled()
    wz.next()
    apply = wz.page_of(PageId.APPLY)
    assert isinstance(apply, ApplyPage)
    assert wz.currentId() == PageId.APPLY
    qtbot.waitUntil(apply.isComplete, timeout=timeout)
    return apply


def to_done(win: MainWindow) -> DonePage:
    """Press Next from Apply to Done."""
    wz = win.wizard
    wz.next()
    done = wz.page_of(PageId.DONE)
    assert isinstance(done, DonePage)
    assert wz.currentId() == PageId.DONE
    return done
