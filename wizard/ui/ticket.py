"""The ticket note: what was found, what was done, whether it worked. Plain text, no Qt."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from wizard import __version__
from wizard.kb.facts import VmFacts
from wizard.kb.model import ARTICLE_ID, Assessment, Change, Remedy, Verdict
from wizard.vsphere.records import MigrationOutcome

VERDICT_SHORT: dict[Verdict, str] = {v: v.words for v in Verdict}


@dataclass(frozen=True)
class UndoNote:
    """An undo run from the Done page.

    Attributes:
        ok: whether the old values are back.
        message: the executor's sentence about it.
        journal_id: the undo's own journal entry.
        when: when it ended (local time).
    """

    ok: bool
    message: str
    journal_id: str | None
    when: datetime


def local_time(when: datetime | None) -> str:
    """``HH:MM`` in local time (naive datetimes are taken as local already)."""
    if when is None:
        return "--:--"
    return f"{when.astimezone() if when.tzinfo else when:%H:%M}"


def duration_words(seconds: float) -> str:
    """How long a migration took, in words ("under a second", "12 s")."""
    return "under a second" if seconds < 1 else f"{seconds:.0f} s"


def vmotion_line(test: MigrationOutcome) -> str:
    """One line for a vMotion test: where to, whether it worked, vCenter's words if not."""
    route = f"{test.source_host} -> {test.destination_host}"
    head = f"vMotion test {local_time(test.finished_at)}: {route}"
    if test.succeeded:
        return f"{head}: succeeded ({test.task_id}, {duration_words(test.duration_s)})."
    return f"{head}: FAILED ({test.task_id}): {test.message}"


def undo_line(undo: UndoNote) -> str:
    """One line for an undo."""
    entry = f" Journal entry: {undo.journal_id}." if undo.journal_id else ""
    if undo.ok:
        said = undo.message or "The old values are back."
        return f"Change undone at {local_time(undo.when)}: {said}{entry}"
    return f"Undo FAILED at {local_time(undo.when)}: {undo.message}{entry}"


def change_line(c: Change) -> str:
    before = "(not set)" if c.before is None else c.before
    after = "(removed)" if c.after is None else c.after
    return f"{c.key}: {before} -> {after}"


def ticket_note(
    *,
    facts: VmFacts,
    assessment: Assessment,
    remedy: Remedy | None,
    changes: Sequence[Change],
    applied: bool,
    verified: bool,
    after: Assessment | None,
    journal_id: str | None,
    task_ids: Sequence[str],
    user: str,
    when: datetime,
    vmotion: Sequence[MigrationOutcome] = (),
    undo: UndoNote | None = None,
    power_steps: Sequence[str] | None = None,
    change_request: str = "",
) -> str:
    """The note a technician pastes into the ticket.

    ``change_request`` (the PowerCLI commands) makes it a change request: the technician may
    not apply the fix, so the note hands the planned change on to someone who may.

    vMotion tests and the undo follow the action in the order they happened. ``power_steps``
    are the power steps the executor really completed (``shutdown``, ``power_off``,
    ``power_on``); None when unknown, and the note then says only what the fix required.
    """
    lines = [
        f'vMotion "Failed to flush checkpoint data!" - {facts.name}',
        f"Checked {when:%Y-%m-%d %H:%M} by {user or 'unknown'} on {facts.vcenter} ({facts.moref}).",
        "",
        f"Finding: {VERDICT_SHORT[assessment.verdict]}.",
        f"Why: {assessment.reason}",
    ]
    if assessment.evidence:
        first = assessment.evidence[0]
        when_seen = f"{first.time:%Y-%m-%d %H:%M} " if first.time else ""
        lines.append(
            f"Evidence: {when_seen}{first.source}: {first.signature}"
            + (f" (+{len(assessment.evidence) - 1} more)" if len(assessment.evidence) > 1 else "")
        )
    lines.append("")
    if remedy is None:
        lines.append("Action: none; no change was made.")
    elif change_request and not applied:
        lines.append(
            f"Action: change request for '{remedy.title}' (not applied: this account lacks "
            f"{', '.join(remedy.missing_privileges)} on the VM). Please apply it, or grant the "
            "privileges:"
        )
        for c in remedy.changes:
            lines.append(f"  - {change_line(c)}")
        power = _power_line(remedy.needs_power_off, None)
        if power:
            lines.append(f"  {power}")
        lines.append("The same change by command:")
        lines.extend(f"  {line}" for line in change_request.splitlines())
    elif not applied:
        lines.append(f"Action: '{remedy.title}' was chosen but not applied; no change was made.")
    else:
        lines.append(f"Action: {remedy.title}.")
        for c in changes:
            lines.append(f"  - {change_line(c)}")
        power = _power_line(remedy.needs_power_off, power_steps)
        if power:
            lines.append(f"  {power}")
        if verified and after is not None:
            lines.append(f"Result: verified. The VM now reads as: {VERDICT_SHORT[after.verdict]}.")
        elif verified:
            lines.append("Result: verified, the new values are in place.")
        else:
            lines.append("Result: NOT verified; see the wizard's log.")
        if journal_id:
            undoable = "" if undo is not None and undo.ok else " (undo is possible from the wizard)"
            lines.append(f"Journal entry: {journal_id}{undoable}.")
        if task_ids:
            lines.append(f"vCenter tasks: {', '.join(task_ids)}")
    later: list[tuple[datetime, str]] = [
        (_sort_key(t.finished_at), vmotion_line(t)) for t in vmotion
    ]
    if undo is not None:
        later.append((_sort_key(undo.when), undo_line(undo)))
    if later:
        lines.append("")
        lines += [line for _, line in sorted(later, key=lambda item: item[0])]
    lines += ["", f"Checkpoint Wizard {__version__}, {ARTICLE_ID}."]
    return "\n".join(lines)


def _sort_key(when: datetime | None) -> datetime:
    if when is None:
        return datetime.max.replace(tzinfo=UTC)
    return when if when.tzinfo else when.astimezone()


def _power_line(needed: bool, steps: Sequence[str] | None) -> str:
    """What happened to the VM's power, in one sentence, from the steps that really ran."""
    if steps is None:
        return "The fix needed the VM powered off." if needed else ""
    if "power_off" in steps:
        how = "powered off hard (VMware Tools were not running)"
    elif "shutdown" in steps:
        how = "shut down through VMware Tools"
    else:
        return ""
    again = "and powered on again" if "power_on" in steps else "and left powered off"
    return f"The VM was {how} for the change {again}."
