"""The article's conditions and verdicts, one test or more per rule."""

from __future__ import annotations

import re

import pytest

from tests.helpers.facts import (
    make_evidence,
    make_facts,
    make_upgrade_policy,
    make_video,
    with_extra,
)
from wizard.kb import ConditionId, ConditionState, Verdict, assess
from wizard.kb.facts import VmFacts
from wizard.kb.model import Assessment, Condition

MET, NOT_MET, UNKNOWN = ConditionState.MET, ConditionState.NOT_MET, ConditionState.UNKNOWN


def c1(facts: VmFacts) -> Condition:
    return assess(facts).condition(ConditionId.DISPLAY)


def notes_text(assessment: Assessment) -> str:
    return " ".join(assessment.notes)


# --- C1: display demand ---------------------------------------------------------------------


def test_c1_textbook_dual_1920x1200_is_met() -> None:
    condition = c1(make_facts())
    assert condition.state is MET
    assert condition.value == "1920x1200, 2 displays"


@pytest.mark.parametrize(
    ("screen", "state"),
    [((1280, 1024), NOT_MET), ((1280, 1025), MET), ((1024, 1280), NOT_MET), ((1600, 900), MET)],
)
def test_c1_one_display_is_judged_by_pixels(screen: tuple[int, int], state: ConditionState) -> None:
    condition = c1(make_facts(screen=screen, video=make_video(num_displays=1)))
    assert condition.state is state
    assert condition.source == "guest.screen; config.hardware.device[500].numDisplays"


def test_c1_a_second_display_of_any_size_counts() -> None:
    condition = c1(make_facts(screen=(800, 600), video=make_video(num_displays=2)))
    assert condition.state is MET
    assert "2 displays" in condition.value


def test_c1_auto_detect_ignores_num_displays_so_a_small_screen_is_unknown() -> None:
    facts = make_facts(screen=(1024, 768), video=make_video(num_displays=1, use_auto_detect=True))
    condition = c1(facts)
    assert condition.state is UNKNOWN
    assert "auto-detect" in condition.detail
    assert "useAutoDetect" in condition.source


def test_c1_auto_detect_with_a_large_screen_is_met() -> None:
    facts = make_facts(screen=(1920, 1080), video=make_video(num_displays=1, use_auto_detect=True))
    assert c1(facts).state is MET


@pytest.mark.parametrize(("vram_kb", "state"), [(5120, NOT_MET), (4096, NOT_MET), (5124, UNKNOWN)])
def test_c1_without_tools_one_display_is_bounded_by_video_memory(
    vram_kb: int, state: ConditionState
) -> None:
    facts = make_facts(screen=None, video=make_video(num_displays=1, video_ram_kb=vram_kb))
    condition = c1(facts)
    assert condition.state is state
    assert "videoRamSizeInKB" in condition.source


def test_c1_without_tools_auto_detect_is_unknown_whatever_the_memory() -> None:
    facts = make_facts(
        screen=None, video=make_video(num_displays=1, video_ram_kb=4096, use_auto_detect=True)
    )
    assert c1(facts).state is UNKNOWN


def test_c1_without_tools_two_configured_displays_still_count() -> None:
    assert c1(make_facts(screen=None)).state is MET


def test_c1_a_zero_screen_counts_as_not_reported() -> None:
    facts = make_facts(screen=(0, 0), video=make_video(num_displays=1, video_ram_kb=65536))
    condition = c1(facts)
    assert condition.state is UNKNOWN
    assert "not reported" in condition.value


def test_c1_no_video_card_is_not_met() -> None:
    assert c1(make_facts(screen=None, video=None)).state is NOT_MET


# --- C2: WDDM guest -------------------------------------------------------------------------


def test_c2_prefers_the_id_tools_report_and_notes_a_mismatch() -> None:
    result = assess(make_facts(guest_id="winXPProGuest", tools_guest_id="windows7_64Guest"))
    condition = result.condition(ConditionId.WDDM)
    assert condition.state is MET
    assert condition.source == "guest.guestId"
    assert "Windows XP Professional" in notes_text(result)
    assert result.verdict is Verdict.AFFECTED


def test_c2_falls_back_to_the_configured_id_without_tools() -> None:
    condition = assess(make_facts(tools_guest_id=None)).condition(ConditionId.WDDM)
    assert condition.state is MET
    assert condition.source == "config.guestId"


def test_c2_later_windows_is_met_with_a_note_that_the_article_predates_it() -> None:
    result = assess(make_facts(guest_id="windows9_64Guest", tools_guest_id="windows9_64Guest"))
    assert result.condition(ConditionId.WDDM).state is MET
    assert "newer than the article" in notes_text(result)
    assert result.verdict is Verdict.AFFECTED


