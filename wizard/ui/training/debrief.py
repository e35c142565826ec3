"""The debrief: what the trainee did, compared with what the scenario expects, and why.

Pure scoring over plain data (no Qt). :func:`score` takes the scenario's brief, a
:class:`TrainingRecord` of what the trainee did, and the live remedies (their reason texts explain
a difference); it returns a :class:`Debrief` of marked lines. A line marked ``MISS`` fails the
debrief; ``TIP`` and ``INFO`` lines teach without failing it.

What is scored:

- the VM: the one in the ticket, not a look-alike;
- the verdict: committed before it was shown, and the same as the scenario's;
- the fix: the scenario's expected one (or no change where none is needed, or an escalation when
  the account may not apply it), with both remedies' reasons when it differs;
- the caveats: those that apply to the chosen fix were opened before choosing it;
- disruption: no hard power-off when a graceful shutdown was possible, and no power-off fix when
  the expected fix needed none;
- the vMotion: reproduced before the fix (a tip), and seen to succeed after it (required when a
  fix was expected and could be applied).
"""

from __future__ import annotations

import enum
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from wizard import __version__
from wizard.kb.model import ARTICLE_ID, Remedy, RemedyId, Verdict
from wizard.kb.remedy_fixes import REMEDY_TITLES
from wizard.kb.rules import plural
from wizard.lab.results import Point, embed_in_html, embed_in_text, make_record
from wizard.ui.training.coach import (
    VERDICT_CHOICES,
    ScenarioBrief,
    VmotionTry,
    remedy_by_id,
)

NEEDS_A_FIX = frozenset({Verdict.CONFIRMED, Verdict.AFFECTED, Verdict.POSSIBLY_AFFECTED})
"""Verdicts whose VM really fails vMotion until it is fixed."""


class Mark(enum.StrEnum):
    """How one line of the debrief went."""

    GOOD = "good"
    MISS = "miss"
    TIP = "tip"
    INFO = "info"

    @property
    def label(self) -> str:
        return {"good": "Good", "miss": "Missed", "tip": "Tip", "info": "Note"}[self.value]


@dataclass(frozen=True)
class TrainingRecord:
    """What the trainee did in one run of a scenario.

    Attributes:
        vm_name: the VM checked.
        guess: the verdict committed before it was shown (None: not answered).
        chosen: the fix chosen on Choose fix (None: no change).
        chosen_needs_power_off: whether the chosen fix (as chosen) needed a power-off.
        applied: the fix was applied and the result verified.
        caveats_opened: fixes whose caveat list was open at some point (by the trainee, or
            opened for them on the recommended fix).
        steps: the executor's steps as ``(step id, state)``; ``("power_off", "done")`` is a hard
            power-off.
        graceful_possible: the VM was on with VMware Tools running at the check, so a shutdown
            through Tools was possible.
        vmotion: every test vMotion, oldest first.
    """

    vm_name: str | None = None
    guess: Verdict | None = None
    chosen: RemedyId | None = None
    chosen_needs_power_off: bool = False
    applied: bool = False
    caveats_opened: frozenset[RemedyId] = frozenset()
    steps: tuple[tuple[str, str], ...] = ()
    graceful_possible: bool = False
    vmotion: tuple[VmotionTry, ...] = ()

    @property
    def hard_power_off(self) -> bool:
        return ("power_off", "done") in self.steps


@dataclass(frozen=True)
class DebriefLine:
    """One scored point: what it is about, how it went, and why in a sentence or two.

    Attributes:
        turn: for a missed point, the wrong turn in a few words (the class report counts them,
            e.g. "said Affected, it was Confirmed"); empty otherwise.
    """

    id: str
    title: str
    mark: Mark
    text: str
    turn: str = ""


