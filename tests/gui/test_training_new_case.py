"""The picker's "A new case…": level and seed in, a generated case listed, chosen and started.

The dialog is stood in for (``picker.ask_new_case``), as the other dialogs are in these tests;
the dialog itself is tested on its own below.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.gui.conftest import WindowFactory
from tests.gui.fakes import FakeGateway
from wizard.lab.generate import generate
from wizard.lab.scenario import Difficulty
from wizard.ui.pages.base import PageId
from wizard.ui.pages.welcome import WelcomePage
from wizard.ui.training import picker
from wizard.ui.training.picker import NewCaseDialog, ScenarioPicker, trainer_folder
from wizard.ui.training.session import TrainingSession


def _answer(monkeypatch: pytest.MonkeyPatch, answer: tuple[str, int] | None) -> list[int]:
    """Stand in for the dialog; returns the seeds it was offered."""
    offered: list[int] = []

    def ask(_parent: object, seed: int) -> tuple[str, int] | None:
        offered.append(seed)
        return answer

    monkeypatch.setattr(picker, "ask_new_case", ask)
    return offered


def test_a_new_case_is_written_to_the_scenarios_folder_and_chosen(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    offered = _answer(monkeypatch, ("intermediate", 4711))
    w = ScenarioPicker(None)
    qtbot.addWidget(w)
    chosen: list[object] = []
    w.currentChanged.connect(chosen.append)
    w.new_case_button.click()
    assert len(offered) == 1
    assert 1 <= offered[0] <= 999_999
    path = trainer_folder() / "gen-intermediate-4711.json"
    assert path.read_text(encoding="utf-8") == generate(4711, Difficulty.INTERMEDIATE).text
    entry = w.current()
    assert entry is not None
    assert chosen[-1] == entry  # the welcome page starts the lab on the last one chosen
    assert (entry.path, entry.id, entry.bundled) == (path, "gen-intermediate-4711", False)
    assert entry.title.startswith("Case 4711: ")
    assert "intermediate level, seed 4711" in w.new_case_note.text()
    assert str(path) in w.new_case_note.text()
    # Asking again for the same case finds the same file: nothing twice, nothing unusable.
    w.list.setCurrentRow(0)
    w.new_case_button.click()
    assert w.current() == entry
    assert [e.id for e in w.entries].count("gen-intermediate-4711") == 1
    assert all(e.ok for e in w.entries)


def test_an_edited_case_of_the_same_name_is_kept(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = generate(12, Difficulty.ADVANCED)
    edited = trainer_folder() / f"{case.id}.json"
    mine = case.text.replace(str(case.doc["title"]), "My own version of case 12")
    edited.write_text(mine, encoding="utf-8")
    _answer(monkeypatch, ("advanced", 12))
    w = ScenarioPicker(None)
    qtbot.addWidget(w)
    w.new_case_button.click()
    assert edited.read_text(encoding="utf-8") == mine  # nothing of the trainer's is lost
    entry = w.current()
    assert entry is not None
    assert entry.path != edited
    assert entry.path.read_text(encoding="utf-8") == case.text
    assert w.entries[0] == entry  # listed first, like a file given on the command line
    assert [e.id for e in w.entries].count(case.id) == 1
    assert "was changed since it was generated" in w.new_case_note.text()


def test_cancelling_writes_nothing(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    _answer(monkeypatch, None)
    w = ScenarioPicker(None)
    qtbot.addWidget(w)
    before = w.current()
    w.new_case_button.click()
    assert list(trainer_folder().iterdir()) == []
    assert w.current() == before
    assert w.new_case_note.isHidden()


def test_the_dialog_offers_the_seed_and_returns_the_choice(qtbot: QtBot) -> None:
    dialog = NewCaseDialog(None, 31337)
    qtbot.addWidget(dialog)
    assert dialog.seed_box.value() == 31337
    assert dialog.choice() == ("beginner", 31337)
    dialog.level_box.setCurrentIndex(2)
    dialog.seed_box.setValue(5)
    assert dialog.choice() == ("advanced", 5)
    assert dialog.seed_box.maximum() == 2**31 - 1


def test_a_new_case_starts_the_training_lab_on_it(
    qtbot: QtBot, make_window: WindowFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    win = make_window(FakeGateway())
    welcome = win.wizard.page_of(PageId.WELCOME)
    assert isinstance(welcome, WelcomePage)
    welcome.training_button.click()
    qtbot.waitUntil(welcome.isComplete)
    _answer(monkeypatch, ("beginner", 8))
    welcome.picker.new_case_button.click()
    qtbot.waitUntil(
        lambda: (
            isinstance(win.ctx.training, TrainingSession)
            and win.ctx.training.scenario.id == "gen-beginner-8"
        )
    )
    qtbot.waitUntil(welcome.isComplete)
    session = win.ctx.training
    assert isinstance(session, TrainingSession)
    assert session.brief.vm == generate(8, Difficulty.BEGINNER).vm
