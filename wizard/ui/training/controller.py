"""Training mode around the ordinary wizard: the coach panel, the debrief page and the hooks.

The pages stay what they are for a real fix; this controller adds training from outside:

- the coach panel (a dock on the right, View ▸ Coach) follows the page and the state;
- on the Check page, the verdict stays hidden until the trainee has said what they expect (or
  asked to see it), and "Try the vMotion" reproduces the failure in the lab;
- on Choose fix, opening a fix's caveats is recorded for the debrief;
- after Done comes the debrief page; its "Try again" starts a fresh lab from the same scenario.

The lab itself belongs to the context (:class:`~wizard.ui.wizard_state.WizardContext`), never to a
page: closing the window or quitting the application stops it whatever a page did.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, cast

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QWizard

from wizard.kb.model import RemedyId
from wizard.ui.gateway import try_vmotion
from wizard.ui.pages.base import PageId
from wizard.ui.pages.check import CheckPage
from wizard.ui.pages.choose_fix import ChooseFixPage
from wizard.ui.pages.done import DonePage
from wizard.ui.pages.welcome import WelcomePage
from wizard.ui.training.coach import CoachInput, RenewalTry, Step, VmotionTry, coach
from wizard.ui.training.debrief_page import DEBRIEF_PAGE_ID, DebriefPage
from wizard.ui.training.panel import CoachPanel, guess_words
from wizard.ui.training.session import TrainingSession
from wizard.ui.wizard_state import WizardContext
from wizard.ui.worker import Job
from wizard.vsphere.errors import CertificateChanged, CertificateUntrusted, VsphereError
from wizard.vsphere.records import MigrationOutcome

_log = logging.getLogger(__name__)

_HOOKED = "trainingHooked"

_STEPS: dict[int, Step] = {
    int(PageId.WELCOME): Step.WELCOME,
    int(PageId.CONNECT): Step.CONNECT,
    int(PageId.CHOOSE_VM): Step.CHOOSE_VM,
    int(PageId.CHECK): Step.CHECK,
    int(PageId.CHOOSE_FIX): Step.CHOOSE_FIX,
    int(PageId.READY): Step.READY,
    int(PageId.APPLY): Step.APPLY,
    int(PageId.DONE): Step.DONE,
    DEBRIEF_PAGE_ID: Step.DEBRIEF,
}


class TrainingController(QObject):
    """Adds training mode to a main window that holds a :class:`CheckpointWizard`.

    Attributes:
        panel: the coach panel (hidden outside training).
        coach_action: View ▸ Coach (checkable; enabled in training).
        help_action: Help ▸ The failure and its fixes.
        debrief: the debrief page while training, else None.
    """

    def __init__(self, window: QMainWindow, ctx: WizardContext, wizard: Any) -> None:
        super().__init__(window)
        self._window = window
        self.ctx = ctx
        self.wizard = wizard
        self.panel = CoachPanel(window)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.panel)
        self.panel.hide()
        self.coach_action = self.panel.toggleViewAction()
        self.coach_action.setText("&Coach panel")
        self.coach_action.setEnabled(False)
        self.help_action = QAction("The &failure and its fixes", self)
        self.help_action.triggered.connect(self.on_help_action_triggered)
        self.debrief: DebriefPage | None = None
        self._vmotion_job: Job | None = None
        self._renew_job: Job | None = None
        self._last_step: Step | None = None
        self._taken: list[object] = []  # Done page outcomes already recorded
        self.exam = False

        self.panel.helpRequested.connect(self.on_panel_help_requested)
        self.panel.guessCommitted.connect(self.on_panel_guess_committed)
        self.panel.vmotionRequested.connect(self.on_panel_vmotion_requested)
        self.panel.renewRequested.connect(self.on_panel_renew_requested)
        ctx.trainingChanged.connect(self.on_ctx_training_changed)
        wizard.currentIdChanged.connect(self.on_wizard_current_id_changed)
        for pid in (PageId.CHECK, PageId.CHOOSE_FIX, PageId.APPLY, PageId.DONE, PageId.CHOOSE_VM):
            wizard.page_of(pid).completeChanged.connect(self.on_page_complete_changed)
        if isinstance(ctx.training, TrainingSession):
            self.on_ctx_training_changed(ctx.training)

    # ---------------------------------------------------------------- state

    @property
    def session(self) -> TrainingSession | None:
        t = self.ctx.training
        return t if isinstance(t, TrainingSession) else None

    def _step(self) -> Step | None:
        return _STEPS.get(self.wizard.currentId())

    def coach_input(self) -> CoachInput:
        """What the coach sees now (plain data)."""
        s, ctx = self.session, self.ctx
        check = ctx.check
        step = self._step() or Step.WELCOME
        chosen = ctx.remedy
        if step == Step.CHOOSE_FIX:
            page = self.wizard.page_of(PageId.CHOOSE_FIX)
            card = page.selected_card() if isinstance(page, ChooseFixPage) else None
            chosen = card.remedy if card is not None else None
        result = ctx.result
        return CoachInput(
            step=step,
            brief=s.brief if s is not None else None,
            thumbprint=ctx.lab_info.thumbprint_sha256 if ctx.lab_info is not None else None,
            ca_thumbprint=ctx.lab_info.ca_thumbprint_sha256 if ctx.lab_info is not None else None,
            connected=ctx.worker.connected,
            renewal=s.renewal if s is not None else None,
            vm_name=ctx.vm.name if ctx.vm is not None else None,
            facts=check.facts if check is not None else None,
            assessment=check.assessment if check is not None else None,
            remedies=check.remedies if check is not None else (),
            chosen=chosen,
            guess=s.guess if s is not None else None,
            revealed=s.revealed if s is not None else True,
            vmotion=tuple(s.vmotion) if s is not None else (),
            applied=bool(result is not None and result.ok and result.verified),
        )

    def refresh(self) -> None:
        """Show the coach's note for the page and state now."""
        s = self.session
        if s is None:
            return
        step = self._step()
        inp = self.coach_input()
        note = coach(inp)
        shown = self.panel.hints_shown if step == self._last_step else 0
        if step is not None:
            shown = max(shown, s.hints_shown.get(step, 0))
        self.panel.show_note(note, s.brief.title, shown)
        on_check = step == Step.CHECK and self.ctx.check is not None
        # On Done the page offers the test vMotion itself; the coach offers it on Check only.
        self.panel.set_actions(
            guess=on_check and not s.revealed,
            vmotion=on_check,
            renew=note.action == "renew",
        )
        if on_check and s.revealed and self.ctx.check is not None:
            text, tone = guess_words(s.guess, self.ctx.check.assessment.verdict)
            self.panel.set_guess_result(text, tone)
        else:
            self.panel.set_guess_result("", None)
        self._hide_verdict_until_guessed()

    def _take_done_tests(self) -> None:
        """Record the test vMotions run from the Done page (each once)."""
        s, done = self.session, self.wizard.page_of(PageId.DONE)
        if s is None or not isinstance(done, DonePage):
            return
        result = self.ctx.result
        after = bool(result is not None and result.ok and result.changes)
        for outcome in done.tests:
            if any(o is outcome for o in self._taken):
                continue
            self._taken.append(outcome)
            s.vmotion.append(
                VmotionTry(outcome.succeeded, outcome.message, outcome.destination_host, after)
            )

    def _hide_verdict_until_guessed(self) -> None:
        s = self.session
        page = self.wizard.page_of(PageId.CHECK)
        if s is None or not isinstance(page, CheckPage):
            return
        if self.ctx.check is not None:
            page.set_judgement_hidden(not s.revealed)

    def _hook_caveats(self) -> None:
        """Record when a fix's caveats are open (the recommended one opens by itself)."""
        page = self.wizard.page_of(PageId.CHOOSE_FIX)
        if not isinstance(page, ChooseFixPage):
            return
        for card in page.cards:
            rid = card.remedy.id
            toggle = card.caveats.toggle
            if toggle.isChecked():
                self._caveats_opened(rid)
            if toggle.property(_HOOKED):
                continue  # cards are rebuilt for each check: each new one is hooked once
            toggle.setProperty(_HOOKED, True)
            toggle.toggled.connect(lambda on, r=rid: self._caveats_opened(r) if on else None)
            card.radio.toggled.connect(self.on_fix_radio_toggled)

    def _caveats_opened(self, rid: RemedyId) -> None:
        s = self.session
        if s is not None:
            s.caveats_seen(rid)

    # ---------------------------------------------------------------- training on and off

    def set_exam(self, on: bool) -> None:
        """Exam mode (``wizard.ui.training.exam``): the panel keeps only the verdict question;
        the coach and the training help cannot be opened."""
        self.exam = on
        self.panel.set_exam(on)
        self.coach_action.setEnabled(not on and self.session is not None)
        self.help_action.setEnabled(not on)

    @Slot(object)
    def on_ctx_training_changed(self, session: object) -> None:
        training = isinstance(session, TrainingSession)
        self.coach_action.setEnabled(training and not self.exam)
        if training:
            assert isinstance(session, TrainingSession)
            session.changed.connect(self.on_session_changed)
            self.panel.reset_guess()
            self._install_debrief()
            self.panel.show()
            self._make_room()
            self.refresh()
        else:
            self.panel.hide()
            self._remove_debrief()

    def _install_debrief(self) -> None:
        if self.debrief is not None:
            return
        page = DebriefPage(self.ctx)
        page.tryAgainRequested.connect(self.on_debrief_try_again_requested)
        self.wizard.setPage(DEBRIEF_PAGE_ID, page)
        self.debrief = page

    def _remove_debrief(self) -> None:
        page, self.debrief = self.debrief, None
        if page is not None:
            self.wizard.removePage(DEBRIEF_PAGE_ID)
            page.deleteLater()

    def _make_room(self) -> None:
        """Widen the window so the wizard keeps its size beside the coach."""
        win = self._window
        if win.isMaximized() or win.isFullScreen():
            return
        want = self.wizard.minimumWidth() + self.panel.widget().minimumWidth() + 40
        if win.width() < want:
            screen = win.screen()
            limit = screen.availableGeometry().width() if screen is not None else want
            win.resize(min(want, limit), win.height())

    # ---------------------------------------------------------------- slots

    @Slot(int)
    def on_wizard_current_id_changed(self, page_id: int) -> None:
        s = self.session
        if s is None:
            return
        if self._last_step is not None:  # keep the hints revealed there for a return visit
            s.hints_shown[self._last_step] = self.panel.hints_shown
        if self._last_step == Step.DONE:
            self._take_done_tests()
        self._last_step = _STEPS.get(page_id)
        if page_id == int(PageId.CHOOSE_FIX):
            self._hook_caveats()
        if page_id == DEBRIEF_PAGE_ID and self.debrief is not None:
            self.debrief.refresh()
        self.refresh()

    @Slot()
    def on_page_complete_changed(self) -> None:
        if self.session is None:
            return
        if self.wizard.currentId() == int(PageId.CHOOSE_FIX):
            self._hook_caveats()
        self.refresh()

    @Slot(bool)
    def on_fix_radio_toggled(self, checked: bool) -> None:
        if checked and self.session is not None:
            self.refresh()

    @Slot()
    def on_session_changed(self) -> None:
        self.refresh()

    @Slot(object)
    def on_panel_guess_committed(self, verdict: object) -> None:
        s = self.session
        if s is None:
            return
        s.commit_guess(verdict if verdict is not None else None)  # type: ignore[arg-type]
        page = self.wizard.page_of(PageId.CHECK)
        if isinstance(page, CheckPage) and self.ctx.check is not None:
            page.show_verdict()

    @Slot()
    def on_panel_vmotion_requested(self) -> None:
        check = self.ctx.check
        if check is None or self._vmotion_job is not None:
            return
        self.panel.vmotion_started(check.facts.name)
        job = self.ctx.worker.submit_session(
            functools.partial(try_vmotion, self.ctx.gateway),
            check.facts,
            description="test vMotion",
            with_token=True,
        )
        job.succeeded.connect(self.on_vmotion_succeeded)
        job.failed.connect(self.on_vmotion_failed)
        job.finished.connect(self.on_vmotion_finished)
        self._vmotion_job = job

    @Slot(object)
    def on_vmotion_succeeded(self, outcome: object) -> None:
        done = cast("MigrationOutcome", outcome)
        result = self.ctx.result
        after = bool(result is not None and result.ok and result.changes)
        attempt = VmotionTry(done.succeeded, done.message, done.destination_host, after)
        if done.succeeded:
            text = f"vMotion worked: {done.message}"
        elif after:
            text = f"vMotion still fails: {done.message}"
        else:
            text = f"vMotion failed, as in the ticket: {done.message}"
        self.panel.vmotion_finished(done.succeeded, text)
        s = self.session
        if s is not None:
            s.add_vmotion(attempt)

    @Slot(object)
    def on_vmotion_failed(self, exc: object) -> None:
        if isinstance(exc, VsphereError):
            text = f"The vMotion could not be tried: {exc.message} {exc.next_step}".strip()
        else:
            _log.warning("test vMotion failed: %r", exc)
            text = f"The vMotion could not be tried ({type(exc).__name__})."
        self.panel.vmotion_finished(None, text)

    @Slot()
    def on_vmotion_finished(self) -> None:
        self._vmotion_job = None

    # ---------------------------------------------------------------- the renewal exercise

    @Slot()
    def on_panel_renew_requested(self) -> None:
        """Renew the lab's certificate (lab worker), then sign in once more (session worker)."""
        if self._renew_job is not None:
            return
        job = self.ctx.renew_lab_certificate()
        if job is None:
            self.panel.renew_finished(None, "The lab is not running: start the scenario again.")
            return
        self.panel.renew_started()
        job.succeeded.connect(self.on_lab_renewed)
        job.failed.connect(self.on_renewal_failed)
        self._renew_job = job

    @Slot(object)
    def on_lab_renewed(self, _info: object) -> None:
        info = self.ctx.lab_info
        if info is None:
            self._renew_job = None
            return
        gateway = self.ctx.gateway
        timeout = float(self.ctx.settings.call_timeout_s)

        def sign_in_again() -> str:
            session = gateway.connect(
                f"{info.host}:{info.port}", info.user, info.password, timeout=timeout
            )
            session.close()
            return info.thumbprint_sha256

        job = self.ctx.worker.submit(sign_in_again, description="sign in again")
        job.succeeded.connect(self.on_signed_in_again)
        job.failed.connect(self.on_renewal_failed)
        self._renew_job = job

    @Slot(object)
    def on_signed_in_again(self, thumbprint: object) -> None:
        self._renew_job = None
        ends = str(thumbprint)
        parts = ends.split(":")
        if len(parts) >= 8:
            ends = f"{':'.join(parts[:4])} … {':'.join(parts[-4:])}"
        self._record_renewal(
            RenewalTry("silent"),
            True,
            f"Signed in again without a question. The renewed certificate ({ends}) was issued "
            "by the authority you trusted, so the wizard accepted it.",
        )

    @Slot(object)
    def on_renewal_failed(self, exc: object) -> None:
        self._renew_job = None
        if isinstance(exc, CertificateChanged):
            attempt = RenewalTry("changed")
            text = (
                "Stopped: \u201ccertificate changed\u201d. You trusted the certificate itself, "
                "and the renewed one is another certificate. The wizard sent no password."
            )
        elif isinstance(exc, CertificateUntrusted):
            attempt = RenewalTry("asked")
            text = (
                "Asked again: the renewed certificate is not the one you trusted for this "
                "session, so the wizard would ask you to compare fingerprints once more."
            )
        else:
            message = exc.message if isinstance(exc, VsphereError) else type(exc).__name__
            _log.warning("the renewal exercise failed: %s", message)
            self._record_renewal(
                RenewalTry("failed", message), None, f"Could not sign in again: {message}"
            )
            return
        self._record_renewal(attempt, False, text)

    def _record_renewal(self, attempt: RenewalTry, ok: bool | None, text: str) -> None:
        self.panel.renew_finished(ok, text)
        s = self.session
        if s is not None:
            s.add_renewal(attempt)

    @Slot(str)
    def on_panel_help_requested(self, topic: str) -> None:
        self.wizard.show_topic(topic)

    @Slot()
    def on_help_action_triggered(self) -> None:
        self.wizard.show_topic("training/index")

    @Slot()
    def on_debrief_try_again_requested(self) -> None:
        self.try_again()

    def another_scenario(self) -> None:
        """Back to the scenarios, for the next case (the lab runs on until one is picked)."""
        self.try_again(restart_lab=False)

    def try_again(self, *, restart_lab: bool = True) -> None:
        """A fresh lab from the same scenario, and the wizard from the start."""
        if self.ctx.applying:
            return
        if self._vmotion_job is not None:
            self._vmotion_job.cancel()
        if self._renew_job is not None:
            self._renew_job.cancel()
            self._renew_job = None
        self.ctx.worker.close_session()
        self.ctx.forget_run()
        self.panel.reset_guess()
        self.panel.vmotion_finished(None, "")
        self.panel.vmotion_label.hide()
        self.panel.renew_label.hide()
        wizard: QWizard = self.wizard
        wizard.restart()
        welcome = self.wizard.page_of(PageId.WELCOME)
        if restart_lab and isinstance(welcome, WelcomePage):
            welcome.restart_lab()
        self.refresh()
