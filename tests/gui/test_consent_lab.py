"""Consent against the real lab: the guest login, the hard power-off, undo, leftovers, power-on.

Nothing that changes a VM happens without the technician seeing it and saying yes: these tests
drive the window the way a technician would and read the journal and the VM afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog, QMessageBox, QWizard
from pytestqt.qtbot import QtBot

from tests.gui.conftest import DialogRecorder
from tests.gui.lab_flow import (
    LAB_MARKS,
    SLOW,
    apply_button,
    apply_fix,
    open_windows,
    sign_in,
    to_done,
    to_fix,
    to_ready,
)
from tests.helpers.lab import StartLab, connect, vm_of
from wizard.audit import Journal, VmIdentity
from wizard.kb.model import RemedyId
from wizard.lab.scenario import bundled_scenarios_dir
from wizard.ui import dialogs
from wizard.ui.app import MainWindow, setup_logging
from wizard.ui.gateway import CancelFlag, ReportStep, VsphereGateway
from wizard.ui.pages.base import PageId
from wizard.ui.pages.choose_vm import ChooseVmPage
from wizard.ui.pages.done import UndoConfirmDialog
from wizard.vsphere.endpoint import parse_endpoint
from wizard.vsphere.results import ApplyRequest, ApplyResult, StepUpdate
from wizard.vsphere.session import Session

pytestmark = LAB_MARKS


GUEST_USER = r".\nurse3"
GUEST_PASSWORD = "Ward3-Guest-Secret!"  # hunted for in every file afterwards

Open = Callable[..., MainWindow]


@pytest.fixture
def open_window(qtbot: QtBot, recorder: DialogRecorder) -> Iterator[Open]:
    """Open the main window on a gateway (the product's by default); closed after the test."""
    recorder.answers["CertificateDialog"] = dialogs.CertificateDialog.TRUST_ONCE
    with open_windows(qtbot) as open_window:

        def make(gateway: VsphereGateway | None = None) -> MainWindow:
            return open_window(gateway=gateway)

        yield make


def _scenario(name: str) -> Path:
    return Path(bundled_scenarios_dir()) / f"{name}.json"


def _undo_result(win: MainWindow) -> ApplyResult | None:
    """The undo's result, read afresh (the undo ends on the worker thread)."""
    return win.ctx.undo_result


def _journal_steps(entry_id: str | None) -> list[tuple[str, str | None, str | None]]:
    entry = Journal().read().entry(entry_id or "")
    assert entry is not None
    return [(r.phase, r.step, r.data.get("outcome")) for r in entry.records]


# ---------------------------------------------------------------------------- guest login


def test_the_guest_fix_needs_the_guest_login_applies_and_leaks_the_password_nowhere(
    qtbot: QtBot,
    start_lab: StartLab,
    open_window: Open,
    hermetic_basedir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    log_path = setup_logging()
    lab = start_lab(_scenario("no-power-guest-resolution"))
    win = open_window()
    try:
        fix = to_fix(qtbot, win, lab, "WARD-W7-108")

        # The rules choose the in-guest variant for an account that may not power VMs off.
        card = fix.selected_card()
        assert card is not None
        assert card.remedy.id == RemedyId.LOWER_RESOLUTION
        assert card.remedy.variant == "guest"
        assert card.variant == "guest"
        assert card.needs_guest_login
        assert card.guest_box.isVisible()
        assert card.guest_password_edit.echoMode() == card.guest_password_edit.EchoMode.Password
        next_button = win.wizard.button(QWizard.WizardButton.NextButton)
        assert not fix.isComplete()
        assert not next_button.isEnabled()
        card.guest_user_edit.setText(GUEST_USER)
        assert not next_button.isEnabled()
        card.guest_password_edit.setText(GUEST_PASSWORD)
        assert next_button.isEnabled()

        # Cap instead: no guest login needed (the technician's choice wins), and back again.
        assert card.variant_cap is not None
        assert card.variant_guest is not None
        card.variant_cap.setChecked(True)
        assert card.remedy.variant == "cap"
        assert not card.guest_box.isVisible()
        card.variant_guest.setChecked(True)
        assert card.remedy.variant == "guest"
        assert card.guest_box.isVisible()
        assert next_button.isEnabled()

        ready = to_ready(win)
        assert (
            f"runs VMwareResolutionSet.exe in the guest as {GUEST_USER}"
            in ready.disruption.body_text()
        )
        assert not ready.hard_check.isVisible()
        assert not ready.leave_off_check.isVisible()
        ready.confirm_check.setChecked(True)
        apply = apply_fix(qtbot, win)
        result = win.ctx.result
        assert result is not None
        assert result.ok, result.message
        assert result.verified
        assert result.facts_after is not None
        assert result.facts_after.screen == (1280, 1024)
        assert apply.banner.title_text() == "Done and verified"
        steps = _journal_steps(result.journal_id)
        assert ("outcome", "guest_resolution", "succeeded") in steps

        done = to_done(win)
        note = done.note.text()
        assert "1280x1024" in note
        assert GUEST_PASSWORD not in note
        assert GUEST_PASSWORD not in done.report_data().result_message

        # The run ends (the note copied into the ticket): the login leaves memory and the field.
        done.note.button.click()
        win.wizard.button(QWizard.WizardButton.FinishButton).click()
        assert win.ctx.guest_login is None
        assert card.guest_password_edit.text() == ""
    finally:
        for h in list(logging.getLogger().handlers):
            if isinstance(h, logging.FileHandler) and Path(h.baseFilename) == log_path:
                logging.getLogger().removeHandler(h)
                h.close()

    assert GUEST_PASSWORD not in caplog.text  # every record, at every level
    journal = Journal().path.read_text(encoding="utf-8")
    assert GUEST_USER.replace("\\", "\\\\") in journal  # the journal names the guest user...
    searched = [p for p in hermetic_basedir.rglob("*") if p.is_file()]
    assert log_path in searched
    assert Journal().path in searched
    leaks = [p for p in searched if GUEST_PASSWORD.encode() in p.read_bytes()]
    assert not leaks, leaks  # ...but no settings file, log or journal holds the password


# ---------------------------------------------------------------------------- hard power-off


def test_without_tools_only_the_explicit_hard_poweroff_consent_applies_and_undoes(
    qtbot: QtBot,
    start_lab: StartLab,
    open_window: Open,
    recorder: DialogRecorder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lab = start_lab(_scenario("tools-not-running"))
    win = open_window()
    fix = to_fix(qtbot, win, lab, "HR-W7-09")
    card = fix.selected_card()
    assert card is not None
    assert card.remedy.id == RemedyId.RAISE_BUFFER
    ready = to_ready(win)
    assert ready.disruption.title_text() == (
        "VMware Tools are not running: no clean shutdown is possible"
    )
    assert "unsaved work in the guest is lost" in ready.disruption.body_text()
    assert ready.hard_check.isVisible()
    assert not ready.hard_check.isChecked()
    assert ready.leave_off_check.isVisible()
    assert not ready.leave_off_check.isChecked()
    assert ready.hard_check.text().replace("&", "") == (
        "Power the VM off without a clean shutdown (unsaved work in the guest is lost)"
    )

    ready.confirm_check.setChecked(True)
    assert not ready.isComplete()
    assert not apply_button(win).isEnabled()  # the confirmation alone is not enough
    ready.hard_check.setChecked(True)
    assert apply_button(win).isEnabled()
    ready.confirm_check.setChecked(False)
    assert not apply_button(win).isEnabled()  # nor the hard power-off tick alone
    ready.confirm_check.setChecked(True)

    apply = apply_fix(qtbot, win)
    assert [apply.runner.row(s) is not None for s in ("power_off", "power_on")] == [True, True]
    assert apply.runner.row("shutdown") is None
    result = win.ctx.result
    assert result is not None
    assert result.ok, result.message
    steps = _journal_steps(result.journal_id)
    assert ("intent", "power_off", None) in steps
    assert ("outcome", "power_off", "succeeded") in steps
    assert ("outcome", "power_on", "succeeded") in steps
    entry = Journal().read().entry(result.journal_id or "")
    assert entry is not None
    assert entry.records[0].data["consent"]["allow_hard_poweroff"] is True

    # Undo needs the VM off again: the question shows it, and a yes without the tick does nothing.
    done = to_done(win)
    recorder.answers["UndoConfirmDialog"] = int(QDialog.DialogCode.Accepted)
    done.undo_button.click()
    (asked,) = recorder.of(UndoConfirmDialog)
    assert asked.hard_check.isVisibleTo(asked)
    assert not asked.undo_button.isEnabled()
    assert "baseCptCacheSize" in " ".join(w.text() for w in asked.findChildren(type(asked.head)))
    assert win.ctx.undo_result is None
    assert done.undo_runner.isHidden()
    assert len(Journal().read().entries) == 1

    def tick_and_accept(dialog: QDialog, on_done: Callable[[int], None]) -> None:
        assert isinstance(dialog, UndoConfirmDialog)
        dialog.hard_check.setChecked(True)
        assert dialog.undo_button.isEnabled()
        on_done(int(QDialog.DialogCode.Accepted))

    monkeypatch.setattr(dialogs, "show_modal", tick_and_accept)
    done.undo_button.click()
    qtbot.waitUntil(lambda: done.banner.title_text() == "Change undone", timeout=SLOW)
    undone = _undo_result(win)
    assert undone is not None
    assert ("outcome", "power_off", "succeeded") in _journal_steps(undone.journal_id)


# ---------------------------------------------------------------------------- undo question


def test_an_undo_that_shuts_down_asks_first_and_cancel_changes_nothing(
    qtbot: QtBot, start_lab: StartLab, open_window: Open, recorder: DialogRecorder
) -> None:
    lab = start_lab(_scenario("dual-screen-win7"))
    win = open_window()
    to_fix(qtbot, win, lab, "HD-W7-042")
    ready = to_ready(win)
    assert not ready.hard_check.isVisible()  # Tools run: a clean shutdown, no hard choice
    ready.confirm_check.setChecked(True)
    apply_fix(qtbot, win)
    result = win.ctx.result
    assert result is not None
    assert result.ok, result.message
    done = to_done(win)

    done.undo_button.click()  # the recorder answers Cancel
    (asked,) = recorder.of(UndoConfirmDialog)
    assert asked.head.text() == "Undoing this change shuts HD-W7-042 down."
    assert not asked.hard_check.isVisibleTo(asked)
    assert asked.undo_button.isEnabled()
    assert asked.undo_button.text().replace("&", "") == "Shut down and undo"
    assert win.ctx.undo_result is None
    assert done.undo_runner.isHidden()
    assert done.banner.title_text() == "Fixed and verified"
    assert len(Journal().read().entries) == 1  # no undo entry: nothing was even tried
    with connect(lab) as si:
        vm = vm_of(si, "HD-W7-042")
        assert vm.runtime.powerState == "poweredOn"
        values = {o.key: o.value for o in vm.config.extraConfig}
        assert values["migrate.baseCptCacheSize"] == result.changes[0].after

    recorder.answers["UndoConfirmDialog"] = int(QDialog.DialogCode.Accepted)
    done.undo_button.click()
    qtbot.waitUntil(lambda: done.banner.title_text() == "Change undone", timeout=SLOW)
    assert len(recorder.of(UndoConfirmDialog)) == 2


# ---------------------------------------------------------------------------- leftovers


def test_a_change_left_unfinished_by_a_crash_is_shown_once_after_connecting(
    qtbot: QtBot, start_lab: StartLab, open_window: Open, recorder: DialogRecorder
) -> None:
    lab = start_lab(_scenario("dual-screen-win7"))
    with connect(lab) as si:
        vm = vm_of(si, "HD-W7-042")
        identity = VmIdentity("HD-W7-042", vm._moId, vm.config.instanceUuid)
    # What a crashed apply leaves: the entry begun, the reconfiguration intended, no outcome.
    journal = Journal()
    entry_id = journal.begin(
        action="apply",
        vcenter=str(parse_endpoint(f"{lab.host}:{lab.port}")),
        user=lab.user,
        vm=identity,
        remedy="raise_buffer",
        changes=[
            {
                "target": "extra_config",
                "key": "migrate.baseCptCacheSize",
                "from": "8388608",
                "to": "16777216",
            }
        ],
    )
    journal.intent(entry_id, "reconfigure")
    assert [e.id for e in journal.read().dangling] == [entry_id]

    win = open_window()
    sign_in(qtbot, win, lab)
    qtbot.waitUntil(lambda: bool(recorder.of(QMessageBox)), timeout=SLOW)
    (shown,) = recorder.of(QMessageBox)
    assert "did not finish" in shown.text()
    details = shown.informativeText()
    assert "HD-W7-042: the change was not made; the VM is poweredOn." in details
    assert entry_id in details
    entry = journal.read().entry(entry_id)
    assert entry is not None
    assert entry.outcome == "reconciled"
    assert journal.read().dangling == ()

    # Shown once: the next connection finds nothing left to tell.
    win.close()
    again = open_window()
    sign_in(qtbot, again, lab)
    choose = again.wizard.page_of(PageId.CHOOSE_VM)
    assert isinstance(choose, ChooseVmPage)
    qtbot.waitUntil(lambda: choose.model.rowCount() > 0, timeout=SLOW)
    assert len(recorder.of(QMessageBox)) == 1


# ---------------------------------------------------------------------------- power-on


def test_a_failed_power_on_after_the_change_offers_a_retry(
    qtbot: QtBot, start_lab: StartLab, open_window: Open
) -> None:
    """The lab cannot refuse a power-on by itself: a colleague turns the VM into a template
    while it is off for the change (as in tests/integration/test_apply_faults.py), so the real
    executor's power-on fails for real; turned back into a VM, the retry works."""
    lab = start_lab(_scenario("dual-screen-win7"))

    def colleague_makes_it_a_template() -> None:
        with connect(lab) as si:
            vm_of(si, "HD-W7-042").MarkAsTemplate()

    class Meddled(VsphereGateway):
        def apply(
            self,
            session: Session,
            request: ApplyRequest,
            *,
            cancel: CancelFlag,
            report: ReportStep,
        ) -> ApplyResult:
            def meddling(update: StepUpdate) -> None:
                report(update)
                if (update.step, update.state) == ("reconfigure", "done"):
                    colleague_makes_it_a_template()

            return super().apply(session, request, cancel=cancel, report=meddling)

    win = open_window(Meddled())
    to_fix(qtbot, win, lab, "HD-W7-042")
    ready = to_ready(win)
    ready.confirm_check.setChecked(True)
    apply = apply_fix(qtbot, win)
    result = win.ctx.result
    assert result is not None
    assert isinstance(result, ApplyResult)
    assert result.reason == "power_on_failed"
    assert apply.banner.title_text() == "The change is in place, but the VM is off"
    assert "poweredOff" in apply.banner.next_text()
    assert apply.retry_button.isVisible()
    assert apply.retry_button.text().replace("&", "") == "Try power-on again"

    with connect(lab) as si:
        vm = vm_of(si, "HD-W7-042")
        host = vm.runtime.host
        vm.MarkAsVirtualMachine(pool=host.parent.resourcePool, host=host)
    apply.retry_button.click()
    assert not apply.isComplete()  # Next waits for the retry
    qtbot.waitUntil(lambda: apply.banner.title_text() == "The VM is on again", timeout=SLOW)
    qtbot.waitUntil(apply.isComplete, timeout=SLOW)
    assert not apply.retry_button.isVisible()
    again = win.ctx.result
    assert again is not None
    assert again.ok
    assert again.journal_id == result.journal_id  # undo still refers to the change itself
    assert again.facts_after is not None
    assert again.facts_after.power_state == "poweredOn"
    done = to_done(win)
    assert done.banner.title_text() == "Changed, but not verified"
    assert done.undo_button.isVisible()
