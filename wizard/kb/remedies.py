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

from wizard.kb.facts import PowerState, VmFacts
from wizard.kb.model import (
    CAP_VIDEO_RAM_KB,
    CPT_CACHE_KEY,
    MAX_SINGLE_SCREEN_PIXELS,
    Assessment,
    Caveat,
    CaveatId,
    Change,
    ChangeTarget,
    ConditionId,
    ConditionState,
    Privilege,
    Remedy,
    RemedyId,
    Verdict,
)
from wizard.kb.rules import (
    AT_RISK_VERSION,
    configured_displays,
    cpt_cache_setting,
    display_demand,
    mb,
    reported_screen,
    three_d,
)
from wizard.kb.sizing import MAX_BUFFER_BYTES, MIB, value_to_set
from wizard.kb.values import parse_hardware_version

CAP_SCREEN = (1280, 1024)
MAX_3D_PIXELS = 1920 * 1200
"""Above 1920x1200 on two screens, 3D is not recommended whatever the CPU (the article)."""

BASE_ORDER = (
    RemedyId.LOWER_RESOLUTION,
    RemedyId.STAY_ON_HW7,
    RemedyId.RAISE_BUFFER,
    RemedyId.ENABLE_3D,
)
"""The article's order, used after the recommended remedy."""

ENABLE_3D_BLOCKERS = (CaveatId.CPU_WITHOUT_SSE41, CaveatId.RESOLUTION_ABOVE_3D_MAX)
"""Caveats under which the article advises against 3D: we never recommend it then."""


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
            _lower_resolution_guest(assessment, facts)
            if _resolution_variant(opts, facts) == "guest"
            else _lower_resolution_cap(assessment, facts)
        ),
        RemedyId.STAY_ON_HW7: _stay_on_hw7(facts),
        RemedyId.RAISE_BUFFER: _raise_buffer(facts, opts.buffer_bytes),
        RemedyId.ENABLE_3D: _enable_3d(facts),
    }
    chosen, reasons = _recommend(assessment, built)
    result: list[_Draft] = []
    for rid in BASE_ORDER:
        draft = built[rid]
        draft.recommended = rid is chosen
        draft.reason = reasons[rid]
        result.append(draft)
    result.sort(key=lambda d: not d.recommended)  # stable: the rest keep the article's order
    return tuple(d.freeze() for d in result)


def _resolution_variant(opts: RemedyOptions, facts: VmFacts) -> str:
    """The technician's choice, else guest when only that variant spares a power cycle."""
    if opts.lower_resolution_variant is not None:
        return opts.lower_resolution_variant
    may_not_power = any(facts.holds(p) is False for p in (Privilege.POWER_OFF, Privilege.POWER_ON))
    if not _vm_is_off(facts) and may_not_power:
        return "guest"
    return "cap"


@dataclass
class _Draft:
    """A remedy while it is being judged; frozen into a ``Remedy`` at the end."""

    id: RemedyId
    title: str
    summary: str
    available: bool
    why_not: str | None
    needs_power_off: bool
    required_privileges: tuple[str, ...]
    missing_privileges: tuple[str, ...]
    changes: tuple[Change, ...]
    caveats: tuple[Caveat, ...]
    variant: str | None = None
    manual_steps: tuple[str, ...] = ()
    in_place: str = ""
    recommended: bool = False
    reason: str = ""

    def freeze(self) -> Remedy:
        return Remedy(
            id=self.id,
            title=self.title,
            summary=self.summary,
            available=self.available,
            why_not=self.why_not,
            recommended=self.recommended,
            reason=self.reason,
            needs_power_off=self.needs_power_off,
            required_privileges=self.required_privileges,
            missing_privileges=self.missing_privileges,
            changes=self.changes,
            caveats=self.caveats,
            variant=self.variant,
            manual_steps=self.manual_steps,
        )


def _vm_is_off(facts: VmFacts) -> bool:
    return facts.power_state == PowerState.OFF


