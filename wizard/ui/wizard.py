"""The wizard: its pages by id, per-page help, and the rules for closing it."""

from __future__ import annotations

import html
import logging
import sys
from collections.abc import Callable

from PySide6.QtCore import QSize, Qt, QTimer, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget, QWizard, QWizardPage

from wizard.kb.model import ARTICLE_ID
from wizard.ui import dialogs
from wizard.ui.dialogs import HelpWindow
from wizard.ui.pages.apply import ApplyPage
from wizard.ui.pages.base import BasePage, PageId
from wizard.ui.pages.check import CheckPage
from wizard.ui.pages.choose_fix import ChooseFixPage
from wizard.ui.pages.choose_vm import ChooseVmPage
from wizard.ui.pages.connect import ConnectPage
from wizard.ui.pages.done import DonePage
from wizard.ui.pages.ready import ReadyPage
from wizard.ui.pages.welcome import WelcomePage
from wizard.ui.steps import StepList
from wizard.ui.theme import icon, ui_resources
from wizard.ui.widgets import copy_text
from wizard.ui.wizard_state import WizardContext

_log = logging.getLogger(__name__)

__all__ = ["CheckpointWizard", "PageId", "help_html"]


def help_html(topic: str) -> str:
    """The help page for ``topic`` from ``resources/ui/help`` (a short notice when missing)."""
    path = ui_resources() / "help" / f"{topic}.html"
    try:
        body = path.read_text(encoding="utf-8")
    except OSError:
        return f"<p>No help for this step ({html.escape(topic)}).</p>"
    return body.replace("{ARTICLE}", html.escape(ARTICLE_ID))


