"""Done: the verified state, the ticket note to copy, and undo."""

from __future__ import annotations

import logging
from datetime import datetime

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from wizard.ui.context import WizardContext
from wizard.ui.executor import ApplyResult
from wizard.ui.look import Tone
from wizard.ui.pages.apply import StepRunner, run_steps
from wizard.ui.pages.base import BasePage
from wizard.ui.pages.check import VERDICT_LOOK
from wizard.ui.ticket import change_line, ticket_note
from wizard.ui.widgets import Banner, CopyBox, heading, wrapped
from wizard.ui.worker import Job

_log = logging.getLogger(__name__)


class DonePage(BasePage):
    """The outcome, the ticket note and undo.

    Attributes:
        banner: what happened, verified or not.
        note: the ticket note with its Copy button.
        undo_button: puts the old values back (when something was changed).
    """

    help_topic = "done"

    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setTitle("Done")
        self.setSubTitle("Paste the note into the ticket.")
        layout = self.scroll_body()
        self.banner = Banner(self, icon_size=40)
        self.banner.set_title_scale(1.25)
        layout.addWidget(self.banner)
        self.changes_head = heading("What changed", self)
        layout.addWidget(self.changes_head)
        self.changes = wrapped(parent=self, selectable=True)
        layout.addWidget(self.changes)
        self.note = CopyBox("Ticket note", self, lines=14, mono=False)
        self.note.button.setDefault(False)
        layout.addWidget(self.note)
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
        layout.addStretch(1)
        self._job: Job | None = None

    def initializePage(self) -> None:
        self._refresh()
        self.first_focus = self.note.button

    def _refresh(self) -> None:
        check, remedy, result = self.ctx.check, self.ctx.remedy, self.ctx.result
        assert check is not None
        undone = self.ctx.undo_result
        applied = result is not None and bool(result.changes)
        if remedy is None:
            tone, words = VERDICT_LOOK[check.assessment.verdict]
            self.banner.show_message(tone, "No change made", f"{words}. {check.assessment.reason}")
        elif result is None:
            self.banner.show_message(
                Tone.INFO,
                "No change made",
                f"“{remedy.title}” was not applied from the wizard.",
                "If you make the change by hand, run the wizard again to check the VM.",
            )
        elif undone is not None and undone.ok:
            self.banner.show_message(Tone.INFO, "Change undone", undone.message)
        elif result.ok and result.verified:
            after = result.assessment_after
            body = result.message
            if after is not None and after.verdict.value not in body.lower():
                body += f" The VM now reads as: {VERDICT_LOOK[after.verdict][1]}."
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
        lines = [change_line(c) for c in (result.changes if result else ())]
        self.changes.setText("\n".join(lines))
        self.changes.setVisible(bool(lines))
        self.changes_head.setVisible(bool(lines))
        self.undo_button.setVisible(
            applied and self.ctx.executor is not None and (undone is None or not undone.ok)
        )
        self.note.set_text(self._note(result, undone))

    def _note(self, result: ApplyResult | None, undone: ApplyResult | None) -> str:
        check = self.ctx.check
        assert check is not None
        text = ticket_note(
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
        )
        if undone is not None:
            state = "undone" if undone.ok else "undo FAILED"
            text += f"\nLater: the change was {state} ({undone.message})."
        return text

    @Slot()
    def on_undo_button_clicked(self) -> None:
        executor, result = self.ctx.executor, self.ctx.result
        if executor is None or result is None:
            return
        self.undo_button.setEnabled(False)
        self.undo_runner.show()
        self.undo_runner.set_steps(executor.undo_steps(result))
        self.undo_runner.add_log("Undoing the change.")
        self.ctx.applying = True
        job = self.ctx.worker.submit_session(
            run_steps,
            executor.undo,
            result,
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
        self.undo_runner.begin()

    @Slot(object)
    def on_undo_succeeded(self, res: object) -> None:
        self.ctx.undo_result = res  # type: ignore[assignment]
        self._refresh()

    @Slot(object)
    def on_undo_failed(self, exc: object) -> None:
        self.undo_runner.add_log(f"Undo failed: {exc}")
        self.banner.show_message(
            Tone.BAD, "Undo failed", str(exc), "Check the VM in the vSphere Client."
        )

    @Slot()
    def on_undo_finished(self) -> None:
        self._job = None
        self.ctx.applying = False
        self.undo_runner.end()
        self.undo_button.setEnabled(True)
