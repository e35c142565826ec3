"""Done: the verified state, undo, a test vMotion, the ticket note and the report."""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QStandardPaths, Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from wizard.kb.facts import VmFacts
from wizard.kb.model import RISK_BADGES, Change, RemedyId
from wizard.kb.plan import CannotUndo, PlannedStep, undo_changes, verify
from wizard.ui import dialogs, shell_commands
from wizard.ui.pages.apply import ApplyPage, StepRunner
from wizard.ui.pages.base import BasePage, PageId
from wizard.ui.pages.check import VERDICT_LOOK
from wizard.ui.report import (
    ReportData,
    StepLine,
    default_report_name,
    report_css,
    report_html,
    save_report,
)
from wizard.ui.theme import Tone, monospace, scaled_font
from wizard.ui.ticket import UndoNote, change_line, duration_words, ticket_note
from wizard.ui.widgets import Banner, CopyBox, IconLabel, heading, hline, wrapped
from wizard.ui.wizard_state import Result, WizardContext
from wizard.ui.worker import Job
from wizard.vsphere.errors import VsphereError
from wizard.vsphere.records import HostChoice, MigrationOutcome

if TYPE_CHECKING:
    from wizard.vsphere.results import ApplyResult, StepResult

_log = logging.getLogger(__name__)

POWER_DOWN_STEPS = ("shutdown", "power_off")
POWERED_ON = "poweredOn"


