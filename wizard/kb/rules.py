"""The article's conditions (C1 to C4) and verdicts, judged for one VM.

``assess(facts)`` checks the four conditions, looks for mitigations already in place and gives
one verdict. The verdict is decided in this order (first match wins):

1. ``confirmed``: the failure was seen for this VM (events, tasks or its log), whatever else holds.
2. ``not_affected``: C1 (display) or C2 (WDDM) is not met, or the hardware version is outside
   the article (vmx-06 or older, vmx-13 or newer). Every failing condition is named.
3. vmx-07 (C1 and C2 met or unknown):
   - a mitigation already in place (3D on, or a buffer large enough) would still protect it after
     an upgrade: ``not_affected``, naming C3, with a note;
   - otherwise ``at_risk`` (urgent when an upgrade is scheduled). An unknown C1 or C2 is stated in
     the reason: the risk is then a possibility, but pinning the version is harmless either way.
4. ``mitigated``: a mitigation covers the VM, even when C1, C2 or C3 (vmx-09 to vmx-12) is
   unknown: the protection holds whatever the unknown turns out to be.
5. ``possibly_affected``: nothing fails but C1, C2 or C3 is unknown.
6. ``affected``: all four conditions hold and nothing protects it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from wizard.kb.facts import VmFacts
from wizard.kb.guests import GuestClass, classify
from wizard.kb.model import (
    CAP_VIDEO_RAM_KB,
    CPT_CACHE_KEY,
    MAX_SINGLE_SCREEN_PIXELS,
    MKS_3D_KEY,
    Assessment,
    Condition,
    ConditionId,
    ConditionState,
    Verdict,
)
from wizard.kb.sizing import (
    BYTES_PER_PIXEL,
    MIB,
    BufferSize,
    required_for_pixels,
    required_for_screens,
)
from wizard.kb.values import Parsed, parse_bool, parse_hardware_version, parse_int

ARTICLE_VERSION = 8
AT_RISK_VERSION = 7
LAST_VERSION_IN_LATER_EDITION = 12
"""The vendor's later edition names every version below vmx-13 as a risk (condition C3)."""

WHY_DISPLAY = (
    "vMotion copies the guest's screen memory in one buffer. More than one 1280x1024 screen, or "
    "a second screen, can overflow the default 8 MB."
)
WHY_WDDM = (
    "Only Windows with the newer display driver model (WDDM: Vista, 2008 and later) needs the "
    "larger copy. XP, 2003 and Linux guests are safe."
)
WHY_HW8 = (
    "Hardware version 8 made WDDM guests copy more screen data during vMotion. Version 7 is "
    "safe until it is upgraded."
)
WHY_3D_OFF = (
    "With 3D on, vSphere sizes the buffer itself. The failure happens only with 3D off, "
    "which is the default."
)


@dataclass(frozen=True)
class DisplayDemand:
    """What the VM's displays need, as far as the facts tell.

    Attributes:
        screen: ``guest.screen`` (width, height) when Tools report a real size.
        displays: configured displays; None when auto-detect makes the count unknown.
        size: the checkpoint buffer needed; None when it cannot be bounded.
        sized_from: ``"screen"``, ``"screen_two_assumed"`` (auto-detect: two displays assumed),
            ``"video_memory"`` (screen unknown: bounded by the video memory) or ``""``.
    """

    screen: tuple[int, int] | None
    displays: int | None
    size: BufferSize | None
    sized_from: str


@dataclass(frozen=True)
class ThreeD:
    """Whether 3D is on (condition C4 fails when it is), and what said so."""

    on: bool
    source: str
    setting: Parsed[bool]


def video_path(facts: VmFacts, prop: str) -> str:
    """The property path of a video card field, e.g. ``config.hardware.device[500].numDisplays``."""
    key = facts.video.key if facts.video is not None else 500
    return f"config.hardware.device[{key}].{prop}"


def extra_path(key: str) -> str:
    """The property path of an extra-config key."""
    return f'config.extraConfig["{key}"]'


def reported_screen(facts: VmFacts) -> tuple[int, int] | None:
    """``guest.screen`` when it holds a real size; Tools report 0x0 or nothing when unsure."""
    if facts.screen is None:
        return None
    width, height = facts.screen
    if width <= 0 or height <= 0:
        return None
    return (width, height)


def configured_displays(facts: VmFacts) -> int | None:
    """Displays the video card allows; None when auto-detect is on (numDisplays is ignored)."""
    if facts.video is None:
        return 1
    if facts.video.use_auto_detect:
        return None
    return max(facts.video.num_displays, 1)


