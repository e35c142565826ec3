"""Done: the verified state, undo, a test vMotion, the ticket note and the report.

The page is in three modules by job: this one (the outcome, the ticket note, the report),
:mod:`wizard.ui.pages.done_undo` (undo) and :mod:`wizard.ui.pages.vmotion_test` (the test
vMotion).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QStandardPaths, Qt, Slot
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from wizard.kb.model import RISK_BADGES
from wizard.kb.plan import PlannedStep, verify
from wizard.kb.words import change_words, value_words
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
from wizard.ui.theme import Tone, tint
from wizard.ui.ticket import UndoNote, change_line, ticket_note
from wizard.ui.widgets import Banner, CopyBox, heading, hline, wrapped
from wizard.ui.wizard_state import Result, WizardContext
from wizard.ui.worker import Job
from wizard.vsphere.records import MigrationOutcome

if TYPE_CHECKING:
    from wizard.vsphere.results import StepResult
from wizard.ui.pages.done_undo import POWER_DOWN_STEPS, POWERED_ON, UndoConfirmDialog, UndoMixin
from wizard.ui.pages.vmotion_test import VmotionConfirmDialog, VmotionSection, VmotionTestMixin

__all__ = [
    "POWERED_ON",
    "POWER_DOWN_STEPS",
    "DonePage",
    "UndoConfirmDialog",
    "VmotionConfirmDialog",
    "VmotionSection",
]

_log = logging.getLogger(__name__)


class DonePage(UndoMixin, VmotionTestMixin, BasePage):
    """The outcome, undo, a test vMotion, the ticket note and the report.

    Attributes:
        banner: what happened, verified or not.
        undo_button: puts the old values back (when something was changed).
        vmotion: the optional vMotion test.
        note: the ticket note with its Copy button.
        report_button: saves the report as HTML and PDF.
        report_note: where the report was saved.
    """

    page_id = PageId.DONE

    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
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
        # In words ("Checkpoint buffer: not set -> 23 MB"); the exact settings are in the
        # tooltip, the ticket note and the report.
        lines = [
            f"{change_words(c)}, then undone: back to {value_words(c.key, c.before)}"
            if was_undone
            else change_words(c)
            for c in (result.changes if result else ())
        ]
        self.changes.setToolTip(
            "\n".join(change_line(c) for c in (result.changes if result else ()))
        )
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
            tint(self.report_note, Tone.BAD.fg)
            self.report_note.setText(f"The report was not saved: {exc}")
        else:
            tint(self.report_note, None)
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
