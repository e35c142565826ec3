"""What every page shares: the page ids, the context, a scrollable body, help topics."""

from __future__ import annotations

import enum

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QVBoxLayout, QWidget, QWizard, QWizardPage

from wizard.ui.wizard_state import WizardContext

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


class BasePage(QWizardPage):
    """A page with the shared context and a help topic.

    Attributes:
        ctx: the wizard's shared state.
        help_topic: the name of its help page in ``resources/ui/help`` (without ``.html``).
    """

    help_topic = ""
    first_focus: QWidget | None = None
    """The widget that gets the keyboard focus when the page is shown."""

    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx

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

    def go_next(self) -> None:
        """Advance, as if the technician pressed Next (used when a job finishes)."""
        wiz = self.wizard()
        if isinstance(wiz, QWizard) and wiz.currentPage() is self:
            wiz.next()
