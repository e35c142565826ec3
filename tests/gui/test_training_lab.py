"""Training mode end to end against the real lab: every bundled scenario, a wrong turn, cleanup.

Each scenario is worked the way a trainee who knows the answer would: the verdict called before
it is shown, the vMotion tried before the fix (it fails with the article's message where the VM
is affected), the expected fix applied where the account may, the vMotion tried again, and the
debrief must pass. The lab process must be gone once the window closes, also when a page slot
raised on the way.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from tests.gui.conftest import DialogRecorder
from tests.gui.lab_flow import (
    LAB_MARKS,
    apply_fix,
    check_vm,
    open_windows,
    to_done,
    to_ready,
)
from tests.helpers.lab import lab_binary_for_tests
from wizard.kb.model import RemedyId, Verdict
from wizard.lab.process import LabProcess
from wizard.lab.scenario import bundled_scenarios_dir
from wizard.ui import dialogs
from wizard.ui.app import MainWindow
from wizard.ui.pages.base import PageId
from wizard.ui.pages.check import CheckPage
from wizard.ui.pages.choose_fix import ChooseFixPage
from wizard.ui.pages.done import DonePage
from wizard.ui.pages.welcome import WelcomePage
from wizard.ui.training.debrief import NEEDS_A_FIX, Mark
from wizard.ui.training.debrief_page import DEBRIEF_PAGE_ID, DebriefPage
from wizard.ui.training.session import TrainingSession
from wizard.ui.wizard_state import LabHandle

pytestmark = LAB_MARKS


BUNDLED = sorted(
    (
        p
        for p in (Path(__file__).resolve().parents[2] / "resources" / "scenarios").glob("*.json")
        if not p.name.endswith(".schema.json")  # the format's JSON Schema, not a scenario
    ),
    key=lambda p: p.name,
)
LAB_S = 120_000
STEP_MS = 60_000

SCENARIO_PARAMS = [pytest.param(p, id=p.stem) for p in BUNDLED]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0): it counts as gone once it has exited.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


class Labs:
    """A lab factory that records every lab process it starts."""

    def __init__(self) -> None:
        self.started: list[LabProcess] = []

    def __call__(self, scenario: Path) -> LabHandle:
        lab = LabProcess(scenario, binary=lab_binary_for_tests())
        self.started.append(lab)
        handle: LabHandle = lab
        return handle

    def pids(self) -> list[int]:
        return [p for p in (lab.pid for lab in self.started) if p is not None]


@pytest.fixture
def labs() -> Labs:
    return Labs()


@pytest.fixture
def open_training(
    qtbot: QtBot, labs: Labs, recorder: DialogRecorder
) -> Iterator[Callable[..., MainWindow]]:
    """Open the main window in training mode on a scenario (closed after the test)."""
    recorder.answers["CertificateDialog"] = dialogs.CertificateDialog.TRUST_ONCE
    recorder.answers["VmotionConfirmDialog"] = int(QDialog.DialogCode.Accepted)
    with open_windows(qtbot) as open_window:

        def make(scenario: Path, vm: str | None) -> MainWindow:
            return open_window(lab_factory=labs, training_scenario=scenario, vm=vm)

        yield make


def _session(win: MainWindow) -> TrainingSession:
    s = win.ctx.training
    assert isinstance(s, TrainingSession)
    return s


def _to_check(qtbot: QtBot, win: MainWindow) -> CheckPage:
    """Welcome (lab up) → Connect (trust the lab's certificate) → the VM → its check."""
    wz = win.wizard
    welcome = wz.page_of(PageId.WELCOME)
    assert isinstance(welcome, WelcomePage)
    assert welcome.training
    qtbot.waitUntil(lambda: win.ctx.lab_info is not None and welcome.isComplete(), timeout=LAB_S)
    wz.next()
    assert wz.currentId() == PageId.CONNECT
    wz.next()
    qtbot.waitUntil(lambda: wz.currentId() == PageId.CHOOSE_VM, timeout=STEP_MS)
    brief = _session(win).brief
    qtbot.waitUntil(lambda: win.ctx.vm is not None and win.ctx.vm.name == brief.vm, timeout=STEP_MS)
    return check_vm(qtbot, win, timeout=STEP_MS)


def _try_vmotion(qtbot: QtBot, win: MainWindow) -> None:
    session = _session(win)
    before = len(session.vmotion)
    panel = win.training.panel
    assert panel.vmotion_button.isVisible()
    panel.vmotion_button.click()
    qtbot.waitUntil(
        lambda: len(session.vmotion) > before or panel.vmotion_label.isVisible(), timeout=STEP_MS
    )


def _done_vmotion(qtbot: QtBot, win: MainWindow) -> None:
    """The Done page's own test vMotion (the coach records it for the debrief)."""
    done = win.wizard.page_of(PageId.DONE)
    assert win.wizard.currentId() == PageId.DONE
    assert not win.training.panel.vmotion_button.isVisible()  # the page has its own
    button = done.vmotion.test_button  # type: ignore[attr-defined]
    qtbot.waitUntil(button.isEnabled, timeout=STEP_MS)
    button.click()
    qtbot.waitUntil(lambda: bool(done.tests) and button.isEnabled(), timeout=STEP_MS)  # type: ignore[attr-defined]


def _guess(win: MainWindow, verdict: Verdict) -> None:
    panel = win.training.panel
    panel.verdict_combo.setCurrentIndex(panel.verdict_combo.findData(verdict.value))
    panel.commit_button.click()


def _apply(qtbot: QtBot, win: MainWindow) -> None:
    wz = win.wizard
    fix = wz.page_of(PageId.CHOOSE_FIX)
    assert isinstance(fix, ChooseFixPage)
    card = fix.selected_card()
    if card is not None and card.needs_guest_login:  # the lab takes any guest login
        card.guest_user_edit.setText(r".\trainee")
        card.guest_password_edit.setText("Guest-Lab-1")
    ready = to_ready(win)
    ready.confirm_check.setChecked(True)
    if ready.hard_check.isVisible():  # no Tools: the trainee consents to the hard power-off
        ready.hard_check.setChecked(True)
    apply_fix(qtbot, win, timeout=STEP_MS)
    to_done(win)


def _debrief(win: MainWindow) -> DebriefPage:
    wz = win.wizard
    assert wz.currentId() == PageId.DONE
    wz.next()
    assert wz.currentId() == DEBRIEF_PAGE_ID
    page = wz.currentPage()
    assert isinstance(page, DebriefPage)
    assert page.debrief is not None
    return page


@pytest.mark.parametrize("path", SCENARIO_PARAMS)
def test_every_scenario_with_the_expected_answer(
    qtbot: QtBot, open_training: Callable[..., MainWindow], labs: Labs, path: Path
) -> None:
    from wizard.lab.scenario import load_scenario

    scenario = load_scenario(path)
    vm = scenario.vm_of_interest
    assert vm is not None
    win = open_training(path, vm)
    session = _session(win)
    brief = session.brief
    assert brief.expected_verdict is not None
    check = _to_check(qtbot, win)

    # The verdict waits for the trainee's own call; the coach talks about this VM.
    assert check.banner.isHidden()
    assert win.training.panel.isVisible()
    assert win.training.panel.guess_box.isVisible()
    expected_verdict = brief.expected_verdict
    if expected_verdict in NEEDS_A_FIX and not brief.read_only:
        _try_vmotion(qtbot, win)
        assert session.vmotion, win.training.panel.vmotion_label.text()
        assert not session.vmotion[-1].ok
        assert "Failed to flush checkpoint data!" in session.vmotion[-1].message
    _guess(win, expected_verdict)
    assert check.banner.isVisible()
    assert session.guess == expected_verdict
    assert win.ctx.check is not None
    assert win.ctx.check.assessment.verdict == expected_verdict

    wz = win.wizard
    wz.next()
    fix = wz.page_of(PageId.CHOOSE_FIX)
    assert isinstance(fix, ChooseFixPage)
    card = fix.selected_card()
    expected = brief.expected_remedy
    if expected is None:
        assert card is None
        wz.next()
    elif brief.read_only:
        # The account may not apply the fix: it is prepared as a change request instead.
        assert card is not None
        assert card.remedy.id == expected
        assert card.remedy.missing_privileges
        wz.next()
        assert wz.currentId() == PageId.READY
        wz.next()
        assert wz.currentId() == PageId.DONE
        done = wz.page_of(PageId.DONE)
        assert isinstance(done, DonePage)
        assert done.banner.title_text() == "Change request ready"
        note = done.note.text()
        assert "Action: change request" in note
        assert all(p in note for p in card.remedy.missing_privileges)
        assert win.ctx.result is None
    else:
        assert card is not None
        assert card.remedy.id == expected
        assert expected in session.caveats_opened  # opened for the trainee: it is recommended
        _apply(qtbot, win)
        result = win.ctx.result
        assert result is not None
        assert result.ok, result.message
        assert result.verified
        if expected_verdict in NEEDS_A_FIX:
            _done_vmotion(qtbot, win)
    page = _debrief(win)
    debrief = page.debrief
    assert debrief is not None
    if expected is not None and expected_verdict in NEEDS_A_FIX and not brief.read_only:
        assert session.vmotion[-1].ok, session.vmotion[-1].message
        assert session.vmotion[-1].after_fix
    assert debrief.passed, [(line.title, line.text) for line in debrief.misses]
    assert page.banner.title_text() == "Passed"
    if brief.read_only:
        assert debrief.escalate
        assert "Escalate" in debrief.line("fix").text

    pids = labs.pids()
    assert pids
    win.close()
    assert not any(_alive(p) for p in pids)


def test_a_wrong_turn_gets_the_right_feedback(
    qtbot: QtBot, open_training: Callable[..., MainWindow]
) -> None:
    path = Path(bundled_scenarios_dir()) / "dual-screen-win7.json"
    win = open_training(path, "HD-W7-042")
    session = _session(win)
    _to_check(qtbot, win)
    _guess(win, Verdict.AFFECTED)  # close, but there is evidence: it is confirmed
    wz = win.wizard
    wz.next()
    fix = wz.page_of(PageId.CHOOSE_FIX)
    assert isinstance(fix, ChooseFixPage)
    lower = next(c for c in fix.cards if c.remedy.id == RemedyId.LOWER_RESOLUTION)
    lower.radio.setChecked(True)  # chosen without opening its caveats
    assert RemedyId.LOWER_RESOLUTION not in session.caveats_opened
    _apply(qtbot, win)
    assert win.ctx.result is not None
    assert win.ctx.result.ok
    page = _debrief(win)
    d = page.debrief
    assert d is not None
    assert not d.passed
    assert page.banner.title_text() == "Not yet"
    verdict = d.line("verdict")
    assert verdict.mark == Mark.MISS
    assert "Confirmed" in verdict.text
    fix_line = d.line("fix")
    assert fix_line.mark == Mark.MISS
    assert "Raise the checkpoint buffer" in fix_line.text
    assert "keeps the user's screens" in fix_line.text  # the recommended remedy's own reason
    caveats = d.line("caveats")
    assert caveats.mark == Mark.MISS
    assert "1280x1024" in caveats.text  # the user loses resolution: it applied here
    assert d.line("vmotion_after").mark == Mark.MISS  # never proven
    assert d.line("vmotion_before").mark == Mark.TIP


def test_the_lab_is_gone_after_close_even_when_a_page_slot_raised(
    qtbot: QtBot,
    open_training: Callable[..., MainWindow],
    labs: Labs,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(self: WelcomePage, _handle: object) -> None:
        raise RuntimeError("a bug in the page that started the lab")

    monkeypatch.setattr(WelcomePage, "on_lab_succeeded", broken)
    path = Path(bundled_scenarios_dir()) / "single-screen-boundary.json"
    with qtbot.capture_exceptions() as raised:
        win = open_training(path, None)
        qtbot.waitUntil(lambda: win.ctx.lab_info is not None, timeout=LAB_S)
    assert raised
    assert "a bug in the page" in str(raised[0][1])
    pids = labs.pids()
    assert len(pids) == 1
    assert _alive(pids[0])
    win.close()
    assert not _alive(pids[0])


def test_try_again_starts_a_fresh_lab_and_stops_the_old_one(
    qtbot: QtBot, open_training: Callable[..., MainWindow], labs: Labs
) -> None:
    path = Path(bundled_scenarios_dir()) / "single-screen-boundary.json"
    win = open_training(path, "RECEPTION-W7-01")
    _to_check(qtbot, win)
    _guess(win, Verdict.NOT_AFFECTED)
    wz = win.wizard
    wz.next()
    wz.next()
    page = _debrief(win)
    assert page.debrief is not None
    assert page.debrief.passed
    first = labs.pids()
    page.again_button.click()
    assert wz.currentId() == PageId.WELCOME
    qtbot.waitUntil(lambda: len(labs.pids()) == 2 and win.ctx.lab_info is not None, timeout=LAB_S)
    qtbot.waitUntil(lambda: not _alive(first[0]), timeout=STEP_MS)
    session = _session(win)
    assert session.guess is None
    assert win.ctx.check is None
    _to_check(qtbot, win)
    assert not session.revealed
    win.close()
    assert not any(_alive(p) for p in labs.pids())
