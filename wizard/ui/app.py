"""The application: the main window around the wizard, the log file, and :func:`run_gui`."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from wizard import __version__, paths
from wizard.kb.model import ARTICLE_ID
from wizard.ui import dialogs, worker
from wizard.ui.gateway import Gateway, VsphereGateway, load_back_end
from wizard.ui.pages.apply import ApplyPage
from wizard.ui.pages.base import PageId
from wizard.ui.pages.connect import ConnectPage
from wizard.ui.settings_dialog import SettingsDialog
from wizard.ui.theme import Tone, apply_style, icon
from wizard.ui.training.controller import TrainingController
from wizard.ui.widgets import IconLabel
from wizard.ui.wizard import CheckpointWizard
from wizard.ui.wizard_state import LabFactory, WizardContext, default_lab_factory

_log = logging.getLogger(__name__)
APP_TITLE = "Checkpoint Wizard"
LOG_NAME = "checkpoint-wizard.log"
EXIT_CRASHED = 1
"""The exit code after an unexpected error (Python's own for an unhandled exception)."""


def log_file() -> Path:
    """The log file a technician can open from the Help menu."""
    return paths.log_dir() / LOG_NAME


def setup_logging() -> Path:
    """Log to a rotating file (never a password: no code logs one)."""
    path = log_file()
    root = logging.getLogger()
    for h in root.handlers:
        if isinstance(h, logging.FileHandler) and Path(h.baseFilename) == path:
            return path
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    return path


def open_path(path: Path) -> bool:
    """Open a file with the system's viewer (patchable in tests)."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


class StatusItem(QWidget):
    """An icon and words in the status bar."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.icon = IconLabel(Tone.UNKNOWN.icon_name, 14, self)
        self.label = QLabel(self)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 0, 6, 0)
        row.setSpacing(6)
        row.addWidget(self.icon)
        row.addWidget(self.label)

    def set(self, tone: Tone, text: str) -> None:
        self.icon.set_icon(tone.icon_name)
        self.label.setText(text)
        self.setAccessibleName(text)