@dataclass(frozen=True)
class Debrief:
    """The whole debrief.

    Attributes:
        passed: no line is marked ``MISS``.
        headline: one sentence for the top of the page.
        escalate: the right end of this ticket was to hand it on (the account may not apply
            the fix).
    """

    scenario: str
    vm: str
    lines: tuple[DebriefLine, ...]
    escalate: bool
    when: datetime = field(default_factory=datetime.now, compare=False)

    @property
    def passed(self) -> bool:
        return all(line.mark != Mark.MISS for line in self.lines)

    @property
    def misses(self) -> tuple[DebriefLine, ...]:
        return tuple(line for line in self.lines if line.mark == Mark.MISS)

    def line(self, line_id: str) -> DebriefLine:
        for line in self.lines:
            if line.id == line_id:
                return line
        raise KeyError(line_id)

    @property
    def headline(self) -> str:
        if self.passed and self.escalate:
            return "Well done: you checked it, planned the fix and knew to escalate."
        if self.passed:
            return "Well done: you handled this ticket the way the case expects."
        count = len(self.misses)
        return f"{plural(count, 'point')} to look at again before the next ticket."


def _name(rid: RemedyId | None, remedies: Sequence[Remedy]) -> str:
    if rid is None:
        return "no change"
    r = remedy_by_id(remedies, rid)
    return f"\u201c{r.title if r is not None else REMEDY_TITLES[rid]}\u201d"


def _verdict_line(brief: ScenarioBrief, rec: TrainingRecord, seen: Verdict | None) -> DebriefLine:
    expected = brief.expected_verdict or seen
    title = "Verdict"
    if expected is None:
        return DebriefLine("verdict", title, Mark.INFO, "The VM was not checked.")
    words = VERDICT_CHOICES[expected]
    if rec.guess is None:
        return DebriefLine(
            "verdict",
            title,
            Mark.MISS,
            f"You did not say which verdict you expected before it was shown. It was: {words}.",
            "showed the verdict without a guess",
        )
    if rec.guess == expected:
        return DebriefLine("verdict", title, Mark.GOOD, f"You called it right: {words}.")
    return DebriefLine(
        "verdict",
        title,
        Mark.MISS,
        f"You expected \u201c{VERDICT_CHOICES[rec.guess]}\u201d; it was \u201c{words}\u201d. "
        "Go through the four conditions and the evidence again on the Check page.",
        f"said \u201c{rec.guess.label}\u201d, it was \u201c{expected.label}\u201d",
    )


def _fix_line(
    brief: ScenarioBrief, rec: TrainingRecord, remedies: Sequence[Remedy], escalate: bool
) -> DebriefLine:
    title = "Fix"
    expected = remedy_by_id(remedies, brief.expected_remedy)
    chosen = remedy_by_id(remedies, rec.chosen)
    if brief.expected_remedy is None:
        if rec.chosen is None:
            return DebriefLine(
                "fix",
                title,
                Mark.GOOD,
                "You left the VM as it was: it needed no fix, and every change costs the user "
                "a restart.",
            )
        return DebriefLine(
            "fix",
            title,
            Mark.MISS,
            f"You chose {_name(rec.chosen, remedies)}, but this VM needed no change. Close "
            "such a ticket with the reason and leave the VM alone.",
            f"changed a VM that needed no fix (\u201c{REMEDY_TITLES[rec.chosen]}\u201d)",
        )
    if escalate:
        missing = ", ".join(expected.missing_privileges) if expected is not None else ""
        lacks = f" (it lacks {missing})" if missing else ""
        if rec.applied:
            return DebriefLine(
                "fix",
                title,
                Mark.MISS,
                "A change went through although this account should not make it: escalate instead.",
                "made the change instead of escalating",
            )
        if rec.chosen == brief.expected_remedy:
            return DebriefLine(
                "fix",
                title,
                Mark.GOOD,
                f"Escalate, and you did: you prepared {_name(brief.expected_remedy, remedies)} "
                f"as a change request, since this account may not apply it{lacks}. The note "
                "hands the planned change, the missing privileges and the commands on.",
            )
        if rec.chosen is not None:
            return DebriefLine(
                "fix",
                title,
                Mark.MISS,
                f"You prepared {_name(rec.chosen, remedies)}, but the fix for this VM is "
                f"{_name(brief.expected_remedy, remedies)}; this account may not apply it{lacks}, "
                "so escalate that one as a change request.",
            )
        return DebriefLine(
            "fix",
            title,
            Mark.MISS,
            f"You ended without a change request. The fix is "
            f"{_name(brief.expected_remedy, remedies)} and this account may not apply it{lacks}: "
            "choose it anyway to prepare the change request, and hand the ticket on with it.",
        )
    if rec.chosen == brief.expected_remedy:
        reason = expected.reason if expected is not None else ""
        if not rec.applied:
            return DebriefLine(
                "fix",
                title,
                Mark.MISS,
                f"You chose the right fix, {_name(rec.chosen, remedies)}, but it was not "
                "applied and verified.",
                "right fix, not applied and verified",
            )
        return DebriefLine(
            "fix", title, Mark.GOOD, f"You chose {_name(rec.chosen, remedies)}. {reason}".strip()
        )
    why_expected = expected.reason if expected is not None else ""
    if rec.chosen is None:
        return DebriefLine(
            "fix",
            title,
            Mark.MISS,
            f"You made no change, but this VM needed one. The case expects "
            f"{_name(brief.expected_remedy, remedies)}: {why_expected}",
            f"no change where \u201c{REMEDY_TITLES[brief.expected_remedy]}\u201d was needed",
        )
    costs = [c.detail for c in chosen.caveats if c.applies] if chosen is not None else []
    cost_text = f" What yours costs here: {' '.join(costs)}" if costs else ""
    return DebriefLine(
        "fix",
        title,
        Mark.MISS,
        f"You chose {_name(rec.chosen, remedies)}; the case expects "
        f"{_name(brief.expected_remedy, remedies)}. {why_expected}{cost_text}",
        f"chose \u201c{REMEDY_TITLES[rec.chosen]}\u201d instead of "
        f"\u201c{REMEDY_TITLES[brief.expected_remedy]}\u201d",
    )


