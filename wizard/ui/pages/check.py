"""Check: the verdict in one look, each condition with its value, source and why it matters."""

from __future__ import annotations

import dataclasses
import logging

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QApplication,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QWidget,
)

from wizard.kb.facts import EvidenceItem, EvidenceKind
from wizard.kb.model import Assessment, Condition, ConditionId, ConditionState, Verdict
from wizard.ui.gateway import CheckResult
from wizard.ui.pages.base import BasePage, PageId
from wizard.ui.theme import MUTED, Tone, monospace, scaled_font, tint
from wizard.ui.vm_model import POWER_WORDS, guest_name, hw_label
from wizard.ui.widgets import (
    BusyRow,
    IconLabel,
    Look,
    Panel,
    empty_layout,
    heading,
    shown_at_once,
    wrapped,
)
from wizard.ui.wizard_state import WizardContext
from wizard.ui.worker import Job
from wizard.vsphere.errors import VsphereError

_log = logging.getLogger(__name__)

VERDICT_LOOK: dict[Verdict, tuple[Tone, str]] = {
    Verdict.CONFIRMED: (Tone.BAD, "Confirmed: vMotion of this VM has failed for this reason"),
    Verdict.AFFECTED: (Tone.BAD, "Affected: vMotion of this VM will fail for this reason"),
    Verdict.AT_RISK: (Tone.WARN, "At risk: fine today, affected after a hardware upgrade"),
    Verdict.POSSIBLY_AFFECTED: (Tone.UNKNOWN, "Possibly affected: not enough is known"),
    Verdict.MITIGATED: (Tone.SHIELD, "Mitigated: the conditions hold, a workaround is in place"),
    Verdict.NOT_AFFECTED: (Tone.GOOD, "Not affected: this failure does not apply to this VM"),
}

CONDITION_TITLES: dict[ConditionId, str] = {
    ConditionId.DISPLAY: "Display larger than one 1280x1024 screen",
    ConditionId.WDDM: "Guest OS draws its screen with WDDM",
    ConditionId.HW8: "Virtual hardware version 8",
    ConditionId.NO_3D: "3D graphics turned off",
}

STATE_LOOK: dict[ConditionState, tuple[Tone, str]] = {
    ConditionState.MET: (Tone.BAD, "Holds"),
    ConditionState.NOT_MET: (Tone.GOOD, "Does not hold"),
    ConditionState.UNKNOWN: (Tone.UNKNOWN, "Unknown"),
}


