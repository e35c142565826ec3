"""What the coach says on each page: written for the scenario and for what the wizard found.

Pure functions over plain data (no Qt), so every text can be tested without a window. The
panel (:mod:`wizard.ui.training.panel`) shows a :class:`CoachNote`: what to look at on this page
and why, the article's facts in our words, and hints that the trainee reveals one at a time.

The texts are ours. The facts behind them come from the article (as wizard.kb reads it) and the live
:class:`~wizard.kb.model.Assessment` and :class:`~wizard.kb.model.Remedy` objects, never from a
fixed answer sheet: a trainee who changes something in the lab sees the coach follow.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from wizard.kb.facts import VmFacts
from wizard.kb.model import (
    ARTICLE_ID,
    MAX_SINGLE_SCREEN_PIXELS,
    Assessment,
    CaveatId,
    Condition,
    ConditionId,
    ConditionState,
    Remedy,
    RemedyId,
    Verdict,
)
from wizard.kb.rules import configured_displays, reported_screen
from wizard.lab.scenario import Role, Scenario


class Step(enum.StrEnum):
    """The pages the coach knows, by their help topic."""

    WELCOME = "welcome"
    CONNECT = "connect"
    CHOOSE_VM = "choose_vm"
    CHECK = "check"
    CHOOSE_FIX = "choose_fix"
    READY = "ready"
    APPLY = "apply"
    DONE = "done"
    DEBRIEF = "debrief"


VERDICT_CHOICES: dict[Verdict, str] = {
    Verdict.CONFIRMED: "Confirmed: it has already failed for this reason",
    Verdict.AFFECTED: "Affected: it will fail, no trace yet",
    Verdict.POSSIBLY_AFFECTED: "Possibly affected: something is unknown",
    Verdict.AT_RISK: "At risk: fine until a hardware upgrade",
    Verdict.MITIGATED: "Mitigated: a workaround is already in place",
    Verdict.NOT_AFFECTED: "Not affected: a condition fails",
}
"""The verdicts as the trainee picks one, in the order of the question."""


@dataclass(frozen=True)
class ConditionTopic:
    """How the coach speaks of one of the article's four conditions.

    Attributes:
        name: its short name.
        look_for: what to read for it, without saying what it shows (before the trainee
            answers).
        help: its help topic.
    """

    name: str
    look_for: str
    help: str


CONDITIONS: dict[ConditionId, ConditionTopic] = {
    ConditionId.DISPLAY: ConditionTopic(
        "Display",
        "how many displays, and how many pixels each shows, against one 1280x1024 screen.",
        "training/c1-display",
    ),
    ConditionId.WDDM: ConditionTopic(
        "WDDM guest",
        "the guest OS the VM runs (Tools' own report wins over the configured one).",
        "training/c2-wddm",
    ),
    ConditionId.HW8: ConditionTopic(
        "Hardware version 8",
        "the virtual hardware version, and any upgrade waiting for the next power cycle.",
        "training/c3-hardware",
    ),
    ConditionId.NO_3D: ConditionTopic(
        "3D off",
        "whether 3D is on, on the video card or in the VM's advanced settings.",
        "training/c4-3d",
    ),
}

CAVEAT_NAMES: dict[CaveatId, str] = {
    CaveatId.POWER_OFF_REQUIRED: "a shutdown",
    CaveatId.USER_LOSES_RESOLUTION: "the user loses screen space",
    CaveatId.NOT_DURABLE: "it does not last",
    CaveatId.ESTIMATE_BEYOND_ARTICLE: "the size is our estimate",
    CaveatId.OVERHEAD_256MB: "256 MB more reserved memory",
    CaveatId.HA_ADMISSION_CONTROL: "it eats HA failover capacity",
    CaveatId.CPU_WITHOUT_SSE41: "a host without SSE4.1",
    CaveatId.RESOLUTION_ABOVE_3D_MAX: "screens above the 3D limit",
    CaveatId.DOWNGRADE_NOT_IN_PLACE: "no way back to version 7 in place",
    CaveatId.TOOLS_NEEDED: "it needs VMware Tools",
}

HELP_FOR_REMEDY: dict[RemedyId, str] = {
    RemedyId.LOWER_RESOLUTION: "training/fix-resolution",
    RemedyId.STAY_ON_HW7: "training/fix-hw7",
    RemedyId.RAISE_BUFFER: "training/fix-buffer",
    RemedyId.ENABLE_3D: "training/fix-3d",
}


@dataclass(frozen=True)
class ScenarioBrief:
    """What the coach and the debrief need of a scenario, as plain data.

    Attributes:
        vm: the VM the ticket is about (None when the scenario names none).
        expected_verdict: what the rules should conclude for that VM.
        expected_remedy: the fix the scenario expects (None: no change is the right answer).
        role: the lab account's role (``admin``, ``read-only``, ``no-power``).
        role_label: the role in words.
        role_description: what the role may do, one sentence.
        filler_vms: how many ordinary VMs surround the scenario's own.
        certificate_renewed: the exercise renews the lab's certificate (the coach offers
            "Renew and sign in again" once the trainee is signed in).
    """

    id: str
    title: str
    briefing: str
    ticket: str
    difficulty: str
    teaches: tuple[str, ...]
    vm: str | None
    expected_verdict: Verdict | None
    expected_remedy: RemedyId | None
    role: str
    role_label: str
    role_description: str
    filler_vms: int = 0
    certificate_renewed: bool = False

    @property
    def read_only(self) -> bool:
        """The trainee may change nothing: the right end is to escalate."""
        return self.role == Role.READ_ONLY.value


def brief_of(scenario: Scenario) -> ScenarioBrief:
    """The plain-data brief of a loaded scenario."""
    vm = scenario.vm_of_interest or (scenario.expect[0].vm if scenario.expect else None)
    expectation = scenario.expectation(vm) if vm is not None else None
    role = scenario.login_role
    return ScenarioBrief(
        id=scenario.id,
        title=scenario.title,
        briefing=scenario.briefing,
        ticket=scenario.ticket or "",
        difficulty=scenario.difficulty.label if scenario.difficulty is not None else "",
        teaches=scenario.teaches,
        vm=vm,
        expected_verdict=expectation.verdict if expectation is not None else None,
        expected_remedy=expectation.recommended if expectation is not None else None,
        role=role.value,
        role_label=role.label,
        role_description=role.description,
        filler_vms=scenario.filler_vms,
        certificate_renewed=scenario.certificate_renewed,
    )


@dataclass(frozen=True)
class RenewalTry:
    """How signing in again went after the lab's certificate was renewed.

    Attributes:
        outcome: ``"silent"`` (accepted without a question: the authority was trusted),
            ``"changed"`` (stopped: the certificate itself was pinned), ``"asked"`` (asked
            again: it was trusted once) or ``"failed"`` (something else went wrong).
        detail: what the wizard said, for the panel.
    """

    outcome: str
    detail: str = ""


@dataclass(frozen=True)
class VmotionTry:
    """One test vMotion the trainee ran in the lab.

    Attributes:
        ok: the migration succeeded.
        message: what vCenter answered (the article's error text when it failed).
        target: the host it was sent to.
        after_fix: run after a fix was applied (else before, or without one).
    """

    ok: bool
    message: str
    target: str
    after_fix: bool


@dataclass(frozen=True)
class CoachInput:
    """Everything the coach looks at, as plain data.

    Attributes:
        step: the page shown.
        brief: the scenario (None outside training: the coach then says little).
        thumbprint: the lab's certificate fingerprint, as the lab reported it.
        ca_thumbprint: the fingerprint of the lab's certificate authority, as it reported it.
        connected: signed in to the lab.
        renewal: how signing in again after the renewal went (None: not tried yet).
        vm_name: the VM picked on Choose VM.
        facts: the VM as checked.
        assessment: the verdict and conditions.
        remedies: the four workarounds, as judged now.
        chosen: the workaround chosen on Choose fix (None: none yet, or no change).
        guess: the verdict the trainee committed to before seeing it (None: not yet).
        revealed: whether the verdict has been revealed on the Check page.
        vmotion: the test vMotions run so far, oldest first.
        applied: a fix was applied and verified.
    """

    step: Step
    brief: ScenarioBrief | None = None
    thumbprint: str | None = None
    ca_thumbprint: str | None = None
    connected: bool = False
    renewal: RenewalTry | None = None
    vm_name: str | None = None
    facts: VmFacts | None = None
    assessment: Assessment | None = None
    remedies: tuple[Remedy, ...] = ()
    chosen: Remedy | None = None
    guess: Verdict | None = None
    revealed: bool = True
    vmotion: tuple[VmotionTry, ...] = ()
    applied: bool = False


@dataclass(frozen=True)
class CoachNote:
    """What the coach panel shows for one page.

    Attributes:
        title: a few words at the top.
        look_at: what to look at on this page and why, for this scenario and this VM.
        facts: the article's facts that matter here, in our words.
        hints: revealed one by one with the Hint button; the last one gives the answer away.
        help_topic: the help page to read more (``resources/ui/help/<topic>.html``).
        action: a training action the panel offers here: ``"guess"`` (commit a verdict),
            ``"vmotion"`` (try the vMotion), ``"renew"`` (renew the lab's certificate and
            sign in again), or ``""``.
    """

    title: str
    look_at: tuple[str, ...]
    facts: tuple[str, ...]
    hints: tuple[str, ...]
    help_topic: str
    action: str = ""


# ------------------------------------------------------------------------------ helpers


def _screen(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def _fingerprint_ends(thumbprint: str) -> str:
    parts = thumbprint.upper().split(":")
    if len(parts) < 8:
        return thumbprint.upper()
    return f"{':'.join(parts[:4])} … {':'.join(parts[-4:])}"


def remedy_by_id(remedies: Sequence[Remedy], rid: RemedyId | None) -> Remedy | None:
    """The remedy with this id, if judged."""
    return next((r for r in remedies if r.id == rid), None) if rid is not None else None


def condition_sentence(cond: Condition, facts: VmFacts | None) -> str:
    """One condition, said for this VM in a technician's words."""
    name = CONDITIONS[cond.id].name
    if cond.id == ConditionId.DISPLAY and facts is not None:
        displays = configured_displays(facts)
        screen = reported_screen(facts)
        if cond.state == ConditionState.MET and displays is not None and displays > 1:
            return (
                f"{name}: {displays} screens are configured. That alone meets the first "
                "condition, whatever their size."
            )
        if cond.state == ConditionState.MET and screen is not None:
            pixels = screen[0] * screen[1]
            return (
                f"{name}: the guest shows {_screen(screen)}, {pixels:,} pixels: more than one "
                f"1280x1024 screen ({MAX_SINGLE_SCREEN_PIXELS:,} pixels)."
            )
        if cond.state == ConditionState.NOT_MET and screen is not None:
            return (
                f"{name}: one screen of {_screen(screen)} is not more than 1280x1024, so the "
                "display condition fails and the VM cannot hit this failure."
            )
        if cond.state == ConditionState.UNKNOWN:
            return (
                f"{name}: VMware Tools report no screen size and the video card does not rule "
                "a large screen out, so nobody can tell yet."
            )
        if cond.state == ConditionState.NOT_MET:
            return (
                f"{name}: Tools report no screen, but one display with little video memory "
                "cannot go above 1280x1024: not met."
            )
    if cond.id == ConditionId.WDDM:
        if facts is not None and facts.tools_guest_id and facts.tools_guest_id != facts.guest_id:
            return (
                f"{name}: Tools say {facts.tools_guest_id}, the settings say {facts.guest_id}. "
                f"Tools see the running guest, so trust them: {cond.value}."
            )
        words = {
            ConditionState.MET: "draws its screen with WDDM",
            ConditionState.NOT_MET: "does not use WDDM, so it is not affected",
            ConditionState.UNKNOWN: "cannot be told for sure",
        }[cond.state]
        return f"{name}: {cond.value} {words}."
    if cond.id == ConditionId.HW8:
        words = {
            ConditionState.MET: "the article's case",
            ConditionState.NOT_MET: "outside the article's case",
            ConditionState.UNKNOWN: "judged by the article's later edition only",
        }[cond.state]
        return f"{name}: {cond.value}, {words}."
    words = {
        ConditionState.MET: "3D is off, so the buffer stays at its fixed size",
        ConditionState.NOT_MET: "3D is on: the VM sizes its own buffer, which protects it",
        ConditionState.UNKNOWN: "unknown",
    }[cond.state]
    return f"{name}: {words}."


# ------------------------------------------------------------------------------ pages


def _welcome(inp: CoachInput, b: ScenarioBrief) -> CoachNote:
    look = [
        "Read the ticket as you would at work: which VM, what the user did, what they saw.",
    ]
    if b.vm:
        look.append(f"The VM in this ticket is {b.vm}. Note its exact name.")
    role = b.role_label.lower()
    article = "an" if role[:1] in "aeiou" else "a"
    look.append(f"You sign in as {article} {role} account. {b.role_description}")
    facts = (
        "vMotion copies a running VM's memory and device state to another host. The state of "
        "the screen has to fit a buffer that is reserved in advance (8 MB unless set).",
        "When the screen state does not fit, the move is abandoned with \u201cFailed to flush "
        "checkpoint data!\u201d and the VM stays where it was.",
    )
    hints = tuple(f"This case teaches: {t}" for t in b.teaches) or (
        "Work through every page: the coach follows what you find.",
    )
    return CoachNote(
        "Your ticket", tuple(look), facts, hints, "training/failure", action="practice"
    )


def _connect(inp: CoachInput, b: ScenarioBrief) -> CoachNote:
    look = [
        "The lab's address, user and password are filled in. Press Next to sign in.",
        "The lab's vCenter has a certificate authority of its own, which issued its "
        "certificate, as vCenter's does: the wizard will ask whether to trust it. Do not just "
        "click it away.",
    ]
    if inp.thumbprint:
        look.append(
            f"When asked, compare the fingerprint with the one the lab reported: "
            f"{_fingerprint_ends(inp.thumbprint)}. Compare all of it, not only the ends."
        )
    if b.certificate_renewed:
        look.append(
            "In this exercise vCenter's certificate gets renewed while you work. Choose "
            "\u201cTrust its authority\u2026\u201d: the wizard fetches the authority the lab "
            "offers and shows it."
        )
        if inp.ca_thumbprint:
            look.append(
                "Compare the authority's fingerprint with the one the lab reported for its "
                f"authority: {_fingerprint_ends(inp.ca_thumbprint)}. Only then trust it."
            )
    facts = (
        "A fingerprint (SHA-256) is a checksum of the certificate. The same certificate always "
        "gives the same fingerprint; a different one cannot fake it.",
        "If it matches, you are talking to the server you meant. If not, someone may be "
        "between you and vCenter, and your password would go to them.",
        "vCenter's own certificate authority issues its certificate and renews it every year "
        "or two. Trusting a certificate means a warning at every renewal; trusting its "
        "authority, for this vCenter only, lets renewals through and still stops a certificate "
        "from anyone else.",
        "At work, get the fingerprints from your vSphere team, or from the appliance's own "
        "management page, and compare them the same way.",
    )
    if b.certificate_renewed:
        hints: tuple[str, ...] = (
            "\u201cTrust once\u201d and \u201cAlways trust\u201d trust this one certificate: "
            "the renewal later in this exercise would stop you.",
            "Press \u201cTrust its authority\u2026\u201d, compare the authority's fingerprint "
            "with the lab's, then \u201cTrust this authority\u201d.",
        )
    else:
        hints = (
            "\u201cTrust once\u201d is right for the lab: every start is a new vCenter with a new "
            "certificate.",
            "For your real vCenter, trust its authority: renewals then pass, and anything else "
            "is refused with a warning.",
        )
    return CoachNote("Sign in and check the certificate", tuple(look), facts, hints, "connect")


def _renewal(inp: CoachInput, b: ScenarioBrief) -> CoachNote:
    """The renewal exercise, once signed in (scenarios with ``certificate.renewed``)."""
    look = [
        "Before you look for the VM: vCenter's certificate is due for renewal. Press "
        "\u201cRenew and sign in again\u201d below. The lab gets a new certificate from the same "
        "authority, as vCenter does, and the wizard signs in once more beside your session.",
    ]
    done = inp.renewal
    if done is not None and done.outcome == "silent":
        look.append(
            "It signed in again without a question: you trusted the authority, and the "
            "renewed certificate comes from it. That is how a renewal should look."
        )
    elif done is not None and done.outcome == "changed":
        look.append(
            "It stopped with \u201ccertificate changed\u201d: you trusted the certificate itself. "
            "That is the warning people learn to click through, and the same warning an "
            "attacker's certificate gives. Never click it away: ask whether the renewal was "
            "planned, then forget the old certificate in File > Settings and trust the authority."
        )
    elif done is not None and done.outcome == "asked":
        look.append(
            "It asked again: you trusted the old certificate for this session only, and the "
            "renewed one is new to it. Each renewal would ask again; trust the authority instead."
        )
    if done is not None:
        look.append(
            "Your open session goes on: now find "
            + (f"{b.vm}, the VM in the ticket." if b.vm else "the VM from the ticket.")
        )
    facts = (
        "vCenter's authority renews its certificate every year or two, and administrators "
        "replace it now and then. A renewal from the authority you trusted needs nobody's "
        "attention; a certificate from another authority always does.",
        "An authority is trusted for one vCenter: it vouches for nothing else, not even for "
        "another server whose certificate it issued.",
    )
    hints = (
        "If you trusted only the certificate, go back to Connect later and choose "
        "\u201cTrust its authority\u2026\u201d next time.",
    )
    return CoachNote("A renewed certificate", tuple(look), facts, hints, "connect", action="renew")


def _choose_vm(inp: CoachInput, b: ScenarioBrief) -> CoachNote:
    if b.certificate_renewed and inp.connected:
        return _renewal(inp, b)
    look: list[str] = []
    if b.vm:
        look.append(f"Find {b.vm}, the VM in the ticket.")
    if b.filler_vms >= 500:
        look.append(
            f"This inventory has over {b.filler_vms:,} VMs: type part of the name or search "
            "by DNS name or IP instead of scrolling."
        )
    else:
        look.append("Type part of the name to filter the list; marked VMs match the pre-check.")
    if inp.vm_name and b.vm and inp.vm_name != b.vm:
        look.append(
            f"You picked {inp.vm_name}, but the ticket is about {b.vm}. Look-alike names are "
            "common: compare letter by letter."
        )
    facts = (
        "The marks come from a quick pre-check over all VMs at once (guest OS and hardware "
        "version): they say where to look, not the verdict.",
    )
    hints = ["Check the exact name before you change anything."]
    if b.vm:
        hints.append(f"Type \u201c{b.vm}\u201d in the filter box and pick the exact match.")
    return CoachNote("Find the VM from the ticket", tuple(look), facts, tuple(hints), "choose_vm")


def _check(inp: CoachInput, b: ScenarioBrief) -> CoachNote:
    a = inp.assessment
    if a is None:
        return CoachNote(
            "Reading the VM",
            ("The wizard reads the VM's settings, its host and cluster, and recent events.",),
            (),
            (),
            "check",
        )
    look = [condition_sentence(c, inp.facts) for c in a.conditions]
    if a.evidence:
        look.append(
            f"Evidence: {len(a.evidence)} trace{'' if len(a.evidence) == 1 else 's'} of this "
            "very failure for this VM. Evidence decides the verdict on its own."
        )
    else:
        look.append(
            "No trace of the failure in recent events. Read the VM's log too: it keeps traces "
            "longer than vCenter's events."
        )
    for m in a.mitigations:
        look.append(f"Already in place: {m}")
    look.extend(a.notes)
    facts = (
        "All four conditions must hold for the failure: a big display, a WDDM guest, hardware "
        "version 8, and 3D off.",
        "One failing condition is enough to rule the failure out; evidence of a failed "
        "vMotion makes it certain.",
    )
    met = sum(1 for c in a.conditions if c.state == ConditionState.MET)
    unknown = [CONDITIONS[c.id].name for c in a.conditions if c.state == ConditionState.UNKNOWN]
    hints = [f"{met} of the 4 conditions hold here."]
    if unknown:
        hints.append(f"Unknown: {', '.join(unknown)}. An unknown is not a \u201cno\u201d.")
    hints.append(
        "With evidence, the verdict is \u201cconfirmed\u201d whatever else holds."
        if a.evidence
        else "Without evidence, the conditions and any protection in place decide."
    )
    hints.append(f"The verdict: {VERDICT_CHOICES[a.verdict]}. {a.reason}")
    if not inp.revealed:
        # Before the trainee answers: where to look, never what the rules concluded.
        return CoachNote(
            "Read the four conditions",
            (
                "Before the verdict is shown: which one do you expect? Answer below.",
                *(f"{CONDITIONS[c.id].name}: {CONDITIONS[c.id].look_for}" for c in a.conditions),
                "Evidence: a trace of this very failure decides the verdict on its own; "
                "without one, read the VM's log too.",
            ),
            (
                "All four conditions must hold for the failure: a big display, a WDDM guest, "
                "hardware version 8, and 3D off.",
                "One failing condition is enough to rule the failure out; a protection in place "
                "(a large enough buffer, 3D on) keeps it from happening.",
            ),
            (
                "Compare each value with its limit: more pixels than one 1280x1024 screen, "
                "Windows Vista or later, vmx-08, 3D off.",
                *hints,
            ),
            "training/failure",
            action="check",
        )
    topic = next(
        (CONDITIONS[c.id].help for c in a.conditions if c.state != ConditionState.MET),
        "training/failure",
    )
    return CoachNote(
        "Read the four conditions", tuple(look), facts, tuple(hints), topic, action="check"
    )


def _choose_fix(inp: CoachInput, b: ScenarioBrief) -> CoachNote:
    a = inp.assessment
    rec = next((r for r in inp.remedies if r.recommended), None)
    look: list[str] = []
    if a is not None and a.verdict in (Verdict.MITIGATED, Verdict.NOT_AFFECTED):
        look.append(
            "This VM needs no fix for this failure. Changing it anyway costs the user a "
            "restart and proves nothing: finish without a change."
        )
    if rec is not None:
        if rec.missing_privileges:
            look.append(
                f"\u201c{rec.title}\u201d would be the fix, but this account lacks "
                f"{', '.join(rec.missing_privileges)}. Plan it, then escalate to someone who "
                "holds it: that is the right end of this ticket."
            )
        else:
            why = rec.reason.removeprefix("Recommended: ")
            look.append(f"Recommended: \u201c{rec.title}\u201d: {why}")
    for r in inp.remedies:
        if not r.available:
            why = (r.why_not or "").split(". ")[0].rstrip(".")
            look.append(f"{r.title}: not possible here{f' ({why})' if why else ''}.")
            continue
        names = [CAVEAT_NAMES[c.id] for c in r.caveats if c.applies]
        if names:
            look.append(f"{r.title} costs here: {', '.join(names)}.")
    if inp.chosen is not None and rec is not None and inp.chosen.id != rec.id:
        look.append(
            f"You picked \u201c{inp.chosen.title}\u201d. Open its caveats and compare them "
            f"with \u201c{rec.title}\u201d before you go on."
        )
    facts = (
        "The article offers four ways out: a smaller screen, staying on version 7, a bigger "
        "checkpoint buffer, or 3D on. Each has a price.",
        "Most need the VM off. The buffer can also be set on the hosts without a shutdown, "
        "but then it applies to every VM started there.",
        "3D reserves 256 MB more memory for the VM; with HA admission control that counts "
        "against failover capacity, and old CPUs without SSE4.1 should not run it.",
    )
    hints: list[str] = ["Open the caveats of each fix: they are judged for this cluster."]
    exp = remedy_by_id(inp.remedies, b.expected_remedy)
    if b.expected_remedy is None:
        hints.append("The right answer here: no change. Press Next with no fix selected.")
    elif exp is not None:
        hints.append(f"The fix this case expects: \u201c{exp.title}\u201d. {exp.reason}")
    topic = HELP_FOR_REMEDY[rec.id] if rec is not None else "training/workarounds"
    return CoachNote("Choose a fix knowing its price", tuple(look), facts, tuple(hints), topic)


def _ready(inp: CoachInput, b: ScenarioBrief) -> CoachNote:
    r = inp.chosen
    look = ["Read every line: setting, value now, value after. Nothing has changed yet."]
    if r is not None and r.needs_power_off and inp.facts is not None:
        if inp.facts.power_state == "poweredOn":
            look.append(
                "The VM will be shut down and started again: at work, tell the user first and "
                "agree on a time."
            )
    elif r is not None:
        look.append("This fix needs no power-off: the user keeps working.")
    look.append("The PowerCLI and govc lines do the same by hand: useful for a change request.")
    facts = (
        "Before changing anything the wizard reads the VM again and refuses if someone changed "
        "it since your check.",
    )
    hints = ("A graceful shutdown through VMware Tools lets the guest save its work.",)
    return CoachNote("Review before you apply", tuple(look), facts, hints, "ready")


def _apply(inp: CoachInput, b: ScenarioBrief) -> CoachNote:
    look = (
        "Watch the steps: read again, shut down, change, power on, verify.",
        "You may stop only before a step that leaves the VM sound (the button says so).",
    )
    facts = (
        "The wizard shuts the guest down through VMware Tools and waits. A hard power-off is "
        "like pulling the plug: only when there is no other way.",
    )
    return CoachNote("Applying", look, facts, (), "apply")


def _done(inp: CoachInput, b: ScenarioBrief) -> CoachNote:
    look: list[str] = []
    after = [v for v in inp.vmotion if v.after_fix]
    if inp.applied:
        look.append(
            "The fix is in place and verified. Now prove it: run the test vMotion again and "
            "watch the VM move."
        )
        if after and after[-1].ok:
            look.append(f"The vMotion to {after[-1].target} worked: the ticket's problem is gone.")
        elif after:
            look.append(f"The vMotion still failed: {after[-1].message}")
    else:
        look.append("No change was made. Say why in the ticket note.")
        if b.read_only:
            look.append(
                "With a read-only account, escalate: put the planned fix and the missing "
                "privilege in the note."
            )
    look.append("Then press Next for your debrief.")
    facts = ("The ticket note says what was found, what changed and whether it was verified.",)
    return CoachNote("Prove it and close", tuple(look), facts, (), "done", action="vmotion")


def _debrief(inp: CoachInput, b: ScenarioBrief) -> CoachNote:
    look = (
        "Each line compares what you did with what this case expects, and says why.",
        "Save or print it for your trainer. \u201cTry again\u201d starts a fresh lab.",
    )
    return CoachNote("Your debrief", look, (), (), "training/interpretations")


_PAGES = {
    Step.WELCOME: _welcome,
    Step.CONNECT: _connect,
    Step.CHOOSE_VM: _choose_vm,
    Step.CHECK: _check,
    Step.CHOOSE_FIX: _choose_fix,
    Step.READY: _ready,
    Step.APPLY: _apply,
    Step.DONE: _done,
    Step.DEBRIEF: _debrief,
}


def coach(inp: CoachInput) -> CoachNote:
    """The coach's note for this page and this state."""
    if inp.brief is None:
        return CoachNote(
            "Training",
            ("Pick a scenario on the first page to start the lab.",),
            (f"The failure and its fixes come from VMware {ARTICLE_ID}.",),
            (),
            "training/failure",
        )
    return _PAGES[inp.step](inp, inp.brief)
