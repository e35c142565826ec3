"""Plain-text views of a check, for the command line and the ticket note. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from wizard.kb.facts import VmFacts
from wizard.kb.model import Assessment, ConditionState, Remedy, Verdict
from wizard.kb.serialize import (
    assessment_summary_json,
    assessment_to_json,
    json_line,
    json_lines_array,
)

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


class Judged(NamedTuple):
    """One VM of a risk scan, judged: its facts, verdict and fixes, and its line of the JSON
    array (``""`` for the text form)."""

    facts: VmFacts
    assessment: Assessment
    remedies: Sequence[Remedy]
    json_line: str


def scan_judge(*, as_json: bool, detail: bool, version: str) -> Callable[[VmFacts], Judged]:
    """What a risk scan (``check --all``) does with each VM as soon as its facts are read:
    judge it (``assess``, ``remedies``) and, for ``--json``, write its line, each in brief
    (:func:`~wizard.kb.serialize.assessment_summary_json`) or in full with ``detail``.

    In brief, a VM that needs nothing (``not_affected``, ``mitigated``) is its verdict and
    conditions without remedies: none is recommended for it (remedies' policy), and the text
    form does not print its full check. Most of an inventory is such VMs: their four remedies
    were half of the JSON (13.7 of 24.6 MB for 10,000 VMs) and half of judging each VM. With
    ``detail`` every VM has all four.
    """
    from wizard.kb import assess, remedies  # lazily: the pure rules load with the command

    form = assessment_to_json if detail else assessment_summary_json
    skip_quiet = not detail

    def judge(facts: VmFacts) -> Judged:
        assessment = assess(facts)
        quiet = skip_quiet and assessment.verdict in _QUIET
        rems = () if quiet else remedies(assessment, facts)
        line = json_line(form(assessment, rems, facts, version)) if as_json else ""
        return Judged(facts, assessment, rems, line)

    return judge


def scan_asks_privileges(*, detail: bool) -> Callable[[Judged], bool] | None:
    """Which VMs of a risk scan, judged by :func:`scan_judge` with no privileges read, need
    them read and to be judged again (see :func:`wizard.vsphere.facts.scan_all`): in brief,
    those that need a fix (the verdict does not depend on privileges; a VM that needs none
    gets no remedies); with ``detail``, every VM's are read first (None)."""
    if detail:
        return None

    def asks(judged: Judged) -> bool:
        return judged.assessment.verdict not in _QUIET

    return asks


def scan_report(judged: Sequence[Judged], *, as_json: bool, detail: bool) -> str:
    """What ``check --all`` prints of the VMs :func:`scan_judge` judged, in the order of their
    names.

    In JSON an array of one VM a line. In text the count of each verdict, one line a VM (what
    needs action first), then the full check of each VM that is not ``not_affected`` or
    ``mitigated``, or of every VM with ``detail``. Written at once, the output of 10,000 VMs
    takes a fraction of a second rather than the many seconds of a dump written value by value.
    """
    if as_json:
        return json_lines_array([j.json_line for j in judged])
    return _scan_text(judged, detail)


def check_report(
    all_facts: Sequence[VmFacts],
    *,
    scan: bool,
    as_json: bool,
    detail: bool,
    version: str,
) -> str:
    """What ``check`` prints, judged here: one VM's full check (text or indented JSON), or a
    risk scan of ``all_facts`` (:func:`scan_judge`, then :func:`scan_report`)."""
    import gc

    # Judging 10,000 VMs creates millions of objects and no garbage: no collector passes.
    collecting = gc.isenabled()
    gc.disable()
    try:
        judge = scan_judge(as_json=as_json and scan, detail=detail, version=version)
        judged = [judge(facts) for facts in all_facts]
    finally:
        if collecting:
            gc.enable()
    if scan:
        return scan_report(judged, as_json=as_json, detail=detail)
    facts, assessment, rems, _line = judged[0]
    if as_json:
        import json

        doc = assessment_to_json(assessment, rems, facts, version)
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    return check_text(facts, assessment, rems) + "\n"


def _scan_text(judged: Sequence[Judged], detail: bool) -> str:
    rank = {v: i for i, v in enumerate(_SCAN_ORDER)}
    ordered = sorted(
        judged, key=lambda j: (rank[j.assessment.verdict], j.facts.name.casefold(), j.facts.moref)
    )
    counts = {v: 0 for v in _SCAN_ORDER}
    for j in judged:
        counts[j.assessment.verdict] += 1
    vcenter = judged[0].facts.vcenter if judged else ""
    lines = [
        f"{len(judged)} VMs on {vcenter}: "
        + ", ".join(f"{n} {v.label.lower()}" for v, n in counts.items() if n)
    ]
    lines.append("")
    width = max((len(v.label) for v in _SCAN_ORDER), default=0)
    for facts, assessment, rems, _line in ordered:
        fix = next((r.id.value for r in rems if r.recommended), "-")
        lines.append(
            f"{assessment.verdict.label:<{width}}  {fix:<16}  {facts.name} ({facts.moref})"
        )
    shown = [j for j in ordered if detail or j.assessment.verdict not in _QUIET]
    if shown:
        lines.append("")
        lines.append("=" * 96)
    out = "\n".join(lines) + "\n"
    return out + "".join("\n" + check_text(j.facts, j.assessment, j.remedies) for j in shown)
