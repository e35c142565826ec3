"""Generated cases: valid, solvable, reproducible, and fit for their level.

Each generated case must load in the wizard's reader, say in ``expect`` what the rules make of
the facts the lab will serve, reach the verdict and fix its plan aims at, and come out byte for
byte the same for the same seed and level, in any process. That the lab itself agrees is
``tests/integration/test_generated_scenarios.py``.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wizard import cli
from wizard.kb.model import RemedyId, Verdict
from wizard.lab import case_plans
from wizard.lab import generate as gen
from wizard.lab.scenario import Difficulty, Role, parse_scenario_json
from wizard.lab.served import expected

LEVELS = list(Difficulty)
SEEDS_PER_LEVEL = 300


def _cases(level: Difficulty, count: int = SEEDS_PER_LEVEL) -> list[gen.Case]:
    return [gen.generate(seed, level) for seed in range(count)]


@pytest.fixture(scope="module")
def many() -> dict[Difficulty, list[gen.Case]]:
    return {level: _cases(level) for level in LEVELS}


@settings(max_examples=150, deadline=None)
@given(st.integers(0, gen.MAX_SEED), st.sampled_from(LEVELS))
def test_any_seed_gives_a_valid_case_whose_expect_is_what_the_rules_say(
    seed: int, level: Difficulty
) -> None:
    case = gen.generate(seed, level)
    scenario = parse_scenario_json(case.text.encode("utf-8"), case.id)
    assert scenario.id == f"gen-{level.value}-{seed}"
    assert scenario.difficulty is level
    assert scenario.vm_of_interest == case.vm
    assert scenario.ticket is not None
    assert case.vm in scenario.ticket
    assert {e.vm for e in scenario.expect} == {vm.name for vm in scenario.vms}
    for entry in scenario.expect:
        assert expected(scenario, scenario.vm(entry.vm)) == (entry.verdict, entry.recommended)
    plan = next(p for p in case_plans.PLANS if p.name == case.plan)
    wanted = scenario.expectation(case.vm)
    assert wanted is not None
    assert wanted.verdict in plan.verdicts
    assert wanted.recommended is plan.remedy


@pytest.mark.parametrize("level", LEVELS)
def test_the_same_seed_gives_the_same_bytes_in_another_process(level: Difficulty) -> None:
    here = [gen.generate(seed, level).text for seed in (0, 1, 977, gen.MAX_SEED)]
    code = (
        "import json, sys\n"
        "from wizard.lab.generate import generate\n"
        "from wizard.lab.scenario import Difficulty\n"
        "level = Difficulty(sys.argv[1])\n"
        "print(json.dumps([generate(s, level).text for s in (0, 1, 977, 2**31 - 1)]))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code, level.value],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=120,
    )
    assert json.loads(out.stdout) == here
    assert len(set(here)) == len(here)  # and other seeds give other cases


@pytest.mark.parametrize("level", LEVELS)
def test_every_plan_and_distractor_of_a_level_turns_up(
    level: Difficulty, many: dict[Difficulty, list[gen.Case]]
) -> None:
    cases = many[level]
    assert {c.plan for c in cases} == {p.name for p in case_plans.plans_for(level)}
    allowed = {d.name for d in case_plans.DISTRACTORS if level in d.levels}
    found = {name for c in cases for name in c.distractors}
    assert found == allowed
    assert max(c.attempts for c in cases) < gen.MAX_ATTEMPTS


def test_levels_differ_in_what_they_ask(many: dict[Difficulty, list[gen.Case]]) -> None:
    def verdicts(level: Difficulty) -> set[tuple[str, str | None]]:
        out = set()
        for case in many[level]:
            e = case.doc["expect"][case.vm]
            out.add((e["verdict"], e["recommended"]))
        return out

    beginner = verdicts(Difficulty.BEGINNER)
    assert beginner == {
        (Verdict.CONFIRMED, RemedyId.RAISE_BUFFER),
        (Verdict.AFFECTED, RemedyId.RAISE_BUFFER),
        (Verdict.NOT_AFFECTED, None),
        (Verdict.MITIGATED, None),
    }
    intermediate = verdicts(Difficulty.INTERMEDIATE)
    assert {
        (Verdict.AT_RISK, RemedyId.STAY_ON_HW7),
        (Verdict.POSSIBLY_AFFECTED, RemedyId.RAISE_BUFFER),
        (Verdict.AFFECTED, RemedyId.ENABLE_3D),
    } <= intermediate
    advanced = verdicts(Difficulty.ADVANCED)
    assert {
        (Verdict.CONFIRMED, None),
        (Verdict.AT_RISK, None),
        (Verdict.POSSIBLY_AFFECTED, RemedyId.ENABLE_3D),
        (Verdict.AFFECTED, RemedyId.LOWER_RESOLUTION),
    } <= advanced
    roles = collections.Counter(
        parse_scenario_json(c.text, c.id).login_role for c in many[Difficulty.ADVANCED]
    )
    assert roles[Role.READ_ONLY]
    assert roles[Role.NO_POWER]
    assert roles[Role.ADMIN]


def test_a_beginner_s_vm_tells_its_story_plainly(many: dict[Difficulty, list[gen.Case]]) -> None:
    """At the beginner level no distractor touches the ticket's VM: Tools run and agree with
    the settings, values are decimal, the account may do everything, names are plain."""
    for case in many[Difficulty.BEGINNER]:
        scenario = parse_scenario_json(case.text, case.id)
        vm = scenario.vm(case.vm)
        assert vm.tools_running, case.id
        assert vm.tools_guest_id == vm.guest_id, case.id
        assert all(not value.lower().startswith("0x") for _, value in vm.extra_config), case.id
        assert scenario.login_role is Role.ADMIN, case.id
        assert case.vm.isascii(), case.id
        assert " " not in case.vm, case.id


def test_tickets_are_varied_and_in_plain_words(many: dict[Difficulty, list[gen.Case]]) -> None:
    cases = many[Difficulty.INTERMEDIATE][:60]
    tickets = [c.doc["ticket"] for c in cases]
    assert len(set(tickets)) == len(tickets)
    subjects = {c.doc["ticket"].split("\n")[2].replace(c.vm, "VM") for c in cases}
    assert len(subjects) >= 8
    for case in cases:
        text = case.doc["ticket"]
        assert text.startswith("From: ")
        # The ticket asks; it never gives the answer away.
        lowered = text.lower()
        assert not any(
            word in lowered for word in ("mitigated", "at risk", "not affected", "verdict")
        )


@pytest.mark.parametrize("seed", [-1, gen.MAX_SEED + 1, True, 1.5])
def test_a_seed_out_of_range_is_refused_in_words(seed: object) -> None:
    with pytest.raises(gen.GenerateError, match="whole number from 0 to"):
        gen.generate(seed, Difficulty.BEGINNER)  # type: ignore[arg-type]


def test_the_command_line_writes_the_same_case_to_a_file_or_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["scenario", "generate", "--seed", "42", "--level", "advanced"]) == 0
    printed = capsys.readouterr().out
    out = tmp_path / "case.json"
    args = ["scenario", "generate", "--seed", "42", "--level", "advanced", "--out", str(out)]
    assert cli.main(args) == 0
    assert str(out) in capsys.readouterr().out
    assert out.read_bytes() == printed.encode("utf-8")
    assert out.read_text(encoding="utf-8") == gen.generate(42, Difficulty.ADVANCED).text


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--seed", "x", "--level", "beginner"], "'x' is not a whole number"),
        (["--seed", "-3", "--level", "beginner"], "give a seed from 0 to 2147483647"),
        (["--seed", "3", "--level", "expert"], "invalid choice: 'expert'"),
        (["--level", "beginner"], "the following arguments are required: --seed"),
    ],
)
def test_bad_generate_arguments_exit_2_with_a_message(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["scenario", "generate", *argv])
    assert done.value.code == 2
    assert said in capsys.readouterr().err


def test_a_file_that_cannot_be_written_loses_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-folder" / "case.json"
    args = ["scenario", "generate", "--seed", "1", "--level", "beginner", "--out", str(missing)]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "cannot write" in err
    assert "Nothing was written" in err
    assert not missing.parent.exists()
    existing = tmp_path / "keep.json"
    existing.write_text("mine", encoding="utf-8")
    folder = tmp_path / "a-folder.json"
    folder.mkdir()
    args[-1] = str(folder)
    assert cli.main(args) == 2
    assert "is a folder" in capsys.readouterr().err
    assert existing.read_text(encoding="utf-8") == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-folder.json", "keep.json"]
