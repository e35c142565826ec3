"""An exam through the real window against the real lab, worked by a trainee's hands.

The trainee types their name, works two cases on the ordinary pages (typing the VM's name,
pressing the wizard's own buttons) without coach, hints, help or "Just show me", and the window
closes after the last one. The result file it leaves is what the trainer collects: the class
report reads it with the session's key, ``training verify`` accepts it, and once a score in it
is raised by hand both say it was edited.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox, QWizard
from pytestqt.qtbot import QtBot

from tests.gui.conftest import DialogRecorder
from tests.gui.lab_flow import LAB_MARKS, lab_process, open_windows
from tests.helpers.lab import lab_binary_for_tests
from wizard import cli
from wizard.lab.exam import Integrity, materialise, parse_cases, verify
from wizard.lab.process import LabProcess
from wizard.training_report import build_report, render_html
from wizard.ui import dialogs
from wizard.ui.app import MainWindow
from wizard.ui.pages.base import PageId
from wizard.ui.pages.check import CheckPage
from wizard.ui.pages.choose_vm import ChooseVmPage
from wizard.ui.pages.welcome import WelcomePage
from wizard.ui.training.debrief_page import DEBRIEF_PAGE_ID, DebriefPage
from wizard.ui.training.exam import ExamController, ExamOverBox, ExamPlan, SkipCaseBox
from wizard.ui.training.session import TrainingSession
from wizard.ui.wizard_state import LabHandle

pytestmark = LAB_MARKS

CASES = "single-screen-boundary,hex-buffer-mitigated"
KEY = b"trainer's session key"
LAB_MS = 120_000
STEP_MS = 60_000


def _click(widget: object) -> None:
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton)  # type: ignore[call-overload]


def _next(win: MainWindow) -> None:
    button = win.wizard.button(QWizard.WizardButton.NextButton)
    assert button.isVisible()
    assert button.isEnabled()
    _click(button)


def _plan(tmp_path: Path) -> ExamPlan:
    """The trainer's exam: the two cases materialised, results in their own folder."""
    cases = parse_cases(CASES)
    (tmp_path / "cases").mkdir()
    results = tmp_path / "results"
    results.mkdir()
    return ExamPlan(
        title="Friday exam",
        labels=tuple(c.label for c in cases),
        paths=tuple(materialise(cases, tmp_path / "cases")),
        key=KEY,
        results=results,
    )


@contextlib.contextmanager
def _exam_opened(
    qtbot: QtBot, plan: ExamPlan, lab_factory: Callable[[Path], LabHandle] = lab_process
) -> Iterator[tuple[MainWindow, ExamController]]:
    """A window with an exam on ``plan``, its start dialog shown (asking for a name)."""
    with open_windows(qtbot) as open_window:
        win = open_window(lab_factory=lab_factory)
        exam = ExamController(win, plan)
        qtbot.waitUntil(exam.start_dialog.isVisible)
        yield win, exam


