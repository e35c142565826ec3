"""What the article's fixes cost, judged for one VM: the caveats they share (a power cycle, the
user's screen space, HA admission control, a host without SSE4.1, screens too large for 3D) and
the privileges each needs."""

from __future__ import annotations

from functools import partial

from wizard.kb.facts import PowerState, VmFacts
from wizard.kb.model import Assessment, Caveat, CaveatId, ConditionId, ConditionState, Privilege
from wizard.kb.rules import configured_displays, reported_screen

MAX_3D_PIXELS = 1920 * 1200
"""Above 1920x1200 on two screens, 3D is not recommended whatever the CPU (the article)."""

ENABLE_3D_BLOCKERS = (CaveatId.CPU_WITHOUT_SSE41, CaveatId.RESOLUTION_ABOVE_3D_MAX)
"""Caveats under which the article advises against 3D: we never recommend it then."""


def vm_is_off(facts: VmFacts) -> bool:
    return facts.power_state == PowerState.OFF


def power_caveat(facts: VmFacts, needs_power_off: bool) -> Caveat:
    power = partial(Caveat, CaveatId.POWER_OFF_REQUIRED)
    if not needs_power_off:
        return power(False, "This change is made with the VM running.")
    if vm_is_off(facts):
        return power(False, "The VM is already off: no shutdown needed.")
    if facts.power_state == PowerState.SUSPENDED:
        return power(
            True,
            "The VM is suspended: it must be powered off (losing its suspended state) and "
            "started again.",
        )
    if not facts.tools_running:
        return power(
            True,
            "The VM is running and VMware Tools are not, so it cannot be shut down cleanly: it "
            "must be powered off hard (unsaved work in the guest is lost) and started again. "
            "Have the user save and shut down, or start Tools, if you can.",
        )
    return power(
        True,
        "The VM is running: it must be shut down for this change and started again. Warn the "
        "user first.",
    )


def privilege_needs(
    facts: VmFacts, own: tuple[Privilege, ...], needs_power_off: bool
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Required privileges for a change, and those this user is known to lack.

    A privilege that was not asked about (absent from ``facts.privileges``) is not reported as
    missing: we only say what vCenter told us.
    """
    required = [p.value for p in own]
    if needs_power_off and not vm_is_off(facts):
        required += [Privilege.POWER_OFF.value, Privilege.POWER_ON.value]
    missing = tuple(p for p in required if facts.holds(p) is False)
    return tuple(required), missing


def demand_exceeds_cap(assessment: Assessment) -> bool | None:
    state = assessment.condition(ConditionId.DISPLAY).state
    if state is ConditionState.UNKNOWN:
        return None
    return state is ConditionState.MET


def loses_resolution(assessment: Assessment) -> Caveat:
    loses = partial(Caveat, CaveatId.USER_LOSES_RESOLUTION)
    c1 = assessment.condition(ConditionId.DISPLAY)
    exceeds = demand_exceeds_cap(assessment)
    if exceeds is None:
        return loses(
            True,
            f"The current screen is not known ({c1.value}): if it is larger than 1280x1024 or "
            "uses a second screen, the user loses that.",
        )
    if exceeds:
        return loses(True, f"The user now has {c1.value}: they drop to one 1280x1024 screen.")
    return loses(False, f"The user now has {c1.value}, which already fits one 1280x1024 screen.")


def ha_caveat(facts: VmFacts) -> Caveat:
    ha = partial(Caveat, CaveatId.HA_ADMISSION_CONTROL)
    cluster = facts.cluster
    if cluster is None:
        return ha(False, "The VM is not in a cluster: no HA admission control.")
    if cluster.ha_enabled and cluster.admission_control_enabled:
        return ha(
            True,
            f"Cluster {cluster.name} has HA admission control on: the extra 256 MB counts "
            "against its failover capacity and may stop other VMs from starting.",
        )
    what = "HA is off" if not cluster.ha_enabled else "admission control is off"
    return ha(
        False,
        f"Cluster {cluster.name}: {what}, so the extra memory does not reduce failover capacity.",
    )


def sse41_caveat(facts: VmFacts) -> Caveat:
    sse41 = partial(Caveat, CaveatId.CPU_WITHOUT_SSE41)
    hosts = facts.candidate_hosts
    lacking = [h.name for h in hosts if h.sse41 is False]
    unknown = [h.name for h in hosts if h.sse41 is None]
    unknown_text = (
        f" We could not tell for {', '.join(unknown)}: check its CPU (SSE4.1, Nehalem or later)."
        if unknown
        else ""
    )
    if lacking:
        return sse41(
            True,
            f"{', '.join(lacking)} {'has' if len(lacking) == 1 else 'have'} a CPU without SSE4.1 "
            f"(older than Nehalem): 3D is not recommended there.{unknown_text}",
        )
    if not hosts:
        return sse41(
            False,
            "We don't know which hosts the VM may move to: check that their CPUs have SSE4.1.",
        )
    if len(unknown) == len(hosts):
        return sse41(False, f"No host reported its SSE4.1 support.{unknown_text}")
    return sse41(False, f"No host the VM may move to lacks SSE4.1.{unknown_text}")


def resolution_3d_caveat(facts: VmFacts) -> Caveat:
    too_big = partial(Caveat, CaveatId.RESOLUTION_ABOVE_3D_MAX)
    screen = reported_screen(facts)
    displays = configured_displays(facts)
    if screen is None:
        return too_big(
            False,
            "Tools don't report the screen: make sure two screens stay at or below 1920x1200.",
        )
    big = screen[0] * screen[1] > MAX_3D_PIXELS
    text = f"{screen[0]}x{screen[1]}"
    if displays is None:
        # Auto-detect hides the count: a second screen is possible, so a large one counts.
        if big:
            return too_big(
                True,
                f"{text} is above 1920x1200 and auto-detect may give a second screen: 3D is "
                "not recommended.",
            )
        return too_big(False, f"{text} is within 1920x1200.")
    if displays > 1 and big:
        return too_big(
            True,
            f"{displays} screens at {text} is above 1920x1200 on two screens: 3D is not "
            "recommended.",
        )
    if displays > 1:
        return too_big(False, f"{displays} screens at {text}: within 1920x1200.")
    return too_big(False, f"One screen at {text}: the limit is for two.")
