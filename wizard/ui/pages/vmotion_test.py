"""Done page, test vMotion: pick a host, confirm, move the VM and show how it went.

:class:`VmotionTestMixin` is part of :class:`wizard.ui.pages.done.DonePage`; the page's
``vmotion`` section, ``_vmotion_job`` and ``_tests`` are its state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from wizard.kb.facts import VmFacts
from wizard.kb.model import RemedyId
from wizard.ui import dialogs
from wizard.ui.pages.base import BasePage
from wizard.ui.theme import MUTED, Tone, scaled_font, tint
from wizard.ui.ticket import duration_words
from wizard.ui.vm_model import POWER_WORDS
from wizard.ui.widgets import Banner, IconLabel, wrapped
from wizard.ui.wizard_state import Result
from wizard.ui.worker import Job
from wizard.vsphere.errors import VsphereError
from wizard.vsphere.records import HostChoice, MigrationOutcome

if TYPE_CHECKING:
    pass

if TYPE_CHECKING:
    _PageBase = BasePage
else:
    _PageBase = object


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
        tint(self.risk, Tone.BAD.fg, bold=True)
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
        tint(self.hosts_note, MUTED)
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


class VmotionTestMixin(_PageBase):
    """The Done page's optional test vMotion: the hosts, the confirmation and the move."""

    if TYPE_CHECKING:
        # What the test needs of the page it is part of (DonePage).
        vmotion: VmotionSection
        vmotion_head: QLabel
        _vmotion_job: Job | None
        _tests: list[MigrationOutcome]

        def _busy(self) -> bool: ...
        def _refresh(self) -> None: ...
        def _update_buttons(self) -> None: ...
        def _set_note(self, text: str) -> None: ...
        def _note(self) -> str: ...

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
                f"{facts.name} is "
                f"{POWER_WORDS.get(facts.power_state, facts.power_state).lower()}: a vMotion test "
                "needs it running."
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