def _work_case(qtbot: QtBot, win: MainWindow, exam: ExamController, n: int) -> DebriefPage:
    """One case as a trainee who knows the answer works it, from Welcome to the debrief."""
    wz = win.wizard
    welcome = wz.page_of(PageId.WELCOME)
    assert isinstance(welcome, WelcomePage)
    qtbot.waitUntil(lambda: win.ctx.lab_info is not None and welcome.isComplete(), timeout=LAB_MS)
    assert welcome.picker.list.isHidden()  # nothing to choose: the exam's case only
    assert not welcome.picker.new_case_button.isVisible()
    assert not welcome.fix_button.isEnabled()
    session = win.ctx.training
    assert isinstance(session, TrainingSession)
    assert session.path == exam.plan.paths[n]
    _next(win)
    qtbot.waitUntil(lambda: wz.currentId() == PageId.CONNECT)
    _next(win)  # the lab's address and login are filled in; the certificate: trust once
    qtbot.waitUntil(lambda: wz.currentId() == PageId.CHOOSE_VM, timeout=STEP_MS)
    choose = wz.page_of(PageId.CHOOSE_VM)
    assert isinstance(choose, ChooseVmPage)
    qtbot.waitUntil(lambda: choose.model.rowCount() > 0 and choose.busy.isHidden(), timeout=STEP_MS)
    vm = session.brief.vm
    assert vm is not None
    _click(choose.filter_edit)
    QTest.keyClick(choose.filter_edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(choose.filter_edit, vm)  # typed over what the last case left there
    QTest.keyClick(choose.filter_edit, Qt.Key.Key_Return)  # picks the one left and goes on
    qtbot.waitUntil(lambda: wz.currentId() == PageId.CHECK, timeout=STEP_MS)
    check = wz.page_of(PageId.CHECK)
    assert isinstance(check, CheckPage)
    qtbot.waitUntil(check.isComplete, timeout=STEP_MS)

    panel = win.training.panel
    assert check.banner.isHidden()  # the verdict waits for the trainee's
    assert panel.guess_box.isVisible()
    assert not panel.reveal_button.isVisible()  # no "Just show me"
    assert not panel.hint_button.isVisible()
    assert not panel.more_button.isVisible()
    assert not wz.testOption(QWizard.WizardOption.HaveHelpButton)
    QTest.keyClick(check, Qt.Key.Key_F1)  # the help key opens nothing during an exam
    assert not wz.help_window.isVisible()
    assert "case " + str(n + 1) + " of 2" in exam.clock_label.text()
    verdict = session.brief.expected_verdict
    assert verdict is not None
    panel.verdict_combo.setCurrentIndex(panel.verdict_combo.findData(verdict.value))
    _click(panel.commit_button)
    assert check.banner.isVisible()
    _next(win)
    assert wz.currentId() == PageId.CHOOSE_FIX  # nothing to fix in these two cases
    _next(win)
    qtbot.waitUntil(lambda: wz.currentId() == PageId.DONE, timeout=STEP_MS)
    _next(win)
    qtbot.waitUntil(lambda: wz.currentId() == DEBRIEF_PAGE_ID, timeout=STEP_MS)
    page = wz.currentPage()
    assert isinstance(page, DebriefPage)
    return page


def test_an_exam_in_the_window_leaves_a_signed_result_the_report_reads(
    qtbot: QtBot, recorder: DialogRecorder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recorder.answers["CertificateDialog"] = dialogs.CertificateDialog.TRUST_ONCE
    plan = _plan(tmp_path)
    results = plan.results
    with _exam_opened(qtbot, plan) as (win, exam):
        dialog = exam.start_dialog
        assert not dialog.start_button.isEnabled()  # a name first
        _click(dialog.name_edit)
        QTest.keyClicks(dialog.name_edit, "Ines O'Neill")
        _click(dialog.start_button)
        qtbot.waitUntil(lambda: not dialog.isVisible())
        assert not win.training.coach_action.isEnabled()
        assert not win.training.help_action.isEnabled()
        assert not win.help_action.isEnabled()
        assert exam.clock_label.isVisible()
        assert exam.result_path is not None
        assert exam.result_path.is_file()  # there from the start: a closed window loses nothing

        for n in range(2):
            page = _work_case(qtbot, win, exam, n)
            recorded = exam.result
            assert recorded is not None
            assert len(recorded["cases"]) == n + 1  # recorded on arrival at the debrief
            assert page.banner.title_text() == (
                "Case 1 of 2 is recorded" if n == 0 else "The exam is over"
            )
            assert not page.save_button.isVisible()  # no points, no score during the exam
            assert not win.wizard.button(QWizard.WizardButton.BackButton).isEnabled()
            finish = win.wizard.button(QWizard.WizardButton.FinishButton)
            assert finish.text().replace("&", "") == ("Next case" if n == 0 else "Close")
            _click(finish)
        qtbot.waitUntil(lambda: not win.isVisible(), timeout=STEP_MS)
        assert "Exam over" in exam.clock_label.text()

    (path,) = results.glob("exam-*.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["trainee"] == "Ines O'Neill"
    assert data["complete"] is True
    assert [c["case"]["id"] for c in data["cases"]] == CASES.split(",")
    assert all(isinstance(c["seconds"], int) for c in data["cases"])
    assert all(c["answers"]["hints"] == 0 for c in data["cases"])
    assert data["score"] == 100
    assert KEY.decode() not in path.read_text(encoding="utf-8")
    assert verify(data, KEY) is Integrity.VERIFIED

    report = build_report(results, key=KEY)
    assert [a.integrity for a in report.attempts] == ["verified", "verified"]
    assert [t.name for t in report.trainees] == ["Ines O'Neill"]
    key_file = tmp_path / "key"
    key_file.write_bytes(KEY)
    assert cli.main(["training", "verify", str(path), "--key-file", str(key_file)]) == 0

    # The trainee raises a score by hand afterwards: both the report and verify say so.
    data["cases"][0]["passed"] = False
    data["score"] = 100
    data["cases"][0]["seconds"] = 1
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    assert cli.main(["training", "verify", str(path), "--key-file", str(key_file)]) == 5
    assert "EDITED after the exam" in capsys.readouterr().out
    page_html = render_html(build_report(results, key=KEY))
    assert ">EDITED</span>" in page_html


def test_leaving_an_exam_half_way_asks_and_back_keeps_the_exam_going(
    qtbot: QtBot, recorder: DialogRecorder, tmp_path: Path
) -> None:
    """A trainee who presses Cancel by habit in the first case is asked, and "Back to the exam"
    (the default) leaves the exam running; leaving on purpose closes and the file says so."""
    from wizard.ui.training.exam import LeaveExamBox

    plan = _plan(tmp_path)
    results = plan.results
    with _exam_opened(qtbot, plan) as (win, exam):
        dialog = exam.start_dialog
        _click(dialog.name_edit)
        QTest.keyClicks(dialog.name_edit, "Sam")
        QTest.keyClick(dialog.name_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: not dialog.isVisible())
        welcome = win.wizard.page_of(PageId.WELCOME)
        assert isinstance(welcome, WelcomePage)
        qtbot.waitUntil(
            lambda: win.ctx.lab_info is not None and welcome.isComplete(), timeout=LAB_MS
        )

        _click(win.wizard.button(QWizard.WizardButton.CancelButton))  # rejected: "Back"
        (asked,) = recorder.of(LeaveExamBox)
        assert "No case is recorded yet: all 2 count as not done" in asked.text()
        assert asked.defaultButton().text().replace("&", "") == "Back to the exam"
        qtbot.wait(50)
        assert win.isVisible()
        assert win.wizard.isVisible()
        assert exam.clock_label.isVisible()

        recorder.answers["LeaveExamBox"] = int(QMessageBox.StandardButton.Yes)
        win.close()
        qtbot.waitUntil(lambda: not win.isVisible(), timeout=STEP_MS)
        assert len(recorder.of(LeaveExamBox)) == 2

    (path,) = results.glob("exam-*.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["complete"] is False
    assert data["cases"] == []
    assert verify(data, KEY) is Integrity.VERIFIED


def test_a_case_whose_lab_does_not_start_can_be_tried_again_or_skipped(
    qtbot: QtBot, recorder: DialogRecorder, tmp_path: Path
) -> None:
    """The first case's lab cannot listen (another program holds its port): the trainee reads
    why, tries again (refused again while the port is held), and once the port is free the case
    runs. The second case's scenario file is gone by then: the trainee skips it, and the result
    file keeps the first case and says the second was not taken."""
    recorder.answers["CertificateDialog"] = dialogs.CertificateDialog.TRUST_ONCE
    plan = _plan(tmp_path)
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    starts: list[Path] = []

    def lab_on_the_port(scenario: Path) -> LabHandle:
        starts.append(scenario)
        handle: LabHandle = LabProcess(scenario, binary=lab_binary_for_tests(), port=port)
        return handle

    try:
        with _exam_opened(qtbot, plan, lab_on_the_port) as (win, exam):
            welcome = win.wizard.page_of(PageId.WELCOME)
            assert isinstance(welcome, WelcomePage)
            dialog = exam.start_dialog
            _click(dialog.name_edit)
            QTest.keyClicks(dialog.name_edit, "Noor")
            QTest.keyClick(dialog.name_edit, Qt.Key.Key_Return)
            qtbot.waitUntil(exam.failure_row.isVisible, timeout=LAB_MS)
            assert welcome.banner.title_text() == "The training lab did not start"
            assert "address already in use" in welcome.banner.body_text()
            assert "Try this case again" in welcome.banner.next_text()
            assert not welcome.isComplete()  # no way on without a lab
            assert win.focusWidget() is exam.retry_button

            QTest.keyClick(exam.retry_button, Qt.Key.Key_Space)  # the port is still held
            assert exam.failure_row.isHidden()
            qtbot.waitUntil(exam.failure_row.isVisible, timeout=LAB_MS)
            assert len(starts) == 2
            assert "address already in use" in welcome.banner.body_text()

            holder.close()  # the trainer closed the other program
            _click(exam.retry_button)
            page = _work_case(qtbot, win, exam, 0)
            assert page.banner.title_text() == "Case 1 of 2 is recorded"

            plan.paths[1].unlink()  # the second case's file is gone
            _click(win.wizard.button(QWizard.WizardButton.FinishButton))  # "Next case"
            qtbot.waitUntil(exam.failure_row.isVisible, timeout=STEP_MS)
            assert welcome.banner.title_text() == "This case cannot be opened"
            assert "case 2 of 2" in exam.clock_label.text()

            _click(exam.skip_button)  # asked first; "Back" keeps the case
            (asked,) = recorder.of(SkipCaseBox)
            assert "Case 2 of 2 is then recorded as not taken" in asked.text()
            assert exam.failure_row.isVisible()
            recorder.answers["SkipCaseBox"] = int(QMessageBox.StandardButton.Yes)
            recorder.answers["ExamOverBox"] = int(QMessageBox.StandardButton.Ok)
            _click(exam.skip_button)
            qtbot.waitUntil(lambda: not win.isVisible(), timeout=STEP_MS)
            (over,) = recorder.of(ExamOverBox)
            assert "1 case recorded and 1 not taken" in over.text()
    finally:
        holder.close()

    (path,) = plan.results.glob("exam-*.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert [c["case"]["id"] for c in data["cases"]] == ["single-screen-boundary"]
    (skipped,) = data["not_taken"]
    assert (skipped["case"], skipped["label"]) == (2, "hex-buffer-mitigated")
    assert skipped["reason"]
    assert data["complete"] is True
    assert data["score"] == 50  # the case not taken counts 0
    assert verify(data, KEY) is Integrity.VERIFIED
    assert "1 not taken" in render_html(build_report(plan.results, key=KEY))
