"""Test vMotion against the lab: the article's failure before the fix, a clean move after it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers.apply import check, journal_in, read
from tests.helpers.lab import StartLab, load_scenario
from tests.helpers.vsphere_lab import session_to
from wizard.kb import RemedyId
from wizard.lab.process import LabInfo
from wizard.lab.scenario import bundled_scenarios_dir
from wizard.vsphere import migrate
from wizard.vsphere.errors import NoPermission
from wizard.vsphere.executor import Executor
from wizard.vsphere.power import power_off
from wizard.vsphere.results import ApplyRequest, Outcome

pytestmark = pytest.mark.lab

MESSAGE = "A general system error occurred: Failed to flush checkpoint data!"
VM = "HD-W7-042"
VIEWER = ("viewer@lab.local", "Viewer-Lab-1")


def _scenario() -> dict[str, Any]:
    data = load_scenario(Path(bundled_scenarios_dir()) / "dual-screen-win7.json")
    data["users"] = [{"user": VIEWER[0], "password": VIEWER[1], "role": "read-only"}]
    return data


@pytest.fixture
def lab(start_lab: StartLab) -> LabInfo:
    """The dual-screen-win7 training scenario, with a read-only user added."""
    return start_lab(_scenario())


def test_target_hosts_are_the_other_hosts_of_the_cluster(lab: LabInfo) -> None:
    with session_to(lab) as session:
        facts = read(session, VM)
        hosts = migrate.list_target_hosts(session, facts)
    assert [h.name for h in hosts] == ["esx-o2.lab.local", "esx-o3.lab.local"]
    assert all(h.usable and h.connection_state == "connected" for h in hosts)
    assert all(h.moref.startswith("host-") for h in hosts)


def test_fails_with_the_article_message_then_moves_once_the_buffer_is_raised(
    lab: LabInfo, tmp_path: Path
) -> None:
    progress: list[tuple[int | None, str]] = []
    with session_to(lab, timeout=10) as session:
        facts = read(session, VM)
        target = migrate.list_target_hosts(session, facts)[0]

        before = migrate.test_vmotion(
            session,
            facts.moref,
            target.moref,
            on_progress=lambda pct, msg: progress.append((pct, msg)),
            timeout=60,
        )
        assert not before.succeeded
        assert before.message == MESSAGE
        assert before.fault == "SystemError"
        assert before.task_id.startswith("task-")
        assert (before.source_host, before.destination_host) == (
            "esx-o1.lab.local",
            target.name,
        )
        assert before.vm_name == VM
        assert before.duration_s >= 0
        assert progress
        assert progress[0] == (0, f"Moving {VM} to {target.name}")
        assert read(session, VM).host.name == "esx-o1.lab.local"  # type: ignore[union-attr]

        checked, remedy = check(session, VM, RemedyId.RAISE_BUFFER)
        applied = Executor(session, journal_in(tmp_path)).apply(
            ApplyRequest(facts_at_check=checked, remedy=remedy, allow_shutdown=True)
        )
        assert applied.outcome is Outcome.APPLIED, applied.message

        after = migrate.test_vmotion(session, facts.moref, target.moref, timeout=60)
        assert after.succeeded, after.message
        assert after.message == f"{VM} moved from esx-o1.lab.local to {target.name}."
        assert after.task_id != before.task_id
        moved = read(session, VM)
        assert moved.host is not None
        assert moved.host.name == target.name
        # The list follows the VM: its old host is now a target, its new one is not.
        assert [h.name for h in migrate.list_target_hosts(session, moved)] == [
            "esx-o1.lab.local",
            "esx-o3.lab.local",
        ]


def test_a_read_only_user_is_refused_naming_the_privilege(lab: LabInfo) -> None:
    with session_to(lab, user=VIEWER[0], password=VIEWER[1]) as session:
        facts = read(session, VM)
        target = migrate.list_target_hosts(session, facts)[0]
        with pytest.raises(NoPermission) as raised:
            migrate.test_vmotion(session, facts.moref, target.moref, timeout=30)
    assert raised.value.privilege == migrate.HOT_MIGRATE
    assert VM in raised.value.message
    assert migrate.HOT_MIGRATE in raised.value.next_step


def test_refuses_a_powered_off_vm_and_its_own_host(lab: LabInfo, tmp_path: Path) -> None:
    with session_to(lab) as session:
        facts = read(session, VM)
        assert facts.host is not None
        with pytest.raises(migrate.AlreadyOnHost, match="already runs on esx-o1"):
            migrate.test_vmotion(session, facts.moref, facts.host.moref, timeout=30)
        power_off(session, facts.moref, timeout=30)
        target = migrate.list_target_hosts(session, facts)[0]
        with pytest.raises(migrate.VmNotRunning, match="poweredOff"):
            migrate.test_vmotion(session, facts.moref, target.moref, timeout=30)