def _caveat_line(rec: TrainingRecord, remedies: Sequence[Remedy]) -> DebriefLine:
    title = "Caveats"
    chosen = remedy_by_id(remedies, rec.chosen)
    if chosen is None:
        return DebriefLine(
            "caveats", title, Mark.INFO, "No fix was chosen, so no caveat had to be weighed."
        )
    applying = [c for c in chosen.caveats if c.applies]
    if not applying:
        return DebriefLine(
            "caveats", title, Mark.GOOD, f"No caveat of {_name(chosen.id, remedies)} applied here."
        )
    names = " ".join(c.detail for c in applying)
    if chosen.id in rec.caveats_opened:
        return DebriefLine(
            "caveats",
            title,
            Mark.GOOD,
            f"You had the caveats of {_name(chosen.id, remedies)} open. {len(applying)} "
            f"applied: {names}",
        )
    return DebriefLine(
        "caveats",
        title,
        Mark.MISS,
        f"You chose {_name(chosen.id, remedies)} without opening its caveats. {len(applying)} "
        f"applied here: {names}",
        "chose a fix without reading its caveats",
    )


def _disruption_line(
    brief: ScenarioBrief, rec: TrainingRecord, remedies: Sequence[Remedy]
) -> DebriefLine:
    title = "Disruption"
    if rec.hard_power_off and rec.graceful_possible:
        return DebriefLine(
            "disruption",
            title,
            Mark.MISS,
            "The VM was powered off hard although VMware Tools were running: a shutdown "
            "through Tools was possible and would have let the guest save its work.",
            "powered off hard although Tools were running",
        )
    expected = remedy_by_id(remedies, brief.expected_remedy)
    if (
        rec.chosen is not None
        and rec.chosen != brief.expected_remedy
        and rec.chosen_needs_power_off
        and expected is not None
        and not expected.needs_power_off
    ):
        return DebriefLine(
            "disruption",
            title,
            Mark.MISS,
            f"Your fix needed a shutdown; {_name(expected.id, remedies)} would have worked "
            "without one, so the user lost their session for nothing.",
            "a shutdown the expected fix did not need",
        )
    if rec.hard_power_off:
        return DebriefLine(
            "disruption",
            title,
            Mark.INFO,
            "The VM was powered off hard: without running Tools there was no gentler way.",
        )
    if rec.applied and rec.chosen_needs_power_off:
        return DebriefLine(
            "disruption",
            title,
            Mark.GOOD,
            "The guest was shut down through VMware Tools, the gentlest way to take it off.",
        )
    return DebriefLine("disruption", title, Mark.GOOD, "Nobody lost their session.")