EVIDENCE_WORDS: dict[EvidenceKind, str] = {
    EvidenceKind.EVENT: "vCenter event",
    EvidenceKind.TASK: "vCenter task",
    EvidenceKind.LOG: "the VM's log",
}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class ConditionRow(Panel):
    """One condition: state (icon and word), title and value, detail; why and source on demand.

    ``raw`` is the value as vSphere reports it (a guest id, ``vmx-08``), shown with the source
    in the details only.
    """

    def __init__(self, cond: Condition, parent: QWidget | None = None, raw: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("conditionRow")
        self.set_look(Look(fill=QPalette.ColorRole.Base, radius=5))
        tone, word = STATE_LOOK[cond.state]
        state = QWidget(self)
        sl = QHBoxLayout(state)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.setSpacing(6)
        # A cross would read as "no": a condition that holds gets an exclamation mark.
        name = "cond-holds" if cond.state == ConditionState.MET else tone.icon_name
        sl.addWidget(IconLabel(name, 18, state))
        self.state_label = QLabel(word, state)
        tint(self.state_label, tone.fg, bold=True)
        sl.addWidget(self.state_label)
        sl.addStretch(1)
        em = self.fontMetrics().averageCharWidth()
        state.setFixedWidth(em * 17)
        self.state_widget = state

        title = QLabel(CONDITION_TITLES.get(cond.id, cond.id.value), self)
        title.setFont(scaled_font(title, 1.0, bold=True))
        self.value_label = wrapped(cond.value, self, selectable=True)
        detail = wrapped(cond.detail, self)
        self.detail_label = detail
        why = wrapped(f"Why it matters: {cond.why_it_matters}", self)
        tint(why, MUTED)
        read = f"Read from {cond.source}" + (f": {raw}" if raw else "")
        source = wrapped(read, self, selectable=True)
        source.setFont(monospace())
        source.setFont(scaled_font(source, 0.9))
        tint(source, MUTED)

        grid = QGridLayout(self)
        grid.setContentsMargins(12, 10, 12, 10)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(3)
        grid.addWidget(state, 0, 0, 1, 1, Qt.AlignmentFlag.AlignTop)
        head = QHBoxLayout()
        head.setSpacing(10)
        head.addWidget(title)
        head.addWidget(self.value_label, 1)
        grid.addLayout(head, 0, 1)
        grid.addWidget(detail, 1, 1)
        grid.addWidget(why, 2, 1)
        grid.addWidget(source, 3, 1)
        grid.setColumnStretch(1, 1)
        self.details = (why, source)
        for widget in self.details:
            widget.hide()
        self.setAccessibleName(f"{title.text()}: {word}, {cond.value}")
        self._title = title.text()
        self._value = cond.value

    def set_details_shown(self, shown: bool) -> None:
        """Show or hide why the condition matters and where its value was read."""
        for widget in self.details:
            widget.setVisible(shown)

    def set_judgement_hidden(self, hidden: bool) -> None:
        """Show the facts only (value, why it matters, source): the trainee judges them."""
        self.state_widget.setVisible(True)  # keeps its width, so rows do not jump
        for child in self.state_widget.findChildren(QWidget):
            child.setVisible(not hidden)
        self.detail_label.setVisible(not hidden)
        if hidden:
            self.setAccessibleName(f"{self._title}: {self._value}")


class CheckPage(BasePage):
    """Read the VM and show why vMotion fails (or not).

    Attributes:
        banner: the verdict (tone, icon, words).
        busy: progress while reading.
        log_button: "Read the VM's log".
    """

    page_id = PageId.CHECK

    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._judgement_hidden = False
        self._condition_rows: list[ConditionRow] = []
        self._judging: list[QWidget] = []
        layout = self.scroll_body()
        self.vm_line = QLabel(self)
        self.vm_line.setFont(scaled_font(self.vm_line, 1.05, bold=True))
        self.vm_line.setAccessibleName("VM checked")
        self.vm_line.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.vm_line.setWordWrap(True)
        layout.addWidget(self.vm_line)
        self.busy, self.banner = self.busy_and_banner(
            layout, self.on_busy_cancel_requested, icon_size=40
        )
        self.banner.set_title_scale(1.25)

        self._results = QWidget(self)
        self._rl = QGridLayout(self._results)
        self._rl.setContentsMargins(0, 0, 0, 0)
        self._rl.setVerticalSpacing(8)
        layout.addWidget(self._results)

        self.log_button = QPushButton("Read the VM's &log", self)
        self.log_button.setAccessibleName("Read the VM's log")
        self.log_button.setToolTip(
            "Downloads vmware.log from the VM's datastore and looks for the failure's traces."
        )
        self.log_button.setAutoDefault(False)
        self.log_button.clicked.connect(self.on_log_button_clicked)
        self.again_button = QPushButton("Check &again", self)
        self.again_button.setAccessibleName("Check again")
        self.again_button.setAutoDefault(False)
        self.again_button.clicked.connect(self.on_again_button_clicked)
        self.details_button = QPushButton("Show &details", self)
        self.details_button.setCheckable(True)
        self.details_button.setAutoDefault(False)
        self.details_button.setAccessibleName("Show details")
        self.details_button.setToolTip(
            "Why each condition matters, and the vSphere property each value was read from."
        )
        self.details_button.toggled.connect(self.on_details_button_toggled)
        buttons = QHBoxLayout()
        buttons.addWidget(self.log_button)
        buttons.addWidget(self.again_button)
        buttons.addWidget(self.details_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.log_busy = BusyRow(self)
        self.log_busy.cancelRequested.connect(self.on_log_busy_cancel_requested)
        layout.addWidget(self.log_busy)
        self.log_note = wrapped(parent=self)
        self.log_note.hide()
        layout.addWidget(self.log_note)
        layout.addStretch(1)
        self._details: list[QWidget] = []
        self._job: Job | None = None
        self._log_job: Job | None = None
        self._checked_moref = ""
        self.first_focus = self.log_button
        self._set_buttons()

    # ---------------------------------------------------------------- QWizardPage

    def initializePage(self) -> None:
        vm = self.ctx.vm
        assert vm is not None
        self.vm_line.setText(vm.name)
        if self.ctx.check is not None and self._checked_moref == vm.moref:
            self.show_result(self.ctx.check)
            return
        early = self.ctx.take_early_check(vm.moref)
        if early is None or early.outcome in (("cancelled", None), ("ok", None)):
            self._start_check()
        elif early.job is not None:
            self._start_check(early.job)  # started on Choose VM: its verdict is on its way
        else:
            self._show_checking()  # it has ended already: show what it brought
            kind, payload = early.outcome or ("cancelled", None)
            if kind == "ok":
                self.on_check_succeeded(payload)
            else:
                self.on_check_failed(payload)
            self.on_check_finished()
        if early is not None:
            early.deleteLater()

    def cleanupPage(self) -> None:
        for job in (self._job, self._log_job):
            if job is not None:
                job.cancel()

    def isComplete(self) -> bool:
        return self.ctx.check is not None and self._job is None

    def nextId(self) -> int:
        return int(PageId.CHOOSE_FIX)

    # ---------------------------------------------------------------- check

    def _show_checking(self) -> None:
        vm = self.ctx.vm
        assert vm is not None
        self.ctx.check = None
        self.banner.hide()
        self._clear_results()
        self.log_note.hide()
        self.busy.start(f"Reading {vm.name}'s settings, its host and cluster, and recent events…")

    def _start_check(self, job: Job | None = None) -> None:
        """Read and judge the chosen VM, or follow ``job``, a check of it already running."""
        self._show_checking()
        vm = self.ctx.vm
        assert vm is not None
        if job is None:
            job = self.ctx.submit_check(vm.moref)
        job.succeeded.connect(self.on_check_succeeded)
        job.failed.connect(self.on_check_failed)
        job.finished.connect(self.on_check_finished)
        self._job = job
        self._set_buttons()
        self.completeChanged.emit()

    @Slot(object)
    def on_check_succeeded(self, result: object) -> None:
        assert isinstance(result, CheckResult)
        self.ctx.check = result
        self.ctx.remedy = None
        self._checked_moref = result.facts.moref
        self.show_result(result)

    @Slot(object)
    def on_check_failed(self, exc: object) -> None:
        if isinstance(exc, VsphereError):
            msg, nxt = exc.message, exc.next_step
        else:
            _log.warning("check failed: %r", exc)
            msg = f"The check failed ({type(exc).__name__}: {exc})."
            nxt = "Press “Check again”; if it keeps failing, send the log to your vSphere team."
        self.banner.show_message(Tone.BAD, "The VM could not be checked", msg, nxt)

    @Slot()
    def on_check_finished(self) -> None:
        self._job = None
        self.busy.stop()
        self._set_buttons()
        self.completeChanged.emit()
        focus = QApplication.focusWidget()
        if self.isVisible() and (focus is None or not self.isAncestorOf(focus)):
            # Return then means Next; Tab reaches the log and re-check buttons.
            self.log_button.setFocus()

    @Slot()
    def on_busy_cancel_requested(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self.banner.show_message(Tone.INFO, "Check cancelled", "Press “Check again” to retry.")

    @Slot()
    def on_again_button_clicked(self) -> None:
        self._start_check()

    def _set_buttons(self) -> None:
        idle = self._job is None and self._log_job is None
        self.again_button.setEnabled(idle)
        self.log_button.setEnabled(idle and self.ctx.check is not None)

    # ---------------------------------------------------------------- showing

    def _clear_results(self) -> None:
        empty_layout(self._rl)

    def set_judgement_hidden(self, hidden: bool) -> None:
        """Training, before the trainee commits a verdict: the facts, not the judgement.

        The verdict banner, each condition's "Holds"/"Does not hold" and its verdict-like
        detail, the protections found and the notes are hidden; values, sources and evidence
        stay, so the trainee judges from what a technician would read.
        """
        self._judgement_hidden = hidden
        self.banner.setVisible(not hidden and self.ctx.check is not None)
        for row in self._condition_rows:
            row.set_judgement_hidden(hidden)
        for widget in self._judging:
            widget.setVisible(not hidden)

    def show_verdict(self) -> None:
        """Reveal the judgement and bring the verdict into view (after the trainee's answer)."""
        self.set_judgement_hidden(False)
        area = self.findChild(QScrollArea)
        if area is not None:
            area.ensureWidgetVisible(self.banner)
            area.verticalScrollBar().setValue(0)

    @Slot(bool)
    def on_details_button_toggled(self, shown: bool) -> None:
        self.details_button.setText("Hide &details" if shown else "Show &details")
        self.details_button.setAccessibleName("Hide details" if shown else "Show details")
        for row in self._condition_rows:
            row.set_details_shown(shown)
        for widget in self._details:
            widget.setVisible(shown)

    def show_result(self, result: CheckResult) -> None:
        """Fill the page from a check."""
        facts, a = result.facts, result.assessment
        host = facts.host.name if facts.host else "unknown host"
        self.vm_line.setText(
            f"{facts.name}  ·  {guest_name(facts.tools_guest_id or facts.guest_id)}  ·  "
            f"hardware version {hw_label(facts.hardware_version)}  ·  "
            f"powered {POWER_WORDS.get(facts.power_state, facts.power_state).lower()}  ·  {host}"
        )
        tone, words = VERDICT_LOOK[a.verdict]
        self.banner.show_message(tone, words, a.reason)
        self._clear_results()
        row = 0

        def add(widget: QWidget) -> None:
            nonlocal row
            self._rl.addWidget(shown_at_once(widget), row, 0)
            row += 1

        add(heading("The four conditions", self._results))
        raw = {
            ConditionId.WDDM: (facts.tools_guest_id or "").strip() or facts.guest_id.strip(),
            ConditionId.HW8: facts.hardware_version.strip(),
        }
        self._condition_rows = [
            ConditionRow(cond, self._results, raw.get(cond.id, "")) for cond in a.conditions
        ]
        for condition_row in self._condition_rows:
            add(condition_row)
        self._judging = []
        if a.mitigations:
            self._judging.append(heading("Already in place", self._results))
            add(self._judging[-1])
            for m in a.mitigations:
                self._judging.append(_bullet(m, Tone.SHIELD, self._results))
                add(self._judging[-1])
        self._details = []
        if a.evidence:
            add(
                heading(
                    f"Evidence of the failure: {_plural(len(a.evidence), 'trace')}", self._results
                )
            )
            for ev in a.evidence:
                item, source = _evidence(ev, self._results)
                self._details.append(source)
                add(item)
        else:
            add(heading("Evidence of the failure", self._results))
        if not a.evidence:
            add(
                wrapped(
                    "No trace of this failure in the VM's recent events and tasks. "
                    "Its log may still have one: read it below.",
                    self._results,
                )
            )
        if a.notes:
            self._judging.append(heading("Notes", self._results))
            add(self._judging[-1])
            for n in a.notes:
                self._judging.append(_bullet(n, Tone.INFO, self._results))
                add(self._judging[-1])
        self.set_judgement_hidden(self._judgement_hidden)
        self.on_details_button_toggled(self.details_button.isChecked())
        self._set_buttons()
        self.completeChanged.emit()

    # ---------------------------------------------------------------- the VM's log

    @Slot()
    def on_log_button_clicked(self) -> None:
        check = self.ctx.check
        if check is None:
            return
        self.log_note.hide()
        self.log_busy.start("Reading vmware.log from the VM's datastore…")
        job = self.ctx.worker.submit_session(
            self.ctx.gateway.read_vm_log, check.facts, description="read vmware.log"
        )
        job.succeeded.connect(self.on_log_succeeded)
        job.failed.connect(self.on_log_failed)
        job.finished.connect(self.on_log_finished)
        self._log_job = job
        self._set_buttons()

    @Slot(object)
    def on_log_succeeded(self, items: object) -> None:
        check = self.ctx.check
        assert isinstance(items, tuple)
        assert check is not None
        known = set(check.facts.evidence)
        new = tuple(i for i in items if isinstance(i, EvidenceItem) and i not in known)
        if not new:
            self.log_note.setText("The VM's log has no trace of this failure.")
            self.log_note.show()
            return
        facts = dataclasses.replace(check.facts, evidence=check.facts.evidence + new)
        result = self.ctx.gateway.judge(facts)
        self.ctx.check = result
        self.ctx.remedy = None
        self.show_result(result)
        self.log_note.setText(f"The VM's log shows {_plural(len(new), 'trace')} of this failure.")
        self.log_note.show()

    @Slot(object)
    def on_log_failed(self, exc: object) -> None:
        if isinstance(exc, VsphereError):
            text = f"{exc.message} {exc.next_step}".strip()
        else:
            text = f"The log could not be read ({type(exc).__name__})."
        self.log_note.setText(text)
        self.log_note.show()

    @Slot()
    def on_log_finished(self) -> None:
        self._log_job = None
        self.log_busy.stop()
        self._set_buttons()

    @Slot()
    def on_log_busy_cancel_requested(self) -> None:
        if self._log_job is not None:
            self._log_job.cancel()

    @property
    def assessment(self) -> Assessment | None:
        return self.ctx.check.assessment if self.ctx.check else None


def _bullet(text: str, tone: Tone, parent: QWidget) -> QWidget:
    w = QWidget(parent)
    row = QHBoxLayout(w)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(8)
    row.addWidget(IconLabel(tone.icon_name, 16, w), 0, Qt.AlignmentFlag.AlignTop)
    row.addWidget(wrapped(text, w, selectable=True), 1)
    return w


def _evidence(ev: EvidenceItem, parent: QWidget) -> tuple[QWidget, QWidget]:
    """One trace: when and where in words, its text; the exact source (returned second) is a
    detail."""
    w = Panel(parent, Look(border=Tone.BAD.fg, width=3, edge=Qt.Edge.LeftEdge))
    w.setObjectName("evidence")
    col = QGridLayout(w)
    col.setContentsMargins(10, 2, 0, 2)
    col.setVerticalSpacing(2)
    when = f"{ev.time:%Y-%m-%d %H:%M}  ·  " if ev.time else ""
    head = QLabel(f"{when}{EVIDENCE_WORDS.get(ev.kind, ev.kind.value)}", w)
    head.setFont(scaled_font(head, 1.0, bold=True))
    head.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    text = wrapped(ev.text, w, selectable=True)
    text.setFont(monospace())
    source = wrapped(f"Read from {ev.source}", w, selectable=True)
    source.setFont(scaled_font(source, 0.9))
    tint(source, MUTED)
    source.hide()
    col.addWidget(head, 0, 0)
    col.addWidget(text, 1, 0)
    col.addWidget(source, 2, 0)
    w.setAccessibleName(f"Evidence: {head.text()}")
    return w, source
