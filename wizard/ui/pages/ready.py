"""Ready to complete: every change before -> after, the disruption, the commands, a confirmation."""

from __future__ import annotations

from typing import TYPE_CHECKING

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

from wizard.kb.facts import VmFacts
from wizard.kb.model import RISK_BADGES, ChangeTarget, Remedy
from wizard.kb.words import value_words
from wizard.ui import shell_commands
from wizard.ui.pages.base import BasePage, PageId
from wizard.ui.theme import Tone, monospace, scaled_font
from wizard.ui.widgets import Banner, CopyBox, heading, wrapped
from wizard.ui.wizard_state import WizardContext

if TYPE_CHECKING:
    from wizard.vsphere.results import ApplyRequest

POWERED_ON = "poweredOn"
POWERED_OFF = "poweredOff"
RESOLUTION_TOOL = "VMwareResolutionSet.exe"

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
        hard_check: consent to a hard power-off; shown, and required, only when the VM cannot
            be shut down cleanly (Tools not running, or the VM suspended).
        leave_off_check: leave the VM powered off afterwards (shown when the fix powers it down).
        confirm_check: the explicit confirmation that Next requires.
        powercli: the equivalent PowerCLI commands.
        govc: the equivalent govc commands.
    """

    page_id = PageId.READY

    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
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

        self.request_banner = Banner(self, icon_size=24)
        self.request_banner.setAccessibleName("Change request")
        layout.addWidget(self.request_banner)
        self.risks = Banner(self, icon_size=24)
        self.risks.setAccessibleName("Risks of this fix for this VM")
        layout.addWidget(self.risks)

        layout.addWidget(heading("Disruption", self))
        self.disruption = Banner(self, icon_size=24)
        layout.addWidget(self.disruption)
        self.hard_check = QCheckBox(
            "Power the VM &off without a clean shutdown (unsaved work in the guest is lost)", self
        )
        self.hard_check.setAccessibleName(
            "Power the VM off without a clean shutdown (unsaved work in the guest is lost)"
        )
        self.hard_check.toggled.connect(self.on_hard_check_toggled)
        layout.addWidget(self.hard_check)
        self.leave_off_check = QCheckBox("&Leave the VM powered off afterwards", self)
        self.leave_off_check.setAccessibleName("Leave the VM powered off afterwards")
        self.leave_off_check.toggled.connect(self.on_leave_off_check_toggled)
        layout.addWidget(self.leave_off_check)
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
        self.setCommitPage(True)  # Apply changes the VM: no way back to here afterwards

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
                    "(not set)" if c.before is None else _with_words(c.key, c.before),
                    "(removed)" if c.after is None else _with_words(c.key, c.after),
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
        risks = [c.detail for c in remedy.caveats if c.applies and c.id in RISK_BADGES]
        if risks:
            self.risks.show_message(
                Tone.BAD,
                "Risk for this VM" if len(risks) == 1 else "Risks for this VM",
                " ".join(risks),
                "Apply it only if that is acceptable; otherwise go back and choose another fix.",
            )
        else:
            self.risks.hide()
        self.hard_check.setChecked(False)
        self.leave_off_check.setChecked(False)
        self.hard_check.setVisible(self.hard_needed)
        self.leave_off_check.setVisible(self.goes_down)
        self._show_disruption()
        self.manual.setText("\n".join(f"Also possible by hand: {m}" for m in remedy.manual_steps))
        self.manual.setVisible(bool(remedy.manual_steps))
        self.powercli.set_text(shell_commands.powercli(facts, remedy))
        self.govc.set_text(shell_commands.govc(facts, remedy))
        self.confirm_check.setChecked(False)
        self.first_focus = self.hard_check if self.hard_needed else self.confirm_check
        self.setButtonText(QWizard.WizardButton.CommitButton, "&Apply")
        request = self.change_request
        self.setCommitPage(not request)
        self.request_banner.setVisible(request)
        self.confirm_check.setVisible(not request)
        if request:
            self.hard_check.setVisible(False)
            self.leave_off_check.setVisible(False)
            self.what.setText(f"Change request: “{remedy.title}” for {facts.name} on {where}")
            self.request_banner.show_message(
                Tone.INFO,
                "A change request, not a change",
                "This account lacks "
                + ", ".join(remedy.missing_privileges)
                + f" on {facts.name}, so the wizard will not change it. Next puts the planned "
                "change, the missing privileges and the commands below into the ticket note, "
                "for someone who may apply it.",
            )
            # Nothing to tick: the focus waits on Next, so Return goes on (it was left nowhere,
            # and the keyboard did nothing until a click).
            wizard = self.wizard()
            self.first_focus = (
                wizard.button(QWizard.WizardButton.NextButton) if wizard is not None else None
            )

    # ---------------------------------------------------------------- power

    def _chosen(self) -> tuple[Remedy, VmFacts]:
        remedy, check = self.ctx.remedy, self.ctx.check
        assert remedy is not None
        assert check is not None
        return remedy, check.facts

    @property
    def goes_down(self) -> bool:
        """Whether the fix powers the VM down (it needs the VM off, and it is not off)."""
        remedy, facts = self._chosen()
        return remedy.needs_power_off and facts.power_state != POWERED_OFF

    @property
    def hard_needed(self) -> bool:
        """Whether only a hard power-off can bring the VM down: no Tools, or suspended."""
        _, facts = self._chosen()
        return self.goes_down and (facts.power_state != POWERED_ON or not facts.tools_running)

    def _show_disruption(self) -> None:
        remedy, facts = self._chosen()
        leave_off = self.leave_off_check.isChecked()
        after = (
            "It stays off afterwards: power it on when the user needs it."
            if leave_off
            else "Then the wizard makes the change and powers the VM on."
        )
        if self.goes_down and facts.power_state != POWERED_ON:
            self.disruption.show_message(
                Tone.BAD,
                f"The VM is {facts.power_state}: only a hard power-off is possible",
                "The change needs the VM off. Powering it off discards its suspended state: "
                f"open programs and unsaved work in the guest are lost. {after}",
                "Or resume the VM, have the user save and shut down, and run the fix again.",
            )
            confirm = "&I have told the VM's user; power the VM off and apply this change now"
        elif self.hard_needed:
            self.disruption.show_message(
                Tone.BAD,
                "VMware Tools are not running: no clean shutdown is possible",
                "The change needs the VM off, and without Tools the guest cannot be shut down "
                "cleanly. The wizard can only power it off hard, like pulling the plug: "
                f"unsaved work in the guest is lost. {after}",
                "Or start Tools (or have the user shut the guest down) and run the fix again, "
                "or go back and choose a fix that needs no power-off.",
            )
            confirm = "&I have told the VM's user; power the VM off and apply this change now"
        elif self.goes_down:
            self.disruption.show_message(
                Tone.WARN,
                "The VM will be shut down"
                + (" and left off" if leave_off else " and started again"),
                "The wizard shuts the guest down through VMware Tools and waits until it is "
                f"off. {after} The user loses the session and unsaved work: tell them first. "
                "This usually takes a few minutes.",
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
            guest = any(c.target is ChangeTarget.GUEST for c in remedy.changes)
            login = self.ctx.guest_login
            how = (
                f" The wizard runs {RESOLUTION_TOOL} in the guest as {login.user}: the "
                "user's screen changes at once."
                if guest and login is not None
                else ""
            )
            self.disruption.show_message(
                Tone.INFO,
                "No power-off",
                f"The change is made while the VM keeps running.{how}",
            )
            confirm = "&I want to apply this change now"
        self.confirm_check.setText(confirm)

    def request(self) -> ApplyRequest:
        """The fix for the VM as checked, with what the technician agreed to on this page."""
        # Imported here: the executor's module loads pyVmomi, which the first window does without.
        from wizard.vsphere.results import ApplyRequest

        remedy, facts = self._chosen()
        return ApplyRequest(
            facts_at_check=facts,
            remedy=remedy,
            allow_shutdown=self.confirm_check.isChecked(),
            allow_hard_poweroff=self.hard_needed and self.hard_check.isChecked(),
            leave_powered_off=self.goes_down and self.leave_off_check.isChecked(),
            guest_credentials=self.ctx.guest_login,
            shutdown_timeout=float(self.ctx.settings.shutdown_timeout_s),
        )

    # ---------------------------------------------------------------- QWizardPage

    @property
    def change_request(self) -> bool:
        """The chosen fix needs privileges this account lacks: hand it on, do not apply it."""
        remedy = self.ctx.remedy
        return remedy is not None and bool(remedy.missing_privileges)

    def isComplete(self) -> bool:
        if self.change_request:
            return True
        return self.confirm_check.isChecked() and (
            not self.hard_needed or self.hard_check.isChecked()
        )

    def validatePage(self) -> bool:
        if self.change_request:
            self.ctx.request = None
            return True
        self.ctx.request = self.request()
        return True

    def nextId(self) -> int:
        return int(PageId.DONE if self.change_request else PageId.APPLY)

    @Slot(bool)
    def on_confirm_check_toggled(self, _checked: bool) -> None:
        self.completeChanged.emit()

    @Slot(bool)
    def on_hard_check_toggled(self, _checked: bool) -> None:
        self.completeChanged.emit()

    @Slot(bool)
    def on_leave_off_check_toggled(self, _checked: bool) -> None:
        self._show_disruption()


def _with_words(key: str, value: str) -> str:
    """The exact value as vCenter stores it, and in words where that reads differently
    (``24117248 (23 MB)``): the review shows what is sent, and what it means."""
    words = value_words(key, value)
    return value if words in (value, "not set") else f"{value} ({words})"