def display_demand(facts: VmFacts) -> DisplayDemand:
    """Work out the display demand and the checkpoint buffer it needs.

    With a reported screen, ``guest.screen`` is each configured display's resolution; when
    auto-detect hides the count we size for two displays (the article's multi-display case),
    flagged as an estimate. Without a screen, the video memory bounds the pixels (the API
    documents that displays x resolution is bounded by it) unless auto-detect is on.
    """
    screen = reported_screen(facts)
    displays = configured_displays(facts)
    if screen is not None:
        width, height = screen
        if displays is not None:
            return DisplayDemand(
                screen, displays, required_for_screens(displays, width, height), "screen"
            )
        assumed = replace(required_for_screens(2, width, height), estimate=True)
        return DisplayDemand(screen, None, assumed, "screen_two_assumed")
    if facts.video is None or displays is None:
        return DisplayDemand(None, displays, None, "")
    total_pixels = max(facts.video.video_ram_kb, 0) * 1024 // BYTES_PER_PIXEL
    return DisplayDemand(
        None, displays, required_for_pixels(displays, total_pixels), "video_memory"
    )


def three_d(facts: VmFacts) -> ThreeD:
    """3D is on when the video card or ``mks.enable3d`` says so (condition C4)."""
    setting = parse_bool(facts.extra(MKS_3D_KEY))  # noqa: S610 (VmFacts.extra, not Django)
    if facts.video is not None and facts.video.enable_3d_support:
        return ThreeD(True, video_path(facts, "enable3DSupport"), setting)
    if setting.value is True:
        return ThreeD(True, extra_path(MKS_3D_KEY), setting)
    sources = [extra_path(MKS_3D_KEY)]
    if facts.video is not None:
        sources.insert(0, video_path(facts, "enable3DSupport"))
    return ThreeD(False, "; ".join(sources), setting)


def cpt_cache_setting(facts: VmFacts) -> Parsed[int]:
    """``migrate.baseCptCacheSize`` as set on the VM."""
    return parse_int(facts.extra(CPT_CACHE_KEY))  # noqa: S610 (VmFacts.extra, not Django)


def _fmt_screen(screen: tuple[int, int]) -> str:
    return f"{screen[0]}x{screen[1]}"