def _vmotion_lines(
    brief: ScenarioBrief, rec: TrainingRecord, seen: Verdict | None, escalate: bool
) -> list[DebriefLine]:
    before = [v for v in rec.vmotion if not v.after_fix]
    after = [v for v in rec.vmotion if v.after_fix]
    verdict = brief.expected_verdict or seen
    lines: list[DebriefLine] = []
    if verdict in NEEDS_A_FIX:
        if any(not v.ok for v in before):
            lines.append(
                DebriefLine(
                    "vmotion_before",
                    "vMotion before",
                    Mark.GOOD,
                    "You reproduced the failure before fixing it: now you know what the user saw.",
                )
            )
        elif before:
            lines.append(
                DebriefLine(
                    "vmotion_before",
                    "vMotion before",
                    Mark.INFO,
                    f"Your test vMotion before the fix did not fail: {before[-1].message}",
                )
            )
        else:
            lines.append(
                DebriefLine(
                    "vmotion_before",
                    "vMotion before",
                    Mark.TIP,
                    "Try the vMotion on the Check page before fixing: seeing the failure "
                    "yourself makes the ticket concrete.",
                )
            )
    needs_proof = (
        verdict in NEEDS_A_FIX and brief.expected_remedy is not None and not escalate
    ) and rec.applied
    if needs_proof or after:
        if after and after[-1].ok:
            lines.append(
                DebriefLine(
                    "vmotion_after",
                    "vMotion after",
                    Mark.GOOD,
                    f"The vMotion to {after[-1].target} worked after the fix: proven, not hoped.",
                )
            )
        elif after:
            lines.append(
                DebriefLine(
                    "vmotion_after",
                    "vMotion after",
                    Mark.MISS,
                    f"The vMotion after the fix still failed: {after[-1].message}",
                    "the vMotion still failed after the fix",
                )
            )
        else:
            lines.append(
                DebriefLine(
                    "vmotion_after",
                    "vMotion after",
                    Mark.MISS,
                    "You did not try the vMotion after the fix. Only a vMotion that works "
                    "closes this ticket.",
                    "did not prove the fix with a vMotion",
                )
            )
    return lines


def score(
    brief: ScenarioBrief,
    record: TrainingRecord,
    remedies: Sequence[Remedy],
    *,
    seen: Verdict | None = None,
) -> Debrief:
    """Score one run of a scenario.

    Args:
        brief: the scenario.
        record: what the trainee did.
        remedies: the four workarounds as judged at the check (their reasons explain).
        seen: the verdict the wizard showed (used when the scenario expects none).

    Returns:
        The debrief, line by line.
    """
    expected = remedy_by_id(remedies, brief.expected_remedy)
    escalate = expected is not None and (bool(expected.missing_privileges) or brief.read_only)
    lines: list[DebriefLine] = []
    if brief.vm is not None:
        if record.vm_name == brief.vm:
            lines.append(DebriefLine("vm", "VM", Mark.GOOD, f"You worked on {brief.vm}."))
        else:
            lines.append(
                DebriefLine(
                    "vm",
                    "VM",
                    Mark.MISS,
                    f"You worked on {record.vm_name or 'no VM'}, but the ticket is about "
                    f"{brief.vm}.",
                    "worked on the wrong VM",
                )
            )
    lines.append(_verdict_line(brief, record, seen))
    lines.append(_fix_line(brief, record, remedies, escalate))
    lines.append(_caveat_line(record, remedies))
    lines.append(_disruption_line(brief, record, remedies))
    lines.extend(_vmotion_lines(brief, record, seen, escalate))
    return Debrief(brief.title, brief.vm or record.vm_name or "", tuple(lines), escalate)


