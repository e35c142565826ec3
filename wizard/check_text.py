"""Plain-text views of a check, for the command line and the ticket note. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Sequence

from wizard.kb.facts import VmFacts
from wizard.kb.model import Assessment, ConditionState, Remedy, Verdict

VERDICT_WORDS: dict[Verdict, str] = {v: f"{v.label.upper()}: {v.meaning}" for v in Verdict}

_STATE_MARK = {
    ConditionState.MET: "[met]    ",
    ConditionState.NOT_MET: "[not met]",
    ConditionState.UNKNOWN: "[unknown]",
}


def _wrap(text: str, indent: str, width: int = 96) -> list[str]:
    """Wrap ``text`` after ``indent``; continuation lines line up under the text."""
    import textwrap

    hanging = " " * len(indent) if indent.strip() in {"-", "!", "manual:"} else indent
    return textwrap.wrap(text, width=width, initial_indent=indent, subsequent_indent=hanging) or [
        indent
    ]


def check_text(facts: VmFacts, assessment: Assessment, remedies: Sequence[Remedy]) -> str:
    """The human-readable result of ``check``: verdict first, then why, then what to do."""
    lines: list[str] = []
    lines.append(f"VM {facts.name} ({facts.moref}) on {facts.vcenter}")
    lines.append(VERDICT_WORDS[assessment.verdict])
    lines.extend(_wrap(assessment.reason, "  "))
    lines.append("")
    lines.append("Conditions")
    for c in assessment.conditions:
        lines.append(f"  {_STATE_MARK[c.state]} {c.id.value}: {c.value}")
        lines.append(f"            from {c.source}")
        lines.extend(_wrap(c.detail, "            "))
    if assessment.mitigations:
        lines.append("")
        lines.append("Already in place")
        for m in assessment.mitigations:
            lines.extend(_wrap(m, "  - "))
    lines.append("")
    if assessment.evidence:
        lines.append("Evidence of the failure")
        for e in assessment.evidence:
            when = f"{e.time:%Y-%m-%d %H:%M} " if e.time else ""
            lines.append(f"  - {when}{e.source}: {e.text}")
    else:
        lines.append("Evidence of the failure: none found in the events searched")
    if assessment.notes:
        lines.append("")
        lines.append("Notes")
        for n in assessment.notes:
            lines.extend(_wrap(n, "  - "))
    lines.append("")
    lines.append("Workarounds")
    for r in remedies:
        flags = []
        if r.recommended:
            flags.append("RECOMMENDED")
        if not r.available:
            flags.append("not available")
        if r.needs_power_off:
            flags.append("needs power-off")
        if r.missing_privileges:
            flags.append("missing privileges")
        head = f"  * {r.id.value}: {r.title}"
        if flags:
            head += f" ({', '.join(flags)})"
        lines.append(head)
        lines.extend(_wrap(r.reason if r.available else (r.why_not or r.reason), "      "))
        for ch in r.changes:
            before = "(not set)" if ch.before is None else ch.before
            after = "(removed)" if ch.after is None else ch.after
            lines.append(f"      change {ch.target.value} {ch.key}: {before} -> {after}")
        for p in r.missing_privileges:
            lines.append(f"      you lack the privilege {p}")
        for cav in r.caveats:
            if cav.applies:
                lines.extend(_wrap(f"caveat {cav.id.value}: {cav.detail}", "      ! "))
        for step in r.manual_steps:
            lines.extend(_wrap(step, "      manual: "))
    return "\n".join(lines) + "\n"
