"""Pure helpers for applying a remedy safely: compare, verify, reconcile and undo changes.

The executor (``wizard.vsphere.executor``) does the I/O; everything it decides is decided here,
from plain facts, so that each rule can be tested without a vCenter:

- :func:`current_value` reads the value a change touches from a VM's facts, as vCenter stores
  it (``"16777216"``, ``"true"``, ``"never"``, ``"1280x1024"``);
- :func:`differences` says what changed between the check and now that the plan relies on
  (each change's before-value, the power state, the hardware version, the VM's identity);
- :func:`verify` says whether every change is in place after applying it;
- :func:`reconcile_state` decides from the VM's real values whether an interrupted change
  happened;
- :func:`undo_changes` turns a journal entry's changes into the changes that put them back;
- :func:`plan_steps` lists the steps an apply or undo will run, for the step list.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wizard.kb.facts import PowerState, VmFacts
from wizard.kb.model import MAX_SINGLE_SCREEN_PIXELS, Change, ChangeTarget, Remedy

VIDEO_KEYS = ("numDisplays", "videoRamSizeInKB", "useAutoDetect", "enable3DSupport")
"""Video card fields the remedies change, by their vSphere names."""


class StepId(enum.StrEnum):
    """The steps of an apply or undo, in the order they run. Stable ids for the JSON result."""

    REREAD = "reread"
    SHUTDOWN = "shutdown"
    POWER_OFF = "power_off"
    RECONFIGURE = "reconfigure"
    GUEST_RESOLUTION = "guest_resolution"
    POWER_ON = "power_on"
    VERIFY = "verify"


STEP_TITLES = {
    StepId.REREAD: "Read the VM again and compare with the check",
    StepId.SHUTDOWN: "Shut down the guest",
    StepId.POWER_OFF: "Power off the VM (hard)",
    StepId.RECONFIGURE: "Change the VM's settings",
    StepId.GUEST_RESOLUTION: "Set the resolution in the guest",
    StepId.POWER_ON: "Power the VM on again",
    StepId.VERIFY: "Read the VM again and verify",
}

SAFE_BEFORE = frozenset({StepId.REREAD, StepId.SHUTDOWN, StepId.POWER_OFF, StepId.RECONFIGURE})
"""Steps before which stopping leaves the VM sound. Stopping before reconfigure after a
shutdown still powers the VM on again (unless told to leave it off)."""


@dataclass(frozen=True)
class PlannedStep:
    """One step as the step list shows it (the wizard's Apply page lists these).

    Attributes:
        id: a :class:`StepId` value.
        title: a few words for the technician.
        cancellable_before: True when stopping before this step leaves the VM sound.
    """

    id: str
    title: str
    cancellable_before: bool


@dataclass(frozen=True)
class Difference:
    """Something the plan relies on that is no longer what the check saw.

    Attributes:
        what: a short name, e.g. ``"migrate.baseCptCacheSize"``, ``"power state"``.
        expected: the value the plan relies on (None: not set).
        found: the value now (None: not set).
    """

    what: str
    expected: str | None
    found: str | None

    def describe(self) -> str:
        """One line for the technician: ``what: expected → found``."""
        return f"{self.what}: {_show(self.expected)} → {_show(self.found)}"


@dataclass(frozen=True)
class ChangeCheck:
    """Whether one change is in place after applying it.

    Attributes:
        change: the change as planned.
        found: the value re-read from the VM.
        in_place: True when ``found`` is what the change sets.
    """

    change: Change
    found: str | None
    in_place: bool


class ChangeState(enum.StrEnum):
    """What the VM's real values say about a set of changes (for reconciliation)."""

    APPLIED = "applied"
    NOT_APPLIED = "not_applied"
    PARTIAL = "partial"
    CHANGED_SINCE = "changed_since"


def _show(value: str | None) -> str:
    return "(not set)" if value is None else repr(value) if value == "" else value


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


def current_value(facts: VmFacts, change: Change) -> str | None:
    """The value ``change`` touches, as it is in ``facts`` and as vCenter stores it.

    Returns None when the setting does not exist (an extra-config key not set, no video card,
    no upgrade policy, no screen reported).
    """
    if change.target is ChangeTarget.EXTRA_CONFIG:
        return facts.extra(change.key)  # noqa: S610 (VmFacts.extra, not Django)
    if change.target is ChangeTarget.VIDEO_CARD:
        card = facts.video
        if card is None:
            return None
        values = {
            "numDisplays": str(card.num_displays),
            "videoRamSizeInKB": str(card.video_ram_kb),
            "useAutoDetect": _bool_text(card.use_auto_detect),
            "enable3DSupport": _bool_text(card.enable_3d_support),
        }
        return values.get(change.key)
    if change.target is ChangeTarget.UPGRADE_POLICY:
        policy = facts.upgrade_policy
        return policy.policy if policy is not None else None
    if facts.screen is None or facts.screen[0] <= 0 or facts.screen[1] <= 0:
        return None
    return f"{facts.screen[0]}x{facts.screen[1]}"


def _label(change: Change) -> str:
    if change.target is ChangeTarget.EXTRA_CONFIG:
        return change.key
    if change.target is ChangeTarget.VIDEO_CARD:
        return f"video card {change.key}"
    if change.target is ChangeTarget.UPGRADE_POLICY:
        return "scheduled hardware upgrade policy"
    return "guest screen"


def _screen_pixels(text: str | None) -> int | None:
    if text is None or "x" not in text:
        return None
    width, _, height = text.partition("x")
    if not (width.isdecimal() and height.isdecimal()):
        return None
    return int(width) * int(height)


def _same(change: Change, expected: str | None, found: str | None) -> bool:
    if change.target is ChangeTarget.EXTRA_CONFIG:
        # An empty value is how vSphere removes a key: treat "" and "not set" alike.
        return (expected or None) == (found or None)
    if change.target is ChangeTarget.UPGRADE_POLICY:
        return (expected or "").strip().lower() == (found or "").strip().lower()
    return expected == found


def value_differences(
    changes: Iterable[Change], facts_now: VmFacts, *, expect: str = "before"
) -> tuple[Difference, ...]:
    """Changes whose setting is no longer the value expected (``before`` or ``after``)."""
    found: list[Difference] = []
    for change in changes:
        expected = change.before if expect == "before" else change.after
        now = current_value(facts_now, change)
        if not _same(change, expected, now):
            found.append(Difference(_label(change), expected, now))
    return tuple(found)


def identity_differences(checked: VmFacts, now: VmFacts) -> tuple[Difference, ...]:
    """A different VM behind the same name or moref (instance UUID), or another moref."""
    found = []
    if checked.moref != now.moref:
        found.append(Difference("managed object id", checked.moref, now.moref))
    if checked.instance_uuid != now.instance_uuid:
        found.append(Difference("instance UUID", checked.instance_uuid, now.instance_uuid))
    return tuple(found)


def differences(
    changes: Iterable[Change], facts_at_check: VmFacts, facts_now: VmFacts
) -> tuple[Difference, ...]:
    """What the plan relies on and changed since the check; empty when the plan still holds.

    Compared: the VM's identity (moref and instance UUID), its power state, its hardware
    version, and each change's before-value. ``changeVersion`` is not compared here: anything
    else may change it (vCenter bumps it for unrelated edits); it is sent with the
    reconfiguration, and vCenter refuses the change if the VM changed in between.
    """
    found = list(identity_differences(facts_at_check, facts_now))
    if facts_at_check.power_state != facts_now.power_state:
        found.append(Difference("power state", facts_at_check.power_state, facts_now.power_state))
    if facts_at_check.hardware_version != facts_now.hardware_version:
        found.append(
            Difference(
                "hardware version", facts_at_check.hardware_version, facts_now.hardware_version
            )
        )
    found.extend(value_differences(changes, facts_now, expect="before"))
    return tuple(found)


def verify(changes: Iterable[Change], facts_after: VmFacts) -> tuple[ChangeCheck, ...]:
    """Whether each change is in place in ``facts_after``.

    A guest screen change is in place when the guest shows no more pixels than it asks for
    (the guest may pick a smaller mode; the article only needs at most 1280x1024).
    """
    checks = []
    for change in changes:
        found = current_value(facts_after, change)
        if change.target is ChangeTarget.GUEST:
            pixels, wanted = _screen_pixels(found), _screen_pixels(change.after)
            limit = wanted if wanted is not None else MAX_SINGLE_SCREEN_PIXELS
            ok = pixels is not None and pixels <= limit
        else:
            ok = _same(change, change.after, found)
        checks.append(ChangeCheck(change, found, ok))
    return tuple(checks)


def reconcile_state(changes: Sequence[Change], facts_now: VmFacts) -> ChangeState:
    """Decide from the VM's real values whether interrupted ``changes`` happened.

    Returns:
        ``applied`` when every setting has its after-value, ``not_applied`` when every one still
        has its before-value, ``partial`` when some have each, ``changed_since`` when at least
        one has neither (someone else changed it since).
    """
    applied = not_applied = 0
    for check in verify(changes, facts_now):
        if check.in_place:
            applied += 1
        elif _same(check.change, check.change.before, check.found):
            not_applied += 1
        else:
            return ChangeState.CHANGED_SINCE
    if applied == len(changes):
        return ChangeState.APPLIED
    if not_applied == len(changes):
        return ChangeState.NOT_APPLIED
    return ChangeState.PARTIAL


class CannotUndo(ValueError):
    """A journal entry's changes cannot be put back; the message says why."""


def undo_changes(changes: Iterable[Change]) -> tuple[Change, ...]:
    """The changes that put ``changes`` back: each after-value becomes the before-value.

    An extra-config key that did not exist before is removed again (``after`` None).

    Raises:
        CannotUndo: for a setting vSphere cannot put back as it was (an upgrade policy that was
            never set: vSphere cannot unset one).
    """
    result = []
    for change in changes:
        if change.target is ChangeTarget.UPGRADE_POLICY and change.before is None:
            raise CannotUndo(
                "The VM had no scheduled hardware upgrade before; vSphere cannot remove one "
                "again, and 'never' (now set) is what no schedule means."
            )
        if change.target is ChangeTarget.GUEST and change.before is None:
            raise CannotUndo("The guest's screen before the change is not known.")
        if change.target is ChangeTarget.VIDEO_CARD and change.before is None:
            raise CannotUndo(f"The video card's {change.key} before the change is not known.")
        result.append(Change(change.target, change.key, change.after, change.before))
    return tuple(result)


def change_to_json(change: Change) -> dict[str, Any]:
    """A change as the journal and the JSON result write it (the ``check --json`` keys)."""
    return {
        "target": change.target.value,
        "key": change.key,
        "from": change.before,
        "to": change.after,
    }


class UnreadableChange(ValueError):
    """A journal record of a change that this version cannot read."""


def change_from_json(data: Mapping[str, Any]) -> Change:
    """Read a change written by :func:`change_to_json`.

    Raises:
        UnreadableChange: a field is missing or of the wrong type.
    """
    try:
        target = ChangeTarget(data["target"])
        key = data["key"]
        before, after = data["from"], data["to"]
    except (KeyError, ValueError) as exc:
        raise UnreadableChange(f"a change in the journal cannot be read ({exc})") from None
    if not isinstance(key, str) or not all(
        v is None or isinstance(v, str) for v in (before, after)
    ):
        raise UnreadableChange("a change in the journal has values of the wrong type")
    return Change(target, key, before, after)


def needs_power_off(changes: Iterable[Change]) -> bool:
    """Whether these changes need the VM powered off (vCenter refuses them while it runs).

    Video card fields and advanced settings change only while off; the upgrade policy and the
    guest's screen change with the VM running.
    """
    return any(c.target in (ChangeTarget.EXTRA_CONFIG, ChangeTarget.VIDEO_CARD) for c in changes)


def plan_steps(
    changes: Sequence[Change],
    power_state: str,
    *,
    leave_powered_off: bool = False,
    hard_power_off: bool = False,
) -> tuple[PlannedStep, ...]:
    """The steps an apply (or undo) of ``changes`` runs on a VM in ``power_state``."""
    ids = [StepId.REREAD]
    if changes:
        off_needed = needs_power_off(changes) and power_state != PowerState.OFF
        if off_needed:
            ids.append(StepId.POWER_OFF if hard_power_off else StepId.SHUTDOWN)
        if any(c.target is not ChangeTarget.GUEST for c in changes):
            ids.append(StepId.RECONFIGURE)
        if any(c.target is ChangeTarget.GUEST for c in changes):
            ids.append(StepId.GUEST_RESOLUTION)
        if off_needed and not leave_powered_off:
            ids.append(StepId.POWER_ON)
        ids.append(StepId.VERIFY)
    return tuple(PlannedStep(s.value, STEP_TITLES[s], s in SAFE_BEFORE) for s in ids)


def hard_power_off(power_state: str, tools_running: bool, *, allowed: bool) -> bool:
    """Whether the VM is powered off hard rather than shut down through VMware Tools.

    Only when a hard power-off is allowed and the guest cannot be shut down cleanly: the VM is
    suspended (no running guest), or Tools are not running. The executor decides its power step
    by this, and the plan shown beforehand (:func:`planned_run`) by the same rule.
    """
    return allowed and (power_state != PowerState.ON or not tools_running)


def planned_run(
    changes: Sequence[Change],
    facts: VmFacts | None,
    *,
    allow_hard_poweroff: bool = False,
    leave_powered_off: bool = False,
) -> tuple[PlannedStep, ...]:
    """The steps the executor runs to apply (or undo) ``changes`` on the VM read as ``facts``.

    ``facts`` None (the VM not read yet) plans for a running VM with Tools running.
    """
    power = facts.power_state if facts is not None else PowerState.ON
    tools = facts.tools_running if facts is not None else True
    return plan_steps(
        changes,
        power,
        leave_powered_off=leave_powered_off,
        hard_power_off=hard_power_off(power, tools, allowed=allow_hard_poweroff),
    )


def remedy_steps(remedy: Remedy, facts: VmFacts) -> tuple[PlannedStep, ...]:
    """The steps applying ``remedy`` to the VM checked as ``facts`` runs."""
    return plan_steps(remedy.changes, facts.power_state)
