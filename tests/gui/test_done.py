"""The Done page on fakes: Back after a change, the vMotion test, the note, the report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog, QFileDialog
from pytestqt.qtbot import QtBot

from tests.gui.conftest import DialogRecorder, WindowFactory, to_check, to_done
from tests.gui.fakes import PASSWORD, FakeGateway, confirmed_facts
from tests.helpers.facts import make_facts, with_extra
from wizard.ui import dialogs
from wizard.ui.pages.base import PageId
from wizard.ui.pages.done import DonePage, VmotionConfirmDialog
from wizard.vsphere.errors import NoPermission
from wizard.vsphere.records import HostChoice, MigrationOutcome

MESSAGE = "A general system error occurred: Failed to flush checkpoint data!"
VM_NAME = 'HD-W7-042 <"Sales" & Co>'
HOSTS = [
    HostChoice("esx-a2.lab.local", "host-a2", "connected", in_maintenance=False),
    HostChoice("esx-a3.lab.local", "host-a3", "connected", in_maintenance=True),
]


def moved(succeeded: bool, message: str, task_id: str) -> MigrationOutcome:
    """How a test vMotion from esx-a1 to esx-a2 ended."""
    return MigrationOutcome(
        succeeded=succeeded,
        message=message,
        task_id=task_id,
        vm_name=VM_NAME,
        source_host="esx-a1.lab.local",
        destination_host="esx-a2.lab.local",
        duration_s=1.4,
        finished_at=datetime.now(UTC),
    )


def _hosts_read(qtbot: QtBot, done: DonePage) -> None:
    qtbot.waitUntil(lambda: done.vmotion.host_combo.count() > 0)
    qtbot.waitUntil(done.vmotion.test_button.isEnabled)


def _test_vmotion(qtbot: QtBot, done: DonePage, recorder: DialogRecorder) -> None:
    recorder.answers["VmotionConfirmDialog"] = int(QDialog.DialogCode.Accepted)
    with qtbot.waitSignal(done.ctx.worker.busyChanged, check_params_cb=lambda busy: not busy):
        done.vmotion.test_button.click()


@pytest.fixture
def gw() -> FakeGateway:
    """A gateway with another host to move the VM to (and one in maintenance)."""
    return FakeGateway(trusted=True, facts=replace(confirmed_facts(), name=VM_NAME), hosts=HOSTS)


@pytest.fixture
def done(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder, gw: FakeGateway
) -> DonePage:
    """The Done page after ``gw`` applied the fix (a test sets what ``gw`` answers later)."""
    return to_done(qtbot, make_window(gw), recorder)


def test_back_does_not_lead_into_apply_after_a_change(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder, gw: FakeGateway
) -> None:
    win = make_window(gw)
    to_done(qtbot, win, recorder)
    wz = win.wizard
    back = wz.button(wz.WizardButton.BackButton)
    assert not back.isEnabled()
    back.click()
    assert wz.currentId() == PageId.DONE


def test_back_stays_possible_when_nothing_was_changed(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    win = make_window(FakeGateway(trusted=True, facts=with_extra(make_facts(), cpt="33554432")))
    to_check(qtbot, win, recorder)
    wz = win.wizard
    wz.next()
    wz.next()
    assert wz.currentId() == PageId.DONE
    assert wz.button(wz.WizardButton.BackButton).isEnabled()
    wz.back()
    assert wz.currentId() == PageId.CHOOSE_FIX


def test_vmotion_needs_a_confirmation_and_its_outcome_goes_into_the_note(
    qtbot: QtBot, recorder: DialogRecorder, gw: FakeGateway, done: DonePage
) -> None:
    gw.outcomes = [
        moved(False, MESSAGE, "task-44"),
        moved(True, f"{VM_NAME} moved from esx-a1.lab.local to esx-a2.lab.local.", "task-45"),
    ]
    _hosts_read(qtbot, done)
    section = done.vmotion
    assert section.isVisible()
    assert section.selected_host() == ("esx-a2.lab.local", "host-a2")
    assert section.host_combo.count() == 1
    assert section.hosts_note.text() == "Not offered: esx-a3.lab.local (in maintenance mode)."

    section.test_button.click()  # the recorder cancels the confirmation
    (confirm,) = recorder.of(VmotionConfirmDialog)
    assert confirm.head.text() == f"This moves the running VM {VM_NAME} to esx-a2.lab.local."
    assert gw.moves == []
    assert "vMotion test" not in done.note.text()

    _test_vmotion(qtbot, done, recorder)
    assert gw.moves == [("vm-42", "host-a2")]
    assert section.outcome.title_text() == "vMotion failed"
    assert MESSAGE in section.outcome.body_text()
    assert "esx-a1.lab.local" in section.outcome.next_text()
    note = done.note.text()
    assert f"esx-a1.lab.local -> esx-a2.lab.local: FAILED (task-44): {MESSAGE}" in note
    assert not section.progress.isVisible()

    _test_vmotion(qtbot, done, recorder)
    assert section.outcome.title_text() == "vMotion succeeded"
    assert "task-45" in section.outcome.body_text()
    note = done.note.text()
    assert note.index("FAILED (task-44)") < note.index("succeeded (task-45, 1 s)")
    assert [t.task_id for t in done.tests] == ["task-44", "task-45"]
    assert gw.calls.count("list_target_hosts") == 2  # read again after the VM moved


def test_a_refused_test_says_why_and_leaves_the_note_alone(
    qtbot: QtBot, recorder: DialogRecorder, gw: FakeGateway, done: DonePage
) -> None:
    gw.outcomes = [NoPermission("Resource.HotMigrate", "HD-W7-042 (vm-42)")]
    _hosts_read(qtbot, done)
    before = done.note.text()
    _test_vmotion(qtbot, done, recorder)
    assert done.vmotion.outcome.title_text() == "The test did not run"
    assert "Resource.HotMigrate" in done.vmotion.outcome.body_text()
    assert done.note.text() == before
    assert done.vmotion.test_button.isEnabled()


def test_a_powered_off_vm_cannot_be_tested(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    facts = replace(confirmed_facts(), power_state="poweredOff")
    gw = FakeGateway(trusted=True, facts=facts, hosts=HOSTS)
    win = make_window(gw)
    done = to_done(qtbot, win, recorder)
    assert not done.vmotion.test_button.isEnabled()
    assert "needs it running" in done.vmotion.hosts_note.text()
    assert "list_target_hosts" not in gw.calls


def _save_as(monkeypatch: pytest.MonkeyPatch, target: Path) -> list[QDialog]:
    """Answer the save dialog with ``target``; any other dialog is cancelled."""
    shown: list[QDialog] = []

    def answer(dialog: QDialog, on_done: Callable[[int], None]) -> None:
        shown.append(dialog)
        if isinstance(dialog, QFileDialog):
            dialog.selectFile(str(target))
            on_done(int(QDialog.DialogCode.Accepted))
        else:
            on_done(int(QDialog.DialogCode.Accepted))

    monkeypatch.setattr(dialogs, "show_modal", answer)
    return shown


def test_save_report_writes_html_and_pdf_after_undo(
    qtbot: QtBot,
    recorder: DialogRecorder,
    gw: FakeGateway,
    done: DonePage,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    gw.outcomes = [moved(True, "moved", "task-45")]
    _hosts_read(qtbot, done)
    _test_vmotion(qtbot, done, recorder)
    recorder.answers["UndoConfirmDialog"] = int(QDialog.DialogCode.Accepted)  # it shuts down
    done.undo_button.click()
    qtbot.waitUntil(lambda: done.banner.title_text() == "Change undone")
    assert "Change undone at " in done.note.text()
    assert "undo is possible" not in done.note.text()

    shown = _save_as(monkeypatch, tmp_path / "ticket 4711")
    done.report_button.click()
    (dialog,) = shown
    assert isinstance(dialog, QFileDialog)
    html_path = tmp_path / "ticket 4711.html"
    pdf_path = tmp_path / "ticket 4711.pdf"
    assert html_path.exists()
    assert pdf_path.read_bytes().startswith(b"%PDF")
    assert pdf_path.stat().st_size > 5000
    assert done.report_note.text() == (f"Saved {html_path.name} and {pdf_path.name} in {tmp_path}.")
    page = html_path.read_text(encoding="utf-8")
    assert "HD-W7-042 &lt;&quot;Sales&quot; &amp; Co&gt;" in page
    assert VM_NAME not in page
    for expected in (
        "journal-0001",
        "journal-0002",
        "KB 2005741 (now 308477)",
        "Checkpoint Wizard 0.1.0",
        "migrate.baseCptCacheSize",
        "The change was undone",
        "task-45",
        "Read the VM again and verify",  # a step, from the step list the technician watched
        "helpdesk@lab.local",
    ):
        assert expected in page, expected
    assert PASSWORD not in page
    assert PASSWORD not in done.note.text()


def test_a_report_that_cannot_be_written_says_so(
    done: DonePage, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _save_as(monkeypatch, tmp_path / "no-such-folder" / "report.html")
    done.report_button.click()
    assert done.report_note.text().startswith("The report was not saved:")
    assert done.report_note.isVisible()
