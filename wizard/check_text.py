"""Plain-text views of a check, for the command line and the ticket note. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from wizard.kb.facts import VmFacts
from wizard.kb.model import Assessment, ConditionState, Remedy, Verdict
from wizard.kb.serialize import assessment_summary_json, assessment_to_json, json_array_text

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


def _listed(title: str, items: Sequence[str]) -> list[str]:
    """A blank line, ``title`` and the items as a list (nothing at all without items)."""
    if not items:
        return []
    return ["", title, *(line for item in items for line in _wrap(item, "  - "))]


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
    lines.extend(_listed("Already in place", assessment.mitigations))
    lines.append("")
    if assessment.evidence:
        lines.append("Evidence of the failure")
        for e in assessment.evidence:
            when = f"{e.time:%Y-%m-%d %H:%M} " if e.time else ""
            lines.append(f"  - {when}{e.source}: {e.text}")
    else:
        lines.append("Evidence of the failure: none found in the events searched")
    lines.extend(_listed("Notes", assessment.notes))
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


# The order of a risk scan: what needs action first.
_SCAN_ORDER = (
    Verdict.CONFIRMED,
    Verdict.AFFECTED,
    Verdict.AT_RISK,
    Verdict.POSSIBLY_AFFECTED,
    Verdict.MITIGATED,
    Verdict.NOT_AFFECTED,
)
_QUIET = {Verdict.NOT_AFFECTED, Verdict.MITIGATED}


def check_report(
    all_facts: Sequence[VmFacts],
    *,
    scan: bool,
    as_json: bool,
    detail: bool,
    version: str,
) -> str:
    """What ``check`` prints: judged here (``assess``, ``remedies``), returned as one text.

    One VM: its full check (text or indented JSON). A scan (``--all``): in JSON an array of
    one VM a line, each in brief (:func:`~wizard.kb.serialize.assessment_summary_json`) or in
    full with ``detail``; in text the count of each verdict, one line a VM (what needs action
    first), then the full check of each VM that is not ``not_affected`` or ``mitigated``, or
    of every VM with ``detail``. Written at once, the output of 10,000 VMs takes a fraction of
    a second rather than the many seconds of a dump written value by value.
    """
    import gc

    from wizard.kb import assess, remedies  # lazily: the pure rules load with the command

    # Judging 10,000 VMs creates millions of objects and no garbage: no collector passes.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _report(all_facts, scan, as_json, detail, version, assess, remedies)
    finally:
        if collecting:
            gc.enable()


def _report(
    all_facts: Sequence[VmFacts],
    scan: bool,
    as_json: bool,
    detail: bool,
    version: str,
    assess: Callable[[VmFacts], Assessment],
    remedies: Callable[[Assessment, VmFacts], Sequence[Remedy]],
) -> str:
    judged = []
    for facts in all_facts:
        assessment = assess(facts)
        judged.append((facts, assessment, remedies(assessment, facts)))
    if as_json:
        if not scan:
            import json

            facts, assessment, rems = judged[0]
            doc = assessment_to_json(assessment, rems, facts, version)
            return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        form = assessment_to_json if detail else assessment_summary_json
        return json_array_text(form(a, r, f, version) for f, a, r in judged)
    if not scan:
        facts, assessment, rems = judged[0]
        return check_text(facts, assessment, rems) + "\n"
    return _scan_text(judged, detail)


def _scan_text(judged: Sequence[tuple[VmFacts, Assessment, Sequence[Remedy]]], detail: bool) -> str:
    rank = {v: i for i, v in enumerate(_SCAN_ORDER)}
    ordered = sorted(judged, key=lambda j: (rank[j[1].verdict], j[0].name.casefold(), j[0].moref))
    counts = {v: 0 for v in _SCAN_ORDER}
    for _f, a, _r in judged:
        counts[a.verdict] += 1
    vcenter = judged[0][0].vcenter if judged else ""
    lines = [
        f"{len(judged)} VMs on {vcenter}: "
        + ", ".join(f"{n} {v.label.lower()}" for v, n in counts.items() if n)
    ]
    lines.append("")
    width = max((len(v.label) for v in _SCAN_ORDER), default=0)
    for facts, assessment, rems in ordered:
        fix = next((r.id.value for r in rems if r.recommended), "-")
        lines.append(
            f"{assessment.verdict.label:<{width}}  {fix:<16}  {facts.name} ({facts.moref})"
        )
    shown = [j for j in ordered if detail or j[1].verdict not in _QUIET]
    if shown:
        lines.append("")
        lines.append("=" * 96)
    out = "\n".join(lines) + "\n"
    return out + "".join("\n" + check_text(f, a, r) for f, a, r in shown)