def _power_caveat(facts: VmFacts, needs_power_off: bool) -> Caveat:
    if not needs_power_off:
        return Caveat(
            CaveatId.POWER_OFF_REQUIRED, False, "This change is made with the VM running."
        )
    if _vm_is_off(facts):
        return Caveat(
            CaveatId.POWER_OFF_REQUIRED, False, "The VM is already off: no shutdown needed."
        )
    if facts.power_state == PowerState.SUSPENDED:
        return Caveat(
            CaveatId.POWER_OFF_REQUIRED,
            True,
            "The VM is suspended: it must be powered off (losing its suspended state) and "
            "started again.",
        )
    if not facts.tools_running:
        return Caveat(
            CaveatId.POWER_OFF_REQUIRED,
            True,
            "The VM is running and VMware Tools are not, so it cannot be shut down cleanly: it "
            "must be powered off hard (unsaved work in the guest is lost) and started again. "
            "Have the user save and shut down, or start Tools, if you can.",
        )
    return Caveat(
        CaveatId.POWER_OFF_REQUIRED,
        True,
        "The VM is running: it must be shut down for this change and started again. Warn the "
        "user first.",
    )


def _privileges(
    facts: VmFacts, own: tuple[Privilege, ...], needs_power_off: bool
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Required privileges for a change, and those this user is known to lack.

    A privilege that was not asked about (absent from ``facts.privileges``) is not reported as
    missing: we only say what vCenter told us.
    """
    required = [p.value for p in own]
    if needs_power_off and not _vm_is_off(facts):
        required += [Privilege.POWER_OFF.value, Privilege.POWER_ON.value]
    missing = tuple(p for p in required if facts.holds(p) is False)
    return tuple(required), missing


def _demand_exceeds_cap(assessment: Assessment) -> bool | None:
    state = assessment.condition(ConditionId.DISPLAY).state
    if state is ConditionState.UNKNOWN:
        return None
    return state is ConditionState.MET


def _loses_resolution(assessment: Assessment) -> Caveat:
    c1 = assessment.condition(ConditionId.DISPLAY)
    exceeds = _demand_exceeds_cap(assessment)
    if exceeds is None:
        return Caveat(
            CaveatId.USER_LOSES_RESOLUTION,
            True,
            f"The current screen is not known ({c1.value}): if it is larger than 1280x1024 or "
            "uses a second screen, the user loses that.",
        )
    if exceeds:
        return Caveat(
            CaveatId.USER_LOSES_RESOLUTION,
            True,
            f"The user now has {c1.value}: they drop to one 1280x1024 screen.",
        )
    return Caveat(
        CaveatId.USER_LOSES_RESOLUTION,
        False,
        f"The user now has {c1.value}, which already fits one 1280x1024 screen.",
    )


def _lower_resolution_cap(assessment: Assessment, facts: VmFacts) -> _Draft:
    title = "Limit the screen to 1280x1024"
    summary = (
        "Set the video card to one display with 5,120 KB of video memory, so the guest can't go "
        "above 1280x1024. Lasts until someone changes the video card."
    )
    caveats_common = (
        _loses_resolution(assessment),
        Caveat(CaveatId.NOT_DURABLE, False, "The limit is in the VM's settings; it stays."),
        Caveat(CaveatId.TOOLS_NEEDED, False, "Changed from vCenter: Tools are not needed."),
    )
    video = facts.video
    if video is None:
        return _Draft(
            RemedyId.LOWER_RESOLUTION,
            title,
            summary,
            False,
            "The VM has no video card to limit.",
            False,
            (),
            (),
            (),
            (_power_caveat(facts, False), *caveats_common),
            variant="cap",
        )
    wanted: list[Change] = []
    if video.num_displays > 1:
        wanted.append(Change(ChangeTarget.VIDEO_CARD, "numDisplays", str(video.num_displays), "1"))
    if video.use_auto_detect:
        wanted.append(Change(ChangeTarget.VIDEO_CARD, "useAutoDetect", "true", "false"))
    if video.video_ram_kb > CAP_VIDEO_RAM_KB:
        wanted.append(
            Change(
                ChangeTarget.VIDEO_CARD,
                "videoRamSizeInKB",
                str(video.video_ram_kb),
                str(CAP_VIDEO_RAM_KB),
            )
        )
    needs_off = bool(wanted)
    required, missing = (
        _privileges(facts, (Privilege.EDIT_DEVICE,), needs_off) if wanted else ((), ())
    )
    return _Draft(
        RemedyId.LOWER_RESOLUTION,
        title,
        summary,
        True,
        None,
        needs_off,
        required,
        missing,
        tuple(wanted),
        (_power_caveat(facts, needs_off), *caveats_common),
        variant="cap",
        in_place=""
        if wanted
        else "The video card already allows only one display of at most 1280x1024.",
    )


def _lower_resolution_guest(assessment: Assessment, facts: VmFacts) -> _Draft:
    title = "Lower the resolution in the guest"
    summary = (
        "Run Tools' resolution tool in the guest to set one 1280x1024 screen now, with no "
        "shutdown. The user can raise it again."
    )
    tools_ok = facts.tools_running and facts.interactive_guest_ops_ready
    if tools_ok:
        tools = Caveat(
            CaveatId.TOOLS_NEEDED,
            False,
            "Tools are running and a user is logged on: the tool can run. You need a guest login.",
        )
    else:
        missing_what = (
            "Tools are not running" if not facts.tools_running else "no user is logged on"
        )
        tools = Caveat(
            CaveatId.TOOLS_NEEDED,
            True,
            f"{missing_what}: the resolution tool needs Tools and a logged-on desktop session.",
        )
    caveats = (
        _power_caveat(facts, False),
        _loses_resolution(assessment),
        Caveat(
            CaveatId.NOT_DURABLE,
            True,
            "Only the current session changes: the user or the next login can bring the larger "
            "screen back, and the failure with it.",
        ),
        tools,
    )
    why_not: str | None = None
    displays = configured_displays(facts)
    if assessment.condition(ConditionId.WDDM).state is ConditionState.NOT_MET:
        why_not = "The resolution tool is for Windows guests only."
    elif facts.video is None:
        why_not = "The VM has no video card."
    elif displays is None:
        why_not = (
            "Auto-detect is on, so a second screen could come back unseen; the result could "
            "not be checked. Limit the screen from the VM instead."
        )
    elif displays > 1:
        why_not = (
            f"The video card stays set for {displays} displays, so the check would still count "
            "a second screen. Limit the screen from the VM instead."
        )
    elif not tools_ok:
        why_not = f"{tools.detail} Limit the screen from the VM instead."
    if why_not is not None:
        return _Draft(
            RemedyId.LOWER_RESOLUTION,
            title,
            summary,
            False,
            why_not,
            False,
            (),
            (),
            (),
            caveats,
            variant="guest",
        )
    screen = reported_screen(facts)
    if screen is not None and screen[0] * screen[1] <= MAX_SINGLE_SCREEN_PIXELS:
        return _Draft(
            RemedyId.LOWER_RESOLUTION,
            title,
            summary,
            True,
            None,
            False,
            (),
            (),
            (),
            caveats,
            variant="guest",
            in_place=f"The guest already shows {screen[0]}x{screen[1]}, within 1280x1024.",
        )
    before = f"{screen[0]}x{screen[1]}" if screen is not None else None
    change = Change(ChangeTarget.GUEST, "screen", before, f"{CAP_SCREEN[0]}x{CAP_SCREEN[1]}")
    required, missing = _privileges(facts, (Privilege.GUEST_EXECUTE,), False)
    return _Draft(
        RemedyId.LOWER_RESOLUTION,
        title,
        summary,
        True,
        None,
        False,
        required,
        missing,
        (change,),
        caveats,
        variant="guest",
    )


def _stay_on_hw7(facts: VmFacts) -> _Draft:
    title = "Stay on hardware version 7"
    summary = (
        "Set the scheduled hardware upgrade to 'never', so nothing upgrades this VM to "
        "version 8. No shutdown."
    )
    version = parse_hardware_version(facts.hardware_version)
    power = _power_caveat(facts, False)
    if version != AT_RISK_VERSION:
        if version is None:
            why_not = f"We can't read the hardware version ({facts.hardware_version!r})."
            downgrade = Caveat(
                CaveatId.DOWNGRADE_NOT_IN_PLACE, False, "The hardware version is not known."
            )
        elif version > AT_RISK_VERSION:
            why_not = (
                f"The VM is already on version {version}, and a version can't be lowered in "
                "place. The supported ways back are reverting to a snapshot taken before the "
                "upgrade, or rebuilding the VM at version 7. This tool does neither."
            )
            downgrade = Caveat(
                CaveatId.DOWNGRADE_NOT_IN_PLACE,
                True,
                f"Version {version} can't be taken back to 7 on this VM: only a snapshot from "
                "before the upgrade or a rebuild gets there.",
            )
        else:
            why_not = f"This is for version 7 VMs; this one is version {version}."
            downgrade = Caveat(
                CaveatId.DOWNGRADE_NOT_IN_PLACE,
                False,
                f"Version {version} is below 7: nothing to take back.",
            )
        return _Draft(
            RemedyId.STAY_ON_HW7,
            title,
            summary,
            False,
            why_not,
            False,
            (),
            (),
            (),
            (power, downgrade),
        )
    downgrade = Caveat(
        CaveatId.DOWNGRADE_NOT_IN_PLACE, False, "The VM is still on version 7: nothing to undo."
    )
    policy = facts.upgrade_policy
    current = policy.policy if policy is not None else None
    if current is not None and current.strip().lower() == "never":
        return _Draft(
            RemedyId.STAY_ON_HW7,
            title,
            summary,
            True,
            None,
            False,
            (),
            (),
            (),
            (power, downgrade),
            in_place="The upgrade policy is already 'never'.",
        )
    # scheduledHardwareUpgradeInfo is set through ReconfigVM_Task. vSphere guards scheduling an
    # upgrade with the hardware-upgrade privilege, so we ask for that one.
    required, missing = _privileges(facts, (Privilege.UPGRADE_POLICY,), False)
    return _Draft(
        RemedyId.STAY_ON_HW7,
        title,
        summary,
        True,
        None,
        False,
        required,
        missing,
        (Change(ChangeTarget.UPGRADE_POLICY, "upgradePolicy", current, "never"),),
        (power, downgrade),
    )


def _host_list(facts: VmFacts) -> str:
    names = [h.name for h in facts.candidate_hosts]
    return ", ".join(names) if names else "every host the VM may move to"


def _raise_buffer(facts: VmFacts, override: int | None) -> _Draft:
    title = "Raise the checkpoint buffer"
    demand = display_demand(facts)
    size = demand.size
    if size is None:
        why_not = (
            "The VM has no video card: there is nothing to size."
            if facts.video is None
            else "We can't size it: Tools don't report the screen and auto-detect hides the "
            "number of displays. Check again with the VM running and Tools started."
        )
        return _Draft(
            RemedyId.RAISE_BUFFER,
            title,
            "Set migrate.baseCptCacheSize on the VM so the screen fits in the vMotion buffer.",
            False,
            why_not,
            False,
            (),
            (),
            (),
            (
                _power_caveat(facts, False),
                Caveat(CaveatId.ESTIMATE_BEYOND_ARTICLE, False, "No size was worked out."),
            ),
        )
    current = cpt_cache_setting(facts)
    target = override if override is not None else size.bytes
    unsized = demand.sized_from == "video_memory" and override is None
    if unsized and current.value is not None:
        # No screen reported (typically the VM is off): the video memory's maximum is no reason
        # to move a value already set. Raising it again on every check of an off VM would make
        # a second apply change what the first one set and verified.
        target = current.value
    new_value = value_to_set(target, current.value)
    summary = (
        f"Set the VM's checkpoint buffer to {mb(new_value)}, so the screen fits in the "
        "vMotion buffer."
    )
    if size.estimate and override is None:
        estimate = Caveat(
            CaveatId.ESTIMATE_BEYOND_ARTICLE,
            True,
            f"{mb(size.bytes)} is our estimate: the article gives figures only up to two "
            "1600x1200 displays.",
        )
    elif size.estimate:
        estimate = Caveat(
            CaveatId.ESTIMATE_BEYOND_ARTICLE,
            True,
            f"You chose {mb(target)}; our estimate of the need ({mb(size.bytes)}) goes beyond "
            "the article's figures.",
        )
    else:
        estimate = Caveat(
            CaveatId.ESTIMATE_BEYOND_ARTICLE,
            False,
            f"{mb(size.bytes)} is the article's own figure for these displays.",
        )
    manual = (
        f'append the line {CPT_CACHE_KEY} = "{new_value}" to /etc/vmware/config on '
        f"{_host_list(facts)}: no shutdown needed, but every VM started on or moved to those "
        "hosts gets it, and the wizard cannot write that file for you.",
    )
    in_place = current.value is not None and current.value >= target
    changes: tuple[Change, ...] = ()
    if not in_place:
        changes = (Change(ChangeTarget.EXTRA_CONFIG, CPT_CACHE_KEY, current.raw, str(new_value)),)
    needs_off = bool(changes)
    required, missing = (
        _privileges(facts, (Privilege.ADVANCED_CONFIG,), needs_off) if changes else ((), ())
    )
    return _Draft(
        RemedyId.RAISE_BUFFER,
        title,
        summary,
        True,
        None,
        needs_off,
        required,
        missing,
        changes,
        (_power_caveat(facts, needs_off), estimate),
        manual_steps=manual,
        in_place=(
            f"The checkpoint buffer is already set ({mb(current.value)}). Tools don't report the "
            "screen, so we keep that value rather than size for the most the video memory "
            "could show; check again with the VM running to size it from the real screen."
            if unsized and current.value is not None and current.value < size.bytes
            else f"The checkpoint buffer is already {mb(current.value or 0)}, enough for these "
            "displays."
        )
        if in_place
        else "",
    )


def _enable_3d(facts: VmFacts) -> _Draft:
    title = "Turn on 3D"
    summary = (
        "Enable 3D on the video card (the same as mks.enable3d = TRUE); vSphere then sizes the "
        "buffer for the screen itself."
    )
    caveats = (
        Caveat(
            CaveatId.OVERHEAD_256MB,
            True,
            "The VM's memory overhead reservation grows by 256 MB on its host.",
        ),
        _ha_caveat(facts),
        _sse41_caveat(facts),
        _3d_resolution_caveat(facts),
    )
    video = facts.video
    if video is None:
        return _Draft(
            RemedyId.ENABLE_3D,
            title,
            summary,
            False,
            "The VM has no video card.",
            False,
            (),
            (),
            (),
            (_power_caveat(facts, False), *caveats),
        )
    state = three_d(facts)
    if state.on:
        return _Draft(
            RemedyId.ENABLE_3D,
            title,
            summary,
            True,
            None,
            False,
            (),
            (),
            (),
            (_power_caveat(facts, False), *caveats),
            in_place=f"3D is already on ({state.source}).",
        )
    required, missing = _privileges(facts, (Privilege.EDIT_DEVICE,), True)
    return _Draft(
        RemedyId.ENABLE_3D,
        title,
        summary,
        True,
        None,
        True,
        required,
        missing,
        (Change(ChangeTarget.VIDEO_CARD, "enable3DSupport", "false", "true"),),
        (_power_caveat(facts, True), *caveats),
    )


def _ha_caveat(facts: VmFacts) -> Caveat:
    cluster = facts.cluster
    if cluster is None:
        return Caveat(
            CaveatId.HA_ADMISSION_CONTROL,
            False,
            "The VM is not in a cluster: no HA admission control.",
        )
    if cluster.ha_enabled and cluster.admission_control_enabled:
        return Caveat(
            CaveatId.HA_ADMISSION_CONTROL,
            True,
            f"Cluster {cluster.name} has HA admission control on: the extra 256 MB counts "
            "against its failover capacity and may stop other VMs from starting.",
        )
    what = "HA is off" if not cluster.ha_enabled else "admission control is off"
    return Caveat(
        CaveatId.HA_ADMISSION_CONTROL,
        False,
        f"Cluster {cluster.name}: {what}, so the extra memory does not reduce failover capacity.",
    )


def _sse41_caveat(facts: VmFacts) -> Caveat:
    hosts = facts.candidate_hosts
    lacking = [h.name for h in hosts if h.sse41 is False]
    unknown = [h.name for h in hosts if h.sse41 is None]
    unknown_text = (
        f" We could not tell for {', '.join(unknown)}: check its CPU (SSE4.1, Nehalem or later)."
        if unknown
        else ""
    )
    if lacking:
        return Caveat(
            CaveatId.CPU_WITHOUT_SSE41,
            True,
            f"{', '.join(lacking)} {'has' if len(lacking) == 1 else 'have'} a CPU without SSE4.1 "
            f"(older than Nehalem): 3D is not recommended there.{unknown_text}",
        )
    if not hosts:
        return Caveat(
            CaveatId.CPU_WITHOUT_SSE41,
            False,
            "We don't know which hosts the VM may move to: check that their CPUs have SSE4.1.",
        )
    if len(unknown) == len(hosts):
        return Caveat(
            CaveatId.CPU_WITHOUT_SSE41,
            False,
            f"No host reported its SSE4.1 support.{unknown_text}",
        )
    return Caveat(
        CaveatId.CPU_WITHOUT_SSE41,
        False,
        f"No host the VM may move to lacks SSE4.1.{unknown_text}",
    )


def _3d_resolution_caveat(facts: VmFacts) -> Caveat:
    screen = reported_screen(facts)
    displays = configured_displays(facts)
    if screen is None:
        return Caveat(
            CaveatId.RESOLUTION_ABOVE_3D_MAX,
            False,
            "Tools don't report the screen: make sure two screens stay at or below 1920x1200.",
        )
    big = screen[0] * screen[1] > MAX_3D_PIXELS
    text = f"{screen[0]}x{screen[1]}"
    if displays is None:
        # Auto-detect hides the count: a second screen is possible, so a large one counts.
        if big:
            return Caveat(
                CaveatId.RESOLUTION_ABOVE_3D_MAX,
                True,
                f"{text} is above 1920x1200 and auto-detect may give a second screen: 3D is "
                "not recommended.",
            )
        return Caveat(CaveatId.RESOLUTION_ABOVE_3D_MAX, False, f"{text} is within 1920x1200.")
    if displays > 1 and big:
        return Caveat(
            CaveatId.RESOLUTION_ABOVE_3D_MAX,
            True,
            f"{displays} screens at {text} is above 1920x1200 on two screens: 3D is not "
            "recommended.",
        )
    if displays > 1:
        return Caveat(
            CaveatId.RESOLUTION_ABOVE_3D_MAX,
            False,
            f"{displays} screens at {text}: within 1920x1200.",
        )
    return Caveat(
        CaveatId.RESOLUTION_ABOVE_3D_MAX, False, f"One screen at {text}: the limit is for two."
    )


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


def _3d_before_estimate(built: dict[RemedyId, _Draft]) -> bool:
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
    assessment: Assessment, built: dict[RemedyId, _Draft]
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
    candidates: list[_Draft] = []
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