def result_data(
    debrief: Debrief,
    brief: ScenarioBrief,
    record: TrainingRecord,
    *,
    trainee: str,
    started: datetime | None,
    hints: int = 0,
) -> dict[str, object]:
    """What a saved debrief carries for the class report (``wizard.lab.results``): the trainee,
    the case, the time from ``started`` to the debrief, the answers and every point."""
    return make_record(
        product=__version__,
        trainee=trainee,
        case_id=brief.id,
        case_title=brief.title,
        level=brief.difficulty.lower(),
        vm=brief.vm or "",
        started=started.astimezone() if started is not None else None,
        finished=debrief.when.astimezone(),
        passed=debrief.passed,
        answers={
            "vm": record.vm_name,
            "verdict": record.guess.value if record.guess is not None else None,
            "expected_verdict": (
                brief.expected_verdict.value if brief.expected_verdict is not None else None
            ),
            "fix": record.chosen.value if record.chosen is not None else None,
            "expected_fix": (
                brief.expected_remedy.value if brief.expected_remedy is not None else None
            ),
            "applied": record.applied,
            "escalate": debrief.escalate,
            "hints": hints,
        },
        points=[Point(ln.id, ln.title, ln.mark.value, ln.text, ln.turn) for ln in debrief.lines],
    )


def to_text(debrief: Debrief, trainee: str = "", data: Mapping[str, object] | None = None) -> str:
    """The debrief as plain text, for a ticket or an e-mail to the trainer; with ``data``
    (:func:`result_data`) on a last line for the class report."""
    out = [
        f"Training debrief: {debrief.scenario}",
        f"VM {debrief.vm}, {debrief.when:%Y-%m-%d %H:%M}" + (f", {trainee}" if trainee else ""),
        "",
        f"Result: {'PASSED' if debrief.passed else 'NOT YET'}. {debrief.headline}",
        "",
    ]
    for line in debrief.lines:
        out.append(f"[{line.mark.label}] {line.title}: {line.text}")
    out += ["", f"Checkpoint Wizard {__version__}, training mode, {ARTICLE_ID}."]
    text = "\n".join(out)
    return embed_in_text(text, data) if data is not None else text


_MARK_COLOURS = {
    Mark.GOOD: "#2e7d32",
    Mark.MISS: "#c62828",
    Mark.TIP: "#a86a00",
    Mark.INFO: "#4f5b67",
}


def to_html(debrief: Debrief, trainee: str = "", data: Mapping[str, object] | None = None) -> str:
    """The debrief as a small HTML page (saved or printed for the trainer); with ``data``
    (:func:`result_data`) inside it for the class report."""
    e = html.escape
    rows = "\n".join(
        f'<tr><td style="color:{_MARK_COLOURS[line.mark]};font-weight:bold;'
        f'padding:4px 10px 4px 0;vertical-align:top">{e(line.mark.label)}</td>'
        f'<td style="padding:4px 10px 4px 0;vertical-align:top"><b>{e(line.title)}</b></td>'
        f'<td style="padding:4px 0;vertical-align:top">{e(line.text)}</td></tr>'
        for line in debrief.lines
    )
    result = "Passed" if debrief.passed else "Not yet"
    colour = _MARK_COLOURS[Mark.GOOD if debrief.passed else Mark.MISS]
    who = f", {e(trainee)}" if trainee else ""
    page = (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>Training debrief: {e(debrief.scenario)}</title></head>"
        '<body style="font-family:sans-serif">'
        f"<h2>Training debrief: {e(debrief.scenario)}</h2>"
        f"<p>VM {e(debrief.vm)}, {debrief.when:%Y-%m-%d %H:%M}{who}</p>"
        f'<p style="color:{colour};font-weight:bold">{result}. {e(debrief.headline)}</p>'
        f"<table>{rows}</table>"
        f"<p style='color:#4f5b67'>Checkpoint Wizard {e(__version__)}, training mode, "
        f"{e(ARTICLE_ID)}.</p></body></html>"
    )
    return embed_in_html(page, data) if data is not None else page
