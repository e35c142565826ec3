"""Ready to complete: every change before -> after, the disruption, the commands, a confirmation."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QWidget,
    QWizard,
)

from wizard.kb.model import ChangeTarget
from wizard.ui import commands
from wizard.ui.context import WizardContext
from wizard.ui.look import Tone, monospace, scaled_font
from wizard.ui.pages.base import BasePage, PageId
from wizard.ui.widgets import Banner, CopyBox, heading, wrapped

TARGET_WORDS = {
    ChangeTarget.EXTRA_CONFIG: "Advanced setting",
    ChangeTarget.VIDEO_CARD: "Video card",
    ChangeTarget.UPGRADE_POLICY: "Hardware upgrade policy",
    ChangeTarget.GUEST: "In the guest",
}


class ReadyPage(BasePage):
    """Review and confirm. Next (labelled Apply) starts the change.

    Attributes:
        changes_table: the changes, before -> after.
        disruption: what the VM's user will notice.
        confirm_check: the explicit confirmation that Next requires.
        powercli: the equivalent PowerCLI commands.
        govc: the equivalent govc commands.
    """

    help_topic = "ready"

    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setTitle("Ready to complete")
        self.setSubTitle("Review what will change. Nothing has been changed so far.")
        layout = self.scroll_body()
        self.what = QLabel(self)
        self.what.setWordWrap(True)
        self.what.setFont(scaled_font(self.what, 1.1, bold=True))
        layout.addWidget(self.what)

        layout.addWidget(heading("Changes", self))
        self.changes_table = QTableWidget(0, 4, self)
        self.changes_table.setHorizontalHeaderLabels(["Where", "Setting", "Now", "After"])
        self.changes_table.setAccessibleName("Changes")
        self.changes_table.verticalHeader().hide()
        self.changes_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.changes_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.changes_table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.changes_table.setAlternatingRowColors(True)
        hh = self.changes_table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.changes_table)

        layout.addWidget(heading("Disruption", self))
        self.disruption = Banner(self, icon_size=24)
        layout.addWidget(self.disruption)
        self.manual = wrapped(parent=self, selectable=True)
        layout.addWidget(self.manual)

        layout.addWidget(heading("The same change by hand", self))
        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName("Equivalent commands")
        self.powercli = CopyBox("PowerCLI", self.tabs, lines=7)
        self.govc = CopyBox("govc", self.tabs, lines=7)
        self.tabs.addTab(self.powercli, "Po&werCLI")
        self.tabs.addTab(self.govc, "&govc")
        layout.addWidget(self.tabs)

        self.confirm_check = QCheckBox(self)
        self.confirm_check.setAccessibleName("Confirm the change")
        self.confirm_check.setFont(scaled_font(self.confirm_check, 1.0, bold=True))
        self.confirm_check.toggled.connect(self.on_confirm_check_toggled)
        layout.addWidget(self.confirm_check)
        layout.addStretch(1)
        self.registerField("confirmed*", self.confirm_check)

    def initializePage(self) -> None:
        remedy, check = self.ctx.remedy, self.ctx.check
        assert remedy is not None
        assert check is not None
        facts = check.facts
        where = self.ctx.endpoint or facts.vcenter
        self.what.setText(f"Apply “{remedy.title}” to {facts.name} on {where}")
        self.changes_table.setRowCount(len(remedy.changes))
        for i, c in enumerate(remedy.changes):
            for j, text in enumerate(
                (
                    TARGET_WORDS.get(c.target, c.target.value),
                    c.key,
                    "(not set)" if c.before is None else c.before,
                    "(removed)" if c.after is None else c.after,
                )
            ):
                item = QTableWidgetItem(text)
                if j >= 1:
                    item.setFont(monospace())
                self.changes_table.setItem(i, j, item)
        rows = max(1, len(remedy.changes))
        self.changes_table.setFixedHeight(
            self.changes_table.horizontalHeader().height()
            + rows * self.changes_table.verticalHeader().defaultSectionSize()
            + 4
        )
        on = facts.power_state == "poweredOn"
        if remedy.needs_power_off and on:
            self.disruption.show_message(
                Tone.WARN,
                "The VM will be shut down and started again",
                "The wizard shuts the guest down through VMware Tools, waits until it is off, "
                "makes the change and powers the VM on. The user loses the session and unsaved "
                "work: tell them first. This usually takes a few minutes.",
            )
            confirm = "&I have told the VM's user; shut the VM down and apply this change now"
        elif remedy.needs_power_off:
            self.disruption.show_message(
                Tone.INFO,
                "No shutdown needed",
                "The VM is already powered off; it stays off.",
            )
            confirm = "&I want to apply this change to the powered-off VM"
        else:
            self.disruption.show_message(
                Tone.INFO,
                "No power-off",
                "The change is made while the VM keeps running.",
            )
            confirm = "&I want to apply this change now"
        self.confirm_check.setText(confirm)
        self.manual.setText("\n".join(f"Also possible by hand: {m}" for m in remedy.manual_steps))
        self.manual.setVisible(bool(remedy.manual_steps))
        self.powercli.set_text(commands.powercli(facts, remedy))
        self.govc.set_text(commands.govc(facts, remedy))
        self.confirm_check.setChecked(False)
        self.first_focus = self.confirm_check
        has_executor = self.ctx.executor is not None
        self.setCommitPage(has_executor)
        self.setButtonText(QWizard.WizardButton.CommitButton, "&Apply")

    def isComplete(self) -> bool:
        return self.confirm_check.isChecked()

    def nextId(self) -> int:
        return int(PageId.APPLY)

    @Slot(bool)
    def on_confirm_check_toggled(self, _checked: bool) -> None:
        self.completeChanged.emit()
