"""The four workarounds, their caveats judged for the VM, and the recommendation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.facts import (
    make_cluster,
    make_evidence,
    make_facts,
    make_host,
    make_upgrade_policy,
    make_video,
    privileges,
    with_extra,
)
from wizard.kb import (
    CaveatId,
    Change,
    ChangeTarget,
    InvalidRemedyOptions,
    Privilege,
    Remedy,
    RemedyId,
    RemedyOptions,
    Verdict,
    assess,
    remedies,
)
from wizard.kb.facts import VmFacts
from wizard.kb.remedies import buffer_override_problem

ARTICLE_ORDER = [
    RemedyId.LOWER_RESOLUTION,
    RemedyId.STAY_ON_HW7,
    RemedyId.RAISE_BUFFER,
    RemedyId.ENABLE_3D,
]
POWER = [Privilege.POWER_OFF.value, Privilege.POWER_ON.value]


def plan(facts: VmFacts, options: RemedyOptions | None = None) -> dict[RemedyId, Remedy]:
    return {r.id: r for r in remedies(assess(facts), facts, options=options)}


def recommended(facts: VmFacts, options: RemedyOptions | None = None) -> RemedyId | None:
    chosen = [r.id for r in remedies(assess(facts), facts, options=options) if r.recommended]
    assert len(chosen) <= 1
    return chosen[0] if chosen else None


def caveat(remedy: Remedy, cid: CaveatId) -> tuple[bool, str]:
    found = remedy.caveat(cid)
    assert found is not None, f"{remedy.id} does not list {cid}"
    return found.applies, found.detail


# --- Order and recommendation -----------------------------------------------------------------


def test_four_remedies_recommended_first_then_the_articles_order() -> None:
    result = remedies(assess(make_facts()), make_facts())
    assert [r.id for r in result] == [
        RemedyId.RAISE_BUFFER,
        RemedyId.LOWER_RESOLUTION,
        RemedyId.STAY_ON_HW7,
        RemedyId.ENABLE_3D,
    ]
    assert result[0].recommended
    assert "keeps the user's screens" in result[0].reason


def test_without_a_recommendation_the_articles_order_stands() -> None:
    facts = make_facts(video=make_video(enable_3d_support=True))
    assert [r.id for r in remedies(assess(facts), facts)] == ARTICLE_ORDER


@pytest.mark.parametrize(
    "facts",
    [
        make_facts(),
        make_facts(evidence=(make_evidence(),)),
        make_facts(hardware_version="vmx-10"),
    ],
    ids=["affected", "confirmed", "possibly_affected"],
)
def test_raise_buffer_is_recommended_for_a_vm_that_fails_or_may_fail(facts: VmFacts) -> None:
    assert recommended(facts) is RemedyId.RAISE_BUFFER


def test_stay_on_hw7_is_recommended_for_an_at_risk_vm() -> None:
    facts = make_facts(hardware_version="vmx-07", upgrade_policy=make_upgrade_policy())
    assert assess(facts).verdict is Verdict.AT_RISK
    assert recommended(facts) is RemedyId.STAY_ON_HW7


@pytest.mark.parametrize(
    "facts",
    [
        make_facts(video=make_video(enable_3d_support=True)),
        with_extra(make_facts(), cpt="67108864"),
        make_facts(guest_id="winXPProGuest", tools_guest_id="winXPProGuest"),
        make_facts(hardware_version="vmx-13"),
    ],
    ids=["mitigated-3d", "mitigated-buffer", "not-affected-xp", "not-affected-vmx13"],
)
def test_nothing_is_recommended_for_mitigated_or_not_affected(facts: VmFacts) -> None:
    assert assess(facts).verdict in (Verdict.MITIGATED, Verdict.NOT_AFFECTED)
    assert recommended(facts) is None
    assert all(
        "Not needed" in r.reason or "Already" in r.reason or "Not available." in r.reason
        for r in remedies(assess(facts), facts)
    )


def test_confirmed_with_a_protection_already_set_recommends_a_retry_not_a_fix() -> None:
    facts = make_facts(evidence=(make_evidence(),), video=make_video(enable_3d_support=True))
    assert recommended(facts) is None
    assert "try a vMotion" in plan(facts)[RemedyId.RAISE_BUFFER].reason


def test_at_risk_vm_already_pinned_gets_no_recommendation() -> None:
    facts = make_facts(hardware_version="vmx-07", upgrade_policy=make_upgrade_policy("never"))
    assert assess(facts).verdict is Verdict.AT_RISK
    assert recommended(facts) is None
    assert plan(facts)[RemedyId.STAY_ON_HW7].reason.startswith("Already in place")


def test_without_advanced_settings_rights_3d_is_recommended_instead() -> None:
    facts = make_facts(privileges=privileges(ADVANCED_CONFIG=False))
    result = plan(facts)
    assert result[RemedyId.RAISE_BUFFER].missing_privileges == (Privilege.ADVANCED_CONFIG.value,)
    assert recommended(facts) is RemedyId.ENABLE_3D
    assert "You lack VirtualMachine.Config.AdvancedConfig" in result[RemedyId.ENABLE_3D].reason


def test_at_risk_without_upgrade_rights_recommends_a_permitted_fix() -> None:
    facts = make_facts(hardware_version="vmx-07", privileges=privileges(UPGRADE_POLICY=False))
    assert recommended(facts) is RemedyId.RAISE_BUFFER


def test_when_every_fix_lacks_rights_the_first_is_recommended_saying_what_is_missing() -> None:
    facts = make_facts(privileges=privileges(POWER_OFF=False))
    result = plan(facts)
    assert recommended(facts) is RemedyId.RAISE_BUFFER
    assert "VirtualMachine.Interact.PowerOff" in result[RemedyId.RAISE_BUFFER].reason
    assert "administrator" in result[RemedyId.RAISE_BUFFER].reason


def test_a_permitted_no_shutdown_fix_beats_fixes_that_need_missing_power_rights() -> None:
    facts = make_facts(video=make_video(num_displays=1), privileges=privileges(POWER_OFF=False))
    options = RemedyOptions(lower_resolution_variant="guest")
    assert recommended(facts, options) is RemedyId.LOWER_RESOLUTION


def test_privileges_not_asked_are_not_reported_missing() -> None:
    facts = make_facts(privileges=())
    result = plan(facts)
    assert all(r.missing_privileges == () for r in result.values())
    assert recommended(facts) is RemedyId.RAISE_BUFFER


def test_3d_is_not_recommended_on_a_cluster_with_a_host_lacking_sse41() -> None:
    old = make_host("esx-old.lab.local", sse41=False)
    facts = make_facts(
        cluster=make_cluster(hosts=(make_host(), old)), privileges=privileges(ADVANCED_CONFIG=False)
    )
    result = plan(facts)
    assert recommended(facts) is RemedyId.LOWER_RESOLUTION
    assert "esx-old.lab.local" in result[RemedyId.ENABLE_3D].reason


def test_unknown_screen_makes_raise_buffer_unavailable_and_3d_recommended() -> None:
    facts = make_facts(
        screen=None, tools_running=False, video=make_video(num_displays=1, use_auto_detect=True)
    )
    result = plan(facts)
    assert not result[RemedyId.RAISE_BUFFER].available
    assert "Tools" in (result[RemedyId.RAISE_BUFFER].why_not or "")
    assert recommended(facts) is RemedyId.ENABLE_3D


# --- Raise the checkpoint buffer ---------------------------------------------------------------


def test_raise_buffer_sets_the_estimate_for_two_1920x1200_screens() -> None:
    remedy = plan(make_facts())[RemedyId.RAISE_BUFFER]
    assert remedy.changes == (
        Change(ChangeTarget.EXTRA_CONFIG, "migrate.baseCptCacheSize", None, "24117248"),
    )
    assert remedy.needs_power_off
    assert remedy.required_privileges == (Privilege.ADVANCED_CONFIG.value, *POWER)
    assert caveat(remedy, CaveatId.ESTIMATE_BEYOND_ARTICLE)[0]
    assert caveat(remedy, CaveatId.POWER_OFF_REQUIRED)[0]


def test_raise_buffer_uses_the_articles_20mb_for_two_1600x1200_screens() -> None:
    remedy = plan(make_facts(screen=(1600, 1200)))[RemedyId.RAISE_BUFFER]
    assert remedy.changes[0].after == "20971520"
    applies, detail = caveat(remedy, CaveatId.ESTIMATE_BEYOND_ARTICLE)
    assert not applies
    assert "article" in detail


def test_raise_buffer_shows_the_host_config_line_and_the_hosts() -> None:
    remedy = plan(make_facts(screen=(1600, 1200)))[RemedyId.RAISE_BUFFER]
    (step,) = remedy.manual_steps
    assert 'migrate.baseCptCacheSize = "20971520" to /etc/vmware/config' in step
    assert "esx-a1.lab.local, esx-a2.lab.local" in step
    assert "no shutdown" in step


def test_raise_buffer_replaces_a_smaller_value_showing_it_as_stored() -> None:
    remedy = plan(with_extra(make_facts(), cpt=" 8388608"))[RemedyId.RAISE_BUFFER]
    assert remedy.changes[0].before == " 8388608"
    assert remedy.changes[0].after == "24117248"


def test_raise_buffer_replaces_an_unreadable_value() -> None:
    remedy = plan(with_extra(make_facts(), cpt="big"))[RemedyId.RAISE_BUFFER]
    assert (remedy.changes[0].before, remedy.changes[0].after) == ("big", "24117248")


def test_raise_buffer_never_lowers_a_larger_value() -> None:
    facts = with_extra(make_facts(), cpt="0x4000000")
    remedy = plan(facts)[RemedyId.RAISE_BUFFER]
    assert remedy.available
    assert remedy.changes == ()
    assert not remedy.needs_power_off
    assert remedy.reason.startswith("Already in place")
    assert '"67108864"' in remedy.manual_steps[0]


def test_raise_buffer_override_is_used() -> None:
    options = RemedyOptions(buffer_bytes=32 * 1024 * 1024)
    remedy = plan(make_facts(), options)[RemedyId.RAISE_BUFFER]
    assert remedy.changes[0].after == "33554432"


def test_raise_buffer_override_below_the_need_is_refused() -> None:
    facts = make_facts()
    with pytest.raises(InvalidRemedyOptions, match="at least 24117248"):
        remedies(assess(facts), facts, options=RemedyOptions(buffer_bytes=16_777_216))


@pytest.mark.parametrize("size", [0, -1, 128 * 1024 * 1024 + 1])
def test_buffer_override_out_of_range_is_refused(size: int) -> None:
    with pytest.raises(InvalidRemedyOptions):
        RemedyOptions(buffer_bytes=size)


def test_buffer_override_must_be_an_integer() -> None:
    with pytest.raises(InvalidRemedyOptions):
        RemedyOptions(buffer_bytes=True)
    with pytest.raises(InvalidRemedyOptions):
        RemedyOptions(buffer_bytes=1.5e7)  # type: ignore[arg-type]


def test_unknown_resolution_variant_is_refused() -> None:
    with pytest.raises(InvalidRemedyOptions):
        RemedyOptions(lower_resolution_variant="shrink")  # type: ignore[arg-type]


def test_buffer_override_problem_for_the_ui() -> None:
    assert buffer_override_problem(20_971_520, 16_777_216) is None
    assert "too small" in (buffer_override_problem(8_388_608, 16_777_216) or "")
    assert "between" in (buffer_override_problem(10**12, None) or "")


def test_powered_off_vm_needs_no_shutdown_or_power_rights() -> None:
    remedy = plan(make_facts(power_state="poweredOff"))[RemedyId.RAISE_BUFFER]
    assert remedy.needs_power_off
    assert remedy.required_privileges == (Privilege.ADVANCED_CONFIG.value,)
    applies, detail = caveat(remedy, CaveatId.POWER_OFF_REQUIRED)
    assert not applies
    assert "already off" in detail


def test_suspended_vm_warns_that_its_state_is_lost() -> None:
    remedy = plan(make_facts(power_state="suspended"))[RemedyId.ENABLE_3D]
    applies, detail = caveat(remedy, CaveatId.POWER_OFF_REQUIRED)
    assert applies
    assert "suspended" in detail


# --- Enable 3D --------------------------------------------------------------------------------


def test_enable_3d_turns_on_the_video_card_flag() -> None:
    remedy = plan(make_facts())[RemedyId.ENABLE_3D]
    assert remedy.changes == (Change(ChangeTarget.VIDEO_CARD, "enable3DSupport", "false", "true"),)
    assert remedy.required_privileges == (Privilege.EDIT_DEVICE.value, *POWER)
    assert caveat(remedy, CaveatId.OVERHEAD_256MB)[0]


def test_enable_3d_already_on_through_mks_enable3d_changes_nothing() -> None:
    remedy = plan(with_extra(make_facts(), mks3d="TRUE"))[RemedyId.ENABLE_3D]
    assert remedy.available
    assert remedy.changes == ()
    assert "mks.enable3d" in remedy.reason


def test_ha_admission_control_caveat_names_the_cluster() -> None:
    facts = make_facts(cluster=make_cluster("Prod-East", admission_control=True))
    applies, detail = caveat(plan(facts)[RemedyId.ENABLE_3D], CaveatId.HA_ADMISSION_CONTROL)
    assert applies
    assert "Prod-East" in detail


@pytest.mark.parametrize(
    ("ha", "admission_control"), [(True, False), (False, True), (False, False)]
)
def test_ha_admission_control_caveat_does_not_apply_without_both(
    ha: bool, admission_control: bool
) -> None:
    facts = make_facts(cluster=make_cluster(ha=ha, admission_control=admission_control))
    assert not caveat(plan(facts)[RemedyId.ENABLE_3D], CaveatId.HA_ADMISSION_CONTROL)[0]


def test_ha_caveat_on_a_standalone_host_does_not_apply() -> None:
    facts = make_facts(cluster=None)
    applies, detail = caveat(plan(facts)[RemedyId.ENABLE_3D], CaveatId.HA_ADMISSION_CONTROL)
    assert not applies
    assert "not in a cluster" in detail


def test_sse41_caveat_names_hosts_without_it_and_those_that_did_not_say() -> None:
    hosts = (
        make_host(),
        make_host("esx-old.lab.local", sse41=False),
        make_host("esx-mystery.lab.local", sse41=None),
    )
    facts = make_facts(cluster=make_cluster(hosts=hosts))
    applies, detail = caveat(plan(facts)[RemedyId.ENABLE_3D], CaveatId.CPU_WITHOUT_SSE41)
    assert applies
    assert "esx-old.lab.local" in detail
    assert "esx-mystery.lab.local" in detail
    assert "esx-a1.lab.local" not in detail


def test_sse41_caveat_does_not_apply_when_every_host_has_it() -> None:
    applies, _ = caveat(plan(make_facts())[RemedyId.ENABLE_3D], CaveatId.CPU_WITHOUT_SSE41)
    assert not applies


def test_sse41_unknown_is_said_but_not_counted_as_missing() -> None:
    facts = make_facts(cluster=make_cluster(hosts=(make_host("esx-x.lab.local", sse41=None),)))
    applies, detail = caveat(plan(facts)[RemedyId.ENABLE_3D], CaveatId.CPU_WITHOUT_SSE41)
    assert not applies
    assert "esx-x.lab.local" in detail


def test_sse41_on_a_standalone_host_checks_that_host() -> None:
    facts = make_facts(cluster=None, host=make_host("esx-solo.lab.local", sse41=False))
    applies, detail = caveat(plan(facts)[RemedyId.ENABLE_3D], CaveatId.CPU_WITHOUT_SSE41)
    assert applies
    assert "esx-solo.lab.local" in detail


@pytest.mark.parametrize(
    ("displays", "screen", "applies"),
    [
        (2, (1920, 1200), False),
        (2, (1920, 1201), True),
        (2, (2560, 1440), True),
        (1, (2560, 1600), False),
    ],
)
def test_3d_resolution_caveat_is_for_two_screens_above_1920x1200(
    displays: int, screen: tuple[int, int], applies: bool
) -> None:
    facts = make_facts(screen=screen, video=make_video(num_displays=displays))
    assert caveat(plan(facts)[RemedyId.ENABLE_3D], CaveatId.RESOLUTION_ABOVE_3D_MAX)[0] is applies


def test_3d_is_not_recommended_above_1920x1200_on_two_screens() -> None:
    facts = make_facts(screen=(2560, 1440), privileges=privileges(ADVANCED_CONFIG=False))
    assert recommended(facts) is RemedyId.LOWER_RESOLUTION


# --- Lower the resolution -------------------------------------------------------------------


def test_cap_limits_the_video_card_to_one_1280x1024_display() -> None:
    facts = make_facts(video=make_video(use_auto_detect=True))
    remedy = plan(facts)[RemedyId.LOWER_RESOLUTION]
    assert remedy.variant == "cap"
    assert {(c.key, c.before, c.after) for c in remedy.changes} == {
        ("numDisplays", "2", "1"),
        ("useAutoDetect", "true", "false"),
        ("videoRamSizeInKB", "32768", "5120"),
    }
    assert all(c.target is ChangeTarget.VIDEO_CARD for c in remedy.changes)
    assert remedy.needs_power_off
    assert remedy.required_privileges == (Privilege.EDIT_DEVICE.value, *POWER)
    assert caveat(remedy, CaveatId.USER_LOSES_RESOLUTION)[0]
    assert not caveat(remedy, CaveatId.NOT_DURABLE)[0]
    assert not caveat(remedy, CaveatId.TOOLS_NEEDED)[0]


def test_cap_already_in_place_changes_nothing() -> None:
    facts = make_facts(screen=(1280, 1024), video=make_video(num_displays=1, video_ram_kb=4096))
    remedy = plan(facts)[RemedyId.LOWER_RESOLUTION]
    assert remedy.changes == ()
    assert not remedy.needs_power_off
    assert "already" in remedy.reason


def test_user_keeps_their_resolution_when_it_already_fits() -> None:
    facts = make_facts(screen=(1024, 768), video=make_video(num_displays=1))
    remedy = plan(facts)[RemedyId.LOWER_RESOLUTION]
    assert not caveat(remedy, CaveatId.USER_LOSES_RESOLUTION)[0]


def test_guest_variant_sets_the_screen_in_the_guest_without_a_shutdown() -> None:
    facts = make_facts(video=make_video(num_displays=1))
    remedy = plan(facts, RemedyOptions(lower_resolution_variant="guest"))[RemedyId.LOWER_RESOLUTION]
    assert remedy.variant == "guest"
    assert remedy.changes == (Change(ChangeTarget.GUEST, "screen", "1920x1200", "1280x1024"),)
    assert not remedy.needs_power_off
    assert remedy.required_privileges == (Privilege.GUEST_EXECUTE.value,)
    assert caveat(remedy, CaveatId.NOT_DURABLE)[0]
    assert not caveat(remedy, CaveatId.TOOLS_NEEDED)[0]
    assert not caveat(remedy, CaveatId.POWER_OFF_REQUIRED)[0]


def _one_screen(*, tools_running: bool, interactive: bool, **more: Any) -> VmFacts:
    """A VM on one display whose guest may or may not take a resolution from the wizard: it
    needs VMware Tools running and a user logged on (``interactive``)."""
    return make_facts(
        video=make_video(num_displays=1),
        tools_running=tools_running,
        interactive_guest_ops_ready=interactive,
        **more,
    )


@pytest.mark.parametrize(
    ("tools_running", "interactive"), [(False, False), (True, False), (False, True)]
)
def test_guest_variant_needs_tools_and_a_desktop_session(
    tools_running: bool, interactive: bool
) -> None:
    facts = _one_screen(tools_running=tools_running, interactive=interactive)
    remedy = plan(facts, RemedyOptions(lower_resolution_variant="guest"))[RemedyId.LOWER_RESOLUTION]
    assert caveat(remedy, CaveatId.TOOLS_NEEDED)[0]


def test_guest_variant_is_unavailable_with_two_configured_displays() -> None:
    remedy = plan(make_facts(), RemedyOptions(lower_resolution_variant="guest"))[
        RemedyId.LOWER_RESOLUTION
    ]
    assert not remedy.available
    assert "2 displays" in (remedy.why_not or "")
    assert not remedy.recommended


# --- Stay on hardware version 7 --------------------------------------------------------------


def test_stay_on_hw7_pins_the_upgrade_policy_without_a_shutdown() -> None:
    facts = make_facts(hardware_version="vmx-07", upgrade_policy=make_upgrade_policy())
    remedy = plan(facts)[RemedyId.STAY_ON_HW7]
    assert remedy.changes == (
        Change(ChangeTarget.UPGRADE_POLICY, "upgradePolicy", "onSoftPowerOff", "never"),
    )
    assert not remedy.needs_power_off
    assert remedy.required_privileges == (Privilege.UPGRADE_POLICY.value,)
    assert not caveat(remedy, CaveatId.DOWNGRADE_NOT_IN_PLACE)[0]


def test_stay_on_hw7_without_a_policy_shows_none_before() -> None:
    remedy = plan(make_facts(hardware_version="vmx-07"))[RemedyId.STAY_ON_HW7]
    assert remedy.changes[0].before is None


@pytest.mark.parametrize("version", ["vmx-08", "vmx-10", "vmx-19"])
def test_stay_on_hw7_is_unavailable_after_an_upgrade_with_the_ways_back(version: str) -> None:
    remedy = plan(make_facts(hardware_version=version))[RemedyId.STAY_ON_HW7]
    assert not remedy.available
    assert "snapshot" in (remedy.why_not or "")
    assert "rebuild" in (remedy.why_not or "")
    assert caveat(remedy, CaveatId.DOWNGRADE_NOT_IN_PLACE)[0]


def test_stay_on_hw7_is_unavailable_for_older_versions() -> None:
    remedy = plan(make_facts(hardware_version="vmx-04"))[RemedyId.STAY_ON_HW7]
    assert not remedy.available
    assert not caveat(remedy, CaveatId.DOWNGRADE_NOT_IN_PLACE)[0]


# --- Every remedy lists every caveat relevant to it --------------------------------------


@pytest.mark.parametrize(
    ("rid", "variant", "expected"),
    [
        (
            RemedyId.LOWER_RESOLUTION,
            "cap",
            {
                CaveatId.POWER_OFF_REQUIRED,
                CaveatId.USER_LOSES_RESOLUTION,
                CaveatId.NOT_DURABLE,
                CaveatId.TOOLS_NEEDED,
            },
        ),
        (
            RemedyId.LOWER_RESOLUTION,
            "guest",
            {
                CaveatId.POWER_OFF_REQUIRED,
                CaveatId.USER_LOSES_RESOLUTION,
                CaveatId.NOT_DURABLE,
                CaveatId.TOOLS_NEEDED,
            },
        ),
        (
            RemedyId.STAY_ON_HW7,
            "cap",
            {CaveatId.POWER_OFF_REQUIRED, CaveatId.DOWNGRADE_NOT_IN_PLACE},
        ),
        (
            RemedyId.RAISE_BUFFER,
            "cap",
            {CaveatId.POWER_OFF_REQUIRED, CaveatId.ESTIMATE_BEYOND_ARTICLE},
        ),
        (
            RemedyId.ENABLE_3D,
            "cap",
            {
                CaveatId.POWER_OFF_REQUIRED,
                CaveatId.OVERHEAD_256MB,
                CaveatId.HA_ADMISSION_CONTROL,
                CaveatId.CPU_WITHOUT_SSE41,
                CaveatId.RESOLUTION_ABOVE_3D_MAX,
            },
        ),
    ],
)
def test_each_remedy_lists_its_caveats_each_with_a_detail(
    rid: RemedyId, variant: str, expected: set[CaveatId]
) -> None:
    options = RemedyOptions(lower_resolution_variant="guest" if variant == "guest" else "cap")
    remedy = plan(make_facts(), options)[rid]
    assert {c.id for c in remedy.caveats} == expected
    assert all(c.detail for c in remedy.caveats)


def test_unavailable_remedies_say_why_and_available_ones_do_not() -> None:
    for remedy in plan(make_facts()).values():
        assert (remedy.why_not is None) is remedy.available


def _recommended(facts: VmFacts, options: RemedyOptions | None = None) -> Remedy:
    rems = remedies(assess(facts), facts, options=options)
    assert rems[0].recommended, "some remedy must be recommended for an affected VM"
    return rems[0]


def test_3d_beats_a_buffer_size_that_is_only_our_estimate() -> None:
    """Two Full HD screens without admission control: 3D sizes its own buffer (policy A)."""
    host = make_host()
    facts = make_facts(
        screen=(1920, 1080),
        host=host,
        cluster=make_cluster(admission_control=False, hosts=(host, make_host("esx-a2"))),
    )
    chosen = _recommended(facts)
    assert chosen.id is RemedyId.ENABLE_3D
    assert "sizes its own checkpoint" in chosen.reason


@pytest.mark.parametrize(
    ("screen", "admission_control"),
    [
        pytest.param((1920, 1080), True, id="admission-control-costs-failover-capacity"),
        pytest.param((1600, 1200), False, id="article-figure-20MB-needs-no-estimate"),
    ],
)
def test_the_buffer_stays_first_when_3d_costs_something_or_the_article_gives_the_figure(
    screen: tuple[int, int], admission_control: bool
) -> None:
    host = make_host()
    facts = make_facts(
        screen=screen,
        host=host,
        cluster=make_cluster(admission_control=admission_control, hosts=(host,)),
    )
    assert _recommended(facts).id is RemedyId.RAISE_BUFFER


def test_a_user_who_may_not_power_cycle_gets_the_guest_resolution_fix() -> None:
    """Policy B: on a running VM without power rights, only the guest variant spares a shutdown."""
    facts = make_facts(
        video=make_video(num_displays=1),
        privileges=privileges(POWER_OFF=False, POWER_ON=False),
    )
    chosen = _recommended(facts)
    assert chosen.id is RemedyId.LOWER_RESOLUTION
    assert chosen.variant == "guest"
    assert not chosen.needs_power_off


def test_a_powered_off_vm_keeps_the_durable_resolution_cap() -> None:
    facts = make_facts(
        power_state="poweredOff",
        tools_running=False,
        privileges=privileges(POWER_OFF=False, POWER_ON=False),
    )
    lower = next(r for r in remedies(assess(facts), facts) if r.id is RemedyId.LOWER_RESOLUTION)
    assert lower.variant == "cap"


@pytest.mark.parametrize(
    ("tools_running", "interactive"),
    [pytest.param(False, False, id="tools-not-running"), pytest.param(True, False, id="no-logon")],
)
def test_the_guest_resolution_fix_is_unavailable_without_a_running_desktop(
    tools_running: bool, interactive: bool
) -> None:
    facts = _one_screen(
        tools_running=tools_running,
        interactive=interactive,
        privileges=privileges(POWER_OFF=False, POWER_ON=False),
    )
    lower = next(r for r in remedies(assess(facts), facts) if r.id is RemedyId.LOWER_RESOLUTION)
    assert lower.variant == "guest"
    assert not lower.available
    assert not lower.recommended
    tools = lower.caveat(CaveatId.TOOLS_NEEDED)
    assert tools is not None
    assert tools.applies