class CheckpointWizard(QWizard):
    """The eight steps, from Welcome to Done.

    Attributes:
        ctx: the shared state of this wizard.
        pages: each page by id.
    """

    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._focus_before_update: QWidget | None = None
        self._focus_placed: QWidget | None = None
        self.setObjectName("checkpointWizard")
        if sys.platform != "win32":
            self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.HaveHelpButton, True)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.setPixmap(QWizard.WizardPixmap.LogoPixmap, icon("app").pixmap(QSize(48, 48)))
        # The Help menu owns Alt+H; the page's help answers F1, as everywhere on the desktop.
        self.setButtonText(QWizard.WizardButton.HelpButton, "Help on this ste&p (F1)")
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Finish")
        self.pages: dict[PageId, BasePage] = {
            PageId.WELCOME: WelcomePage(ctx),
            PageId.CONNECT: ConnectPage(ctx),
            PageId.CHOOSE_VM: ChooseVmPage(ctx),
            PageId.CHECK: CheckPage(ctx),
            PageId.CHOOSE_FIX: ChooseFixPage(ctx),
            PageId.READY: ReadyPage(ctx),
            PageId.APPLY: ApplyPage(ctx),
            PageId.DONE: DonePage(ctx),
        }
        for pid, page in self.pages.items():
            self.setPage(int(pid), page)
        self.setStartId(int(PageId.WELCOME))
        # Where am I, what is left: the steps beside the pages (it never takes the focus).
        self.steps = StepList(self)
        self.setSideWidget(self.steps)
        self._help = HelpWindow(self)
        self._help_topic = ""
        # Help pages link to each other by file name: open those here, the web outside.
        self._help.browser.setOpenLinks(False)
        self._help.browser.anchorClicked.connect(self.on_help_anchor_clicked)
        self.helpRequested.connect(self.on_wizard_help_requested)
        self.currentIdChanged.connect(self.on_wizard_current_id_changed)
        # Small enough for a 1024x600 screen with the menu and status bars; pages scroll.
        self.setMinimumSize(760, 460)
        for which, name in (
            (QWizard.WizardButton.BackButton, "Back"),
            (QWizard.WizardButton.NextButton, "Next"),
            (QWizard.WizardButton.CommitButton, "Apply"),
            (QWizard.WizardButton.FinishButton, "Finish"),
            (QWizard.WizardButton.CancelButton, "Cancel"),
            (QWizard.WizardButton.HelpButton, "Help"),
        ):
            b = self.button(which)
            if b is not None:
                b.setAccessibleName(name)

    def setPage(self, page_id: int, page: QWizardPage) -> None:
        """Add ``page``, keeping the keyboard focus where it is when the page's state changes.

        QWizard hides the pages for a moment while it updates its buttons after
        ``completeChanged``, and Qt moves the focus out of a hidden widget: with the training
        coach beside the wizard, every key typed into a field sent the next ones to the coach.
        One slot before QWizard's own notes the focus; one after puts it back.
        """
        page.completeChanged.connect(self._note_focus)
        super().setPage(page_id, page)
        page.completeChanged.connect(self._restore_focus)

    @Slot()
    def _note_focus(self) -> None:
        self._focus_before_update = QApplication.focusWidget()

    @Slot()
    def _restore_focus(self) -> None:
        before, self._focus_before_update = self._focus_before_update, None
        page = self.currentPage()
        if (
            before is not None
            and page is not None
            and page.isAncestorOf(before)
            and before.isVisible()
            and before.isEnabled()
            and QApplication.focusWidget() is not before
        ):
            before.setFocus(Qt.FocusReason.OtherFocusReason)

    def page_of(self, pid: PageId) -> BasePage:
        return self.pages[pid]

    @property
    def current(self) -> PageId | None:
        cid = self.currentId()
        return PageId(cid) if cid >= 0 else None

    @Slot(int)
    def on_wizard_current_id_changed(self, _page_id: int) -> None:
        # The page is shown by now: its first focus goes there at once, before any key typed
        # after it appeared. Once more when the events queued by the switch have run (a focus
        # set while the page was hidden is lost), unless the technician has moved it meanwhile:
        # keys typed into the field they chose must not go on in another one.
        self._focus_page()
        self._focus_placed = QApplication.focusWidget()
        QTimer.singleShot(0, self, self._focus_page_unless_moved)

    @Slot()
    def _focus_page_unless_moved(self) -> None:
        now, placed = QApplication.focusWidget(), self._focus_placed
        self._focus_placed = None
        page = self.currentPage()
        if now is not None and now is not placed and page is not None and page.isAncestorOf(now):
            return
        self._focus_page()

    def _focus_page(self) -> None:
        page = self.currentPage()
        if isinstance(page, BasePage) and page.first_focus is not None:
            target = page.first_focus
            if target.isVisible() and target.isEnabled():
                target.setFocus(Qt.FocusReason.OtherFocusReason)

    @Slot()
    def on_wizard_help_requested(self) -> None:
        self.show_help()

    def show_help(self) -> None:
        """Show the current page's help beside the wizard."""
        page = self.currentPage()
        topic = page.help_topic if isinstance(page, BasePage) else ""
        title = page.title() if page is not None else "Help"
        self._help_topic = topic or "welcome"
        self._help.show_html(title, help_html(self._help_topic))

    def show_topic(self, topic: str) -> None:
        """Show the help page ``topic`` (e.g. ``training/c1-display``) beside the wizard."""
        body = help_html(topic)
        self._help_topic = topic
        title = next(
            (line[4:].split("<")[0] for line in body.splitlines() if line.startswith("<h2>")),
            "Help",
        )
        self._help.show_html(title, body)

    @Slot(QUrl)
    def on_help_anchor_clicked(self, url: QUrl) -> None:
        if url.scheme() in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)
            return
        name = url.path().removesuffix(".html")
        folder = self._help_topic.rpartition("/")[0]
        self.show_topic(f"{folder}/{name}" if folder and "/" not in name else name)

    @property
    def help_window(self) -> HelpWindow:
        return self._help

    def reject(self) -> None:
        """Cancel closes the wizard, except while a change is being applied.

        After a change, the ticket note and the report exist only in this window: closing asks
        first (copy the note and close, go back, or close without it).
        """
        if self.ctx.applying:
            _log.info("close refused while applying")
            return
        if self.record_at_risk():
            self.ask_keep_record(lambda: QWizard.reject(self))
            return
        super().reject()

    def record_at_risk(self) -> bool:
        """A change ran in this window and its note was neither copied nor its report saved."""
        done = self.pages[PageId.DONE]
        assert isinstance(done, DonePage)
        # Training changes a lab, and its record is the debrief: nothing real is lost.
        training = self.ctx.lab_info is not None
        return self.ctx.result is not None and not done.record_kept and not training

    def ask_keep_record(self, close: Callable[[], None]) -> None:
        """Ask before the record of a change is lost; ``close`` runs when the answer allows."""
        done = self.pages[PageId.DONE]
        assert isinstance(done, DonePage)
        vm = self.ctx.check.facts.name if self.ctx.check is not None else "the VM"
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Keep the record of this change?",
            f"You ran a change on {vm} in this window. Its ticket note and report are on the "
            "Done page and are gone once the wizard closes (the journal keeps the change "
            "itself, for undo).",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Cancel
            | QMessageBox.StandardButton.Discard,
            self,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.button(QMessageBox.StandardButton.Save).setText("&Copy the note and close")
        box.button(QMessageBox.StandardButton.Cancel).setText("&Back to the wizard")
        box.button(QMessageBox.StandardButton.Discard).setText("Close &without it")
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        box.setEscapeButton(QMessageBox.StandardButton.Cancel)
        box.setAccessibleName("Keep the record of this change")

        def answered(result: int) -> None:
            if result == int(QMessageBox.StandardButton.Save):
                copy_text(done.note_text())
                done.record_kept = True
                close()
            elif result == int(QMessageBox.StandardButton.Discard):
                done.record_kept = True  # asked once: the technician chose
                close()

        dialogs.show_modal(box, answered)