def plural(count: int, word: str) -> str:
    """A count and its noun ("1 trace", "2 traces"): plural after any number but one."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _judge_display(facts: VmFacts, demand: DisplayDemand) -> Condition:
    screen = demand.screen
    displays = demand.displays
    video = facts.video
    sources = ["guest.screen"]
    if video is not None:
        sources.append(
            video_path(facts, "useAutoDetect")
            if displays is None
            else video_path(facts, "numDisplays")
        )

    def cond(state: ConditionState, value: str, detail: str, *extra: str) -> Condition:
        return Condition(
            ConditionId.DISPLAY, state, value, "; ".join([*sources, *extra]), detail, WHY_DISPLAY
        )

    count_text = "display count unknown" if displays is None else plural(displays, "display")
    if video is None:
        if screen is not None and screen[0] * screen[1] > MAX_SINGLE_SCREEN_PIXELS:
            return cond(
                ConditionState.MET,
                _fmt_screen(screen),
                f"The guest shows {_fmt_screen(screen)}, more pixels than one 1280x1024 screen.",
            )
        return cond(ConditionState.NOT_MET, "no video card", "The VM has no video card.")
    if screen is not None:
        value = f"{_fmt_screen(screen)}, {count_text}"
        if screen[0] * screen[1] > MAX_SINGLE_SCREEN_PIXELS:
            return cond(
                ConditionState.MET,
                value,
                f"The guest shows {_fmt_screen(screen)}: more pixels than one 1280x1024 screen.",
            )
        if displays is None:
            return cond(
                ConditionState.UNKNOWN,
                value,
                f"The guest shows {_fmt_screen(screen)}, but auto-detect is on, so we can't "
                "tell whether a second screen is in use.",
            )
        if displays > 1:
            return cond(
                ConditionState.MET,
                value,
                f"The video card is set for {displays} displays; a second screen of any size "
                "counts.",
            )
        return cond(
            ConditionState.NOT_MET,
            value,
            f"One display at {_fmt_screen(screen)}: no more than one 1280x1024 screen.",
        )
    # Tools do not report the screen: bound it from the video card (condition C1).
    if displays is not None and displays > 1:
        # A second configured display meets C1 whatever its size, Tools or not.
        return cond(
            ConditionState.MET,
            f"screen not reported, {count_text}",
            f"Tools don't report the screen, but the video card is set for {displays} "
            "displays; a second screen of any size counts.",
        )
    ram_path = video_path(facts, "videoRamSizeInKB")
    ram = mb(video.video_ram_kb * 1024)
    if displays == 1 and video.video_ram_kb <= CAP_VIDEO_RAM_KB:
        return cond(
            ConditionState.NOT_MET,
            f"screen not reported, 1 display, {ram} video memory",
            f"Tools don't report the screen, but one display with {ram} of "
            "video memory can't show more than 1280x1024.",
            ram_path,
        )
    if displays is None:
        detail = (
            "Tools don't report the screen and auto-detect is on: the screen size and the "
            "number of displays are not known."
        )
    else:
        detail = (
            f"Tools don't report the screen, and {ram} of video memory "
            "allows more than one 1280x1024 screen."
        )
    return cond(
        ConditionState.UNKNOWN,
        f"screen not reported, {count_text}, {ram} video memory",
        detail,
        ram_path,
    )


def _judge_guest(facts: VmFacts, notes: list[str]) -> Condition:
    tools_id = (facts.tools_guest_id or "").strip()
    config_id = facts.guest_id.strip()
    if tools_id:
        info, source = classify(tools_id), "guest.guestId"
        if config_id and config_id != tools_id:
            notes.append(
                f"Tools report the guest as {info.name} but the VM is configured as "
                f"{classify(config_id).name}; we go by what Tools report."
            )
    else:
        info, source = classify(config_id), "config.guestId"
    # Words only: the id itself is in the source the technician can open (guest.guestId).
    value = info.name if info.guest_id else "not named"

    def wddm(state: ConditionState, detail: str) -> Condition:
        return Condition(ConditionId.WDDM, state, value, source, detail, WHY_WDDM)

    if info.cls is GuestClass.WDDM_ARTICLE:
        return wddm(
            ConditionState.MET, f"{info.name} drives the screen with WDDM; the article names it."
        )
    if info.cls is GuestClass.WDDM_LATER:
        notes.append(
            f"{info.name} is newer than the article; we treat it as a WDDM guest like Windows 7."
        )
        return wddm(
            ConditionState.MET,
            f"{info.name} drives the screen with WDDM. The article predates it; we treat it "
            "like Windows 7.",
        )
    if info.cls is GuestClass.NOT_WDDM:
        return wddm(ConditionState.NOT_MET, f"{info.name} does not use WDDM.")
    return wddm(
        ConditionState.UNKNOWN,
        "We can't tell which display driver model this guest uses."
        if info.guest_id
        else "Neither Tools nor the VM's settings name the guest OS.",
    )


def upgrade_pending(facts: VmFacts) -> bool:
    """True when vSphere is scheduled to upgrade the hardware to vmx-08 or later."""
    policy = facts.upgrade_policy
    if policy is None or policy.policy.strip().lower() == "never":
        return False
    target = parse_hardware_version(policy.version_key)
    return target is None or target >= ARTICLE_VERSION


_UPGRADE_WHEN = {
    "onsoftpoweroff": "for the next shutdown from the guest",
    "always": "for the next power cycle",
}
"""vSphere's upgrade policies (``onSoftPowerOff``, ``always``) in words."""


def _version_words(key: str | None) -> str:
    """``vmx-08`` -> ``version 8``; no key -> the latest version."""
    version = parse_hardware_version(key or "")
    if version is not None:
        return f"version {version}"
    return (key or "").strip() or "the latest version"


