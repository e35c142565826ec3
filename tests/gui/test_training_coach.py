"""The coach's texts and the debrief's scoring: pure functions, no Qt, no lab."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tests.helpers.facts import make_evidence, make_facts, make_video, privileges
from wizard.kb import assess, remedies
from wizard.kb.facts import VmFacts
from wizard.kb.model import Remedy, RemedyId, Verdict
from wizard.lab.scenario import bundled_scenarios_dir, load_scenario
from wizard.ui.training.coach import (
    CoachInput,
    RenewalTry,
    ScenarioBrief,
    Step,
    VmotionTry,
    brief_of,
    coach,
)
from wizard.ui.training.debrief import (
    Mark,
    TrainingRecord,
    score,
    to_html,
    to_text,
)

FAIL = "A general system error occurred: Failed to flush checkpoint data!"


def _brief(**overrides: object) -> ScenarioBrief:
    path = Path(bundled_scenarios_dir()) / "dual-screen-win7.json"
    return replace(brief_of(load_scenario(path)), **overrides)  # type: ignore[arg-type]


def _judged(facts: VmFacts) -> tuple[CoachInput, tuple[Remedy, ...]]:
    a = assess(facts)
    rs = tuple(remedies(a, facts))
    return CoachInput(Step.CHECK, _brief(), facts=facts, assessment=a, remedies=rs), rs


def _good_record(**overrides: object) -> TrainingRecord:
    record = TrainingRecord(
        vm_name="HD-W7-042",
        guess=Verdict.CONFIRMED,
        chosen=RemedyId.RAISE_BUFFER,
        chosen_needs_power_off=True,
        applied=True,
        caveats_opened=frozenset({RemedyId.RAISE_BUFFER}),
        steps=(("reread", "done"), ("shutdown", "done"), ("reconfigure", "done")),
        graceful_possible=True,
        vmotion=(
            VmotionTry(False, FAIL, "esx-a2", False),
            VmotionTry(True, "moved", "esx-a2", True),
        ),
    )
    return replace(record, **overrides)  # type: ignore[arg-type]


def _remedies() -> tuple[Remedy, ...]:
    facts = make_facts(evidence=(make_evidence(),))
    return tuple(remedies(assess(facts), facts))


# ---------------------------------------------------------------------------- coach


def test_brief_of_a_bundled_scenario() -> None:
    b = _brief()
    assert b.vm == "HD-W7-042"
    assert b.expected_verdict == Verdict.CONFIRMED
    assert b.expected_remedy == RemedyId.RAISE_BUFFER
    assert not b.read_only
    ro = brief_of(load_scenario(Path(bundled_scenarios_dir()) / "read-only-escalate.json"))
    assert ro.read_only
    assert ro.role_label == "Read-only"


def test_check_speaks_of_the_second_screen_when_two_are_configured() -> None:
    inp, _ = _judged(make_facts())
    note = coach(inp)
    assert any("2 screens are configured" in t and "alone" in t for t in note.look_at)
    assert note.hints[-1].startswith("The verdict: Affected")


def test_check_speaks_of_pixels_for_one_big_screen() -> None:
    facts = make_facts(video=make_video(num_displays=1), screen=(1600, 900))
    inp, _ = _judged(facts)
    text = " ".join(coach(inp).look_at)
    assert "1600x900, 1,440,000 pixels" in text
    assert "1,310,720" in text


def test_check_names_a_failing_display_and_points_to_its_help() -> None:
    facts = make_facts(video=make_video(num_displays=1), screen=(1280, 1024))
    inp, _ = _judged(facts)
    note = coach(inp)
    assert any("not more than 1280x1024" in t for t in note.look_at)
    assert note.help_topic == "training/c1-display"


def test_check_asks_for_a_guess_before_revealing() -> None:
    inp, _ = _judged(make_facts())
    note = coach(replace(inp, revealed=False))
    assert note.look_at[0].startswith("Before the verdict is shown")


def test_check_prefers_the_guest_id_tools_report() -> None:
    facts = make_facts(guest_id="winXPProGuest", tools_guest_id="windows7_64Guest")
    inp, _ = _judged(facts)
    assert any("Tools say windows7_64Guest" in t for t in coach(inp).look_at)


def test_connect_explains_the_fingerprint_with_the_labs_own() -> None:
    fp = ":".join(f"{i:02X}" for i in range(32))
    note = coach(CoachInput(Step.CONNECT, _brief(), thumbprint=fp))
    text = " ".join(note.look_at + note.facts)
    assert "00:01:02:03 … 1C:1D:1E:1F" in text
    assert "checksum of the certificate" in text


def _renewed() -> ScenarioBrief:
    path = Path(bundled_scenarios_dir()) / "renewed-certificate.json"
    return brief_of(load_scenario(path))


def test_connect_in_the_renewal_scenario_steers_to_the_authority() -> None:
    ca = ":".join(f"{255 - i:02X}" for i in range(32))
    brief = _renewed()
    assert brief.certificate_renewed
    note = coach(CoachInput(Step.CONNECT, brief, thumbprint=ca, ca_thumbprint=ca))
    text = " ".join(note.look_at)
    assert "Trust its authority" in text
    assert "FF:FE:FD:FC … E3:E2:E1:E0" in text
    assert any("would stop you" in h for h in note.hints)
    plain = coach(CoachInput(Step.CONNECT, _brief()))
    assert not any("renewed while you work" in t for t in plain.look_at)


@pytest.mark.parametrize(
    ("outcome", "words"),
    [
        (None, "Renew and sign in again"),
        ("silent", "without a question"),
        ("changed", "Never click it away"),
        ("asked", "trust the authority instead"),
    ],
)
def test_the_renewal_exercise_once_signed_in(outcome: str | None, words: str) -> None:
    renewal = RenewalTry(outcome) if outcome else None
    inp = CoachInput(Step.CHOOSE_VM, _renewed(), connected=True, renewal=renewal)
    note = coach(inp)
    assert note.action == "renew"
    assert any(words in t for t in note.look_at), note.look_at
    if outcome:
        assert any("FIN-W7-017" in t for t in note.look_at)
    assert coach(replace(inp, connected=False)).action == ""  # not before signing in
    assert coach(CoachInput(Step.CHOOSE_VM, _brief(), connected=True)).action == ""


def test_choose_fix_explains_the_recommendation_and_the_3d_caveats() -> None:
    inp, _ = _judged(make_facts())
    note = coach(replace(inp, step=Step.CHOOSE_FIX))
    text = " ".join(note.look_at)
    assert "Recommended: \u201cRaise the checkpoint buffer\u201d" in text
    assert "Turn on 3D costs here: a shutdown, 256 MB more reserved memory, it eats HA" in text
    assert note.help_topic == "training/fix-buffer"


def test_choose_fix_for_a_read_only_account_says_escalate() -> None:
    facts = make_facts(privileges=privileges(ADVANCED_CONFIG=False, EDIT_DEVICE=False))
    inp, _ = _judged(facts)
    text = " ".join(coach(replace(inp, step=Step.CHOOSE_FIX)).look_at)
    assert "escalate" in text


def test_choose_vm_warns_of_a_look_alike() -> None:
    note = coach(CoachInput(Step.CHOOSE_VM, _brief(), vm_name="HD-W7-043"))
    assert any("look-alike" in t.lower() or "Look-alike" in t for t in note.look_at)


def test_every_step_has_a_note() -> None:
    inp, _ = _judged(make_facts())
    for step in Step:
        note = coach(replace(inp, step=step))
        assert note.title
        assert note.look_at


def test_coach_and_debrief_load_no_qt() -> None:
    code = (
        "import sys, wizard.ui.training.coach, wizard.ui.training.debrief; "
        "sys.exit(any(m.startswith('PySide6') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# ---------------------------------------------------------------------------- debrief


def test_the_expected_path_passes() -> None:
    d = score(_brief(), _good_record(), _remedies())
    assert d.passed, d.misses
    assert [line.id for line in d.lines] == [
        "vm",
        "verdict",
        "fix",
        "caveats",
        "disruption",
        "vmotion_before",
        "vmotion_after",
    ]
    assert "keeps the user's screens" in d.line("fix").text


def test_a_wrong_fix_names_the_expected_one_with_both_reasons() -> None:
    rec = _good_record(chosen=RemedyId.LOWER_RESOLUTION, caveats_opened=frozenset())
    d = score(_brief(), rec, _remedies())
    assert not d.passed
    fix = d.line("fix")
    assert fix.mark == Mark.MISS
    assert "Raise the checkpoint buffer" in fix.text
    assert "1280x1024" in fix.text  # what the chosen one costs here
    assert d.line("caveats").mark == Mark.MISS


def test_a_hard_power_off_with_tools_running_is_a_miss() -> None:
    rec = _good_record(steps=(("power_off", "done"), ("reconfigure", "done")))
    line = score(_brief(), rec, _remedies()).line("disruption")
    assert line.mark == Mark.MISS
    assert "Tools were running" in line.text


def test_a_hard_power_off_without_tools_is_only_noted() -> None:
    rec = _good_record(steps=(("power_off", "done"),), graceful_possible=False)
    assert score(_brief(), rec, _remedies()).line("disruption").mark == Mark.INFO


def test_a_power_off_fix_where_none_was_needed_is_a_miss() -> None:
    facts = make_facts(hardware_version="vmx-07")
    rs = tuple(remedies(assess(facts), facts))
    brief = _brief(expected_verdict=Verdict.AT_RISK, expected_remedy=RemedyId.STAY_ON_HW7)
    rec = _good_record(guess=Verdict.AT_RISK, vmotion=())
    line = score(brief, rec, rs).line("disruption")
    assert line.mark == Mark.MISS
    assert "Stay on hardware version 7" in line.text


def test_no_guess_and_no_proof_are_misses() -> None:
    d = score(_brief(), _good_record(guess=None, vmotion=()), _remedies())
    assert d.line("verdict").mark == Mark.MISS
    assert d.line("vmotion_after").mark == Mark.MISS
    assert d.line("vmotion_before").mark == Mark.TIP
    assert d.headline.startswith("2 points")


def test_read_only_escalates_with_a_change_request_and_says_so_honestly() -> None:
    facts = make_facts(
        privileges=privileges(ADVANCED_CONFIG=False, EDIT_DEVICE=False, POWER_OFF=False)
    )
    rs = tuple(remedies(assess(facts), facts))
    brief = _brief(role="read-only", expected_verdict=Verdict.AFFECTED)
    assert brief.expected_remedy is not None
    request = TrainingRecord(
        vm_name="HD-W7-042",
        guess=Verdict.AFFECTED,
        chosen=brief.expected_remedy,
        caveats_opened=frozenset({brief.expected_remedy}),
    )
    d = score(brief, request, rs)
    assert d.passed, d.misses
    assert d.escalate
    assert d.line("fix").text.startswith("Escalate, and you did")
    assert "escalate" in d.headline
    # Ending without the change request is not called an escalation.
    silent = score(brief, TrainingRecord(vm_name="HD-W7-042", guess=Verdict.AFFECTED), rs)
    assert silent.line("fix").mark is Mark.MISS
    assert "without a change request" in silent.line("fix").text


@pytest.mark.parametrize("chosen", [None, RemedyId.RAISE_BUFFER])
def test_a_vm_that_needs_nothing(chosen: RemedyId | None) -> None:
    brief = _brief(expected_verdict=Verdict.NOT_AFFECTED, expected_remedy=None)
    rec = TrainingRecord(vm_name="HD-W7-042", guess=Verdict.NOT_AFFECTED, chosen=chosen)
    d = score(brief, rec, _remedies())
    assert d.passed is (chosen is None)
    assert "vmotion_after" not in [line.id for line in d.lines]


def test_the_wrong_vm_is_a_miss() -> None:
    line = score(_brief(), _good_record(vm_name="HD-W7-043"), _remedies()).line("vm")
    assert line.mark == Mark.MISS
    assert "HD-W7-042" in line.text


def test_text_and_html_carry_every_line() -> None:
    d = score(_brief(), _good_record(chosen=RemedyId.ENABLE_3D), _remedies())
    text = to_text(d, "Alex <trainee>")
    page = to_html(d, "Alex <trainee>")
    assert "NOT YET" in text
    assert "Alex &lt;trainee&gt;" in page
    for line in d.lines:
        assert line.title in text
        assert line.title in page