class UndoConfirmDialog(QDialog):
    """Ask before an undo that needs the VM off: what changes back, and what the user notices.

    Attributes:
        hard_check: consent to a hard power-off; shown, and required, only when the VM cannot be
            shut down cleanly (VMware Tools not running, or the VM suspended).
        leave_off_check: leave the VM powered off afterwards.
        undo_button: starts the undo (disabled until a needed hard power-off is consented to).
    """

    def __init__(
        self,
        vm: str,
        changes: Sequence[Change],
        *,
        power_state: str,
        hard_needed: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Undo the change")
        self.setAccessibleName("Undo the change")
        self.hard_needed = hard_needed
        head = QLabel(
            f"Undoing this change powers {vm} off."
            if hard_needed
            else f"Undoing this change shuts {vm} down.",
            self,
        )
        head.setTextFormat(Qt.TextFormat.PlainText)
        head.setWordWrap(True)
        head.setFont(scaled_font(head, 1.1, bold=True))
        self.head = head
        if not hard_needed:
            how = (
                "The wizard shuts the guest down through VMware Tools, puts the old values back "
                "and powers the VM on. The user loses the session and unsaved work: tell them "
                "first."
            )
        elif power_state != POWERED_ON:
            how = (
                f"The VM is {power_state}: it can only be powered off hard, which discards its "
                "suspended state. Open programs and unsaved work in the guest are lost."
            )
        else:
            how = (
                "VMware Tools are not running, so the guest cannot be shut down cleanly: the "
                "wizard can only power the VM off hard, like pulling the plug. Unsaved work in "
                "the guest is lost."
            )
        body = wrapped(how, self)
        lines = wrapped("\n".join(change_line(c) for c in changes), self, selectable=True)
        lines.setFont(monospace())
        self.hard_check = QCheckBox(
            "Power the VM &off without a clean shutdown (unsaved work in the guest is lost)", self
        )
        self.hard_check.setAccessibleName(
            "Power the VM off without a clean shutdown (unsaved work in the guest is lost)"
        )
        self.hard_check.setVisible(hard_needed)
        self.leave_off_check = QCheckBox("&Leave the VM powered off afterwards", self)
        self.leave_off_check.setAccessibleName("Leave the VM powered off afterwards")
        buttons = QDialogButtonBox(self)
        self.undo_button = buttons.addButton(
            "&Power off and undo" if hard_needed else "&Shut down and undo",
            QDialogButtonBox.ButtonRole.AcceptRole,
        )
        self.undo_button.setAccessibleName(self.undo_button.text().replace("&", ""))
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAccessibleName("Cancel")
        cancel.setDefault(True)  # the safe answer is the one Enter gives
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.hard_check.toggled.connect(self.on_hard_check_toggled)
        self.on_hard_check_toggled(False)
        text = QVBoxLayout()
        text.setSpacing(8)
        text.addWidget(head)
        text.addWidget(body)
        text.addWidget(heading("Changes back", self))
        text.addWidget(lines)
        text.addWidget(self.hard_check)
        text.addWidget(self.leave_off_check)
        row = QHBoxLayout()
        row.setSpacing(14)
        tone = Tone.BAD if hard_needed else Tone.WARN
        row.addWidget(IconLabel(tone.icon_name, 32, self), 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(text, 1)
        col = QVBoxLayout(self)
        col.setContentsMargins(20, 18, 20, 14)
        col.setSpacing(14)
        col.addLayout(row)
        col.addWidget(buttons)
        self.setMinimumWidth(max(560, self.hard_check.sizeHint().width() + 110))

    def consented(self) -> bool:
        """Whether the answer covers the power-off this undo needs."""
        return not self.hard_needed or self.hard_check.isChecked()

    @Slot(bool)
    def on_hard_check_toggled(self, _checked: bool) -> None:
        self.undo_button.setEnabled(self.consented())


class VmotionConfirmDialog(QDialog):
    """Ask before moving the running VM: "This moves the running VM to <host>"."""

    def __init__(
        self, vm: str, host: str, parent: QWidget | None = None, *, risk: str = ""
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Test vMotion")
        self.setAccessibleName("Test vMotion")
        head = QLabel(f"This moves the running VM {vm} to {host}.", self)
        head.setTextFormat(Qt.TextFormat.PlainText)
        head.setWordWrap(True)
        head.setFont(scaled_font(head, 1.1, bold=True))
        self.head = head
        body = wrapped(
            "The user keeps working: the VM pauses for about a second. If the migration fails, "
            "the VM stays where it is and vCenter's message is shown.",
            self,
        )
        buttons = QDialogButtonBox(self)
        self.move_button = buttons.addButton("&Move the VM", QDialogButtonBox.ButtonRole.AcceptRole)
        self.move_button.setAccessibleName("Move the VM")
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAccessibleName("Cancel")
        self.move_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        text = QVBoxLayout()
        text.setSpacing(8)
        text.addWidget(head)
        text.addWidget(body)
        self.risk = wrapped(risk, self)
        self.risk.setStyleSheet(f"color: {Tone.BAD.fg}; font-weight: bold;")
        self.risk.setVisible(bool(risk))
        text.addWidget(self.risk)
        row = QHBoxLayout()
        row.setSpacing(14)
        row.addWidget(IconLabel(Tone.INFO.icon_name, 32, self), 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(text, 1)
        col = QVBoxLayout(self)
        col.addLayout(row)
        col.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 84)


class VmotionSection(QWidget):
    """Pick a host, confirm, watch the migration, see how it ended.

    Attributes:
        host_combo: the hosts the VM can be moved to.
        test_button: starts the test (after the confirmation).
        progress: the task's progress while it runs.
        outcome: how the last test ended.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.intro = wrapped(
            "Prove the fix: move the running VM to another host of its cluster. Before the "
            "fix this fails with the article's error; after it, the VM moves.",
            self,
        )
        self.host_label = QLabel("&Destination host:", self)
        self.host_combo = QComboBox(self)
        self.host_combo.setAccessibleName("Destination host")
        self.host_combo.setMinimumContentsLength(22)
        self.host_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.host_label.setBuddy(self.host_combo)
        self.test_button = QPushButton("&Test vMotion…", self)
        self.test_button.setAccessibleName("Test vMotion")
        self.test_button.setAutoDefault(False)
        self.test_button.setEnabled(False)
        self.hosts_note = wrapped(parent=self)
        self.hosts_note.setStyleSheet("color: #4f5b67;")
        self.hosts_note.hide()
        self.progress_label = QLabel(self)
        self.progress_label.setTextFormat(Qt.TextFormat.PlainText)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.progress.setMaximumHeight(14)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName("Progress of the vMotion test")
        self.outcome = Banner(self, icon_size=24)
        self.outcome.hide()
        row = QHBoxLayout()
        row.setSpacing(8)
        row.addWidget(self.host_label)
        row.addWidget(self.host_combo)
        row.addWidget(self.test_button)
        row.addStretch(1)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(6)
        col.addWidget(self.intro)
        col.addLayout(row)
        col.addWidget(self.hosts_note)
        col.addWidget(self.progress_label)
        col.addWidget(self.progress)
        col.addWidget(self.outcome)
        self.set_running(None)

    def set_running(self, text: str | None) -> None:
        """Show progress with ``text``, or hide it (None)."""
        running = text is not None
        self.progress_label.setText(text or "")
        self.progress_label.setVisible(running)
        self.progress.setVisible(running)
        if running:
            self.progress.setRange(0, 0)

    def set_percent(self, percent: int | None, text: str) -> None:
        if percent is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 100)
            self.progress.setValue(max(0, min(100, percent)))
        if text:
            self.progress_label.setText(text)

    def set_hosts(
        self, hosts: Sequence[HostChoice], unsuitable: Mapping[str, str] | None = None
    ) -> None:
        """Offer the usable hosts, marking those unsuitable for the fix (host name -> why);
        name the others and why they are not offered."""
        self.host_combo.clear()
        for h in hosts:
            if h.usable:
                why = (unsuitable or {}).get(h.name)
                label = f"{h.name}  (not suitable: {why})" if why else h.name
                self.host_combo.addItem(label, h.moref)
                # The host's own name, for the confirmation and the note (the label says more).
                self.host_combo.setItemData(
                    self.host_combo.count() - 1, h.name, Qt.ItemDataRole.AccessibleTextRole
                )
        skipped = [f"{h.name} ({h.why_not})" for h in hosts if not h.usable]
        if not hosts:
            note = "There is no other host in this VM's cluster to move it to."
        elif skipped:
            note = "Not offered: " + ", ".join(skipped) + "."
        else:
            note = ""
        self.hosts_note.setText(note)
        self.hosts_note.setVisible(bool(note))

    def selected_host(self) -> tuple[str, str] | None:
        """(name, moref) of the chosen host."""
        if self.host_combo.currentIndex() < 0:
            return None
        name = self.host_combo.currentData(Qt.ItemDataRole.AccessibleTextRole)
        return str(name or self.host_combo.currentText()), str(self.host_combo.currentData())


class DonePage(BasePage):
    """The outcome, undo, a test vMotion, the ticket note and the report.

    Attributes:
        banner: what happened, verified or not.
        undo_button: puts the old values back (when something was changed).
        vmotion: the optional vMotion test.
        note: the ticket note with its Copy button.
        report_button: saves the report as HTML and PDF.
        report_note: where the report was saved.
    """

    help_topic = "done"

    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setTitle("Done")
        self.setSubTitle("Paste the note into the ticket, and keep the report.")
        layout = self.scroll_body()
        self.banner = Banner(self, icon_size=40)
        self.banner.set_title_scale(1.25)
        layout.addWidget(self.banner)
        self.changes_head = heading("What changed", self)
        layout.addWidget(self.changes_head)
        self.changes = wrapped(parent=self, selectable=True)
        layout.addWidget(self.changes)
        self.undo_button = QPushButton("&Undo this change", self)
        self.undo_button.setAccessibleName("Undo this change")
        self.undo_button.setAutoDefault(False)
        self.undo_button.setToolTip("Put back the values recorded before the change.")
        self.undo_button.clicked.connect(self.on_undo_button_clicked)
        row = QHBoxLayout()
        row.addWidget(self.undo_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.undo_runner = StepRunner(self)
        self.undo_runner.hide()
        layout.addWidget(self.undo_runner)

        self.vmotion_head = heading("Test vMotion (optional)", self)
        layout.addWidget(self.vmotion_head)
        self.vmotion = VmotionSection(self)
        self.vmotion.test_button.clicked.connect(self.on_test_button_clicked)
        layout.addWidget(self.vmotion)
        layout.addWidget(hline(self))

        self.note = CopyBox("Ticket note", self, lines=12, mono=False)
        self.note.button.setDefault(False)
        self.note.copied.connect(self.on_note_copied)
        self.record_kept = False
        """Whether the note was copied or the report saved since the last change to them."""
        layout.addWidget(self.note)
        self.report_button = QPushButton("Save &report…", self)
        self.report_button.setAccessibleName("Save the report")
        self.report_button.setAutoDefault(False)
        self.report_button.setToolTip("Save the whole run as a web page (HTML) and a PDF.")
        self.report_button.clicked.connect(self.on_report_button_clicked)
        self.report_button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.report_note = wrapped(parent=self, selectable=True)
        self.report_note.hide()
        row = QHBoxLayout()
        row.addWidget(self.report_button, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.report_note, 1)
        row.addStretch(0)
        layout.addLayout(row)
        layout.addStretch(1)

        self._job: Job | None = None
        self._vmotion_job: Job | None = None
        self._tests: list[MigrationOutcome] = []
        self._undo_note: UndoNote | None = None

    # ------------------------------------------------------------------ page

    def initializePage(self) -> None:
        if self.ctx.result is not None:
            # Once Apply has run, Back must not lead into it again (no re-apply by accident).
            self._set_apply_committed(True)
        self._refresh()
        self._read_hosts()
        self.first_focus = self.note.button

    def cleanupPage(self) -> None:
        self._set_apply_committed(False)
        self._tests = []
        self._undo_note = None
        self.vmotion.outcome.hide()
        self.report_note.hide()

    def _set_apply_committed(self, committed: bool) -> None:
        wiz = self.wizard()
        apply = wiz.page(int(PageId.APPLY)) if wiz is not None else None
        if apply is not None:
            apply.setCommitPage(committed)

    @property
    def tests(self) -> tuple[MigrationOutcome, ...]:
        """The vMotion tests run from this page, in order."""
        return tuple(self._tests)

    def _refresh(self) -> None:
        check, remedy, result = self.ctx.check, self.ctx.remedy, self.ctx.result
        assert check is not None
        undone = self.ctx.undo_result
        applied = result is not None and bool(result.changes)
        if remedy is None:
            tone, words = VERDICT_LOOK[check.assessment.verdict]
            self.banner.show_message(tone, "No change made", f"{words}. {check.assessment.reason}")
        elif result is None and remedy.missing_privileges:
            self.banner.show_message(
                Tone.INFO,
                "Change request ready",
                f"Nothing was changed: this account lacks {', '.join(remedy.missing_privileges)} "
                f"on {check.facts.name}. The ticket note below holds the planned change, the "
                "missing privileges and the commands.",
                "Paste the note into the ticket and hand it to a vSphere administrator.",
            )
        elif result is None:
            self.banner.show_message(
                Tone.INFO,
                "No change made",
                f"“{remedy.title}” was not applied from the wizard.",
                "If you make the change by hand, run the wizard again to check the VM.",
            )
        elif undone is not None and undone.ok:
            self.banner.show_message(Tone.INFO, "Change undone", undone.message)
        elif self._undo_note is not None and not self._undo_note.ok:
            self.banner.show_message(
                Tone.BAD,
                "Undo failed",
                self._undo_note.message,
                "Check the VM in the vSphere Client.",
            )
        elif result.ok and result.verified:
            after = result.assessment_after
            body = result.message
            if after is not None and after.verdict.label.lower() not in body.lower():
                body += f" The VM now reads as: {VERDICT_LOOK[after.verdict][1]}."
            risks = [c.detail for c in remedy.caveats if c.applies and c.id in RISK_BADGES]
            if risks:
                self.banner.show_message(
                    Tone.WARN,
                    "Fixed and verified, with a risk",
                    body,
                    "Mind this before the next vMotion: " + " ".join(risks),
                )
            else:
                self.banner.show_message(Tone.GOOD, "Fixed and verified", body)
        elif result.ok:
            self.banner.show_message(
                Tone.WARN,
                "Changed, but not verified",
                result.message,
                "Check the VM again before you close the ticket.",
            )
        else:
            self.banner.show_message(
                Tone.BAD,
                "The fix did not complete",
                result.message,
                "Look at the log on the previous page, and check the VM.",
            )
        was_undone = undone is not None and undone.ok
        lines = [
            f"{change_line(c)}, then undone: back to "
            f"{'(not set)' if c.before is None else c.before}"
            if was_undone
            else change_line(c)
            for c in (result.changes if result else ())
        ]
        self.changes_head.setText("What changed, then was undone" if was_undone else "What changed")
        self.changes.setText("\n".join(lines))
        self.changes.setVisible(bool(lines))
        self.changes_head.setVisible(bool(lines))
        self.undo_button.setVisible(
            applied
            and result is not None
            and result.journal_id is not None
            and (undone is None or not undone.ok)
        )
        self._set_note(self._note())

    def _set_note(self, text: str) -> None:
        if text != self.note.text():
            self.record_kept = False
        self.note.set_text(text)

    @Slot()
    def on_note_copied(self) -> None:
        self.record_kept = True

    def note_text(self) -> str:
        """The ticket note of this run, also before the page was shown (to keep it on close)."""
        return self._note() if self.ctx.check is not None else self.note.text()

    def _note(self) -> str:
        check, result = self.ctx.check, self.ctx.result
        assert check is not None
        return ticket_note(
            facts=check.facts,
            assessment=check.assessment,
            remedy=self.ctx.remedy,
            changes=tuple(result.changes) if result else (),
            applied=result is not None and bool(result.changes),
            verified=bool(result and result.verified),
            after=result.assessment_after if result else None,
            journal_id=result.journal_id if result else None,
            task_ids=tuple(result.task_ids) if result else (),
            user=self.ctx.user,
            when=datetime.now(),
            vmotion=self._tests,
            undo=self._undo_note,
            power_steps=_power_steps(result),
            change_request=(
                shell_commands.powercli(check.facts, self.ctx.remedy)
                if self.ctx.remedy is not None
                and self.ctx.remedy.missing_privileges
                and result is None
                else ""
            ),
        )

    def _busy(self) -> bool:
        return self._job is not None or self._vmotion_job is not None

    def _update_buttons(self) -> None:
        busy = self._busy()
        self.undo_button.setEnabled(not busy)
        self.report_button.setEnabled(not busy)
        self.vmotion.test_button.setEnabled(
            not busy and self.vmotion.selected_host() is not None and self._vm_running()
        )

    # ------------------------------------------------------------------ undo

    @Slot()
    def on_undo_button_clicked(self) -> None:
        """Undo at once when the VM stays up; ask first when the undo needs it off."""
        result = self.ctx.result
        if result is None or self._busy():
            return
        facts = result.facts_after
        planned = self.ctx.gateway.undo_steps(result.changes, facts)
        if not any(s.id in POWER_DOWN_STEPS for s in planned):
            self._start_undo()
            return
        power = facts.power_state if facts is not None else POWERED_ON
        hard = facts is not None and (power != POWERED_ON or not facts.tools_running)
        try:
            back = undo_changes(result.changes)
        except CannotUndo:
            back = tuple(Change(c.target, c.key, c.after, c.before) for c in result.changes)
        dialog = UndoConfirmDialog(
            facts.name if facts is not None else "the VM",
            back,
            power_state=power,
            hard_needed=hard,
            parent=self,
        )

        def answered(code: int) -> None:
            if code != int(QDialog.DialogCode.Accepted):
                return  # nothing was started, nothing changed
            if not dialog.consented():
                _log.info("undo not started: a hard power-off was needed and not consented to")
                return
            self._start_undo(
                allow_shutdown=True,
                allow_hard_poweroff=hard and dialog.hard_check.isChecked(),
                leave_powered_off=dialog.leave_off_check.isChecked(),
            )

        dialogs.show_modal(dialog, answered)

    def _start_undo(
        self,
        *,
        allow_shutdown: bool = False,
        allow_hard_poweroff: bool = False,
        leave_powered_off: bool = False,
    ) -> None:
        """Undo the change with what the technician agreed to (nothing: no power action)."""
        result = self.ctx.result
        if result is None or result.journal_id is None or self._busy():
            return
        facts = result.facts_after
        self.undo_runner.show()
        self.undo_runner.set_steps(
            self.ctx.gateway.undo_steps(
                result.changes,
                facts,
                allow_hard_poweroff=allow_hard_poweroff,
                leave_powered_off=leave_powered_off,
            )
        )
        self.undo_runner.add_log("Undoing the change.")
        self.ctx.applying = True
        undo = functools.partial(
            self.ctx.gateway.undo,
            facts=facts,
            allow_shutdown=allow_shutdown,
            allow_hard_poweroff=allow_hard_poweroff,
            leave_powered_off=leave_powered_off,
            guest_credentials=self.ctx.guest_login,
            shutdown_timeout=float(self.ctx.settings.shutdown_timeout_s),
        )
        job = self.ctx.worker.submit_session(
            undo,
            result.journal_id,
            description="undo",
            with_token=True,
            with_report=True,
        )
        job.progress.connect(self.undo_runner.on_progress)
        job.succeeded.connect(self.on_undo_succeeded)
        job.failed.connect(self.on_undo_failed)
        job.finished.connect(self.on_undo_finished)
        self.undo_runner.stop_button.clicked.connect(job.token.cancel)
        self._job = job
        self._update_buttons()
        self.undo_runner.begin()

    @Slot(object)
    def on_undo_succeeded(self, res: object) -> None:
        undone = cast("ApplyResult", res)
        self.ctx.undo_result = undone
        self._undo_note = UndoNote(undone.ok, undone.message, undone.journal_id, datetime.now())
        self.undo_runner.add_log(undone.message)
        self._refresh()

    @Slot(object)
    def on_undo_failed(self, exc: object) -> None:
        message = exc.message if isinstance(exc, VsphereError) else str(exc) or type(exc).__name__
        self.undo_runner.add_log(f"Undo failed: {message}")
        self._undo_note = UndoNote(False, message, None, datetime.now())
        self._refresh()

    @Slot()
    def on_undo_finished(self) -> None:
        self._job = None
        self.ctx.applying = False
        self.undo_runner.end()
        self._update_buttons()
        self._read_hosts()

    # ------------------------------------------------------------------ vMotion test

    def _facts_now(self) -> VmFacts | None:
        result, check = self.ctx.result, self.ctx.check
        undone = self.ctx.undo_result
        runs: tuple[Result | None, ...] = (undone, result)
        for r in runs:
            if r is not None and r.facts_after is not None:
                return r.facts_after
        return check.facts if check is not None else None

    def _vm_running(self) -> bool:
        facts = self._facts_now()
        return facts is not None and facts.power_state == "poweredOn"

    def _read_hosts(self) -> None:
        section = self.vmotion
        facts = self._facts_now()
        self.vmotion_head.setVisible(facts is not None)
        section.setVisible(facts is not None)
        if facts is None:
            return
        if facts.power_state != "poweredOn":
            section.set_hosts([])
            section.hosts_note.setText(
                f"{facts.name} is {facts.power_state}: a vMotion test needs it running."
            )
            section.hosts_note.show()
            self._update_buttons()
            return
        section.host_combo.clear()
        section.host_combo.setPlaceholderText("Reading the hosts…")
        job = self.ctx.worker.submit_session(
            self.ctx.gateway.list_target_hosts,
            facts,
            description="read the hosts for a vMotion test",
        )
        job.succeeded.connect(self.on_hosts_succeeded)
        job.failed.connect(self.on_hosts_failed)
        self._update_buttons()

    def _unsuitable_hosts(self) -> dict[str, str]:
        """Hosts the applied fix is not suited to (3D on a CPU without SSE4.1)."""
        check, remedy = self.ctx.check, self.ctx.remedy
        if check is None or remedy is None or remedy.id is not RemedyId.ENABLE_3D:
            return {}
        return {
            h.name: "its CPU has no SSE4.1, which 3D needs"
            for h in check.facts.candidate_hosts
            if h.sse41 is False
        }

    @Slot(object)
    def on_hosts_succeeded(self, hosts: object) -> None:
        self.vmotion.host_combo.setPlaceholderText("")
        self.vmotion.set_hosts(cast("list[HostChoice]", hosts), self._unsuitable_hosts())
        self._update_buttons()

    @Slot(object)
    def on_hosts_failed(self, exc: object) -> None:
        self.vmotion.host_combo.setPlaceholderText("")
        message = exc.message if isinstance(exc, VsphereError) else str(exc)
        self.vmotion.hosts_note.setText(f"The hosts could not be read: {message}")
        self.vmotion.hosts_note.show()
        self._update_buttons()

    @Slot()
    def on_test_button_clicked(self) -> None:
        facts = self._facts_now()
        host = self.vmotion.selected_host()
        if facts is None or host is None or self._busy():
            return
        name, moref = host
        why = self._unsuitable_hosts().get(name)
        risk = (
            f"Warning: {name} is not suitable for this fix ({why}). The move may work, but the "
            "VM should not stay there."
            if why
            else ""
        )
        dialog = VmotionConfirmDialog(facts.name, name, self, risk=risk)

        def done(code: int) -> None:
            if code == int(QDialog.DialogCode.Accepted):
                self._start_test(facts.moref, name, moref)

        dialogs.show_modal(dialog, done)

    def _start_test(self, vm_moref: str, host_name: str, host_moref: str) -> None:
        if self._busy():
            return
        section = self.vmotion
        section.outcome.hide()
        section.set_running(f"Moving the VM to {host_name}…")
        job = self.ctx.worker.submit_session(
            self.ctx.gateway.run_vmotion_test,
            vm_moref,
            host_moref,
            description="test vMotion",
            with_token=True,
            with_report=True,
        )
        job.progress.connect(self.on_test_progress)
        job.succeeded.connect(self.on_test_succeeded)
        job.failed.connect(self.on_test_failed)
        job.finished.connect(self.on_test_finished)
        self._vmotion_job = job
        self._update_buttons()

    @Slot(object)
    def on_test_progress(self, payload: object) -> None:
        if isinstance(payload, tuple) and len(payload) == 2:
            percent, text = payload
            self.vmotion.set_percent(percent, str(text))

    @Slot(object)
    def on_test_succeeded(self, res: object) -> None:
        outcome = cast("MigrationOutcome", res)
        self._tests.append(outcome)
        if outcome.succeeded:
            took = duration_words(outcome.duration_s)
            self.vmotion.outcome.show_message(
                Tone.GOOD,
                "vMotion succeeded",
                f"{outcome.message} It took {took} ({outcome.task_id}).",
            )
        else:
            self.vmotion.outcome.show_message(
                Tone.BAD,
                "vMotion failed",
                f"vCenter says: {outcome.message}",
                f"The VM stays on {outcome.source_host}. Check the VM again; the task is "
                f"{outcome.task_id} in the vSphere Client.",
            )
        self._set_note(self._note())

    @Slot(object)
    def on_test_failed(self, exc: object) -> None:
        if isinstance(exc, VsphereError):
            message, next_step = exc.message, exc.next_step
        else:
            message, next_step = str(exc) or type(exc).__name__, ""
        self.vmotion.outcome.show_message(Tone.WARN, "The test did not run", message, next_step)

    @Slot()
    def on_test_finished(self) -> None:
        self._vmotion_job = None
        self.vmotion.set_running(None)
        if any(t.succeeded for t in self._tests[-1:]):
            self._read_hosts()  # the VM moved: its old host is a destination now
        self._update_buttons()

    # ------------------------------------------------------------------ report

    def report_data(self) -> ReportData:
        """What the report shows, from this run."""
        check, result, request = self.ctx.check, self.ctx.result, self.ctx.request
        remedy = self.ctx.remedy
        assert check is not None
        facts = check.facts
        applied = result is not None and bool(result.changes)
        steps: tuple[StepLine, ...] = ()
        undo_steps: tuple[StepLine, ...] = ()
        if result is not None and request is not None:
            apply_page = self.wizard().page(int(PageId.APPLY)) if self.wizard() else None
            runner = apply_page.runner if isinstance(apply_page, ApplyPage) else None
            steps = _step_lines(result.steps, self.ctx.gateway.steps(request), runner)
            if self.ctx.undo_result is not None:
                planned = self.ctx.gateway.undo_steps(result.changes, result.facts_after)
                undo_steps = _step_lines(self.ctx.undo_result.steps, planned, self.undo_runner)
        after = result.facts_after if result is not None else None
        return ReportData(
            facts=facts,
            assessment=check.assessment,
            vcenter=self.ctx.endpoint or facts.vcenter,
            user=self.ctx.user,
            when=datetime.now().astimezone(),
            remedy=remedy,
            applied=applied,
            result_message=result.message if result is not None else "",
            changes=tuple(result.changes) if result is not None else (),
            steps=steps,
            verified=bool(result and result.verified),
            checks=verify(result.changes, after) if result is not None and after else (),
            verdict_after=(
                result.assessment_after.verdict
                if result is not None and result.assessment_after is not None
                else None
            ),
            journal_id=result.journal_id if result is not None else None,
            task_ids=tuple(result.task_ids) if result is not None else (),
            vmotion=tuple(self._tests),
            undo=self._undo_note,
            undo_steps=undo_steps,
        )

    @Slot()
    def on_report_button_clicked(self) -> None:
        check = self.ctx.check
        if check is None:
            return
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        if not folder or not Path(folder).is_dir():
            # Never the program's folder (a file dialog falls back to the working directory).
            folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.HomeLocation)
        name = default_report_name(check.facts.name, datetime.now())
        dialog = QFileDialog(self, "Save the report (HTML and PDF)", str(Path(folder) / name))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setNameFilter("Web page (*.html)")
        dialog.setDefaultSuffix("html")
        dialog.setAccessibleName("Save the report")

        def done(code: int) -> None:
            files = dialog.selectedFiles()
            if code == int(QDialog.DialogCode.Accepted) and files:
                self.save_report_to(Path(files[0]))

        dialogs.show_modal(dialog, done)

    def save_report_to(self, path: Path) -> None:
        """Write the report to ``path`` (HTML) and beside it (PDF), and say where."""
        if path.suffix.lower() not in (".html", ".htm"):
            path = path.with_name(path.name + ".html")
        data = self.report_data()
        try:
            pdf = save_report(
                report_html(data, report_css()),
                path,
                title=f"vMotion checkpoint report: {data.facts.name}",
            )
        except OSError as exc:
            _log.warning("saving the report failed: %s", exc)
            self.report_note.setStyleSheet(f"color: {Tone.BAD.fg};")
            self.report_note.setText(f"The report was not saved: {exc}")
        else:
            self.report_note.setStyleSheet("")
            self.report_note.setText(f"Saved {path.name} and {pdf.name} in {path.parent}.")
            self.record_kept = True
        self.report_note.show()


def _step_lines(
    ran: Sequence[StepResult], planned: Sequence[PlannedStep], runner: StepRunner | None
) -> tuple[StepLine, ...]:
    """The steps of an apply or undo as they ended.

    From the steps the result reports; when it reports none (refused before any step), from
    the step list the technician watched.
    """
    titles = {s.id: s.title for s in planned}
    if ran:
        return tuple(
            StepLine(titles.get(s.step, s.step), s.state, s.message, s.task_id) for s in ran
        )
    lines = []
    for s in planned:
        row = runner.row(s.id) if runner is not None else None
        if row is not None:
            lines.append(StepLine(s.title, row.state.value))
    return tuple(lines)


def _power_steps(result: Result | None) -> tuple[str, ...] | None:
    """The power steps the executor completed (None before anything was applied)."""
    if result is None:
        return None
    return tuple(
        s.step
        for s in result.steps
        if s.state == "done" and s.step in {"shutdown", "power_off", "power_on"}
    )