def _judge_version(facts: VmFacts, version: int | None, notes: list[str]) -> Condition:
    raw = facts.hardware_version.strip()
    source = "config.version"

    def cond(state: ConditionState, detail: str, src: str = source) -> Condition:
        shown = f"version {version}" if version is not None else (raw or "not reported")
        return Condition(ConditionId.HW8, state, shown, src, detail, WHY_HW8)

    if version is None:
        return cond(ConditionState.UNKNOWN, f"We can't read the hardware version {raw!r}.")
    if version == ARTICLE_VERSION:
        return cond(ConditionState.MET, "Hardware version 8: the article's case.")
    if version == AT_RISK_VERSION:
        policy = facts.upgrade_policy
        src = f"{source}; config.scheduledHardwareUpgradeInfo" if policy else source
        if upgrade_pending(facts):
            assert policy is not None  # upgrade_pending() is False without a policy
            target = _version_words(policy.version_key)
            when = _UPGRADE_WHEN.get(policy.policy.strip().lower(), "when vSphere next can")
            notes.append(
                f"An upgrade to {target} is scheduled {when}: it would make this VM "
                "fail vMotion. Act before the next guest shutdown."
            )
            return cond(
                ConditionState.NOT_MET,
                f"Hardware version 7 is safe today, but an upgrade to {target} is already "
                f"scheduled {when}.",
                src,
            )
        return cond(
            ConditionState.NOT_MET,
            "Hardware version 7 is safe today; an upgrade to version 8 or later would bring "
            "the failure.",
            src,
        )
    if ARTICLE_VERSION < version <= LAST_VERSION_IN_LATER_EDITION:
        return cond(
            ConditionState.UNKNOWN,
            f"Version {version} is newer than the article's version 8, but the vendor's later "
            "edition of the article lists every version below 13, so it may be affected.",
        )
    if version > LAST_VERSION_IN_LATER_EDITION:
        return cond(
            ConditionState.NOT_MET,
            f"Version {version} is newer than any version either edition of the article covers.",
        )
    notes.append(
        f"Hardware version {version} is older than the article's case; an upgrade to version 8 "
        "or later would bring it into scope."
    )
    return cond(
        ConditionState.NOT_MET, f"Version {version} is older than the versions the article covers."
    )


def _judge_3d(facts: VmFacts, state_3d: ThreeD, notes: list[str]) -> Condition:
    if state_3d.setting.unparsable:
        notes.append(
            f"{MKS_3D_KEY} is set to {state_3d.setting.raw!r}, which we can't read; we treat it "
            "as not set (3D off)."
        )
    if state_3d.on:
        return Condition(
            ConditionId.NO_3D,
            ConditionState.NOT_MET,
            "3D on",
            state_3d.source,
            "3D is on, so vSphere sizes the checkpoint buffer for the screen itself.",
            WHY_3D_OFF,
        )
    return Condition(
        ConditionId.NO_3D,
        ConditionState.MET,
        "3D off",
        state_3d.source,
        "3D is turned on neither in the video card nor in the VM's advanced settings.",
        WHY_3D_OFF,
    )


def _mitigations(
    demand: DisplayDemand, state_3d: ThreeD, cache: Parsed[int], notes: list[str]
) -> list[str]:
    found: list[str] = []
    if state_3d.on:
        found.append("3D is on.")
    if cache.unparsable:
        notes.append(
            f"{CPT_CACHE_KEY} is set to {cache.raw!r}, which we can't read as a number; we treat "
            "it as not set."
        )
    if cache.value is None:
        return found
    if demand.size is None:
        notes.append(
            f"The checkpoint buffer is set to {mb(cache.value)}, but without the screen size we "
            "can't tell whether that is enough."
        )
    elif cache.value >= demand.size.bytes:
        found.append(
            f"The checkpoint buffer is set to {mb(cache.value)}; the displays need "
            f"{mb(demand.size.bytes)}."
        )
    elif demand.sized_from == "video_memory":
        # Without a reported screen the figure is only the most the video memory could show:
        # a value set while the VM ran (sized from the real screen) is not "too small" for it.
        notes.append(
            f"The checkpoint buffer is set to {mb(cache.value)}. Tools don't report the screen "
            f"(is the VM off?), so we can't tell whether that is enough: the most the video "
            f"memory can show would need {mb(demand.size.bytes)}. Check again with the VM running."
        )
    else:
        notes.append(
            f"The checkpoint buffer is set to {mb(cache.value)}, less than the "
            f"{mb(demand.size.bytes)} the displays need."
        )
    return found


def _sizing_notes(demand: DisplayDemand, notes: list[str]) -> None:
    if demand.size is None:
        return
    if demand.sized_from == "screen_two_assumed":
        notes.append(
            "Auto-detect is on, so the number of displays is unknown: we size the buffer for "
            "two displays at the reported resolution."
        )
    elif demand.sized_from == "video_memory":
        notes.append(
            "Tools don't report the screen: we size the buffer for the most the video memory "
            "can show."
        )
    if demand.size.estimate:
        notes.append(
            f"The buffer size {mb(demand.size.bytes)} is our estimate: the article gives figures "
            "only up to two 1600x1200 displays."
        )


CONDITION_LABELS: dict[ConditionId, str] = {
    ConditionId.DISPLAY: "the display size",
    ConditionId.WDDM: "the guest OS",
    ConditionId.HW8: "the hardware version",
    ConditionId.NO_3D: "3D being off",
}
"""Short names of the conditions for sentences shown to the technician (plain words: the ids
C1 to C4 belong to ``check --json`` and the report, not to the sentences)."""