@pytest.mark.parametrize("guest_id", ["winXPProGuest", "winNetStandardGuest", "rhel8_64Guest"])
def test_c2_not_wddm_makes_the_vm_not_affected_naming_c2(guest_id: str) -> None:
    result = assess(make_facts(guest_id=guest_id, tools_guest_id=guest_id))
    assert result.condition(ConditionId.WDDM).state is NOT_MET
    assert result.verdict is Verdict.NOT_AFFECTED
    assert "the guest OS" in result.reason


def test_c2_unknown_guest_makes_the_vm_possibly_affected() -> None:
    result = assess(make_facts(guest_id="", tools_guest_id=None))
    assert result.condition(ConditionId.WDDM).state is UNKNOWN
    assert result.verdict is Verdict.POSSIBLY_AFFECTED


# --- C3: hardware version -------------------------------------------------------------------


def test_c3_vmx08_is_the_articles_case() -> None:
    condition = assess(make_facts()).condition(ConditionId.HW8)
    assert condition.state is MET
    assert condition.source == "config.version"


def test_c3_vmx07_is_at_risk() -> None:
    result = assess(make_facts(hardware_version="vmx-07"))
    assert result.verdict is Verdict.AT_RISK
    assert result.condition(ConditionId.HW8).state is NOT_MET
    assert "scheduled" not in result.reason


@pytest.mark.parametrize("policy", ["onSoftPowerOff", "always"])
def test_c3_vmx07_with_a_scheduled_upgrade_is_urgent(policy: str) -> None:
    facts = make_facts(hardware_version="vmx-07", upgrade_policy=make_upgrade_policy(policy))
    result = assess(facts)
    assert result.verdict is Verdict.AT_RISK
    assert "scheduled" in result.reason
    assert "scheduled" in notes_text(result)
    assert "scheduledHardwareUpgradeInfo" in result.condition(ConditionId.HW8).source


@pytest.mark.parametrize(
    "policy",
    [make_upgrade_policy("never"), make_upgrade_policy("onSoftPowerOff", "vmx-07")],
)
def test_c3_vmx07_without_an_upgrade_to_8_is_not_urgent(policy: object) -> None:
    result = assess(make_facts(hardware_version="vmx-07", upgrade_policy=policy))
    assert result.verdict is Verdict.AT_RISK
    assert "scheduled" not in result.reason


@pytest.mark.parametrize("version", ["vmx-09", "vmx-10", "vmx-11", "vmx-12"])
def test_c3_vmx09_to_12_are_possibly_affected_by_the_later_edition(version: str) -> None:
    result = assess(make_facts(hardware_version=version))
    condition = result.condition(ConditionId.HW8)
    assert condition.state is UNKNOWN
    assert "later" in condition.detail
    assert result.verdict is Verdict.POSSIBLY_AFFECTED


@pytest.mark.parametrize("version", ["vmx-13", "vmx-19", "vmx-21"])
def test_c3_vmx13_and_later_are_outside_both_editions(version: str) -> None:
    result = assess(make_facts(hardware_version=version))
    assert result.condition(ConditionId.HW8).state is NOT_MET
    assert result.verdict is Verdict.NOT_AFFECTED
    assert "the hardware version" in result.reason


def test_c3_older_than_7_is_not_affected_with_a_note_about_upgrading() -> None:
    result = assess(make_facts(hardware_version="vmx-04"))
    assert result.verdict is Verdict.NOT_AFFECTED
    assert "upgrade" in notes_text(result)


def test_c3_unreadable_version_is_unknown() -> None:
    result = assess(make_facts(hardware_version="vmx-xx"))
    assert result.condition(ConditionId.HW8).state is UNKNOWN
    assert result.verdict is Verdict.POSSIBLY_AFFECTED


# --- C4: 3D off, and the mitigations ------------------------------------------------------


def test_c4_3d_on_the_video_card_mitigates() -> None:
    result = assess(make_facts(video=make_video(enable_3d_support=True)))
    condition = result.condition(ConditionId.NO_3D)
    assert condition.state is NOT_MET
    assert condition.source == "config.hardware.device[500].enable3DSupport"
    assert result.verdict is Verdict.MITIGATED


@pytest.mark.parametrize("raw", ["TRUE", "true", " True ", "1"])
def test_c4_mks_enable3d_on_mitigates(raw: str) -> None:
    result = assess(with_extra(make_facts(), mks3d=raw))
    assert result.condition(ConditionId.NO_3D).source == 'config.extraConfig["mks.enable3d"]'
    assert result.verdict is Verdict.MITIGATED


