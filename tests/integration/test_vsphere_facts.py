"""Facts of one VM, and of all VMs, against the lab; round trips counted."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.vsphere_lab import FAILED_VM, ODD_NAME, running_lab, session_to, write_scenario
from tests.helpers.wire import watching
from wizard.check_text import Judged, scan_asks_privileges, scan_judge
from wizard.kb.facts import EvidenceKind, VideoCard
from wizard.kb.model import RULE_EXTRA_KEYS, Privilege
from wizard.lab.process import LabInfo
from wizard.vsphere.errors import VmGone
from wizard.vsphere.facts import SCAN_PAGE_SIZE, collect_all_facts, collect_facts, scan_all
from wizard.vsphere.inventory import list_vms, resolve_vm
from wizard.vsphere.session import Endpoint, Session
from wizard.vsphere.tls import MemoryPinStore, TrustPolicy

pytestmark = pytest.mark.lab

_SOAP_METHOD = re.compile(rb"<(?:\w+:)?Body[^>]*>\s*<(?:\w+:)?(\w+)")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabInfo]:
    with running_lab(write_scenario(tmp_path_factory.mktemp("scenario"))) as info:
        yield info


@pytest.fixture(scope="module")
def session(lab: LabInfo) -> Iterator[Session]:
    with session_to(lab, timeout=30.0) as s:
        yield s


def test_facts_of_the_failing_vm(session: Session) -> None:
    facts = collect_facts(session, resolve_vm(session, FAILED_VM).moref)
    assert (facts.name, facts.power_state, facts.hardware_version) == (
        FAILED_VM,
        "poweredOn",
        "vmx-08",
    )
    assert (facts.guest_id, facts.tools_guest_id, facts.tools_running) == (
        "windows7_64Guest",
        "windows7_64Guest",
        True,
    )
    assert facts.screen == (1920, 1200)
    assert facts.video == VideoCard(
        num_displays=2,
        video_ram_kb=32768,
        use_auto_detect=False,
        enable_3d_support=False,
        graphics_memory_kb=facts.video.graphics_memory_kb if facts.video else None,
        key=500,
    )
    assert facts.upgrade_policy is not None
    assert (facts.upgrade_policy.policy, facts.upgrade_policy.version_key) == (
        "onSoftPowerOff",
        "vmx-08",
    )
    assert facts.instance_uuid
    assert facts.change_version
    assert facts.vmx_path.startswith("[")
    assert facts.vcenter == str(session.endpoint)
    assert facts.host is not None
    assert facts.host.name == "esx-a1.lab.local"
    assert facts.cluster is not None
    assert (
        facts.cluster.name,
        facts.cluster.ha_enabled,
        facts.cluster.admission_control_enabled,
    ) == (
        "Cluster-A",
        True,
        True,
    )
    assert [(h.name, h.sse41) for h in facts.cluster.hosts] == [
        ("esx-a1.lab.local", True),
        ("esx-a2.lab.local", False),
    ]
    assert dict(facts.privileges) == {p.value: True for p in Privilege}
    assert facts.datacenter
    assert facts.read_at is not None
    signatures = {(e.kind, e.signature) for e in facts.evidence}
    assert (EvidenceKind.EVENT, "Failed to flush checkpoint data") in signatures
    assert all(e.source.startswith("event ") for e in facts.evidence)


def test_facts_of_a_vm_with_odd_name_and_no_tools(session: Session) -> None:
    facts = collect_facts(session, resolve_vm(session, ODD_NAME).moref)
    assert facts.name == ODD_NAME
    assert (facts.screen, facts.tools_guest_id, facts.tools_running) == (None, None, False)
    assert dict(facts.extra_config)["migrate.baseCptCacheSize"] == "16777216"
    assert facts.cluster is not None
    assert facts.cluster.name == "Cluster B/2"
    assert not facts.cluster.ha_enabled
    assert facts.evidence == ()


def test_privileges_of_a_read_only_user(lab: LabInfo, session: Session) -> None:
    moref = resolve_vm(session, FAILED_VM).moref
    policy = TrustPolicy(MemoryPinStore(), expected_fingerprint=lab.thumbprint_sha256)
    with Session.connect(
        Endpoint(lab.host, lab.port), "viewer@lab.local", "Viewer-Lab-1", trust=policy, timeout=10
    ) as viewer:
        facts = collect_facts(viewer, moref)
    assert facts.holds(Privilege.ADVANCED_CONFIG) is False
    assert facts.holds(Privilege.POWER_OFF) is False


def test_a_deleted_vm_is_gone(session: Session) -> None:
    with pytest.raises(VmGone) as caught:
        collect_facts(session, "vm-999999")
    assert caught.value.moref == "vm-999999"


def test_all_facts_agree_with_one_vm_facts(session: Session) -> None:
    everything = {f.moref: f for f in collect_all_facts(session)}
    assert len(everything) == 3
    wanted = {k.lower() for k in RULE_EXTRA_KEYS}
    for moref, bulk in everything.items():
        single = collect_facts(session, moref)
        # the scan keeps of each VM's extraConfig the keys the rules read, in vCenter's order
        rules_own = tuple(kv for kv in single.extra_config if kv[0].lower() in wanted)
        assert bulk == replace(single, extra_config=rules_own)


# --- round trips ------------------------------------------------------------------------------


# A delay on every call makes requests sent together overlap by almost all of it (see
# tests/helpers/wire.py), so the chain of requests one after another is measured, not guessed.
_DELAY_MS = 60


def _round_trips(tmp_path: Path, filler_vms: int) -> dict[str, Any]:
    """Requests sent (by method) and the chain on the critical path, for each bulk read."""
    out: dict[str, Any] = {}
    asks = scan_asks_privileges(detail=False)
    assert asks is not None
    judge = scan_judge(as_json=True, detail=False, version="test")
    brief: list[Judged] = []
    with running_lab(write_scenario(tmp_path), filler_vms=filler_vms, delay_ms=_DELAY_MS) as info:
        with watching() as wire:
            s = Session.connect(
                Endpoint(info.host, info.port),
                info.user,
                info.password,
                trust=TrustPolicy(MemoryPinStore(), expected_fingerprint=info.thumbprint_sha256),
                timeout=30.0,
            )
        out["login"] = (dict(wire.calls), wire.critical_path())
        with s:
            rows: list[Any] = []
            steps: list[tuple[str, Callable[[], object]]] = [
                ("list_vms", lambda: rows.extend(list_vms(s))),
                ("resolve_vm", lambda: resolve_vm(s, FAILED_VM)),
                ("collect_facts", lambda: collect_facts(s, resolve_vm(s, FAILED_VM).moref)),
                ("collect_all_facts", lambda: collect_all_facts(s)),
                ("scan_in_brief", lambda: brief.extend(scan_all(s, judge, asks_privileges=asks))),
            ]
            for what, fn in steps:
                with watching() as wire:
                    fn()
                out[what] = (dict(wire.calls), wire.critical_path())
            every = [judge(f) for f in collect_all_facts(s)]
    out["vms"] = len(rows)
    out["needing"] = [j.facts.moref for j in every if asks(j)]
    # What the brief scan judged, and what judging every VM with its privileges says.
    out["brief"] = [(j.facts.moref, j.assessment, j.remedies, j.json_line) for j in brief]
    out["every"] = [(j.facts.moref, j.assessment, j.remedies, j.json_line) for j in every]
    return out


@pytest.mark.slow
def test_round_trips_do_not_grow_with_the_inventory(tmp_path: Path) -> None:
    small = _round_trips(tmp_path / "small", 22)
    large = _round_trips(tmp_path / "large", 1997)
    assert (small["vms"], large["vms"]) == (25, 2000)
    for what in ("login", "list_vms", "resolve_vm", "collect_facts"):
        assert small[what][0] == large[what][0], what
        assert len(small[what][1]) == len(large[what][1]), what
    # (requests sent by method, the chain of them one after another on a slow link)
    # the login goes with the first request: nothing in it waits for that answer
    # (wizard.vsphere.opening), so the chain is one request long
    assert small["login"][0] == {"RetrieveServiceContent": 1, "Login": 1}
    assert len(small["login"][1]) == 1
    assert small["list_vms"] == ({"RetrievePropertiesEx": 1}, ["RetrievePropertiesEx"])
    # the names and the search index (the ticket's VM name is also a valid DNS name) at once
    assert small["resolve_vm"][0] == {"RetrievePropertiesEx": 1, "FindAllByDnsName": 1}
    assert len(small["resolve_vm"][1]) == 1
    # ticket to verdict: the name lookup, then the VM, its privileges and events at once
    assert small["collect_facts"][0] == {
        "RetrievePropertiesEx": 2,
        "FindAllByDnsName": 1,
        "HasPrivilegeOnEntities": 1,
        "QueryEvents": 1,
    }
    assert len(small["collect_facts"][1]) == 2
    # at once: the VMs' properties, what they refer to (hosts, clusters, folders) and the
    # events; the privileges of each page's VMs as soon as the page has arrived. The VMs'
    # properties come in pages of SCAN_PAGE_SIZE (the server puts the next together while this
    # side reads one), so one more request per further thousand VMs, each after the one
    # before, and one more privileges' request beside it.
    assert small["collect_all_facts"][0] == {
        "RetrievePropertiesEx": 2,
        "QueryEvents": 1,
        "HasPrivilegeOnEntities": 1,
    }
    # (the privileges after the page; that the events or the surroundings ended before them
    # too makes another chain of the same length)
    assert len(small["collect_all_facts"][1]) == 2
    assert small["collect_all_facts"][1][-1] == "HasPrivilegeOnEntities"
    pages = -(-large["vms"] // SCAN_PAGE_SIZE)
    assert large["collect_all_facts"][0] == {
        "RetrievePropertiesEx": 2,
        "QueryEvents": 1,
        "ContinueRetrievePropertiesEx": pages - 1,
        "HasPrivilegeOnEntities": pages,
    }
    # The pages follow each other (each Continue goes out once the page before has arrived),
    # then the last page's privileges; the rest went out at once. A page of a thousand VMs
    # takes the lab longer than the 60 ms delay, so a request that merely ended before the next
    # page was asked for may show in the chain as well: at most one. (Which of two chains of
    # equal length is reported is chance: a page's privileges may follow the page before's.)
    chain = large["collect_all_facts"][1]
    assert pages + 1 <= len(chain) <= pages + 2
    # In brief (check --all's default) the privileges are asked only for the VMs that need a
    # fix, one request for each page that holds any; what is judged is the same.
    for inventory in (small, large):
        assert inventory["needing"], "the scenario has VMs that need a fix"
        calls = inventory["scan_in_brief"][0]
        assert 1 <= calls.pop("HasPrivilegeOnEntities") <= len(inventory["needing"])
        assert calls == {
            k: v
            for k, v in inventory["collect_all_facts"][0].items()
            if k != "HasPrivilegeOnEntities"
        }
        assert inventory["brief"] == inventory["every"]