def _names(conditions: list[Condition]) -> str:
    return " and ".join(CONDITION_LABELS[c.id] for c in conditions)


def _is(conditions: list[Condition]) -> str:
    return "is" if len(conditions) == 1 else "are"


def mb(size: int) -> str:
    """A size in bytes as the wizard shows it: megabytes (MiB), e.g. ``"16 MB"``.

    A size that is not a whole megabyte also gives its exact bytes: ``"23.0 MB (24,117,247
    bytes)"``.
    """
    if size % MIB == 0:
        return f"{size // MIB} MB"
    # Not a whole megabyte (a value typed by hand): the exact bytes too, so "less than" never
    # reads as "23.0 MB, less than 23 MB".
    return f"{size / MIB:.1f} MB ({size:,} bytes)"


def _details(conditions: list[Condition]) -> str:
    return " ".join(c.detail for c in conditions)


def assess(facts: VmFacts) -> Assessment:
    """Judge one VM against the article.

    Args:
        facts: what vCenter reported about the VM and its surroundings.

    Returns:
        The verdict with all four conditions, mitigations found, evidence and notes. Never
        raises on odd values: unreadable ones become "unknown" or "not set" with a note.
    """
    notes: list[str] = []
    demand = display_demand(facts)
    state_3d = three_d(facts)
    cache = cpt_cache_setting(facts)
    version = parse_hardware_version(facts.hardware_version)

    c1 = _judge_display(facts, demand)
    c2 = _judge_guest(facts, notes)
    c3 = _judge_version(facts, version, notes)
    c4 = _judge_3d(facts, state_3d, notes)
    mitigations = _mitigations(demand, state_3d, cache, notes)
    _sizing_notes(demand, notes)

    verdict, reason = _verdict(facts, (c1, c2, c3), version, mitigations, notes)
    return Assessment(
        vm_name=facts.name,
        vm_moref=facts.moref,
        verdict=verdict,
        reason=reason,
        conditions=(c1, c2, c3, c4),
        mitigations=tuple(mitigations),
        evidence=facts.evidence,
        notes=tuple(notes),
        required_cpt_cache_bytes=demand.size.bytes if demand.size is not None else None,
    )


def _verdict(
    facts: VmFacts,
    conditions: tuple[Condition, Condition, Condition],
    version: int | None,
    mitigations: list[str],
    notes: list[str],
) -> tuple[Verdict, str]:
    """Apply the precedence in the module docstring."""
    c1, c2, c3 = conditions
    if facts.evidence:
        if mitigations:
            notes.append(
                "A protection is set, yet the failure was seen: it may predate the setting, or "
                "the VM has not been powered off and on since. Try a vMotion to be sure."
            )
        return (
            Verdict.CONFIRMED,
            "vMotion of this VM already failed with this error "
            f"({plural(len(facts.evidence), 'trace')} found).",
        )
    at_risk_version = version == AT_RISK_VERSION
    failing = [c for c in (c1, c2) if c.state is ConditionState.NOT_MET]
    if c3.state is ConditionState.NOT_MET and not at_risk_version:
        failing.append(c3)
    if failing:
        return (
            Verdict.NOT_AFFECTED,
            f"Not affected: {_names(failing)} {'rules' if len(failing) == 1 else 'rule'} it "
            f"out. {_details(failing)}",
        )
    unknown = [c for c in conditions if c.state is ConditionState.UNKNOWN]
    if at_risk_version:
        if mitigations:
            return (
                Verdict.NOT_AFFECTED,
                "Not affected: the hardware version rules it out, and what protects it now "
                f"would still protect it after an upgrade. {' '.join(mitigations)}",
            )
        urgency = " An upgrade is already scheduled." if upgrade_pending(facts) else ""
        if unknown:
            return (
                Verdict.AT_RISK,
                f"At risk if upgraded: hardware version 7, but {_names(unknown)} "
                f"{_is(unknown)} unknown, so "
                f"an upgrade may or may not bring the failure.{urgency}",
            )
        return (
            Verdict.AT_RISK,
            f"At risk: safe on hardware version 7, but an upgrade would make vMotion fail."
            f"{urgency}",
        )
    if mitigations:
        return Verdict.MITIGATED, f"Mitigated: {' '.join(mitigations)}"
    if unknown:
        return (
            Verdict.POSSIBLY_AFFECTED,
            f"Possibly affected: nothing rules it out, but {_names(unknown)} {_is(unknown)} "
            "unknown.",
        )
    return Verdict.AFFECTED, "Affected: all four conditions hold and nothing protects it."
