"""Turning a real VM's facts into a scenario (``wizard.lab.export``): names and kept facts.

The lab half (export from a running lab, a second lab on the export, the same verdict) is
``tests/integration/test_scenario_export.py``; these are the pure rules, over many names.
"""

from __future__ import annotations

import functools
import json
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers.facts import make_cluster, make_evidence, make_facts, make_host, privileges
from wizard.kb.facts import UpgradePolicy
from wizard.lab.export import Pseudonyms, default_id, export_scenario
from wizard.lab.scenario import Role, bundled_scenario_files, load_scenario, parse_scenario
from wizard.lab.served import expected, served_facts

# Names as people type them: umlauts, slashes, percent signs, quotes, spaces, emoji.
_NAMES = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Zl", "Zp")), min_size=1, max_size=40
).filter(lambda s: s.strip())


@given(st.lists(st.tuples(st.sampled_from(["vm", "host", "cluster", "user"]), _NAMES)))
def test_the_same_real_name_always_gets_the_same_made_up_name(pairs: list[tuple[str, str]]) -> None:
    names = Pseudonyms(keep=False, avoid=[real for _, real in pairs])
    fakes = [(real, names(kind, real)) for kind, real in pairs]
    by_real: dict[str, str] = {}
    for real, fake in fakes:
        assert by_real.setdefault(real, fake) == fake
        assert fake.isascii()
    # different real names never share a made-up one, and no made-up name is a real one
    assert len(set(by_real.values())) == len(by_real)
    reals = {r.casefold() for r in by_real}
    assert not {f.casefold() for f in by_real.values()} & reals


def _strings(value: object) -> set[str]:
    """Every string of a JSON document: its keys and its string values."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set(value).union(*(_strings(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value))
    return set()


@functools.cache
def _format_words() -> frozenset[str]:
    """The strings an export writes whatever the names: its own words and values."""
    hosts = (make_host("esx-real-1"), make_host("esx-real-2"))
    facts = make_facts(
        name="real-vm",
        host=hosts[0],
        cluster=make_cluster("real-cluster", hosts=hosts),
        datacenter="real-dc",
        evidence=(make_evidence(),),
    )
    text = export_scenario(facts, user="real-user", scenario_id="real-case").text
    return frozenset(w for w in _strings(json.loads(text)) if "real" not in w)


@settings(max_examples=60)
@given(vm=_NAMES, host=_NAMES, other=_NAMES, cluster=_NAMES, dc=_NAMES, user=_NAMES)
def test_an_export_carries_no_real_name_and_reads_as_a_scenario(
    vm: str, host: str, other: str, cluster: str, dc: str, user: str
) -> None:
    hosts = (make_host(host), make_host(other if other != host else other + "2"))
    facts = make_facts(
        name=vm,
        host=hosts[0],
        cluster=make_cluster(cluster, hosts=hosts),
        datacenter=dc,
        evidence=(make_evidence(),),
    )
    case = export_scenario(facts, user=user, scenario_id="real-case")
    # Each real name against every string of the export (not the text: a user called ", "
    # would meet the JSON's own separators)
    written = _strings(json.loads(case.text))
    for real in {vm, host, other, cluster, dc, user}:
        if real in _format_words():
            continue  # a user called "confirmed" meets the verdict's own word, not a leak
        assert real not in written
    scenario = parse_scenario(json.loads(case.text), "export")
    assert scenario.vm_of_interest == case.vm
    assert case.same, case.warnings


def test_the_facts_the_rules_need_are_kept() -> None:
    facts = make_facts(
        extra_config=(
            ("migrate.BaseCptCacheSize", "0x1400000"),
            ("guestinfo.owner", "Sandra Keller, 10.1.2.3"),
            ("MKS.enable3d", "FALSE"),
        ),
        upgrade_policy=UpgradePolicy("onSoftPowerOff", "vmx-10", "pending"),
        privileges=privileges(POWER_OFF=False, POWER_ON=False),
        cluster=make_cluster(
            admission_control=False, hosts=(make_host(), make_host("b", sse41=False))
        ),
    )
    case = export_scenario(facts, user="admin@corp.example", scenario_id="kept")
    vm = case.doc["vms"][0]
    assert vm["extra_config"] == {"migrate.BaseCptCacheSize": "0x1400000", "MKS.enable3d": "FALSE"}
    assert "Sandra" not in case.text
    assert "10.1.2.3" not in case.text
    assert vm["upgrade_policy"] == {"policy": "onSoftPowerOff", "version": "vmx-10"}
    assert vm["video"] == {
        "displays": 2,
        "vram_kb": 32768,
        "auto_detect": False,
        "enable_3d": False,
    }
    assert (vm["guest_id"], vm["tools_guest_id"], vm["hardware_version"]) == (
        "windows7_64Guest",
        "windows7_64Guest",
        "vmx-08",
    )
    (cluster,) = case.doc["clusters"]
    assert cluster["ha"] == {"enabled": True, "admission_control": False}
    assert [h["sse41"] for h in cluster["hosts"]] == [True, False]
    assert case.doc["users"][0]["role"] == Role.NO_POWER.value
    assert case.warnings[0].startswith("1 advanced setting the rules do not read left out")
    assert case.same


def test_what_the_lab_cannot_show_is_said() -> None:
    facts = make_facts(
        video=None,
        cluster=None,
        host=make_host(sse41=None),
        tools_running=False,
        screen=None,
    )
    case = export_scenario(facts, user="u", scenario_id="odd")
    said = " ".join(case.warnings)
    assert "no video card" in said
    assert "in no cluster" in said
    assert "SSE4.1" in said
    assert "Tools report a guest id but do not run" in said


def test_keep_names_keeps_them_and_refuses_one_the_lab_cannot_carry() -> None:
    facts = make_facts(name="Büro-PC 7/2 50%")
    assert export_scenario(facts, user="u", keep_names=True).vm == "Büro-PC 7/2 50%"
    too_long = replace(facts, name="x" * 81)
    with pytest.raises(ValueError, match="without --keep-names"):
        export_scenario(too_long, user="u", keep_names=True)
    assert len(export_scenario(too_long, user="u").vm) < 10


def test_the_default_id_comes_from_the_file_name() -> None:
    assert default_id("Ticket 4711 (Büro)", "") == "ticket-4711-b-ro"
    assert default_id("___", "") == "exported-case"


def test_every_vm_of_every_bundled_scenario_comes_back_as_it_went_in() -> None:
    """What the lab serves for any bundled VM, exported, gives the same verdict and fix with
    nothing to warn about (the lab half is tests/integration/test_scenario_export.py)."""
    for path in bundled_scenario_files():
        scenario = load_scenario(path)
        for vm in scenario.vms:
            case = export_scenario(served_facts(scenario, vm), user=scenario.login.user)
            assert case.same, (path.stem, vm.name, case.real, case.lab)
            assert case.lab == expected(scenario, vm)
            assert case.warnings == (), (path.stem, vm.name, case.warnings)