class MainWindow(QMainWindow):
    """The window: menus, the wizard, the connection in the status bar.

    Attributes:
        ctx: the wizard's shared state.
        wizard: the wizard itself.
        connection: the status bar item that says where the wizard is connected.
    """

    def __init__(
        self,
        *,
        gateway: Gateway[Any] | None = None,
        lab_factory: LabFactory = default_lab_factory,
        training_scenario: Path | None = None,
        vm: str | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle(APP_TITLE)
        self.setWindowIcon(icon("app"))
        self._closing = False
        self.close_guard: Callable[[Callable[[], None]], bool] | None = None
        """Asked before the window closes (an exam sets it): returns True when it has taken the
        close over and will call the function it was given if the close may go on."""
        # The context starts the worker threads (and, in training mode, the lab): whatever fails
        # after this must stop them, or Qt aborts the process when it destroys a running thread.
        self.ctx = WizardContext(
            gateway if gateway is not None else VsphereGateway(),
            lab_factory=lab_factory,
            preselect_vm=vm,
            training_scenario=training_scenario,
            parent=self,
        )
        try:
            self._build()
        except BaseException:
            self.shutdown()
            raise

    def _build(self) -> None:
        self.wizard = CheckpointWizard(self.ctx, self)
        self.wizard.setWindowFlags(Qt.WindowType.Widget)
        self.setCentralWidget(self.wizard)
        self.wizard.finished.connect(self.on_wizard_finished)
        self.training = TrainingController(self, self.ctx, self.wizard)

        self.connection = StatusItem(self)
        self.connection.set(Tone.UNKNOWN, "Not connected")
        self.lab = StatusItem(self)
        self.lab.hide()
        bar = self.statusBar()
        bar.addPermanentWidget(self.lab)
        bar.addPermanentWidget(self.connection)
        self.ctx.connectionChanged.connect(self.on_ctx_connection_changed)
        self.ctx.labChanged.connect(self.on_ctx_lab_changed)
        self.ctx.notice.connect(self.on_ctx_notice)
        self._build_menus()
        self.resize(1000, 760)
        # A refused policy file never stops the wizard: it says so, and runs on its defaults.
        self.policy_status = StatusItem(self)
        self.policy_status.hide()
        bar.addWidget(self.policy_status)
        problem = self.ctx.settings.policy_problem
        if problem:
            _log.warning("%s", problem)
            self.policy_status.set(Tone.WARN, "Policy file not applied")
            self.policy_status.setToolTip(problem)
            self.policy_status.setAccessibleDescription(problem)
            self.policy_status.show()
            self.statusBar().showMessage(problem, 60000)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_log_action = QAction("Open the &log file", self)
        self.open_log_action.triggered.connect(self.on_open_log_triggered)
        file_menu.addAction(self.open_log_action)
        self.open_log_folder_action = QAction("Open the log &folder", self)
        self.open_log_folder_action.triggered.connect(self.on_open_log_folder_triggered)
        file_menu.addAction(self.open_log_folder_action)
        file_menu.addSeparator()
        self.settings_action = QAction("&Settings…", self)
        self.settings_action.setShortcut(QKeySequence.StandardKey.Preferences)
        self.settings_action.triggered.connect(self.on_settings_triggered)
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.training.coach_action)
        help_menu = bar.addMenu("&Help")
        self.help_action = QAction("Help on this &step", self)
        self.help_action.setShortcut(QKeySequence.StandardKey.HelpContents)
        self.help_action.triggered.connect(self.wizard.show_help)
        help_menu.addAction(self.help_action)
        help_menu.addAction(self.training.help_action)
        self.about_action = QAction("&About Checkpoint Wizard", self)
        self.about_action.triggered.connect(self.on_about_triggered)
        help_menu.addAction(self.about_action)

    # ---------------------------------------------------------------- slots

    @Slot(str)
    def on_ctx_connection_changed(self, text: str) -> None:
        if text:
            self.connection.set(Tone.GOOD, text)
        else:
            self.connection.set(Tone.UNKNOWN, "Not connected")

    @Slot(str)
    def on_ctx_lab_changed(self, text: str) -> None:
        self.lab.set(Tone.INFO, text)
        self.lab.setVisible(bool(text))

    @Slot(str)
    def on_ctx_notice(self, text: str) -> None:
        self.statusBar().showMessage(text, 15000)

    @Slot()
    def on_open_log_triggered(self) -> None:
        path = log_file()
        if not path.exists():
            path.touch()
        if not open_path(path):
            self.statusBar().showMessage(f"The log is at {path}", 15000)

    @Slot()
    def on_open_log_folder_triggered(self) -> None:
        open_path(paths.log_dir())

    @Slot()
    def on_settings_triggered(self) -> None:
        dialogs.show_modal(SettingsDialog(self.ctx.settings, self), self.on_settings_done)

    def on_settings_done(self, result: int) -> None:
        if result == int(QDialog.DialogCode.Accepted):
            page = self.wizard.page_of(PageId.CONNECT)
            if isinstance(page, ConnectPage):
                page.reload_recent()  # a forgotten vCenter leaves its list at once

    @Slot()
    def on_about_triggered(self) -> None:
        dialogs.show_modal(dialogs.AboutDialog(ARTICLE_ID, str(log_file()), self), lambda _r: None)

    @Slot(int)
    def on_wizard_finished(self, result: int) -> None:
        if result == int(QDialog.DialogCode.Accepted) and self.ctx.training is not None:
            self.training.another_scenario()  # Finish on the debrief: the next case
            self.wizard.show()
            return
        self.close()

    # ---------------------------------------------------------------- closing

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closing and self.wizard.record_at_risk():
            event.ignore()
            self.wizard.ask_keep_record(self._close_after_asking)
            return
        if self.ctx.applying:
            event.ignore()
            self._ask_stop_then_close()
            return
        if not self._closing and self.close_guard is not None:
            guard = self.close_guard
            if guard(self._close_after_guard):
                event.ignore()
                if not self.wizard.isVisible():
                    self.wizard.show()  # Cancel hid the wizard before the window asked
                return
        self.shutdown()
        event.accept()

    def _close_after_guard(self) -> None:
        self.close_guard = None
        self._close_after_asking()

    def _ask_stop_then_close(self) -> None:
        """Quit during a change: offer what Stop offers, then close once the run has ended."""
        apply = self.wizard.page_of(PageId.APPLY)
        assert isinstance(apply, ApplyPage)
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "A change is running",
            "The wizard is changing a VM. Closing now could leave it half-way, so it stops at "
            "the next safe point first (before the shutdown, or before the change), gives the "
            "VM its power back, and then closes.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        dialogs.word_the_answers(box, "&Stop safely, then close", "&Keep going")

        def answered(result: int) -> None:
            if result != int(QMessageBox.StandardButton.Yes) or not self.ctx.applying:
                return
            said = apply.request_stop()
            self.statusBar().showMessage(
                f"Closing once the change has stopped. {said or ''}".strip(), 15000
            )
            apply.runEnded.connect(self._close_after_asking, Qt.ConnectionType.SingleShotConnection)

        dialogs.show_modal(box, answered)

    def _close_after_asking(self) -> None:
        # Not from inside the close event that asked: Qt ignores a close nested in another.
        QTimer.singleShot(0, self.close)

    def shutdown(self) -> None:
        """Log out and stop the worker threads and the lab (idempotent)."""
        if self._closing:
            return
        self._closing = True
        self.ctx.shutdown()


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication with the product's name, icon and style (reused if one exists)."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("checkpoint-wizard")
    app.setApplicationDisplayName(APP_TITLE)
    app.setApplicationVersion(__version__)
    app.setOrganizationName("checkpoint-wizard")
    app.setWindowIcon(icon("app"))
    apply_style(app)
    return app


