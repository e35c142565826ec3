"""Training mode's widgets on stand-ins: the picker, the coach panel, help, the debrief's save."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.gui.conftest import DialogRecorder, WindowFactory, to_check
from tests.gui.fakes import FakeGateway
from wizard.lab.results import read_result_file
from wizard.lab.scenario import bundled_scenario_files, bundled_scenarios_dir
from wizard.training_report import build_report
from wizard.ui.app import MainWindow
from wizard.ui.pages.base import PageId
from wizard.ui.pages.welcome import WelcomePage
from wizard.ui.training import debrief_page, picker
from wizard.ui.training.debrief_page import DEBRIEF_PAGE_ID, DebriefPage
from wizard.ui.training.picker import ScenarioPicker, trainer_folder
from wizard.ui.training.session import TrainingSession

DUAL = Path(bundled_scenarios_dir()) / "dual-screen-win7.json"


def _welcome(win: object) -> WelcomePage:
    page = win.wizard.page_of(PageId.WELCOME)  # type: ignore[attr-defined]
    assert isinstance(page, WelcomePage)
    return page


def _to_done_in_training(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> MainWindow:
    """Practise the dual-screen case: show the verdict without a guess, apply the recommended
    fix, and go on to Done."""
    win = make_window(FakeGateway(), training_scenario=DUAL)
    qtbot.waitUntil(_welcome(win).isComplete)
    to_check(qtbot, win, recorder)
    win.training.panel.reveal_button.click()
    wz = win.wizard
    wz.next()  # Choose fix: the recommended one is chosen
    wz.next()
    ready = wz.page_of(PageId.READY)
    ready.confirm_check.setChecked(True)  # type: ignore[attr-defined]
    wz.next()
    qtbot.waitUntil(lambda: wz.currentPage().isComplete())
    wz.next()
    assert wz.currentId() == PageId.DONE
    return win


def test_picker_lists_trainer_scenarios_and_explains_broken_files(qtbot: QtBot) -> None:
    folder = trainer_folder()
    own = folder / "my-case.json"
    text = DUAL.read_text(encoding="utf-8").replace('"dual-screen-win7"', '"my-case"')
    own.write_text(text.replace("Two screens", "My own two screens", 1), encoding="utf-8")
    (folder / "broken.json").write_text('{"format": 1, "id": "x"', encoding="utf-8")
    opened: list[Path] = []

    def opener(path: Path) -> bool:
        opened.append(path)
        return True

    w = ScenarioPicker(None, opener=opener)
    qtbot.addWidget(w)
    by_path = {e.path: e for e in w.entries}
    assert by_path[own].ok
    assert not by_path[own].bundled
    broken = by_path[folder / "broken.json"]
    assert not broken.ok
    assert "invalid JSON at line 1" in (broken.error or "")
    assert w.entries[0].id == "dual-screen-win7"  # the default first
    assert w.entries[-1] == broken  # broken files last
    bundled = len(bundled_scenario_files())
    assert sum(e.ok for e in w.entries) == bundled + 1
    row = w.entries.index(broken)
    w.list.setCurrentRow(row)
    assert w.current() is None
    w.open_folder_button.click()
    assert opened == [folder]
    (folder / "late.json").write_text("[]", encoding="utf-8")
    w.refresh_button.click()
    assert any(e.path.name == "late.json" and not e.ok for e in w.entries)


def test_a_scenario_given_on_the_command_line_comes_first(
    qtbot: QtBot, tmp_path: Path, make_window: WindowFactory
) -> None:
    mine = tmp_path / "elsewhere.json"
    shutil.copy(Path(bundled_scenarios_dir()) / "read-only-escalate.json", mine)
    win = make_window(FakeGateway(), training_scenario=mine)
    welcome = _welcome(win)
    assert welcome.training
    entry = welcome.picker.current()
    assert entry is not None
    assert entry.path == mine
    qtbot.waitUntil(welcome.isComplete)
    assert isinstance(win.ctx.training, TrainingSession)
    assert win.ctx.training.brief.read_only


def test_coach_panel_follows_the_pages_and_hides_the_verdict(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    win = make_window(FakeGateway(), training_scenario=DUAL)
    panel = win.training.panel
    assert panel.isVisible()
    assert win.training.coach_action.isEnabled()
    assert panel.note is not None
    assert panel.note.title == "Your ticket"
    qtbot.waitUntil(_welcome(win).isComplete)
    to_check(qtbot, win, recorder)
    check = win.wizard.page_of(PageId.CHECK)
    assert check.banner.isHidden()  # type: ignore[attr-defined]
    assert panel.guess_box.isVisible()
    assert panel.note.title == "Read the four conditions"
    # Before the trainee answers: where to look, not what the rules concluded.
    assert "2 screens are configured" not in panel.text.toPlainText()
    rows = check._condition_rows  # type: ignore[attr-defined]
    assert rows
    assert all(r.state_label.isHidden() and r.detail_label.isHidden() for r in rows)
    # Hints come one at a time; the last gives the verdict away.
    hints = len(panel.note.hints)
    for _ in range(hints):
        panel.hint_button.click()
    assert not panel.hint_button.isEnabled()
    assert "The verdict:" in panel.text.toPlainText()
    panel.reveal_button.click()  # "Just show me": no guess
    assert check.banner.isVisible()  # type: ignore[attr-defined]
    rows = check._condition_rows  # type: ignore[attr-defined]
    assert all(not r.state_label.isHidden() and not r.detail_label.isHidden() for r in rows)
    assert "2 screens are configured" in panel.text.toPlainText()
    assert not panel.guess_box.isVisible()
    session = win.ctx.training
    assert isinstance(session, TrainingSession)
    assert session.revealed
    assert session.guess is None
    # View ▸ Coach panel hides and shows it.
    win.training.coach_action.trigger()
    assert not panel.isVisible()
    win.training.coach_action.trigger()
    assert panel.isVisible()
    # Read more opens the help for the topic the coach points at.
    panel.more_button.click()
    assert win.wizard.help_window.isVisible()
    assert "Help:" in win.wizard.help_window.windowTitle()


def test_fix_mode_has_no_coach_and_no_lab(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    win = make_window(FakeGateway(), training_scenario=DUAL)
    welcome = _welcome(win)
    qtbot.waitUntil(welcome.isComplete)
    welcome.fix_button.setChecked(True)
    assert win.ctx.training is None
    assert not win.training.panel.isVisible()
    assert not win.training.coach_action.isEnabled()
    qtbot.waitUntil(lambda: win.ctx.lab_info is None)
    assert DEBRIEF_PAGE_ID not in win.wizard.pageIds()


def test_help_pages_link_to_each_other_and_name_the_article(
    qtbot: QtBot, make_window: WindowFactory
) -> None:
    win = make_window(FakeGateway())
    win.training.help_action.trigger()
    browser = win.wizard.help_window.browser
    assert "The failure and its fixes" in win.wizard.help_window.windowTitle()
    from PySide6.QtCore import QUrl

    browser.anchorClicked.emit(QUrl("interpretations.html"))
    text = browser.toPlainText()
    assert "KB 2005741" in text
    assert "more pixels" in text


@pytest.mark.parametrize(
    "topic",
    sorted(
        p.stem
        for p in (Path(__file__).resolve().parents[2] / "resources/ui/help/training").glob("*")
    ),
)
def test_every_training_help_page_has_a_title(topic: str) -> None:
    from wizard.ui.wizard import help_html

    body = help_html(f"training/{topic}")
    assert body.startswith("<h2>")
    assert "{ARTICLE}" not in body


def test_debrief_saves_html_and_text(
    qtbot: QtBot,
    make_window: WindowFactory,
    recorder: DialogRecorder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    win = _to_done_in_training(qtbot, make_window, recorder)
    wz = win.wizard
    assert not win.training.panel.vmotion_button.isVisible()  # Done has a test of its own
    wz.next()
    page = wz.currentPage()
    assert isinstance(page, DebriefPage)
    assert page.banner.title_text() == "Not yet"
    for suffix in (".html", ".txt"):
        target = tmp_path / f"debrief{suffix}"
        monkeypatch.setattr(debrief_page, "choose_save_path", lambda _p, _s, t=target: t)
        page.name_edit.setText("Alex")
        page.save_button.click()
        saved = target.read_text(encoding="utf-8")
        assert "Alex" in saved
        assert "did not try the vMotion after the fix" in saved
        assert str(target) in page.saved_label.text()
        # What the class report reads back: who, which case, how long, what was answered.
        (attempt,) = read_result_file(target)
        assert (attempt.trainee, attempt.case_id, attempt.vm) == ("Alex", DUAL.stem, "HD-W7-042")
        assert attempt.seconds is not None
        assert 0 <= attempt.seconds < 600
        assert attempt.answers["verdict"] is None  # "Just show me": no guess
        assert attempt.answers["fix"] == attempt.answers["expected_fix"] == "raise_buffer"
        assert "did not prove the fix with a vMotion" in attempt.wrong_turns
        assert "showed the verdict without a guess" in attempt.wrong_turns
    # Both files are the same run: the report counts it once.
    report = build_report(tmp_path)
    assert [t.name for t in report.trainees] == ["Alex"]
    assert len(report.attempts) == 1
    assert report.duplicates == 1


def test_picker_module_needs_no_lab_process() -> None:
    entries, why = picker.find_scenarios(None)
    assert not why
    assert entries[0].id == "dual-screen-win7"


def test_finish_after_the_debrief_offers_the_next_scenario_instead_of_quitting(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    win = _to_done_in_training(qtbot, make_window, recorder)
    wz = win.wizard
    wz.next()
    assert isinstance(wz.currentPage(), DebriefPage)
    finish = wz.button(wz.WizardButton.FinishButton)
    assert "Another scenario" in finish.text()
    finish.click()
    qtbot.waitUntil(lambda: wz.currentId() == PageId.WELCOME)
    assert win.isVisible()
    assert wz.isVisible()
    assert _welcome(win).picker.isVisible()
