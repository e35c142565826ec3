"""The executor's pure decisions: what changed since the check, verification, undo, steps."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.helpers.facts import make_facts, make_upgrade_policy, make_video, with_extra
from wizard.kb.model import Change, ChangeTarget
from wizard.kb.plan import (
    CannotUndo,
    ChangeState,
    Difference,
    UnreadableChange,
    change_from_json,
    change_to_json,
    current_value,
    differences,
    plan_steps,
    planned_run,
    reconcile_state,
    undo_changes,
    verify,
)

BUFFER = Change(ChangeTarget.EXTRA_CONFIG, "migrate.baseCptCacheSize", None, "24117248")
THREE_D = Change(ChangeTarget.VIDEO_CARD, "enable3DSupport", "false", "true")
DISPLAYS = Change(ChangeTarget.VIDEO_CARD, "numDisplays", "2", "1")
POLICY = Change(ChangeTarget.UPGRADE_POLICY, "upgradePolicy", "onSoftPowerOff", "never")
SCREEN = Change(ChangeTarget.GUEST, "screen", "1920x1200", "1280x1024")


def test_current_values_read_as_vcenter_stores_them() -> None:
    facts = with_extra(make_facts(upgrade_policy=make_upgrade_policy()), cpt="8388608")
    assert current_value(facts, BUFFER) == "8388608"
    assert current_value(facts, THREE_D) == "false"
    assert current_value(facts, DISPLAYS) == "2"
    assert current_value(facts, SCREEN) == "1920x1200"
    assert current_value(make_facts(screen=None), SCREEN) is None
    assert current_value(make_facts(video=None), THREE_D) is None
    assert current_value(make_facts(), BUFFER) is None


def test_a_plan_that_still_holds_has_no_differences() -> None:
    facts = make_facts()
    assert differences((BUFFER, THREE_D), facts, replace(facts, change_version="later")) == ()


def test_every_kind_of_difference_is_named_with_both_values() -> None:
    checked = make_facts()
    now = replace(
        with_extra(checked, cpt="16777216"),
        power_state="poweredOff",
        hardware_version="vmx-09",
        instance_uuid="another",
        video=make_video(enable_3d_support=True),
    )
    found = differences((BUFFER, THREE_D), checked, now)
    assert found == (
        Difference("instance UUID", checked.instance_uuid, "another"),
        Difference("power state", "poweredOn", "poweredOff"),
        Difference("hardware version", "vmx-08", "vmx-09"),
        Difference("migrate.baseCptCacheSize", None, "16777216"),
        Difference("video card enable3DSupport", "false", "true"),
    )
    assert found[3].describe() == "migrate.baseCptCacheSize: (not set) → 16777216"


def test_verify_sees_each_change_in_place_or_not() -> None:
    after = replace(with_extra(make_facts(), cpt="24117248"), screen=(1024, 768))
    checks = verify((BUFFER, THREE_D, SCREEN), after)
    assert [(c.change.key, c.found, c.in_place) for c in checks] == [
        ("migrate.baseCptCacheSize", "24117248", True),
        ("enable3DSupport", "false", False),
        # A smaller guest screen than asked still keeps within one 1280x1024 screen.
        ("screen", "1024x768", True),
    ]


def test_upgrade_policy_compares_without_regard_to_case() -> None:
    facts = make_facts(upgrade_policy=make_upgrade_policy(policy="Never"))
    assert verify((POLICY,), facts)[0].in_place


@pytest.mark.parametrize(
    ("extra", "state"),
    [
        ({"cpt": "24117248"}, ChangeState.APPLIED),
        ({}, ChangeState.NOT_APPLIED),
        ({"cpt": "99"}, ChangeState.CHANGED_SINCE),
    ],
)
def test_reconcile_decides_from_the_real_values(extra: dict[str, str], state: ChangeState) -> None:
    assert reconcile_state((BUFFER,), with_extra(make_facts(), **extra)) is state


def test_reconcile_sees_a_partial_change() -> None:
    facts = with_extra(make_facts(), cpt="24117248")
    assert reconcile_state((BUFFER, THREE_D), facts) is ChangeState.PARTIAL


def test_undo_swaps_before_and_after_and_removes_an_added_key() -> None:
    assert undo_changes((BUFFER, THREE_D)) == (
        Change(ChangeTarget.EXTRA_CONFIG, "migrate.baseCptCacheSize", "24117248", None),
        Change(ChangeTarget.VIDEO_CARD, "enable3DSupport", "true", "false"),
    )


def test_undo_refuses_what_vsphere_cannot_put_back() -> None:
    with pytest.raises(CannotUndo, match="cannot remove one"):
        undo_changes((Change(ChangeTarget.UPGRADE_POLICY, "upgradePolicy", None, "never"),))
    with pytest.raises(CannotUndo, match="not known"):
        undo_changes((Change(ChangeTarget.GUEST, "screen", None, "1280x1024"),))


def test_changes_round_trip_through_the_journal_form() -> None:
    for change in (BUFFER, THREE_D, POLICY, SCREEN):
        assert change_from_json(change_to_json(change)) == change
    with pytest.raises(UnreadableChange):
        change_from_json({"target": "nonsense", "key": "k", "from": None, "to": "1"})
    with pytest.raises(UnreadableChange):
        change_from_json({"target": "extraConfig", "key": "k", "from": None, "to": 1})


def test_steps_follow_power_needs_and_choices() -> None:
    def ids(*args: object, **kwargs: bool) -> list[str]:
        return [s.id for s in plan_steps(*args, **kwargs)]  # type: ignore[arg-type]

    assert ids((BUFFER,), "poweredOn") == [
        "reread",
        "shutdown",
        "reconfigure",
        "power_on",
        "verify",
    ]
    assert ids((BUFFER,), "poweredOff") == ["reread", "reconfigure", "verify"]
    assert ids((THREE_D,), "poweredOn", leave_powered_off=True, hard_power_off=True) == [
        "reread",
        "power_off",
        "reconfigure",
        "verify",
    ]
    assert ids((POLICY,), "poweredOn") == ["reread", "reconfigure", "verify"]
    assert ids((SCREEN,), "poweredOn") == ["reread", "guest_resolution", "verify"]
    assert ids((), "poweredOn") == ["reread"]
    steps = plan_steps((BUFFER,), "poweredOn")
    assert [s.cancellable_before for s in steps] == [True, True, True, False, False]


@pytest.mark.parametrize(
    ("power_state", "tools_running", "allowed", "first_step"),
    [
        # A suspended VM has no running guest, whatever Tools last reported: only a hard
        # power-off brings it down (the executor refuses it without that consent).
        ("suspended", True, True, "power_off"),
        ("suspended", False, True, "power_off"),
        ("poweredOn", False, True, "power_off"),
        ("poweredOn", True, True, "shutdown"),
        ("poweredOn", False, False, "shutdown"),
    ],
)
def test_the_plan_shows_the_power_step_the_executor_runs(
    power_state: str, tools_running: bool, allowed: bool, first_step: str
) -> None:
    facts = make_facts(power_state=power_state, tools_running=tools_running)
    steps = [s.id for s in planned_run((THREE_D,), facts, allow_hard_poweroff=allowed)]
    assert steps[:2] == ["reread", first_step]


def test_a_vm_not_read_yet_is_planned_as_running_with_tools() -> None:
    steps = [s.id for s in planned_run((THREE_D,), None, allow_hard_poweroff=True)]
    assert steps == ["reread", "shutdown", "reconfigure", "power_on", "verify"]