def show_main_window(
    *,
    training_scenario: Path | None,
    vm: str | None,
    extend: Callable[[MainWindow], object] | None = None,
) -> MainWindow:
    """Build the first window, show it and let it paint (the application must exist).

    Nothing on this path may import pyVmomi or truststore: they load after the first paint
    (``tests/gui/test_lazy_load.py`` holds that).

    Args:
        extend: called with the window before it is shown (exam mode adds its controller).
    """
    window = MainWindow(training_scenario=training_scenario, vm=vm)
    if extend is not None:
        extend(window)
    window.show()
    QApplication.processEvents()
    return window


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    text = text if len(text) <= 200 else text[:197] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


_ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def _log_to_file(level: int, message: str, exc_info: _ExcInfo) -> None:
    """Log with the traceback to the log file only: the terminal gets one line, never a
    traceback."""
    path = log_file()
    record = _log.makeRecord(_log.name, level, __file__, 0, message, (), exc_info)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename) == path:
            handler.handle(record)


def _on_unhandled(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """``sys.excepthook`` while the window is open. Qt calls it for an exception that a slot
    let escape, and goes on: the traceback goes to the log, one line to stderr."""
    _log_to_file(logging.ERROR, "Unexpected error in the wizard (it carries on)", (kind, exc, tb))
    sys.stderr.write(
        f"checkpoint-wizard: unexpected error ({_describe(exc)}). The wizard carries on; if it "
        f"misbehaves, close it and start it again. The details are in {log_file()}\n"
    )


def _exit_now_if_threads_are_stuck(code: int) -> None:
    """A worker thread whose call never returned is still running: Qt would abort the process
    when the interpreter destroys it at exit. End the process here instead, with ``code``
    (the lab ends by itself when we do: its lifeline pipe closes)."""
    if worker._STUCK:  # the threads the worker could not stop
        _log.warning("Exiting with %d worker thread(s) still running", len(worker._STUCK))
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run_gui(
    *,
    training_scenario: Path | None,
    vm: str | None,
    extend: Callable[[MainWindow], object] | None = None,
) -> int:
    """Open the wizard and return the exit code when it closes.

    An unexpected error ends it cleanly: the worker threads are stopped (each waited for, up to
    a bound), the lab stopped, the traceback logged, one line written on stderr, and the exit
    code is :data:`EXIT_CRASHED`.

    Args:
        training_scenario: open in training mode on this scenario file.
        vm: preselect this VM (name, DNS name or IP) on the Choose VM page.
        extend: called with the window before it is shown (``training exam``).
    """
    setup_logging()
    _log.info("Checkpoint Wizard %s starting", __version__)
    window: MainWindow | None = None
    previous_hook = sys.excepthook
    sys.excepthook = _on_unhandled
    try:
        app = create_application()
        # Cold start: the back end imports pyVmomi (a third of a second); the window is
        # painted first and the back end loaded right after, long before a page needs it.
        window = show_main_window(training_scenario=training_scenario, vm=vm, extend=extend)
        QTimer.singleShot(0, load_back_end)
        code = int(app.exec())
    except Exception as exc:  # noqa: BLE001 - whatever it was, stop cleanly and say so
        _log_to_file(
            logging.CRITICAL, "The wizard stopped after an unexpected error", sys.exc_info()
        )
        sys.stderr.write(
            f"checkpoint-wizard: the wizard stopped after an unexpected error "
            f"({_describe(exc)}). Start it again; if this happens again, send the log to "
            f"whoever supports the wizard: {log_file()}\n"
        )
        code = EXIT_CRASHED
    finally:
        sys.excepthook = previous_hook
        if window is not None:
            try:
                window.shutdown()
            except Exception:  # noqa: BLE001 - the exit must not fail on a failed cleanup
                _log_to_file(logging.ERROR, "Shutting the wizard down failed", sys.exc_info())
                code = EXIT_CRASHED
    _exit_now_if_threads_are_stuck(code)
    return code
