"""Properties that must hold for any VM, whatever odd values vCenter hands us."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers.facts import make_cluster, make_evidence, make_facts, make_host
from wizard.kb import (
    CaveatId,
    ChangeTarget,
    ConditionId,
    Privilege,
    Remedy,
    RemedyId,
    RemedyOptions,
    Verdict,
    assess,
    prescreen,
    remedies,
)
from wizard.kb.facts import UpgradePolicy, VideoCard, VmFacts
from wizard.kb.model import CPT_CACHE_KEY, MKS_3D_KEY, RULE_EXTRA_KEYS
from wizard.kb.rules import upgrade_pending
from wizard.kb.simulate import apply_changes
from wizard.kb.values import parse_int

SEVERITY = {
    Verdict.NOT_AFFECTED: 0,
    Verdict.MITIGATED: 1,
    Verdict.AT_RISK: 2,
    Verdict.POSSIBLY_AFFECTED: 3,
    Verdict.AFFECTED: 4,
    Verdict.CONFIRMED: 5,
}
"""How urgent a verdict is: a mitigation may only move a VM down this scale."""

GUEST_IDS = [
    "windows7_64Guest",
    "winVistaGuest",
    "windows9_64Guest",
    "windows2019srv_64Guest",
    "winXPProGuest",
    "winNetStandardGuest",
    "rhel8_64Guest",
    "otherGuest",
    "winFutureGuest",
    "",
]
VERSIONS = [f"vmx-{n:02d}" for n in range(4, 22)] + ["", "vmx-x", "8"]

odd_text = st.text(max_size=40)
screens = st.one_of(
    st.none(),
    st.tuples(st.integers(0, 8000), st.integers(0, 5000)),
)
videos = st.one_of(
    st.none(),
    st.builds(
        VideoCard,
        num_displays=st.integers(0, 10),
        video_ram_kb=st.integers(0, 262144),
        use_auto_detect=st.booleans(),
        enable_3d_support=st.booleans(),
    ),
)
extra_values = st.one_of(
    odd_text,
    st.integers(0, 2**40).map(str),
    st.integers(0, 2**32).map(hex),
    st.sampled_from(["TRUE", "true", " 1 ", "FALSE", "yes", ""]),
)
extra_configs = st.lists(
    st.tuples(
        st.sampled_from([CPT_CACHE_KEY, MKS_3D_KEY, "svga.present", "MKS.ENABLE3D"]), extra_values
    )
    | st.tuples(odd_text, odd_text),
    max_size=4,
).map(tuple)
policies = st.one_of(
    st.none(),
    st.builds(
        UpgradePolicy,
        policy=st.sampled_from(["never", "onSoftPowerOff", "always", "odd"]),
        version_key=st.sampled_from([None, "vmx-07", "vmx-08", "vmx-13", "junk"]),
    ),
)
host_lists = st.lists(
    st.builds(
        make_host,
        st.sampled_from(["esx-1", "esx-2", "esx-3"]),
        sse41=st.sampled_from([True, False, None]),
    ),
    max_size=3,
).map(tuple)
clusters = st.one_of(
    st.none(),
    st.builds(make_cluster, ha=st.booleans(), admission_control=st.booleans(), hosts=host_lists),
)
privilege_sets = st.lists(
    st.tuples(st.sampled_from([p.value for p in Privilege]), st.booleans()), max_size=7
).map(tuple)


@st.composite
def any_facts(draw: st.DrawFn) -> VmFacts:
    """Facts as varied and odd as vCenter could report."""
    return make_facts(
        power_state=draw(st.sampled_from(["poweredOn", "poweredOff", "suspended"])),
        hardware_version=draw(st.sampled_from(VERSIONS) | odd_text),
        guest_id=draw(st.sampled_from(GUEST_IDS) | odd_text),
        tools_guest_id=draw(st.none() | st.sampled_from(GUEST_IDS)),
        tools_running=draw(st.booleans()),
        interactive_guest_ops_ready=draw(st.booleans()),
        screen=draw(screens),
        video=draw(videos),
        extra_config=draw(extra_configs),
        upgrade_policy=draw(policies),
        cluster=draw(clusters),
        privileges=draw(privilege_sets),
        evidence=(make_evidence(),) if draw(st.booleans()) and draw(st.booleans()) else (),
    )


@st.composite
def affected_facts(draw: st.DrawFn) -> VmFacts:
    """A VM the article's rules call affected, with a video card (so every fix can apply)."""
    displays = draw(st.integers(1, 4))
    width = draw(st.integers(640, 5120))
    height = draw(st.integers(480, 2880))
    if displays == 1 and width * height <= 1280 * 1024:
        width, height = 1920, 1200
    facts = make_facts(
        screen=(width, height),
        video=VideoCard(
            num_displays=displays,
            # Enough video memory for what the guest shows, as on a real VM.
            video_ram_kb=max(
                draw(st.integers(4096, 262144)), -(-displays * width * height * 4 // 1024)
            ),
            use_auto_detect=False,
            enable_3d_support=False,
        ),
        guest_id=draw(st.sampled_from(GUEST_IDS[:4])),
        tools_guest_id=None,
        power_state=draw(st.sampled_from(["poweredOn", "poweredOff"])),
        extra_config=((CPT_CACHE_KEY, str(draw(st.integers(0, 16_777_215)))),),
    )
    assert assess(facts).verdict is Verdict.AFFECTED
    return facts


def mitigate(facts: VmFacts, how: str) -> VmFacts:
    if how == "3d-card" and facts.video is not None:
        return replace(facts, video=replace(facts.video, enable_3d_support=True))
    if how == "buffer":
        required = assess(facts).required_cpt_cache_bytes
        if required is not None:
            return replace(
                facts, extra_config=(*facts.extra_config, (CPT_CACHE_KEY, str(required)))
            )
        return facts
    return replace(facts, extra_config=(*facts.extra_config, (MKS_3D_KEY, "TRUE")))


@given(any_facts(), st.sampled_from(["3d-card", "3d-mks", "buffer"]))
def test_a_mitigation_never_makes_a_vm_more_affected(facts: VmFacts, how: str) -> None:
    before = assess(facts).verdict
    after = assess(mitigate(facts, how)).verdict
    assert SEVERITY[after] <= SEVERITY[before]


@given(any_facts())
def test_odd_values_never_crash_and_every_condition_is_explained(facts: VmFacts) -> None:
    result = assess(facts)
    assert [c.id for c in result.conditions] == list(ConditionId)
    for condition in result.conditions:
        assert condition.source.strip()
        assert condition.value.strip()
        assert condition.detail.strip()
        assert condition.why_it_matters.strip()
    assert result.reason.strip()


@given(any_facts(), st.sampled_from(["cap", "guest"]))
def test_at_most_one_recommendation_and_none_when_safe(facts: VmFacts, variant: str) -> None:
    result = assess(facts)
    options = RemedyOptions(lower_resolution_variant="guest" if variant == "guest" else "cap")
    plan = remedies(result, facts, options=options)
    assert sorted(r.id for r in plan) == sorted(RemedyId)
    chosen = [r for r in plan if r.recommended]
    assert len(chosen) <= 1
    if result.verdict in (Verdict.MITIGATED, Verdict.NOT_AFFECTED):
        assert not chosen
    if chosen:
        assert plan[0] is chosen[0]
        assert chosen[0].available
        assert chosen[0].changes
        if chosen[0].missing_privileges:
            # Only when no other fix on offer could be applied with this user's rights.
            others = [r for r in plan if r.available and r.changes and r is not chosen[0]]
            assert all(r.missing_privileges or not _eligible(r, result.verdict) for r in others)
    for remedy in plan:
        assert set(remedy.missing_privileges) <= set(remedy.required_privileges)
        assert all(facts.holds(p) is False for p in remedy.missing_privileges)


@given(any_facts())
def test_raising_the_buffer_never_lowers_a_value(facts: VmFacts) -> None:
    result = assess(facts)
    remedy = next(r for r in remedies(result, facts) if r.id is RemedyId.RAISE_BUFFER)
    for change in remedy.changes:
        assert change.target is ChangeTarget.EXTRA_CONFIG
        after = parse_int(change.after)
        assert after.value is not None
        before = parse_int(change.before)
        if before.value is not None:
            assert after.value > before.value
        assert result.required_cpt_cache_bytes is not None
        assert after.value >= result.required_cpt_cache_bytes


# Keys a scan must not mistake for the rules' own: near misses, other cases, what real VMs hold.
other_keys = (
    st.sampled_from(
        [
            "svga.present",
            "pciBridge4.virtualDev",
            "MKS.ENABLE3D",
            "m\u212as.enable3d",  # KELVIN SIGN: lowers to "mks.enable3d"
            "mks.enable3d ",
            "mks.enable3D.x",
            "migrate.baseCptCacheSize2",
            "migrate.hostLog",
            "",
        ]
    )
    | odd_text
)


@given(any_facts(), st.lists(st.tuples(other_keys, extra_values), max_size=6))
def test_only_the_rule_keys_of_extra_config_count(
    facts: VmFacts, more: list[tuple[str, str]]
) -> None:
    # A risk scan reads only RULE_EXTRA_KEYS of each VM's extraConfig (compared as VmFacts.extra
    # compares them): what it judges must be what the whole extraConfig gives.
    whole = replace(facts, extra_config=(*facts.extra_config, *more))
    wanted = {k.lower() for k in RULE_EXTRA_KEYS}
    read = replace(
        whole, extra_config=tuple(kv for kv in whole.extra_config if kv[0].lower() in wanted)
    )
    assert assess(read) == assess(whole)
    assert remedies(assess(read), read) == remedies(assess(whole), whole)


@given(any_facts())
def test_prescreen_flags_every_vm_the_full_check_does_not_clear(facts: VmFacts) -> None:
    verdict = assess(facts).verdict
    if verdict in (Verdict.AFFECTED, Verdict.POSSIBLY_AFFECTED, Verdict.AT_RISK, Verdict.MITIGATED):
        assert prescreen(facts.guest_id, facts.tools_guest_id, facts.hardware_version)


@settings(max_examples=60)
@given(affected_facts())
def test_raising_the_buffer_mitigates_an_affected_vm(facts: VmFacts) -> None:
    fixed = _apply(facts, RemedyId.RAISE_BUFFER)
    assert assess(fixed).verdict is Verdict.MITIGATED


@settings(max_examples=60)
@given(affected_facts())
def test_enabling_3d_mitigates_an_affected_vm(facts: VmFacts) -> None:
    fixed = _apply(facts, RemedyId.ENABLE_3D)
    assert assess(fixed).verdict is Verdict.MITIGATED


@settings(max_examples=60)
@given(affected_facts())
def test_the_resolution_cap_clears_an_affected_vm(facts: VmFacts) -> None:
    fixed = _apply(facts, RemedyId.LOWER_RESOLUTION)
    result = assess(fixed)
    assert result.verdict is Verdict.NOT_AFFECTED
    assert result.condition(ConditionId.DISPLAY).state.value == "not_met"
    # The lab reports the guest capped to 1280x1024 after the power-on.
    assert fixed.screen is not None
    assert fixed.screen[0] * fixed.screen[1] <= 1280 * 1024


@settings(max_examples=60)
@given(affected_facts())
def test_lowering_the_resolution_in_the_guest_clears_a_single_display_vm(facts: VmFacts) -> None:
    assert facts.video is not None
    screen = facts.screen
    if screen is None or screen[0] * screen[1] <= 1280 * 1024:
        screen = (1920, 1200)
    single = replace(
        facts, screen=screen, video=replace(facts.video, num_displays=1, video_ram_kb=32768)
    )
    fixed = _apply(
        single, RemedyId.LOWER_RESOLUTION, RemedyOptions(lower_resolution_variant="guest")
    )
    assert assess(fixed).verdict is Verdict.NOT_AFFECTED


@given(st.sampled_from([None, "onSoftPowerOff", "always"]))
def test_pinning_version_7_ends_the_scheduled_upgrade(policy: str | None) -> None:
    facts = make_facts(
        hardware_version="vmx-07",
        upgrade_policy=UpgradePolicy(policy, "vmx-08") if policy is not None else None,
    )
    fixed = _apply(facts, RemedyId.STAY_ON_HW7)
    assert not upgrade_pending(fixed)
    result = assess(fixed)
    assert result.verdict is Verdict.AT_RISK
    assert not any(r.recommended for r in remedies(result, fixed))


@pytest.mark.parametrize("rid", list(RemedyId))
def test_a_remedy_in_effect_is_idempotent(rid: RemedyId) -> None:
    facts = make_facts(hardware_version="vmx-07") if rid is RemedyId.STAY_ON_HW7 else make_facts()
    once = _apply(facts, rid)
    again = next(r for r in remedies(assess(once), once) if r.id is rid)
    assert again.available
    assert again.changes == ()
    assert "Already in place" in again.reason


def _eligible(remedy: Remedy, verdict: Verdict) -> bool:
    """Whether the policy would consider ``remedy`` at all for this verdict."""
    if remedy.id is RemedyId.STAY_ON_HW7:
        return verdict is Verdict.AT_RISK
    if remedy.id is RemedyId.ENABLE_3D:
        blockers = (CaveatId.CPU_WITHOUT_SSE41, CaveatId.RESOLUTION_ABOVE_3D_MAX)
        return not any(c.applies for c in remedy.caveats if c.id in blockers)
    return True


def _apply(facts: VmFacts, rid: RemedyId, options: RemedyOptions | None = None) -> VmFacts:
    remedy = next(r for r in remedies(assess(facts), facts, options=options) if r.id is rid)
    assert remedy.available, remedy.why_not
    assert remedy.changes
    return apply_changes(facts, remedy.changes)
