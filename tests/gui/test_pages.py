"""Choose VM, Check, Choose fix, Ready, Apply and Done on the fake gateway."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog, QWidget
from pytestqt.qtbot import QtBot

from tests.gui.conftest import DialogRecorder, WindowFactory, connect, to_check
from tests.gui.fakes import FakeGateway, FakeSession, confirmed_facts, log_item
from tests.gui.plain_words import main_text
from tests.helpers.facts import make_facts, with_extra
from wizard.kb.model import RemedyId
from wizard.ui.app import MainWindow
from wizard.ui.gateway import CheckResult
from wizard.ui.pages.apply import ApplyPage
from wizard.ui.pages.base import PageId
from wizard.ui.pages.check import CheckPage
from wizard.ui.pages.choose_fix import ChooseFixPage
from wizard.ui.pages.choose_vm import ChooseVmPage
from wizard.ui.pages.done import DonePage
from wizard.ui.pages.ready import ReadyPage


def test_choose_by_type_ahead(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    win = make_window(FakeGateway(trusted=True))
    connect(qtbot, win, recorder)
    page = win.wizard.page_of(PageId.CHOOSE_VM)
    assert isinstance(page, ChooseVmPage)
    qtbot.waitUntil(lambda: page.model.rowCount() == 41)
    assert not page.isComplete()
    QTest.keyClicks(page.filter_edit, "hd-w7")
    qtbot.waitUntil(lambda: page.proxy.rowCount() == 1)
    assert win.ctx.vm is not None
    assert win.ctx.vm.name == "HD-W7-042"
    assert page.isComplete()
    assert page.count_label.text() == "1 of 41 VMs"


def test_choose_by_find(qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder) -> None:
    gw = FakeGateway(trusted=True)
    win = make_window(gw)
    connect(qtbot, win, recorder)
    page = win.wizard.page_of(PageId.CHOOSE_VM)
    assert isinstance(page, ChooseVmPage)
    page.find_edit.setText("10.1.2.42")
    page.find_button.click()
    qtbot.waitUntil(lambda: win.ctx.vm is not None)
    assert win.ctx.vm is not None
    assert win.ctx.vm.moref == "vm-42"
    assert "find_vms 10.1.2.42" in gw.calls
    page.find_edit.setText("nosuchvm")
    page.find_button.click()
    qtbot.waitUntil(lambda: "No VM matches" in page.find_note.text())
    assert "HD-W7-042" in page.find_note.text()


def test_vm_from_the_command_line_is_found_before_the_list(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    gw = FakeGateway(trusted=True)
    win = make_window(gw, vm="HD-W7-042")
    connect(qtbot, win, recorder)
    qtbot.waitUntil(lambda: win.ctx.vm is not None)
    assert "find_vms HD-W7-042" in gw.calls
    page = win.wizard.page_of(PageId.CHOOSE_VM)
    assert isinstance(page, ChooseVmPage)
    qtbot.waitUntil(lambda: page.model.rowCount() > 0)
    assert page.table.selectionModel().selectedRows()


def test_vm_from_the_command_line_is_checked_once_before_next(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    gw = FakeGateway(trusted=True)
    win = make_window(gw, vm="HD-W7-042")
    connect(qtbot, win, recorder)
    moref = gw.facts.moref
    # Its check starts as soon as it is found, before Next is pressed ...
    qtbot.waitUntil(lambda: f"check {moref}" in gw.calls)
    qtbot.waitUntil(lambda: win.ctx.early_check is not None and win.ctx.early_check.job is None)
    win.wizard.next()
    check = win.wizard.page_of(PageId.CHECK)
    assert isinstance(check, CheckPage)
    # ... and the Check page shows that check: no second read of the VM.
    qtbot.waitUntil(check.isComplete)
    assert check.banner.title_text().startswith("Affected:")
    assert gw.calls.count(f"check {moref}") == 1


class CheckHeldBack(FakeGateway):
    """Its check waits for :attr:`release`: Next comes while the early check still runs."""

    def __init__(self) -> None:
        super().__init__(trusted=True)
        self.release = threading.Event()

    def check(self, session: FakeSession, moref: str, *, evidence_days: int = 30) -> CheckResult:
        self.release.wait(10)
        return super().check(session, moref, evidence_days=evidence_days)


def test_next_while_the_early_check_runs_shows_that_check(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    gw = CheckHeldBack()
    win = make_window(gw, vm="HD-W7-042")
    try:
        connect(qtbot, win, recorder)
        qtbot.waitUntil(lambda: win.ctx.early_check is not None)
        win.wizard.next()
        check = win.wizard.page_of(PageId.CHECK)
        assert isinstance(check, CheckPage)
        assert not check.busy.isHidden()
        assert not check.isComplete()
    finally:
        gw.release.set()
    qtbot.waitUntil(check.isComplete)
    assert check.banner.title_text().startswith("Affected:")
    qtbot.waitUntil(lambda: not win.ctx.worker.busy)
    assert gw.calls.count(f"check {gw.facts.moref}") == 1


def test_choosing_another_vm_drops_the_early_check(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    gw = FakeGateway(trusted=True)
    win = make_window(gw, vm="HD-W7-042")
    connect(qtbot, win, recorder)
    qtbot.waitUntil(lambda: win.ctx.early_check is not None)
    page = win.wizard.page_of(PageId.CHOOSE_VM)
    assert isinstance(page, ChooseVmPage)
    qtbot.waitUntil(lambda: page.model.rowCount() > 1)
    page.table.setFocus()
    row = next(
        r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() != "HD-W7-042"
    )
    page.table.selectRow(row)
    other = win.ctx.vm
    assert other is not None
    assert other.name != "HD-W7-042"
    assert win.ctx.early_check is None
    win.wizard.next()
    check = win.wizard.page_of(PageId.CHECK)
    assert isinstance(check, CheckPage)
    qtbot.waitUntil(check.isComplete)
    # The Check page read the VM now chosen (the fake answers every check with one VM's facts).
    assert f"check {other.moref}" in gw.calls


def test_check_shows_the_verdict_in_words(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    win = make_window(FakeGateway(trusted=True, facts=make_facts()))
    to_check(qtbot, win, recorder)
    page = win.wizard.page_of(PageId.CHECK)
    assert isinstance(page, CheckPage)
    assert page.banner.title_text().startswith("Affected:")
    assert page.banner.isVisible()


def test_the_whole_check_is_on_the_page_once_the_check_is_complete(
    qtbot: QtBot, win: MainWindow, recorder: DialogRecorder
) -> None:
    """When Next turns on, the conditions and the evidence are shown too, not one pass of the
    event loop later (a row added to a visible page is shown by a queued call unless shown
    itself: a screen reader or a test reading the page at once missed them, seen in CI)."""
    to_check(qtbot, win, recorder)  # returns as soon as the page says it is complete
    page = win.wizard.page_of(PageId.CHECK)
    assert isinstance(page, CheckPage)
    shown = main_text(page)
    assert "The four conditions" in shown
    assert any(t.startswith("Evidence of the failure") for t in shown), shown
    # Read again, as the check page does when Check again is pressed: the same, at once.
    check = win.ctx.check
    assert check is not None
    page.show_result(check)
    assert main_text(page) == shown


def test_reading_the_log_adds_evidence(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    gw = FakeGateway(trusted=True, facts=make_facts(), log_evidence=(log_item(),))
    win = make_window(gw)
    to_check(qtbot, win, recorder)
    page = win.wizard.page_of(PageId.CHECK)
    assert isinstance(page, CheckPage)
    page.log_button.click()
    qtbot.waitUntil(lambda: page.banner.title_text().startswith("Confirmed:"))
    assert "1 trace" in page.log_note.text()


def _to_choose_fix(qtbot: QtBot, win: MainWindow, recorder: DialogRecorder) -> ChooseFixPage:
    to_check(qtbot, win, recorder)
    win.wizard.next()
    page = win.wizard.page_of(PageId.CHOOSE_FIX)
    assert isinstance(page, ChooseFixPage)
    return page


@pytest.fixture
def win(make_window: WindowFactory) -> MainWindow:
    """A window on a VM whose vMotion already failed for this reason."""
    return make_window(FakeGateway(trusted=True, facts=confirmed_facts()))


def test_recommended_card_first_and_preselected(
    qtbot: QtBot, win: MainWindow, recorder: DialogRecorder
) -> None:
    page = _to_choose_fix(qtbot, win, recorder)
    first = page.cards[0]
    assert first.remedy.recommended
    assert first.radio.isChecked()
    assert sum(c.radio.isChecked() for c in page.cards) == 1
    assert len(page.cards) == 4
    unavailable = [c for c in page.cards if not c.remedy.available]
    assert all(not c.radio.isEnabled() for c in unavailable)
    assert page.nextId() == PageId.READY


def _edge_colour(card: QWidget) -> str:
    """The colour the card is painted with at the middle of its left border."""
    image = card.grab().toImage()
    return image.pixelColor(1, image.height() // 2).name()


def test_the_chosen_card_is_framed_and_the_frame_follows_a_click(
    qtbot: QtBot, win: MainWindow, recorder: DialogRecorder
) -> None:
    """What the eye follows: the chosen card has the accent frame, the others do not, and a
    click on another card moves it (the cards are painted, not styled: see Panel)."""
    page = _to_choose_fix(qtbot, win, recorder)
    chosen = page.cards[0]
    other = next(c for c in page.cards[1:] if c.radio.isEnabled())
    assert _edge_colour(chosen) == "#1f6fb2"
    assert _edge_colour(other) != "#1f6fb2"
    QTest.mouseClick(other.radio, Qt.MouseButton.LeftButton)
    assert other.radio.isChecked()
    assert _edge_colour(other) == "#1f6fb2"
    assert _edge_colour(chosen) != "#1f6fb2"


def test_buffer_below_need_blocks_next(
    qtbot: QtBot, win: MainWindow, recorder: DialogRecorder
) -> None:
    page = _to_choose_fix(qtbot, win, recorder)
    card = next(c for c in page.cards if c.remedy.id == RemedyId.RAISE_BUFFER)
    assert card.buffer_spin is not None
    assert card.buffer_note is not None
    card.radio.setChecked(True)
    card.buffer_spin.setValue(12)
    assert not page.isComplete()
    assert "Too small" in card.buffer_note.text()
    card.buffer_spin.setValue(32)
    assert page.isComplete()
    assert any(c.after == str(32 * 1024 * 1024) for c in card.remedy.changes)


def test_nothing_to_fix_goes_to_done(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    facts = with_extra(make_facts(), cpt="33554432")
    win = make_window(FakeGateway(trusted=True, facts=facts))
    page = _to_choose_fix(qtbot, win, recorder)
    assert page.selected_card() is None
    assert page.intro.title_text() == "No change is needed"
    win.wizard.next()
    assert win.wizard.currentId() == PageId.DONE
    done = win.wizard.page_of(PageId.DONE)
    assert isinstance(done, DonePage)
    assert "no change was made" in done.note.text()


def _to_ready(qtbot: QtBot, win: object, recorder: DialogRecorder) -> ReadyPage:
    to_check(qtbot, win, recorder)  # type: ignore[arg-type]
    wz = win.wizard  # type: ignore[attr-defined]
    wz.next()
    wz.next()
    page = wz.page_of(PageId.READY)
    assert isinstance(page, ReadyPage)
    assert wz.currentId() == PageId.READY
    return page


def test_ready_requires_the_confirmation(
    qtbot: QtBot, win: MainWindow, recorder: DialogRecorder
) -> None:
    page = _to_ready(qtbot, win, recorder)
    next_button = win.wizard.button(win.wizard.WizardButton.CommitButton)
    assert not page.isComplete()
    assert not next_button.isEnabled()
    assert page.changes_table.rowCount() >= 1
    assert "New-AdvancedSetting" in page.powercli.text()
    assert "govc vm.change" in page.govc.text()
    assert "shut down" in page.disruption.title_text()
    page.confirm_check.setChecked(True)
    assert next_button.isEnabled()
    page.powercli.button.click()
    assert QGuiApplication.clipboard().text() == page.powercli.text()


def test_apply_done_copy_and_undo(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    gw = FakeGateway(trusted=True, facts=confirmed_facts())
    win = make_window(gw)
    page = _to_ready(qtbot, win, recorder)
    page.confirm_check.setChecked(True)
    win.wizard.next()
    apply = win.wizard.page_of(PageId.APPLY)
    assert isinstance(apply, ApplyPage)
    qtbot.waitUntil(apply.isComplete)
    assert apply.banner.title_text() == "Done and verified"
    assert not win.wizard.button(win.wizard.WizardButton.BackButton).isEnabled()
    row = apply.runner.row("verify")
    assert row is not None
    assert row.state.value == "done"
    win.wizard.next()
    done = win.wizard.page_of(PageId.DONE)
    assert isinstance(done, DonePage)
    assert done.banner.title_text() == "Fixed and verified"
    note = done.note.text()
    assert "migrate.baseCptCacheSize" in note
    assert "journal-0001" in note
    done.note.button.click()
    assert QGuiApplication.clipboard().text() == note
    assert done.undo_button.isVisible()
    recorder.answers["UndoConfirmDialog"] = int(QDialog.DialogCode.Accepted)  # it shuts down
    done.undo_button.click()
    qtbot.waitUntil(lambda: done.banner.title_text() == "Change undone")
    assert [c for c in gw.calls if c.startswith(("apply", "undo"))] == [
        "apply raise_buffer",
        "undo journal-0001",
    ]
    assert "undone" in done.note.text()


def test_stop_at_a_safe_point(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    import threading

    gate = threading.Event()
    win = make_window(FakeGateway(trusted=True, facts=confirmed_facts(), apply_gate=gate))
    page = _to_ready(qtbot, win, recorder)
    page.confirm_check.setChecked(True)
    win.wizard.next()
    apply = win.wizard.page_of(PageId.APPLY)
    assert isinstance(apply, ApplyPage)
    row = apply.runner.row("reread")
    assert row is not None
    qtbot.waitUntil(lambda: row.state.value == "done")
    assert win.ctx.applying
    assert not win.close()  # closing is refused while applying
    assert apply.runner.stop_button.isEnabled()
    apply.runner.stop_button.click()
    gate.set()
    qtbot.waitUntil(apply.isComplete)
    assert apply.banner.title_text() == "Stopped before the end"
    shutdown = apply.runner.row("shutdown")
    assert shutdown is not None
    assert shutdown.state.value == "cancelled"
    assert not win.ctx.applying


def test_power_off_vm_needs_no_shutdown(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    facts = replace(confirmed_facts(), power_state="poweredOff")
    win = make_window(FakeGateway(trusted=True, facts=facts))
    page = _to_ready(qtbot, win, recorder)
    assert page.disruption.title_text() == "No shutdown needed"
    assert "Stop-VMGuest" not in page.powercli.text()
    assert page.confirm_check.text().startswith("&I want")


def test_ready_shows_the_exact_value_and_what_it_means(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    """The review shows the bytes vCenter will store and the size a person reads; the copy
    buttons keep the tools' own names."""
    win = make_window(FakeGateway(trusted=True, facts=confirmed_facts()))
    page = _to_ready(qtbot, win, recorder)
    table = page.changes_table

    def cell(row: int, column: int) -> str:
        item = table.item(row, column)
        assert item is not None
        return item.text()

    keys = [cell(r, 1) for r in range(table.rowCount())]
    after = cell(keys.index("migrate.baseCptCacheSize"), 3)
    value, _, words = after.partition(" (")
    assert value.isdigit()
    assert words == f"{int(value) // (1024 * 1024)} MB)"
    assert page.powercli.button.text().replace("&", "") == "Copy PowerCLI"
    assert page.govc.button.text().replace("&", "") == "Copy govc"
