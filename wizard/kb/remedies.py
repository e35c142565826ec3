"""The article's four workarounds, judged for one VM, and the one we recommend.

``remedies(assessment, facts)`` always returns the four remedies, recommended one first, then
the article's order: lower the resolution, stay on hardware version 7, raise the checkpoint
buffer, enable 3D. Each says whether it is available (and why not), what it changes (before and
after, as vCenter stores the values), whether it needs a power-off, the privileges it needs and
which of them this user lacks, and every caveat that concerns it, judged for this VM.

Recommendation policy (at most one; see ``_recommend``):

- none when the VM is ``mitigated`` or ``not_affected``, or when the failure was ``confirmed``
  although a protection is already set (power-cycling and retrying comes first, see the notes);
- ``at_risk`` (vmx-07): stay on hardware version 7: no shutdown and nothing changes for the user.
  When it is already pinned, nothing more is recommended;
- ``confirmed``, ``affected``, ``possibly_affected``: raise the checkpoint buffer: it keeps the
  user's screens, reserves no memory and needs nothing of the CPU. Then enable 3D, but only if
  none of its "not recommended" caveats holds (a host without SSE4.1, or two screens above
  1920x1200). Last, lower the resolution, which always works but costs the user screen space;
- except: 3D comes before the buffer when the buffer size is our own estimate (beyond the
  article's figures), 3D is fully permitted, and none of its caveats that cost something here
  applies (admission control, a host without SSE4.1, screens above 1920x1200). With 3D on the VM
  sizes its own checkpoint buffer (the article's cause section), so the fix does not rest on a
  figure the vendor never published, and its 256 MB reservation costs no failover capacity;
- the resolution fix is judged in its guest variant when the technician did not choose one, the
  VM is on and this user may not power it off or on: it is then the one fix needing no power-off;
- a remedy that is unavailable or already in place is never recommended; one whose privileges
  this user lacks is passed over for the next one the user may apply. Only when every candidate
  lacks privileges is the first one recommended, saying what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from wizard.kb.facts import VmFacts
from wizard.kb.model import Assessment, CaveatId, Privilege, Remedy, RemedyId, Verdict
from wizard.kb.remedy_caveats import ENABLE_3D_BLOCKERS, vm_is_off
from wizard.kb.remedy_fixes import (
    Draft,
    enable_3d,
    lower_resolution_cap,
    lower_resolution_guest,
    raise_buffer,
    stay_on_hw7,
)
from wizard.kb.sizing import MAX_BUFFER_BYTES, MIB

BASE_ORDER = (
    RemedyId.LOWER_RESOLUTION,
    RemedyId.STAY_ON_HW7,
    RemedyId.RAISE_BUFFER,
    RemedyId.ENABLE_3D,
)
"""The article's order, used after the recommended remedy."""


class InvalidRemedyOptions(ValueError):
    """Options the technician gave that cannot be used; the message says why, in their words."""


@dataclass(frozen=True)
class RemedyOptions:
    """Choices the technician can make about the remedies.

    Attributes:
        buffer_bytes: a checkpoint buffer size to set instead of the one we work out; it must be
            a whole number of bytes, at least the size the displays need, and at most 128 MiB.
        lower_resolution_variant: ``"cap"`` (limit the video card; needs a power-off, lasts) or
            ``"guest"`` (set the resolution in the guest now; no power-off, does not last);
            None lets :func:`remedies` choose (see the module docstring).

    Raises:
        InvalidRemedyOptions: when a value is out of range.
    """

    buffer_bytes: int | None = None
    lower_resolution_variant: Literal["cap", "guest"] | None = None

    def __post_init__(self) -> None:
        size = self.buffer_bytes
        if size is not None:
            if isinstance(size, bool) or not isinstance(size, int):
                raise InvalidRemedyOptions("The buffer size must be a whole number of bytes.")
            if size <= 0 or size > MAX_BUFFER_BYTES:
                raise InvalidRemedyOptions(
                    f"The buffer size must be between 1 and {MAX_BUFFER_BYTES} bytes "
                    f"({MAX_BUFFER_BYTES // MIB} MB)."
                )
        if self.lower_resolution_variant not in ("cap", "guest", None):
            raise InvalidRemedyOptions("The resolution fix is either 'cap' or 'guest'.")


def buffer_override_problem(size: int, required: int | None) -> str | None:
    """Why ``size`` cannot be used as the buffer, or None when it can.

    Lets the UI check what the technician typed before building the remedies.
    """
    try:
        RemedyOptions(buffer_bytes=size)
    except InvalidRemedyOptions as exc:
        return str(exc)
    if required is not None and size < required:
        return f"The displays need at least {required} bytes; {size} is too small."
    return None


def remedies(
    assessment: Assessment, facts: VmFacts, *, options: RemedyOptions | None = None
) -> tuple[Remedy, ...]:
    """The four workarounds for this VM, the recommended one (if any) first.

    Args:
        assessment: ``assess(facts)``.
        facts: the same facts the assessment was made from.
        options: the technician's choices; defaults when None.

    Returns:
        Four remedies: the recommended one first, the others in the article's order.

    Raises:
        InvalidRemedyOptions: when ``options.buffer_bytes`` is below what the displays need.
    """
    opts = options if options is not None else RemedyOptions()
    if opts.buffer_bytes is not None:
        problem = buffer_override_problem(opts.buffer_bytes, assessment.required_cpt_cache_bytes)
        if problem is not None:
            raise InvalidRemedyOptions(problem)
    built = {
        RemedyId.LOWER_RESOLUTION: (
            lower_resolution_guest(assessment, facts)
            if _resolution_variant(opts, facts) == "guest"
            else lower_resolution_cap(assessment, facts)
        ),
        RemedyId.STAY_ON_HW7: stay_on_hw7(facts),
        RemedyId.RAISE_BUFFER: raise_buffer(facts, opts.buffer_bytes),
        RemedyId.ENABLE_3D: enable_3d(facts),
    }
    chosen, reasons = _recommend(assessment, built)
    # The recommended one first; the rest keep the article's order.
    order = BASE_ORDER if chosen is None else (chosen, *(r for r in BASE_ORDER if r is not chosen))
    return tuple(built[rid].freeze(recommended=rid is chosen, reason=reasons[rid]) for rid in order)


