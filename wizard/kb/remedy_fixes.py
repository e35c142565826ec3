"""The article's four fixes, each judged for one VM as a draft: whether it is available (and why
not), what it changes (before and after, as vCenter stores the values), whether it is already in
place, its caveats and the privileges it needs. Which one is recommended is
:mod:`wizard.kb.remedies`' business."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wizard.kb.facts import VmFacts
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
)
from wizard.kb.remedy_caveats import (
    ha_caveat,
    loses_resolution,
    power_caveat,
    privilege_needs,
    resolution_3d_caveat,
    sse41_caveat,
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
from wizard.kb.sizing import value_to_set
from wizard.kb.values import parse_hardware_version

CAP_SCREEN = (1280, 1024)


@dataclass(frozen=True)
class Draft(Remedy):
    """A remedy while the four are compared: not yet recommended, and with what shows it is in
    effect already (``in_place``), which only that comparison needs."""

    in_place: str = ""

    def freeze(self, *, recommended: bool, reason: str) -> Remedy:
        """The remedy the technician sees, recommended or not and why.

        Built field by field rather than through ``dataclasses.replace``, whose introspection
        was a third of the judging time of a 10,000-VM scan (``check --all``).
        """
        return Remedy(
            self.id,
            self.title,
            self.summary,
            self.available,
            self.why_not,
            recommended,
            reason,
            self.needs_power_off,
            self.required_privileges,
            self.missing_privileges,
            self.changes,
            self.caveats,
            self.variant,
            self.manual_steps,
        )


@dataclass(frozen=True)
class Fix:
    """Which fix a draft is about, in the words the technician reads on its card.

    Attributes:
        id: the fix.
        title: its name.
        summary: what it does, in a sentence or two.
        variant: how it is applied, where there are several ways (lower_resolution: ``cap`` or
            ``guest``).
    """

    id: RemedyId
    title: str
    summary: str
    variant: str | None = None

    def unavailable(self, why_not: str, caveats: Sequence[Caveat]) -> Draft:
        """It cannot be applied to this VM, and why."""
        return self._draft(caveats, available=False, why_not=why_not)

    def in_place(
        self, in_place: str, caveats: Sequence[Caveat], *, manual_steps: tuple[str, ...] = ()
    ) -> Draft:
        """It is in effect on this VM already: nothing to change, so no privilege is needed."""
        return self._draft(caveats, manual_steps=manual_steps, in_place=in_place)

    def changing(
        self,
        facts: VmFacts,
        own: Privilege,
        changes: Sequence[Change],
        caveats: Sequence[Caveat],
        *,
        needs_off: bool,
        manual_steps: tuple[str, ...] = (),
    ) -> Draft:
        """It changes this VM: its own privilege, and power-off and -on when it needs them."""
        required, missing = privilege_needs(facts, (own,), needs_off)
        return self._draft(
            caveats,
            needs_power_off=needs_off,
            required_privileges=required,
            missing_privileges=missing,
            changes=tuple(changes),
            manual_steps=manual_steps,
        )

    def with_summary(self, summary: str) -> Fix:
        """The same fix, its summary worded for this VM."""
        return Fix(self.id, self.title, summary, self.variant)

    def _draft(
        self,
        caveats: Sequence[Caveat],
        *,
        available: bool = True,
        why_not: str | None = None,
        needs_power_off: bool = False,
        required_privileges: tuple[str, ...] = (),
        missing_privileges: tuple[str, ...] = (),
        changes: tuple[Change, ...] = (),
        manual_steps: tuple[str, ...] = (),
        in_place: str = "",
    ) -> Draft:
        """The draft of one of the cases above: not recommended yet (that is decided when the
        four are compared), nothing changed, held or missing unless the case says so."""
        return Draft(
            self.id,
            self.title,
            self.summary,
            available=available,
            why_not=why_not,
            recommended=False,
            reason="",
            needs_power_off=needs_power_off,
            required_privileges=required_privileges,
            missing_privileges=missing_privileges,
            changes=changes,
            caveats=tuple(caveats),
            variant=self.variant,
            manual_steps=manual_steps,
            in_place=in_place,
        )


SCREEN_CAP_FIX = Fix(
    RemedyId.LOWER_RESOLUTION,
    "Limit the screen to 1280x1024",
    f"Set the video card to one display with {mb(CAP_VIDEO_RAM_KB * 1024)} of video memory, "
    "so the guest can't go above 1280x1024. Lasts until someone changes the video card.",
    variant="cap",
)
GUEST_SCREEN_FIX = Fix(
    RemedyId.LOWER_RESOLUTION,
    "Lower the resolution in the guest",
    "Run Tools' resolution tool in the guest to set one 1280x1024 screen now, with no "
    "shutdown. The user can raise it again.",
    variant="guest",
)
HW7_FIX = Fix(
    RemedyId.STAY_ON_HW7,
    "Stay on hardware version 7",
    "Set the scheduled hardware upgrade to 'never', so nothing upgrades this VM to "
    "version 8. No shutdown.",
)
BUFFER_FIX = Fix(
    RemedyId.RAISE_BUFFER,
    "Raise the checkpoint buffer",
    # Once the size is worked out, the summary names it.
    "Set migrate.baseCptCacheSize on the VM so the screen fits in the vMotion buffer.",
)
THREE_D_FIX = Fix(
    RemedyId.ENABLE_3D,
    "Turn on 3D",
    "Enable 3D on the video card (the same as mks.enable3d = TRUE); vSphere then sizes the "
    "buffer for the screen itself.",
)

REMEDY_TITLES: dict[RemedyId, str] = {
    fix.id: fix.title for fix in (SCREEN_CAP_FIX, HW7_FIX, BUFFER_FIX, THREE_D_FIX)
}
"""Each fix by the name on its card; lowering the resolution by the way that needs no Tools."""


def lower_resolution_cap(assessment: Assessment, facts: VmFacts) -> Draft:
    fix = SCREEN_CAP_FIX
    caveats_common = (
        loses_resolution(assessment),
        Caveat(CaveatId.NOT_DURABLE, False, "The limit is in the VM's settings; it stays."),
        Caveat(CaveatId.TOOLS_NEEDED, False, "Changed from vCenter: Tools are not needed."),
    )
    video = facts.video
    if video is None:
        return fix.unavailable(
            "The VM has no video card to limit.", (power_caveat(facts, False), *caveats_common)
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
    if not wanted:
        return fix.in_place(
            "The video card already allows only one display of at most 1280x1024.",
            (power_caveat(facts, False), *caveats_common),
        )
    return fix.changing(
        facts,
        Privilege.EDIT_DEVICE,
        wanted,
        (power_caveat(facts, True), *caveats_common),
        needs_off=True,
    )


def lower_resolution_guest(assessment: Assessment, facts: VmFacts) -> Draft:
    fix = GUEST_SCREEN_FIX
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
        power_caveat(facts, False),
        loses_resolution(assessment),
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
        return fix.unavailable(why_not, caveats)
    screen = reported_screen(facts)
    if screen is not None and screen[0] * screen[1] <= MAX_SINGLE_SCREEN_PIXELS:
        return fix.in_place(
            f"The guest already shows {screen[0]}x{screen[1]}, within 1280x1024.", caveats
        )
    before = f"{screen[0]}x{screen[1]}" if screen is not None else None
    change = Change(ChangeTarget.GUEST, "screen", before, f"{CAP_SCREEN[0]}x{CAP_SCREEN[1]}")
    return fix.changing(facts, Privilege.GUEST_EXECUTE, (change,), caveats, needs_off=False)


def stay_on_hw7(facts: VmFacts) -> Draft:
    fix = HW7_FIX
    version = parse_hardware_version(facts.hardware_version)
    power = power_caveat(facts, False)
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
        return fix.unavailable(why_not, (power, downgrade))
    downgrade = Caveat(
        CaveatId.DOWNGRADE_NOT_IN_PLACE, False, "The VM is still on version 7: nothing to undo."
    )
    policy = facts.upgrade_policy
    current = policy.policy if policy is not None else None
    if current is not None and current.strip().lower() == "never":
        return fix.in_place(
            "The upgrade policy is already 'never'.",
            (power, downgrade),
        )
    # scheduledHardwareUpgradeInfo is set through ReconfigVM_Task. vSphere guards scheduling an
    # upgrade with the hardware-upgrade privilege, so we ask for that one.
    return fix.changing(
        facts,
        Privilege.UPGRADE_POLICY,
        (Change(ChangeTarget.UPGRADE_POLICY, "upgradePolicy", current, "never"),),
        (power, downgrade),
        needs_off=False,
    )


def host_list(facts: VmFacts) -> str:
    names = [h.name for h in facts.candidate_hosts]
    return ", ".join(names) if names else "every host the VM may move to"


def raise_buffer(facts: VmFacts, override: int | None) -> Draft:
    demand = display_demand(facts)
    size = demand.size
    if size is None:
        why_not = (
            "The VM has no video card: there is nothing to size."
            if facts.video is None
            else "We can't size it: Tools don't report the screen and auto-detect hides the "
            "number of displays. Check again with the VM running and Tools started."
        )
        return BUFFER_FIX.unavailable(
            why_not,
            (
                power_caveat(facts, False),
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
    fix = BUFFER_FIX.with_summary(
        f"Set the VM's checkpoint buffer to {mb(new_value)}, so the screen fits in the "
        "vMotion buffer.",
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
        f"{host_list(facts)}: no shutdown needed, but every VM started on or moved to those "
        "hosts gets it, and the wizard cannot write that file for you.",
    )
    if current.value is not None and current.value >= target:
        return fix.in_place(
            f"The checkpoint buffer is already set ({mb(current.value)}). Tools don't report the "
            "screen, so we keep that value rather than size for the most the video memory "
            "could show; check again with the VM running to size it from the real screen."
            if unsized and current.value < size.bytes
            else f"The checkpoint buffer is already {mb(current.value or 0)}, enough for these "
            "displays.",
            (power_caveat(facts, False), estimate),
            manual_steps=manual,
        )
    return fix.changing(
        facts,
        Privilege.ADVANCED_CONFIG,
        (Change(ChangeTarget.EXTRA_CONFIG, CPT_CACHE_KEY, current.raw, str(new_value)),),
        (power_caveat(facts, True), estimate),
        needs_off=True,
        manual_steps=manual,
    )


def enable_3d(facts: VmFacts) -> Draft:
    fix = THREE_D_FIX
    caveats = (
        Caveat(
            CaveatId.OVERHEAD_256MB,
            True,
            "The VM's memory overhead reservation grows by 256 MB on its host.",
        ),
        ha_caveat(facts),
        sse41_caveat(facts),
        resolution_3d_caveat(facts),
    )
    video = facts.video
    if video is None:
        return fix.unavailable(
            "The VM has no video card.",
            (power_caveat(facts, False), *caveats),
        )
    state = three_d(facts)
    if state.on:
        return fix.in_place(
            f"3D is already on ({state.source}).",
            (power_caveat(facts, False), *caveats),
        )
    return fix.changing(
        facts,
        Privilege.EDIT_DEVICE,
        (Change(ChangeTarget.VIDEO_CARD, "enable3DSupport", "false", "true"),),
        (power_caveat(facts, True), *caveats),
        needs_off=True,
    )
