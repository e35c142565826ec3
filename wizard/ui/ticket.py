"""The ticket note: what was found, what was done, whether it worked. Plain text, no Qt."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from wizard import __version__
from wizard.kb.facts import VmFacts
from wizard.kb.model import ARTICLE_ID, Assessment, Change, Remedy, Verdict

VERDICT_SHORT: dict[Verdict, str] = {
    Verdict.CONFIRMED: "Confirmed: vMotion has already failed for this reason",
    Verdict.AFFECTED: "Affected: vMotion will fail for this reason",
    Verdict.MITIGATED: "Mitigated: a workaround is already in place",
    Verdict.AT_RISK: "At risk: would become affected after a hardware upgrade",
    Verdict.POSSIBLY_AFFECTED: "Possibly affected: not enough data to rule it out",
    Verdict.NOT_AFFECTED: "Not affected: this failure does not apply",
}


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
) -> str:
    """The note a technician pastes into the ticket."""
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
    elif not applied:
        lines.append(f"Action: '{remedy.title}' was chosen but not applied; no change was made.")
    else:
        lines.append(f"Action: {remedy.title}.")
        for c in changes:
            lines.append(f"  - {change_line(c)}")
        if remedy.needs_power_off:
            lines.append("  The VM was shut down for the change and powered on again.")
        if verified and after is not None:
            lines.append(f"Result: verified. The VM now reads as: {VERDICT_SHORT[after.verdict]}.")
        elif verified:
            lines.append("Result: verified, the new values are in place.")
        else:
            lines.append("Result: NOT verified; see the wizard's log.")
        if journal_id:
            lines.append(f"Journal entry: {journal_id} (undo is possible from the wizard).")
        if task_ids:
            lines.append(f"vCenter tasks: {', '.join(task_ids)}")
    lines += ["", f"Checkpoint Wizard {__version__}, {ARTICLE_ID}."]
    return "\n".join(lines)
