"""Applying each remedy against the lab: verified, idempotent, undoable, refused when it must be.

The pieces the other ``test_apply_*`` modules share (the scenario, how a VM is checked, and
"someone else" acting on vCenter meanwhile) live in :mod:`tests.helpers.apply`. Every test
starts a fresh lab (tests change VMs) and talks to it through the product's own
:class:`~wizard.vsphere.session.Session`.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.helpers.apply import (
    OPERATOR,
    VIEWER,
    assert_on_and_unchanged,
    check,
    read,
    records,
    run_task,
    someone_else,
)
from tests.helpers.lab import vim, vm_of
from tests.helpers.vsphere_lab import session_to
from wizard.audit import Journal
from wizard.kb import RemedyId, RemedyOptions
from wizard.kb.facts import VmFacts
from wizard.kb.model import Remedy
from wizard.lab.process import LabInfo
from wizard.vsphere.executor import Executor
from wizard.vsphere.results import (
    ApplyRequest,
    ApplyResult,
    GuestCredentials,
    Outcome,
    Reason,
    StepUpdate,
)
from wizard.vsphere.session import Session

pytestmark = pytest.mark.lab


def apply(
    session: Session,
    journal: Journal,
    facts: VmFacts,
    remedy: Remedy,
    *,
    updates: list[StepUpdate] | None = None,
    **options: Any,
) -> ApplyResult:
    """Apply with the executor as the wizard and the CLI do, recording progress."""
    seen = updates if updates is not None else []
    executor = Executor(session, journal, on_progress=seen.append, tools_timeout=1.0)
    options.setdefault("shutdown_timeout", 10.0)
    return executor.apply(ApplyRequest(facts, remedy, **options))


def steps_of(result: ApplyResult) -> list[tuple[str, str]]:
    return [(s.step, s.state) for s in result.steps]


def test_raise_buffer_is_applied_verified_idempotent_and_undone(
    lab: LabInfo, journal: Journal
) -> None:
    with session_to(lab) as session:
        facts, remedy = check(session, "Dual W7", RemedyId.RAISE_BUFFER)
        assert facts.extra("migrate.baseCptCacheSize") is None  # noqa: S610
        updates: list[StepUpdate] = []

        result = apply(session, journal, facts, remedy, allow_shutdown=True, updates=updates)

        assert result.outcome is Outcome.APPLIED, result.message
        assert result.verified
        # The VM had failed before: the old events stay, the configuration is now safe.
        assert result.verification_verdict == "mitigated"
        assert steps_of(result) == [
            ("reread", "done"),
            ("shutdown", "done"),
            ("reconfigure", "done"),
            ("power_on", "done"),
            ("verify", "done"),
        ]
        assert ("shutdown", "running") in {(u.step, u.state) for u in updates}
        now = read(session, "Dual W7")
        assert now.extra("migrate.baseCptCacheSize") == remedy.changes[0].after  # noqa: S610
        assert now.power_state == "poweredOn"
        entry = journal.read().entry(result.entry_id or "")
        assert entry is not None
        assert entry.outcome == "applied"
        assert not entry.is_dangling
        assert (entry.vm.name, entry.vm.moref) == ("Dual W7", facts.moref)
        assert entry.vm.instance_uuid == facts.instance_uuid
        assert records(entry) == [
            ("begin", "apply", None),
            ("intent", "shutdown", None),
            ("outcome", "shutdown", "succeeded"),
            ("intent", "reconfigure", None),
            ("outcome", "reconfigure", "succeeded"),
            ("intent", "power_on", None),
            ("outcome", "power_on", "succeeded"),
            ("end", "end", "applied"),
        ]
        end = entry.records[-1].data
        assert end["task_ids"] == list(result.task_ids)
        assert end["verification"]["verdict"] == "mitigated"
        assert end["changes"] == [
            {
                "target": "extraConfig",
                "key": "migrate.baseCptCacheSize",
                "from": None,
                "to": remedy.changes[0].after,
            }
        ]

        # A second apply of the same plan changes nothing and says so.
        again = apply(session, journal, facts, remedy, allow_shutdown=True)
        assert again.outcome is Outcome.NOTHING_TO_DO
        assert again.task_ids == ()
        assert [s.step for s in again.steps] == ["reread"]
        assert read(session, "Dual W7").change_version == now.change_version

        # Undo puts back exactly what was there: the key did not exist.
        undone = Executor(session, journal, tools_timeout=5.0).undo(
            result.entry_id or "", allow_shutdown=True, shutdown_timeout=10.0
        )
        assert undone.outcome is Outcome.APPLIED, undone.message
        assert undone.verified
        back = read(session, "Dual W7")
        assert back.extra("migrate.baseCptCacheSize") is None  # noqa: S610
        assert back.extra_config == facts.extra_config
        assert back.power_state == "poweredOn"
        undo_entry = journal.read().entry(undone.entry_id or "")
        assert undo_entry is not None
        assert undo_entry.undo_of == result.entry_id
        assert undo_entry.outcome == "applied"


def test_enable_3d_on_a_vm_that_is_off_stays_off(lab: LabInfo, journal: Journal) -> None:
    with session_to(lab) as session:
        facts, remedy = check(session, "Off W7", RemedyId.ENABLE_3D)
        result = apply(session, journal, facts, remedy)  # no shutdown needed: no consent asked
        assert result.outcome is Outcome.APPLIED, result.message
        assert result.verification_verdict in ("mitigated", "not_affected")
        assert [s.step for s in result.steps] == ["reread", "reconfigure", "verify"]
        now = read(session, "Off W7")
        assert now.video is not None
        assert now.video.enable_3d_support
        assert now.power_state == "poweredOff"

        undone = Executor(session, journal).undo(result.entry_id or "")
        assert undone.outcome is Outcome.APPLIED, undone.message
        back = read(session, "Off W7")
        assert back.video == facts.video


def test_enable_3d_with_shutdown_and_leave_powered_off(lab: LabInfo, journal: Journal) -> None:
    with session_to(lab) as session:
        facts, remedy = check(session, "Single W7", RemedyId.ENABLE_3D)
        result = apply(session, journal, facts, remedy, allow_shutdown=True, leave_powered_off=True)
        assert result.outcome is Outcome.APPLIED, result.message
        assert result.verification_verdict == "mitigated"
        assert "power_on" not in [s.step for s in result.steps]
        assert result.power_state == "poweredOff"
        assert read(session, "Single W7").power_state == "poweredOff"


def test_lower_resolution_cap_limits_the_screen_after_power_on(
    lab: LabInfo, journal: Journal
) -> None:
    with session_to(lab) as session:
        facts, remedy = check(session, "Dual W7", RemedyId.LOWER_RESOLUTION)
        assert remedy.variant == "cap"
        result = apply(session, journal, facts, remedy, allow_shutdown=True)
        assert result.outcome is Outcome.APPLIED, result.message
        now = read(session, "Dual W7")
        assert now.video is not None
        assert (now.video.num_displays, now.video.video_ram_kb) == (1, 5120)
        # Tools report the capped desktop: one screen of at most 1280x1024.
        assert now.screen == (1280, 1024)
        assert result.verification_verdict == "not_affected"

        undone = Executor(session, journal, tools_timeout=5.0).undo(
            result.entry_id or "", allow_shutdown=True, shutdown_timeout=10.0
        )
        assert undone.outcome is Outcome.APPLIED, undone.message
        assert read(session, "Dual W7").video == facts.video


def test_lower_resolution_in_the_guest_needs_a_login_and_changes_the_screen(
    lab: LabInfo, journal: Journal
) -> None:
    with session_to(lab) as session:
        options = RemedyOptions(lower_resolution_variant="guest")
        facts, remedy = check(session, "Single W7", RemedyId.LOWER_RESOLUTION, options=options)
        assert remedy.available, remedy.why_not

        refused = apply(session, journal, facts, remedy)
        assert refused.outcome is Outcome.REFUSED
        assert refused.reason is Reason.GUEST_CREDENTIALS
        assert read(session, "Single W7").screen == (1920, 1080)

        secret = "Gu3st-Secret!"
        creds = GuestCredentials("CORP\\jdoe", secret)
        assert secret not in repr(creds)
        result = apply(session, journal, facts, remedy, guest_credentials=creds)
        assert result.outcome is Outcome.APPLIED, result.message
        assert [s.step for s in result.steps] == ["reread", "guest_resolution", "verify"]
        assert read(session, "Single W7").screen == (1280, 1024)
        assert result.verification_verdict == "not_affected"
        assert secret not in journal.path.read_text(encoding="utf-8")
        assert "CORP" in journal.path.read_text(encoding="utf-8")


def test_stay_on_hw7_pins_the_upgrade_policy(lab: LabInfo, journal: Journal) -> None:
    with session_to(lab) as session:
        facts, remedy = check(session, "HW7 W7", RemedyId.STAY_ON_HW7)
        assert not remedy.needs_power_off
        result = apply(session, journal, facts, remedy)
        assert result.outcome is Outcome.APPLIED, result.message
        assert [s.step for s in result.steps] == ["reread", "reconfigure", "verify"]
        now = read(session, "HW7 W7")
        assert now.upgrade_policy is not None
        assert now.upgrade_policy.policy == "never"
        assert now.power_state == "poweredOn"
        assert result.verification_verdict == "at_risk"  # still vmx-07, but no longer upgraded

        undone = Executor(session, journal).undo(result.entry_id or "")
        assert undone.outcome is Outcome.APPLIED, undone.message
        policy = read(session, "HW7 W7").upgrade_policy
        assert policy is not None
        assert policy.policy == "onSoftPowerOff"


def test_stay_on_hw7_is_refused_for_another_hardware_version(
    lab: LabInfo, journal: Journal
) -> None:
    with session_to(lab) as session:
        facts, remedy = check(session, "HW10 W7", RemedyId.STAY_ON_HW7)
        result = apply(session, journal, facts, remedy)
        assert result.outcome is Outcome.REFUSED
        assert result.reason is Reason.NOT_AVAILABLE
        assert result.task_ids == ()
        assert read(session, "HW10 W7").change_version == facts.change_version


def test_a_read_only_user_changes_nothing_and_is_told_the_privilege(
    lab: LabInfo, journal: Journal
) -> None:
    with session_to(lab, user=VIEWER[0], password=VIEWER[1]) as session:
        facts, remedy = check(session, "Dual W7", RemedyId.RAISE_BUFFER)
        result = apply(session, journal, facts, remedy, allow_shutdown=True)
        assert result.outcome is Outcome.REFUSED
        assert result.reason is Reason.NO_PERMISSION
        assert result.privilege == "VirtualMachine.Config.AdvancedConfig"
        assert "VirtualMachine.Config.AdvancedConfig" in result.message
        assert "Dual W7" in result.message
        assert result.task_ids == ()
        assert_on_and_unchanged(session, facts)
        entry = journal.read().entry(result.entry_id or "")
        assert entry is not None
        assert entry.outcome == "refused"
        assert [r.phase for r in entry.records] == ["begin", "end"]


def test_a_user_who_may_not_power_off_is_stopped_before_the_shutdown(
    lab: LabInfo, journal: Journal
) -> None:
    with session_to(lab, user=OPERATOR[0], password=OPERATOR[1]) as session:
        facts, remedy = check(session, "Dual W7", RemedyId.RAISE_BUFFER)
        result = apply(session, journal, facts, remedy, allow_shutdown=True)
        assert result.reason is Reason.NO_PERMISSION
        assert result.privilege == "VirtualMachine.Interact.PowerOff"
        assert read(session, "Dual W7").power_state == "poweredOn"


def test_no_shutdown_without_consent(lab: LabInfo, journal: Journal) -> None:
    with session_to(lab) as session:
        facts, remedy = check(session, "Dual W7", RemedyId.RAISE_BUFFER)
        result = apply(session, journal, facts, remedy)
        assert result.outcome is Outcome.REFUSED
        assert result.reason is Reason.CONSENT_SHUTDOWN
        assert_on_and_unchanged(session, facts)


def test_tools_not_running_offers_the_choices_and_hard_power_off_needs_its_own_consent(
    lab: LabInfo, journal: Journal
) -> None:
    with session_to(lab) as session:
        facts, remedy = check(session, "No Tools W7", RemedyId.ENABLE_3D)
        refused = apply(session, journal, facts, remedy, allow_shutdown=True)
        assert refused.reason is Reason.TOOLS_NOT_RUNNING
        assert "hard power-off" in refused.next_step
        assert read(session, "No Tools W7").power_state == "poweredOn"

        result = apply(
            session, journal, facts, remedy, allow_shutdown=True, allow_hard_poweroff=True
        )
        assert result.outcome is Outcome.APPLIED, result.message
        assert [s.step for s in result.steps] == [
            "reread",
            "power_off",
            "reconfigure",
            "power_on",
            "verify",
        ]
        now = read(session, "No Tools W7")
        assert now.video is not None
        assert now.video.enable_3d_support
        assert now.power_state == "poweredOn"


def test_a_plan_made_stale_by_someone_else_is_refused_showing_the_difference(
    lab: LabInfo, journal: Journal
) -> None:
    with session_to(lab) as session:
        facts, remedy = check(session, "Dual W7", RemedyId.LOWER_RESOLUTION)
        with someone_else(lab) as si:
            vm = vm_of(si, "Dual W7")
            run_task(vm.PowerOffVM_Task())
        result = apply(session, journal, facts, remedy, allow_shutdown=True)
        assert result.outcome is Outcome.REFUSED
        assert result.reason is Reason.STALE_PLAN
        assert [(d.what, d.expected, d.found) for d in result.differences] == [
            ("power state", "poweredOn", "poweredOff")
        ]
        assert "power state: poweredOn → poweredOff" in result.message
        now = read(session, "Dual W7")
        assert now.video == facts.video
        entry = journal.read().entry(result.entry_id or "")
        assert entry is not None
        assert entry.records[-1].data["differences"] == [
            {"what": "power state", "expected": "poweredOn", "found": "poweredOff"}
        ]


def test_a_changed_before_value_is_refused_and_undo_refuses_unless_forced(
    lab: LabInfo, journal: Journal
) -> None:
    with session_to(lab) as session:
        facts, remedy = check(session, "Off W7", RemedyId.RAISE_BUFFER)
        result = apply(session, journal, facts, remedy)
        assert result.outcome is Outcome.APPLIED, result.message
        with someone_else(lab) as si:
            vm = vm_of(si, "Off W7")
            spec = vim.vm.ConfigSpec(
                extraConfig=[vim.option.OptionValue(key="migrate.baseCptCacheSize", value="99")]
            )
            run_task(vm.ReconfigVM_Task(spec))
        executor = Executor(session, journal)
        refused = executor.undo(result.entry_id or "")
        assert refused.outcome is Outcome.REFUSED
        assert refused.reason is Reason.STALE_PLAN
        assert [(d.expected, d.found) for d in refused.differences] == [
            (remedy.changes[0].after, "99")
        ]
        assert read(session, "Off W7").extra("migrate.baseCptCacheSize") == "99"  # noqa: S610

        forced = executor.undo(result.entry_id or "", force=True)
        assert forced.outcome is Outcome.APPLIED, forced.message
        assert read(session, "Off W7").extra("migrate.baseCptCacheSize") is None  # noqa: S610
        # The journal tells the truth: the undo changed 99, not the value the fix had set.
        assert forced.changes[0].before == "99"


def test_stop_before_the_shutdown_changes_nothing(lab: LabInfo, journal: Journal) -> None:
    stop = threading.Event()

    def stop_after_reread(update: StepUpdate) -> None:
        if update.step == "reread" and update.state == "done":
            stop.set()

    with session_to(lab) as session:
        facts, remedy = check(session, "Dual W7", RemedyId.RAISE_BUFFER)
        executor = Executor(session, journal, on_progress=stop_after_reread, cancel=stop)
        result = executor.apply(ApplyRequest(facts, remedy, allow_shutdown=True))
        assert result.outcome is Outcome.CANCELLED
        assert steps_of(result) == [("reread", "done"), ("shutdown", "cancelled")]
        assert_on_and_unchanged(session, facts)
