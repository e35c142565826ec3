"""What every page shares: the page ids, the context, a scrollable body, help topics."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QVBoxLayout, QWidget, QWizard, QWizardPage

from wizard.ui.widgets import Banner, BusyRow
from wizard.ui.wizard_state import WizardContext
from wizard.ui.worker import Job

PAGE_MARGINS = (4, 4, 4, 4)
SPACING = 10


class PageId(enum.IntEnum):
    """Page ids, in the order of a normal run (``QWizard.setPage`` keys)."""

    WELCOME = 0
    CONNECT = 1
    CHOOSE_VM = 2
    CHECK = 3
    CHOOSE_FIX = 4
    READY = 5
    APPLY = 6
    DONE = 7


@dataclass(frozen=True)
class PageText:
    """What the wizard shows at the top of a page."""

    title: str
    subtitle: str


PAGE_TEXTS: dict[PageId, PageText] = {
    PageId.WELCOME: PageText(
        "Fix a vMotion checkpoint failure",
        "For VMs whose vMotion fails with “Failed to flush checkpoint data!”",
    ),
    PageId.CONNECT: PageText(
        "Connect to vCenter",
        "Sign in with your own vCenter account. The wizard changes nothing yet.",
    ),
    PageId.CHOOSE_VM: PageText(
        "Choose the VM", "Type part of its name to filter, or find it by DNS name or IP address."
    ),
    PageId.CHECK: PageText("Check", "What the VM's settings say about this failure."),
    PageId.CHOOSE_FIX: PageText(
        "Choose a fix", "Four ways around this failure, judged for this VM. Nothing changes yet."
    ),
    PageId.READY: PageText(
        "Ready to complete", "Review what will change. Nothing has been changed so far."
    ),
    PageId.APPLY: PageText("Applying the fix", "Do not close the wizard until the steps are done."),
    PageId.DONE: PageText("Done", "Paste the note into the ticket, and keep the report."),
}
"""Each page's title and subtitle, in the order of a normal run."""


class BasePage(QWizardPage):
    """A page with the shared context and a help topic.

    Attributes:
        ctx: the wizard's shared state.
        help_topic: the name of its help page in ``resources/ui/help`` (without ``.html``);
            for a page with a ``page_id``, that id's name in lower case.
    """

    help_topic = ""
    page_id: PageId | None = None
    """Which of the wizard's pages this is; its title, subtitle and help topic follow from it."""
    first_focus: QWidget | None = None
    """The widget that gets the keyboard focus when the page is shown."""

    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        if self.page_id is not None:
            text = PAGE_TEXTS[self.page_id]
            self.setTitle(text.title)
            self.setSubTitle(text.subtitle)
            self.help_topic = self.page_id.name.lower()

    def scroll_body(self) -> QVBoxLayout:
        """Give the page a scrollable body and return its layout (for long pages)."""
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        area = QScrollArea(self)
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget(area)
        body.setObjectName("pageBody")
        body.setAutoFillBackground(False)
        area.setWidget(body)
        outer.addWidget(area)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(*PAGE_MARGINS)
        layout.setSpacing(SPACING)
        return layout

    def plain_body(self) -> QVBoxLayout:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(*PAGE_MARGINS)
        layout.setSpacing(SPACING)
        return layout

    def busy_and_banner(
        self, layout: QVBoxLayout, on_cancel: Callable[[], None], *, icon_size: int = 24
    ) -> tuple[BusyRow, Banner]:
        """Add the row shown while the page waits for vCenter (its Cancel calls ``on_cancel``)
        and the banner for how it went (hidden until then); return both."""
        busy = BusyRow(self)
        busy.cancelRequested.connect(on_cancel)
        layout.addWidget(busy)
        banner = Banner(self, icon_size=icon_size)
        banner.hide()
        layout.addWidget(banner)
        return busy, banner

    def submit_change(self, call: Callable[..., Any], what: object, description: str) -> Job:
        """Run a change of a VM (``call(session, what)``) on the worker thread: with a token
        that stops it at its next safe point, and reporting each step as it goes."""
        return self.ctx.worker.submit_session(
            call, what, description=description, with_token=True, with_report=True
        )

    def go_next(self) -> None:
        """Advance, as if the technician pressed Next (used when a job finishes)."""
        wiz = self.wizard()
        if isinstance(wiz, QWizard) and wiz.currentPage() is self:
            wiz.next()
