"""The step list beside the wizard's pages: where the technician is, what is done, what is left.

Like the vSphere Client's wizards, the steps of a run stand in a column on the left: the ones
passed carry a tick, the current one is bold with an arrow, the ones still ahead are grey. The
list only shows; it takes no keyboard focus and no clicks, so Tab and Return stay on the page.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QFontMetrics, QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget, QWizard

from wizard.ui.pages.base import PageId
from wizard.ui.theme import AHEAD, scaled_font, tint
from wizard.ui.widgets import Look, Panel, empty_layout

STEP_NAMES: dict[int, str] = {
    int(PageId.WELCOME): "Start",
    int(PageId.CONNECT): "Connect",
    int(PageId.CHOOSE_VM): "Choose VM",
    int(PageId.CHECK): "Check",
    int(PageId.CHOOSE_FIX): "Choose fix",
    int(PageId.READY): "Ready to complete",
    int(PageId.APPLY): "Apply",
    int(PageId.DONE): "Done",
}
"""Short names of the steps; a page added later (the training debrief) shows its title."""

DONE_MARK = "\u2713"  # a tick
CURRENT_MARK = "\u25b8"  # a small right-pointing triangle


class StepList(Panel):
    """The wizard's steps in order, following the current page.

    Attributes:
        labels: each step's label by page id, in the order shown.
    """

    def __init__(self, wizard: QWizard, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stepList")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAccessibleName("Steps")
        self.set_look(Look(fill=QPalette.ColorRole.AlternateBase, edge=Qt.Edge.RightEdge))
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self._wizard = wizard
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(8, 10, 8, 10)
        self._layout.setSpacing(6)
        self.labels: dict[int, QLabel] = {}
        wizard.currentIdChanged.connect(self.on_wizard_current_id_changed)
        wizard.pageAdded.connect(self.on_wizard_current_id_changed)
        wizard.pageRemoved.connect(self.on_wizard_current_id_changed)
        self.refresh()

    def _name(self, page_id: int) -> str:
        if page_id in STEP_NAMES:
            return STEP_NAMES[page_id]
        page = self._wizard.page(page_id)
        return page.title() if page is not None else str(page_id)

    def refresh(self) -> None:
        """Rebuild the list from the wizard's pages (a page may come or go) and mark the steps."""
        ids = sorted(self._wizard.pageIds())
        if ids != list(self.labels):
            empty_layout(self._layout)
            self.labels = {}
            for pid in ids:
                label = QLabel(self)
                label.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                self.labels[pid] = label
                self._layout.addWidget(label)
            self._layout.addStretch(1)
            bold = scaled_font(self, 1.0, bold=True)
            metrics = QFontMetrics(bold)
            widest = max(
                (metrics.horizontalAdvance(f"{CURRENT_MARK} {self._name(pid)}") for pid in ids),
                default=0,
            )
            self.setFixedWidth(widest + 24)
        current = self._wizard.currentId()
        visited = set(self._wizard.visitedIds())
        for pid, label in self.labels.items():
            name = self._name(pid)
            if pid == current:
                label.setText(f"{CURRENT_MARK} {name}")
                label.setFont(scaled_font(label, 1.0, bold=True))
                tint(label, None)
                label.setAccessibleName(f"{name}: current step")
            elif pid in visited:
                label.setText(f"{DONE_MARK} {name}")
                label.setFont(scaled_font(label, 1.0))
                tint(label, None)
                label.setAccessibleName(f"{name}: done")
            else:
                label.setText(f"\u2007 {name}")
                label.setFont(scaled_font(label, 1.0))
                tint(label, AHEAD)
                label.setAccessibleName(f"{name}: still ahead")

    def current_step(self) -> str:
        """The name of the step the wizard is on ("" before the first page)."""
        return self._name(self._wizard.currentId()) if self._wizard.currentId() >= 0 else ""

    @Slot(int)
    def on_wizard_current_id_changed(self, _page_id: int) -> None:
        self.refresh()