@pytest.mark.parametrize("raw", ["FALSE", "0", ""])
def test_c4_mks_enable3d_off_leaves_the_vm_affected(raw: str) -> None:
    result = assess(with_extra(make_facts(), mks3d=raw))
    assert result.condition(ConditionId.NO_3D).state is MET
    assert result.verdict is Verdict.AFFECTED


@pytest.mark.parametrize(
    ("setting", "shown"),
    [
        pytest.param({"mks3d": "yes please"}, "yes please", id="c4-mks-enable3d-is-off"),
        pytest.param({"cpt": "24 MB"}, "'24 MB'", id="buffer"),
    ],
)
def test_an_unreadable_setting_counts_as_not_set_with_a_note(
    setting: dict[str, str], shown: str
) -> None:
    result = assess(with_extra(make_facts(), **setting))
    assert result.verdict is Verdict.AFFECTED
    assert shown in notes_text(result)
    assert "not set" in notes_text(result)


def test_c4_extra_config_keys_are_case_insensitive() -> None:
    result = assess(with_extra(make_facts(), **{"MKS.Enable3D": "TRUE"}))
    assert result.verdict is Verdict.MITIGATED


def test_buffer_exactly_the_required_size_mitigates() -> None:
    required = assess(make_facts()).required_cpt_cache_bytes
    assert required == 24_117_248
    result = assess(with_extra(make_facts(), cpt=str(required)))
    assert result.verdict is Verdict.MITIGATED
    assert "23 MB" in result.mitigations[0]


def test_buffer_one_byte_short_does_not_mitigate_and_says_so() -> None:
    result = assess(with_extra(make_facts(), cpt="24117247"))
    assert result.verdict is Verdict.AFFECTED
    assert "less than" in notes_text(result)


@pytest.mark.parametrize("raw", ["0x1700000", " 24117248 ", "0x2000000"])
def test_buffer_in_hex_or_with_blanks_is_understood(raw: str) -> None:
    assert assess(with_extra(make_facts(), cpt=raw)).verdict is Verdict.MITIGATED


def test_the_articles_20mb_mitigates_two_1600x1200_screens_but_not_1601() -> None:
    at_limit = with_extra(make_facts(screen=(1600, 1200)), cpt="20971520")
    beyond = with_extra(make_facts(screen=(1601, 1200)), cpt="20971520")
    assert assess(at_limit).verdict is Verdict.MITIGATED
    assert assess(beyond).verdict is Verdict.AFFECTED


def test_16mb_mitigates_any_single_display() -> None:
    facts = with_extra(
        make_facts(screen=(2560, 1600), video=make_video(num_displays=1)), cpt="16777216"
    )
    assert assess(facts).verdict is Verdict.MITIGATED


def test_without_tools_the_buffer_is_sized_from_video_memory() -> None:
    facts = make_facts(screen=None)  # two displays, 32 MB of video memory
    result = assess(facts)
    assert result.verdict is Verdict.AFFECTED
    # 32768 KB / 4 bytes = 8388608 pixels: 20971520 + 4 * (8388608 - 3840000) -> 38 MiB.
    assert result.required_cpt_cache_bytes == 38 * 1024 * 1024
    assert "video memory" in notes_text(result)


def test_buffer_with_unknown_display_demand_is_noted_but_not_trusted() -> None:
    facts = make_facts(screen=None, video=make_video(num_displays=1, use_auto_detect=True))
    result = assess(with_extra(facts, cpt="33554432"))
    assert result.required_cpt_cache_bytes is None
    assert result.verdict is Verdict.POSSIBLY_AFFECTED
    assert "can't tell" in notes_text(result)


def test_auto_detect_sizes_for_two_displays_and_says_so() -> None:
    facts = make_facts(screen=(1920, 1200), video=make_video(use_auto_detect=True))
    result = assess(facts)
    assert result.required_cpt_cache_bytes == 24_117_248
    assert "two displays" in notes_text(result)


# --- Verdicts and their precedence ------------------------------------------------------


def test_affected_when_all_four_hold_and_nothing_protects() -> None:
    result = assess(make_facts())
    assert result.verdict is Verdict.AFFECTED
    assert [c.state for c in result.conditions] == [MET, MET, MET, MET]
    assert result.mitigations == ()


def test_confirmed_by_evidence_whatever_else_holds() -> None:
    facts = make_facts(
        evidence=(make_evidence(),), guest_id="winXPProGuest", tools_guest_id="winXPProGuest"
    )
    result = assess(facts)
    assert result.verdict is Verdict.CONFIRMED
    assert result.evidence == facts.evidence


