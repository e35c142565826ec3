"""The lab's facts, worked out without the lab: every hand-written ``expect`` agrees with them.

``wizard.lab.served`` is what generated cases take their ``expect`` from, and what
``scenario validate`` checks a file's ``expect`` against. The bundled scenarios were each checked
through the real lab (``tests/integration/test_check_scenarios.py``); here the same answers must
come out of the short way, in a moment.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from tests.helpers.lab import RICH_SCENARIO
from wizard.kb.model import Privilege, RemedyId, Verdict
from wizard.lab import served
from wizard.lab.scenario import (
    Role,
    bundled_scenario_files,
    bundled_scenarios_dir,
    load_scenario,
    parse_scenario_json,
)

FILES = [*bundled_scenario_files(), RICH_SCENARIO]


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_expectation_is_what_the_rules_make_of_the_served_facts(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.expect
    assert [str(d) for d in served.disagreements(scenario)] == []


def test_the_readme_example_agrees_too() -> None:
    page = (bundled_scenarios_dir() / "README.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```json\n(.*?)```", page, re.DOTALL)
    scenario = parse_scenario_json(example, "README example")
    assert list(served.disagreements(scenario)) == []


def test_a_wrong_expectation_is_named_with_what_the_rules_give() -> None:
    scenario = load_scenario(bundled_scenarios_dir() / "dual-screen-win7.json")
    first = scenario.expect[0]
    wrong = dataclasses.replace(first, verdict=Verdict.MITIGATED, recommended=None)
    broken = dataclasses.replace(scenario, expect=(wrong, *scenario.expect[1:]))
    (found,) = served.disagreements(broken)
    assert found.vm == first.vm
    assert found.rules == (first.verdict, first.recommended)
    assert str(found).startswith(f'expect["{first.vm}"]: the file says mitigated with no fix')


def test_roles_hold_the_privileges_the_lab_grants() -> None:
    admin = dict(served.privileges_of(Role.ADMIN))
    no_power = dict(served.privileges_of(Role.NO_POWER))
    read_only = dict(served.privileges_of(Role.READ_ONLY))
    assert all(admin.values())
    assert not any(read_only.values())
    assert {p for p, held in no_power.items() if not held} == {
        Privilege.POWER_OFF.value,
        Privilege.POWER_ON.value,
    }


def test_tools_that_do_not_run_report_neither_guest_nor_screen() -> None:
    scenario = load_scenario(bundled_scenarios_dir() / "tools-not-running.json")
    off = next(vm for vm in scenario.vms if not vm.tools_running)
    facts = served.served_facts(scenario, off)
    assert (facts.tools_guest_id, facts.screen, facts.interactive_guest_ops_ready) == (
        None,
        None,
        False,
    )


def test_a_read_only_trainee_still_gets_a_recommendation_to_escalate_with() -> None:
    scenario = load_scenario(bundled_scenarios_dir() / "read-only-escalate.json")
    assert scenario.login_role is Role.READ_ONLY
    vm = scenario.vm(scenario.vm_of_interest or "")
    verdict, fix = served.expected(scenario, vm)
    assert verdict in (Verdict.CONFIRMED, Verdict.AFFECTED)
    assert fix is RemedyId.RAISE_BUFFER
