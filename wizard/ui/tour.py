"""A walk through the whole wizard on a training scenario, saving a picture of every page.

``checkpoint-wizard tour --scenario FILE --vm NAME --out DIR`` calls :func:`run_tour`. It starts
the lab for the scenario the way a trainee would (Welcome, "Practise in the training lab"),
connects (trusting the lab's certificate once), picks the VM, checks it, reads its log, takes
the recommended fix to the confirmation and applies it. Every
page and dialog is grabbed offscreen into ``DIR``. At a scale other than 1, the walk runs in a
child process with ``QT_SCALE_FACTOR`` set, so one call can produce both sizes. ``size`` sets
the window's size in logical pixels (1000x760 unless given; 1024x600 for a small laptop), and
the pictures' names then carry it (``05-check-1024x600.png``).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

LAB_START_TIMEOUT_S = 300.0
STEP_TIMEOUT_S = 60.0


class TourError(RuntimeError):
    """The walk could not go on; the message says where it stopped."""


class TourVmNotFound(TourError):
    """The wizard did not find exactly one VM for the name given; the message is its own."""


# How the walk in a child process (another scale) reports that it stopped.
_EXIT_STOPPED = 3
_EXIT_VM_NOT_FOUND = 4


DEFAULT_SIZE = (1000, 760)


def run_tour(
    scenario: Path,
    vm: str,
    out: Path,
    scale: float = 1.0,
    size: tuple[int, int] | None = None,
) -> list[Path]:
    """Walk the wizard on ``scenario`` and save a PNG of every page into ``out``.

    Args:
        scenario: a scenario file.
        vm: the VM to pick (name, DNS name or IP).
        out: the folder for the pictures (created).
        scale: 1.0 in this process; anything else in a child process at that scale.
        size: the window's width and height in logical pixels (None: 1000x760).

    Returns:
        The pictures saved, in the order of the walk.

    Raises:
        TourVmNotFound: the wizard found no VM, or several, for ``vm``.
        TourError: the lab did not start or a page did not finish in time.
    """
    out.mkdir(parents=True, exist_ok=True)
    if abs(scale - 1.0) > 1e-6:
        return _run_scaled(scenario, vm, out, scale, size)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    return _walk(scenario, vm, out, _size_suffix(size), size)


def _size_suffix(size: tuple[int, int] | None) -> str:
    return f"-{size[0]}x{size[1]}" if size is not None else ""


def _run_scaled(
    scenario: Path, vm: str, out: Path, scale: float, size: tuple[int, int] | None
) -> list[Path]:
    env = dict(os.environ, QT_SCALE_FACTOR=str(scale), QT_QPA_PLATFORM="offscreen")
    env["QT_ENABLE_HIGHDPI_SCALING"] = "1"
    suffix = f"{_size_suffix(size)}@{round(scale * 100)}"
    width, height = size or DEFAULT_SIZE
    cmd = [
        sys.executable,
        "-m",
        "wizard.ui.tour",
        str(scenario),
        vm,
        str(out),
        suffix,
        f"{width}x{height}",
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode in (_EXIT_STOPPED, _EXIT_VM_NOT_FOUND):
        # The child's last line of standard error is its message (see _main).
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        message = lines[-1] if lines else "(no message)"
        if proc.returncode == _EXIT_VM_NOT_FOUND:
            raise TourVmNotFound(message)
        raise TourError(f"at scale {scale:g}: {message}")
    if proc.returncode != 0:
        # A crash: its details are in the child's output, kept in the log, not in the message.
        log.warning("The tour at scale %g failed: %s", scale, proc.stderr.strip()[-4000:])
        raise TourError(
            f"the walk at scale {scale:g} ended unexpectedly (exit code {proc.returncode}); "
            "run it again with -v to see its output"
        )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("[")]
    if not lines:
        raise TourError(f"the tour at scale {scale} printed no result")
    return [Path(p) for p in json.loads(lines[-1])]


def _walk(
    scenario: Path, vm: str, out: Path, suffix: str, size: tuple[int, int] | None = None
) -> list[Path]:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QDialog, QWidget

    from wizard.ui import dialogs
    from wizard.ui.app import MainWindow, create_application
    from wizard.ui.pages.base import PageId
    from wizard.ui.pages.check import CheckPage
    from wizard.ui.pages.choose_fix import ChooseFixPage
    from wizard.ui.pages.choose_vm import ChooseVmPage
    from wizard.ui.pages.done import DonePage
    from wizard.ui.pages.ready import ReadyPage
    from wizard.ui.pages.welcome import WelcomePage
    from wizard.ui.training.session import TrainingSession

    create_application()
    saved: list[Path] = []

    def pump(ms: int = 30) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def wait(what: str, ready: Callable[[], bool], timeout: float = STEP_TIMEOUT_S) -> None:
        end = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > end:
                raise TourError(f"timed out waiting for {what}")
            pump()

    def grab(widget: QWidget, name: str) -> None:
        pump(120)  # let layouts settle and icons paint
        path = out / f"{len(saved) + 1:02d}-{name}{suffix}.png"
        if not widget.grab().save(str(path)):
            raise TourError(f"could not save {path}")
        saved.append(path)

    original = dialogs.show_modal

    def answer(dialog: QDialog, on_done: Callable[[int], None]) -> None:
        dialog.adjustSize()
        dialog.show()
        grab(dialog, "dialog-" + type(dialog).__name__.removesuffix("Dialog").lower())
        dialog.hide()
        code = (
            dialogs.CertificateDialog.TRUST_ONCE
            if isinstance(dialog, dialogs.CertificateDialog)
            else int(QDialog.DialogCode.Accepted)
            if type(dialog).__name__ == "VmotionConfirmDialog"
            else int(QDialog.DialogCode.Rejected)
        )
        dialog.deleteLater()
        on_done(code)

    dialogs.show_modal = answer
    win = MainWindow(training_scenario=scenario, vm=vm)
    try:
        win.resize(*(size or DEFAULT_SIZE))
        win.show()
        wz = win.wizard
        welcome = wz.page_of(PageId.WELCOME)
        assert isinstance(welcome, WelcomePage)
        welcome.training_button.setChecked(True)
        wait("the training lab", welcome.isComplete, LAB_START_TIMEOUT_S)
        if win.ctx.lab_info is None:
            raise TourError(f"the training lab did not start: {welcome.banner.body_text()}")
        grab(win, "welcome")
        wz.next()
        grab(win, "connect")
        wz.next()
        wait("the connection", lambda: wz.currentId() == PageId.CHOOSE_VM)
        choose = wz.page_of(PageId.CHOOSE_VM)
        assert isinstance(choose, ChooseVmPage)
        # The find for the VM asked for ends with it selected, or with a note: no VM, or
        # several to pick from. The find button is enabled again once the find has ended.
        wait(
            "the VM list and the VM",
            lambda: (
                choose.model.rowCount() > 0
                and choose.busy.isHidden()
                and (win.ctx.vm is not None or choose.find_button.isEnabled())
            ),
        )
        if win.ctx.vm is None:
            raise TourVmNotFound(choose.find_note.text())
        grab(win, "choose-vm")
        wz.next()
        check = wz.page_of(PageId.CHECK)
        assert isinstance(check, CheckPage)
        wait("the check", check.isComplete)
        grab(win, "check")
        panel = win.training.panel
        session = win.ctx.training
        if isinstance(session, TrainingSession) and panel.isVisible():
            # Training: a hint, the vMotion that fails, then the trainee's verdict.
            panel.hint_button.click()
            panel.vmotion_button.click()
            wait("the test vMotion", lambda: panel.vmotion_button.isEnabled())
            grab(win, "check-coach-vmotion")
            expected = session.brief.expected_verdict
            combo = panel.verdict_combo
            combo.setCurrentIndex(max(1, combo.findData(expected.value if expected else "")))
            panel.commit_button.click()
        check.on_log_button_clicked()
        wait("the VM's log", lambda: check.log_busy.isHidden() and check.isComplete())
        grab(win, "check-with-log")
        wz.next()
        fix = wz.page_of(PageId.CHOOSE_FIX)
        assert isinstance(fix, ChooseFixPage)
        grab(win, "choose-fix")
        wz.next()
        if wz.currentId() == PageId.READY:
            ready = wz.page_of(PageId.READY)
            assert isinstance(ready, ReadyPage)
            grab(win, "ready")
            ready.confirm_check.setChecked(True)
            wz.next()
            wait("the apply page", lambda: wz.currentPage().isComplete())
            grab(win, "apply")
            wz.next()
        done = wz.currentPage()
        if isinstance(session, TrainingSession) and isinstance(done, DonePage):
            test = done.vmotion.test_button
            wait("the hosts for a vMotion test", test.isEnabled)
            test.click()
            wait("the test vMotion", lambda: bool(done.tests) and test.isEnabled())
        grab(win, "done")
        if wz.currentPage() is not None and not wz.currentPage().isFinalPage():
            wz.next()
            grab(win, "debrief")
        wz.show_help()
        grab(wz.help_window, "help")
        wz.show_topic("training/c1-display")
        grab(wz.help_window, "help-training")
        wz.help_window.hide()
        win.on_about_triggered()
    finally:
        dialogs.show_modal = original
        win.ctx.applying = False
        win.close()
        win.shutdown()
    return saved


def _main(argv: list[str]) -> int:
    scenario, vm, out, suffix, size = argv
    width, height = (int(n) for n in size.split("x"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        paths = _walk(Path(scenario), vm, Path(out), suffix, (width, height))
    except TourError as exc:
        # One line for the parent to show (see _run_scaled).
        sys.stderr.write(" ".join(str(exc).split()) + "\n")
        return _EXIT_VM_NOT_FOUND if isinstance(exc, TourVmNotFound) else _EXIT_STOPPED
    sys.stdout.write(json.dumps([str(p) for p in paths]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