def test_confirmed_with_a_protection_set_notes_that_it_may_predate_it() -> None:
    facts = make_facts(evidence=(make_evidence(),), video=make_video(enable_3d_support=True))
    result = assess(facts)
    assert result.verdict is Verdict.CONFIRMED
    assert result.mitigations
    assert "predate" in notes_text(result)


def test_not_affected_names_every_failing_condition() -> None:
    facts = make_facts(
        screen=(1024, 768),
        video=make_video(num_displays=1),
        guest_id="winXPProGuest",
        tools_guest_id="winXPProGuest",
    )
    result = assess(facts)
    assert result.verdict is Verdict.NOT_AFFECTED
    assert "the display size" in result.reason
    assert "the guest OS" in result.reason
    assert "the hardware version" not in result.reason


def test_vmx07_with_unknown_display_is_still_at_risk_and_says_what_is_unknown() -> None:
    facts = make_facts(
        hardware_version="vmx-07",
        screen=None,
        video=make_video(num_displays=1, use_auto_detect=True),
    )
    result = assess(facts)
    assert result.verdict is Verdict.AT_RISK
    assert "the display size" in result.reason
    assert "unknown" in result.reason


@pytest.mark.parametrize(
    "facts",
    [
        make_facts(hardware_version="vmx-07", video=make_video(enable_3d_support=True)),
        with_extra(make_facts(hardware_version="vmx-07"), cpt="33554432"),
    ],
    ids=["3d-on", "buffer"],
)
def test_vmx07_already_protected_is_not_affected_naming_c3(facts: VmFacts) -> None:
    result = assess(facts)
    assert result.verdict is Verdict.NOT_AFFECTED
    assert "the hardware version" in result.reason
    assert "after an upgrade" in result.reason


def test_vmx07_that_fails_c2_is_not_at_risk() -> None:
    facts = make_facts(
        hardware_version="vmx-07", guest_id="winXPProGuest", tools_guest_id="winXPProGuest"
    )
    assert assess(facts).verdict is Verdict.NOT_AFFECTED


def test_vmx09_with_everything_else_met_is_possibly_affected() -> None:
    assert assess(make_facts(hardware_version="vmx-09")).verdict is Verdict.POSSIBLY_AFFECTED


def test_vmx09_with_3d_on_is_mitigated() -> None:
    facts = make_facts(hardware_version="vmx-09", video=make_video(enable_3d_support=True))
    assert assess(facts).verdict is Verdict.MITIGATED


def test_unknown_display_with_3d_on_is_mitigated_whatever_the_screen() -> None:
    facts = make_facts(
        screen=None, video=make_video(num_displays=1, use_auto_detect=True, enable_3d_support=True)
    )
    assert assess(facts).verdict is Verdict.MITIGATED


def test_possibly_affected_when_tools_report_nothing() -> None:
    facts = make_facts(
        screen=None,
        tools_guest_id=None,
        tools_running=False,
        video=make_video(num_displays=1, video_ram_kb=16384),
    )
    result = assess(facts)
    assert result.verdict is Verdict.POSSIBLY_AFFECTED
    assert "the display size" in result.reason


def test_every_condition_carries_value_source_detail_and_why() -> None:
    result = assess(make_facts())
    assert [c.id for c in result.conditions] == list(ConditionId)
    for condition in result.conditions:
        assert condition.value
        assert condition.source
        assert condition.detail
        assert condition.why_it_matters


def test_assessment_names_the_vm() -> None:
    result = assess(make_facts())
    assert (result.vm_name, result.vm_moref) == ("HD-W7-042", "vm-42")


@pytest.mark.parametrize(
    "facts",
    [
        make_facts(),
        make_facts(hardware_version="vmx-07"),
        make_facts(tools_guest_id="winXPProGuest", guest_id="winXPProGuest"),
        make_facts(screen=None, tools_guest_id=None, tools_running=False),
        make_facts(hardware_version="vmx-10"),
    ],
)
def test_the_reason_and_values_speak_words_not_ids(facts: VmFacts) -> None:
    """What the technician reads first names no condition id, guest id or version key."""
    result = assess(facts)
    shown = [result.reason, *result.mitigations, *result.notes]
    shown += [f"{c.value} {c.detail}" for c in result.conditions]
    for text in shown:
        assert not re.search(r"\bC[1-4]\b|vmx-\d|Guest\b|_", text), text


def test_the_guest_is_named_in_words_and_sizes_in_megabytes() -> None:
    result = assess(with_extra(make_facts(), cpt="25165824"))
    assert result.condition(ConditionId.WDDM).value == "Windows 7 (64-bit)"
    assert result.condition(ConditionId.HW8).value == "version 8"
    assert result.mitigations == (
        "The checkpoint buffer is set to 24 MB; the displays need 23 MB.",
    )
