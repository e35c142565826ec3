"""The PowerCLI and govc lines shown on the Ready page do what the wizard will do."""

from __future__ import annotations

import shlex

from tests.helpers.facts import make_facts
from wizard.kb import RemedyId, assess, remedies
from wizard.kb.facts import VmFacts
from wizard.kb.model import Remedy
from wizard.ui import shell_commands


def _buffer(facts: VmFacts) -> Remedy:
    return next(r for r in remedies(assess(facts), facts) if r.id is RemedyId.RAISE_BUFFER)


def test_a_running_vm_with_tools_is_shut_down_cleanly_and_started_again() -> None:
    facts = make_facts()
    ps = shell_commands.powercli(facts, _buffer(facts))
    assert "Stop-VMGuest" in ps
    assert "Start-VM" in ps
    assert "New-AdvancedSetting" in ps
    gv = shell_commands.govc(facts, _buffer(facts))
    assert "vm.power -s -wait" in gv
    assert "migrate.baseCptCacheSize=" in gv


def test_without_tools_the_lines_power_off_hard_like_the_wizard() -> None:
    facts = make_facts(tools_running=False, tools_guest_id=None, screen=None)
    ps = shell_commands.powercli(facts, _buffer(facts))
    assert "Stop-VMGuest" not in ps
    assert "Stop-VM -VM $vm -Confirm:$false" in ps
    assert "vm.power -off -force" in shell_commands.govc(facts, _buffer(facts))


def test_odd_vm_names_are_quoted_for_each_shell() -> None:
    name = "Büro-PC 7/2 50% O'Neil"
    facts = make_facts(name=name)
    ps = shell_commands.powercli(facts, _buffer(facts))
    assert "Get-VM -Name 'Büro-PC 7/2 50% O''Neil'" in ps
    first = shell_commands.govc(facts, _buffer(facts)).splitlines()[0]
    assert shlex.split(first)[-1] == name
