"""One run of a training scenario: the scenario and what the trainee did so far.

The wizard's context holds the session while training (``WizardContext.training``); the coach
panel, the Check page's verdict question, the caveat tracking and the debrief all read and
write it here, so each page stays what it is outside training.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from wizard.kb.facts import VmFacts
from wizard.kb.model import Remedy, RemedyId, Verdict
from wizard.lab.scenario import Scenario
from wizard.ui.training.coach import RenewalTry, ScenarioBrief, VmotionTry, brief_of
from wizard.ui.training.debrief import TrainingRecord

if TYPE_CHECKING:
    from wizard.ui.wizard_state import Result


class TrainingSession(QObject):
    """The scenario being practised and the trainee's trail through it.

    Signals:
        changed(): something the coach or the debrief looks at changed.

    Attributes:
        path: the scenario file.
        scenario: the scenario as loaded.
        brief: the scenario as the coach reads it.
        guess: the verdict the trainee committed to before it was shown (None: not yet).
        revealed: the Check page shows the verdict (after a guess, or when asked to).
        caveats_opened: fixes whose caveats were open at some point.
        vmotion: every test vMotion, oldest first.
        hints_shown: hints revealed per page (the coach panel keeps its place).
        started: when the trainee opened the case (or tried it again): the debrief's time taken
            counts from here.
        renewal: how signing in again went after the certificate was renewed (None: not yet).
    """

    changed = Signal()

    def __init__(self, path: Path, scenario: Scenario, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.scenario = scenario
        self.brief: ScenarioBrief = brief_of(scenario)
        self.guess: Verdict | None = None
        self.revealed = False
        self.caveats_opened: set[RemedyId] = set()
        self.vmotion: list[VmotionTry] = []
        self.hints_shown: dict[str, int] = {}
        self.started = datetime.now().astimezone()
        self.renewal: RenewalTry | None = None

    def reset(self) -> None:
        """Forget the trail (a fresh lab from the same scenario: "Try again")."""
        self.guess = None
        self.revealed = False
        self.caveats_opened.clear()
        self.vmotion.clear()
        self.hints_shown.clear()
        self.started = datetime.now().astimezone()
        self.renewal = None
        self.changed.emit()

    def commit_guess(self, verdict: Verdict | None) -> None:
        """Record the trainee's verdict (None: shown without a guess) and reveal the verdict."""
        if not self.revealed:
            self.guess = verdict
        self.revealed = True
        self.changed.emit()

    def caveats_seen(self, remedy: RemedyId) -> None:
        if remedy not in self.caveats_opened:
            self.caveats_opened.add(remedy)
            self.changed.emit()

    def add_vmotion(self, attempt: VmotionTry) -> None:
        self.vmotion.append(attempt)
        self.changed.emit()

    def add_renewal(self, attempt: RenewalTry) -> None:
        """How signing in again went after the lab's certificate was renewed."""
        self.renewal = attempt
        self.changed.emit()

    def record(
        self,
        *,
        vm_name: str | None,
        facts: VmFacts | None,
        chosen: Remedy | None,
        result: Result | None,
    ) -> TrainingRecord:
        """What the trainee did, for :func:`wizard.ui.training.debrief.score`.

        Args:
            vm_name: the VM checked.
            facts: the VM as checked.
            chosen: the fix chosen (None: no change).
            result: what applying the fix gave, if it ran.
        """
        applied = result is not None and result.ok and result.verified
        steps = result.steps if result is not None else ()
        return TrainingRecord(
            vm_name=vm_name,
            guess=self.guess,
            chosen=chosen.id if chosen is not None else None,
            chosen_needs_power_off=bool(chosen is not None and chosen.needs_power_off),
            applied=applied,
            caveats_opened=frozenset(self.caveats_opened),
            steps=tuple((s.step, s.state) for s in steps),
            graceful_possible=bool(
                facts is not None and facts.power_state == "poweredOn" and facts.tools_running
            ),
            vmotion=tuple(self.vmotion),
        )


def start_session(path: Path) -> TrainingSession:
    """A new session for the scenario in ``path``.

    Raises:
        ValueError: the file is not a usable scenario (the message names the field).
    """
    from wizard.lab.scenario import ScenarioError, load_scenario

    try:
        scenario = load_scenario(path)
    except ScenarioError as exc:
        raise ValueError(str(exc)) from None
    return TrainingSession(path, scenario)