def _resolution_variant(opts: RemedyOptions, facts: VmFacts) -> str:
    """The technician's choice, else guest when only that variant spares a power cycle."""
    if opts.lower_resolution_variant is not None:
        return opts.lower_resolution_variant
    may_not_power = any(facts.holds(p) is False for p in (Privilege.POWER_OFF, Privilege.POWER_ON))
    if not vm_is_off(facts) and may_not_power:
        return "guest"
    return "cap"


_STRENGTHS = {
    RemedyId.RAISE_BUFFER: (
        "it keeps the user's screens, reserves no extra memory and needs nothing of the CPU"
    ),
    RemedyId.ENABLE_3D: (
        "3D suits this VM's hosts and screens, and with 3D on the VM sizes its own checkpoint "
        "buffer; it reserves 256 MB more memory"
    ),
    RemedyId.LOWER_RESOLUTION: "it always works, at the cost of the user's screen space",
    RemedyId.STAY_ON_HW7: (
        "the VM is safe as it is, and pinning version 7 keeps it so, without a shutdown"
    ),
}


def _3d_before_estimate(built: dict[RemedyId, Draft]) -> bool:
    """Whether 3D beats a buffer size that is only our estimate (module docstring)."""
    buffer, three_d_draft = built[RemedyId.RAISE_BUFFER], built[RemedyId.ENABLE_3D]
    estimate = any(c.id is CaveatId.ESTIMATE_BEYOND_ARTICLE and c.applies for c in buffer.caveats)
    costly = (*ENABLE_3D_BLOCKERS, CaveatId.HA_ADMISSION_CONTROL)
    return (
        estimate
        and three_d_draft.available
        and not three_d_draft.in_place
        and not three_d_draft.missing_privileges
        and not any(c.id in costly and c.applies for c in three_d_draft.caveats)
    )


def _recommend(
    assessment: Assessment, built: dict[RemedyId, Draft]
) -> tuple[RemedyId | None, dict[RemedyId, str]]:
    """Pick at most one remedy by the policy in the module docstring, and say why for each."""
    reasons: dict[RemedyId, str] = {}
    for rid, draft in built.items():
        if not draft.available:
            reasons[rid] = f"Not available. {draft.why_not}"
        elif draft.in_place:
            reasons[rid] = f"Already in place: {draft.in_place}"

    verdict = assessment.verdict
    blocked: str | None = None
    if verdict in (Verdict.MITIGATED, Verdict.NOT_AFFECTED):
        blocked = f"Not needed: the VM is {verdict.value.replace('_', ' ')}."
    elif verdict is Verdict.CONFIRMED and assessment.mitigations:
        blocked = (
            "Not recommended yet: a protection is already set. Power the VM off and on and try "
            "a vMotion; raise the buffer further if it fails again."
        )
    elif verdict is Verdict.AT_RISK and built[RemedyId.STAY_ON_HW7].in_place:
        blocked = "Not needed now: the VM is already pinned to hardware version 7."
    if blocked is not None:
        for rid in built:
            reasons.setdefault(rid, blocked)
        return None, reasons

    order = [RemedyId.RAISE_BUFFER, RemedyId.ENABLE_3D, RemedyId.LOWER_RESOLUTION]
    if _3d_before_estimate(built):
        order = [RemedyId.ENABLE_3D, RemedyId.RAISE_BUFFER, RemedyId.LOWER_RESOLUTION]
    if verdict is Verdict.AT_RISK:
        order.insert(0, RemedyId.STAY_ON_HW7)
    candidates: list[Draft] = []
    for rid in order:
        draft = built[rid]
        if rid in reasons:
            continue
        blockers = [c for c in draft.caveats if c.id in ENABLE_3D_BLOCKERS and c.applies]
        if rid is RemedyId.ENABLE_3D and blockers:
            reasons[rid] = "Not recommended here: " + " ".join(c.detail for c in blockers)
            continue
        candidates.append(draft)
    permitted = [d for d in candidates if not d.missing_privileges]
    chosen = permitted[0] if permitted else (candidates[0] if candidates else None)
    if chosen is None:
        for rid in built:
            reasons.setdefault(rid, "Not recommended.")
        return None, reasons

    passed_over = [d for d in candidates[: candidates.index(chosen)] if d.missing_privileges]
    prefix = "".join(
        f"You lack {', '.join(d.missing_privileges)} for '{d.title}'. " for d in passed_over
    )
    if chosen.missing_privileges:
        reasons[chosen.id] = (
            f"Recommended: {_STRENGTHS[chosen.id]}. You lack "
            f"{', '.join(chosen.missing_privileges)}: ask a vCenter administrator."
        )
    else:
        reasons[chosen.id] = f"{prefix}Recommended: {_STRENGTHS[chosen.id]}."
    for draft in candidates:
        if draft is chosen:
            continue
        lack = (
            f" You lack {', '.join(draft.missing_privileges)} for it."
            if draft.missing_privileges
            else ""
        )
        reasons[draft.id] = f"'{chosen.title}' is preferred.{lack}"
    for rid in built:
        reasons.setdefault(rid, f"'{chosen.title}' is preferred.")
    return chosen.id, reasons
