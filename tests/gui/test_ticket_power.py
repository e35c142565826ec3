"""The ticket note says what really happened to the VM's power, not what usually happens."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.helpers.facts import make_facts
from wizard.kb import RemedyId, assess, remedies
from wizard.ui.ticket import ticket_note


def _note(power_steps: tuple[str, ...] | None) -> str:
    facts = make_facts()
    assessment = assess(facts)
    remedy = next(r for r in remedies(assessment, facts) if r.id is RemedyId.RAISE_BUFFER)
    return ticket_note(
        facts=facts,
        assessment=assessment,
        remedy=remedy,
        changes=remedy.changes,
        applied=True,
        verified=True,
        after=None,
        journal_id="e1",
        task_ids=("task-1",),
        user="helpdesk@lab.local",
        when=datetime(2026, 11, 26, 10, 0),
        power_steps=power_steps,
    )


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (("shutdown", "power_on"), "shut down through VMware Tools for the change and powered on"),
        (("power_off", "power_on"), "powered off hard (VMware Tools were not running)"),
        (("shutdown",), "and left powered off"),
    ],
)
def test_the_note_names_the_power_actions_that_ran(steps: tuple[str, ...], expected: str) -> None:
    assert expected in _note(steps)


def test_a_vm_that_was_already_off_is_not_said_to_be_shut_down() -> None:
    note = _note(())
    assert "shut down" not in note
    assert "powered off" not in note
