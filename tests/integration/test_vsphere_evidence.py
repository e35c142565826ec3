"""The article's traces in events and in the VM's vmware.log, after a real failed migration."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers.vsphere_lab import FAILED_VM, running_lab, session_to, write_scenario
from wizard.kb.facts import EvidenceKind
from wizard.vsphere._pyvmomi import vim
from wizard.vsphere.evidence import read_vm_log
from wizard.vsphere.facts import collect_facts
from wizard.vsphere.inventory import resolve_vm
from wizard.vsphere.session import Session

pytestmark = pytest.mark.lab


@pytest.fixture
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    with (
        running_lab(write_scenario(tmp_path_factory.mktemp("scenario"))) as info,
        session_to(info, timeout=30.0) as s,
    ):
        yield s


def _relocate(session: Session, moref: str, host_moref: str) -> Any:
    """Start a vMotion as the vSphere Client would and wait for it (test-only)."""

    def run() -> Any:
        vm = session.managed_object(vim.VirtualMachine, moref)
        host = session.managed_object(vim.HostSystem, host_moref)
        task = vm.RelocateVM_Task(spec=vim.vm.RelocateSpec(host=host))
        deadline = time.monotonic() + 30
        while task.info.state in ("queued", "running"):
            assert time.monotonic() < deadline, "the relocation did not finish"
            time.sleep(0.1)
        return task.info

    return session.call(run)


def test_log_of_a_vm_whose_vmotion_failed(session: Session) -> None:
    facts = collect_facts(session, resolve_vm(session, FAILED_VM).moref)
    items = read_vm_log(session, facts)
    signatures = {i.signature for i in items}
    assert "[vob.vmotion.chkpt.toobig]" in signatures
    assert all(i.kind is EvidenceKind.LOG for i in items)
    assert all(i.source.startswith("vmware.log line ") for i in items)
    assert all(i.time is not None for i in items)


def test_a_failed_relocation_leaves_an_event_and_log_lines(session: Session) -> None:
    moref = resolve_vm(session, FAILED_VM).moref
    before = collect_facts(session, moref, read_log=True)
    assert before.cluster is not None
    target = next(h for h in before.cluster.hosts if before.host and h.moref != before.host.moref)

    info = _relocate(session, moref, target.moref)
    assert info.state == "error"
    assert "Failed to flush checkpoint data" in info.error.msg

    after = collect_facts(session, moref, read_log=True)
    new_events = [
        e for e in after.evidence if e.kind is not EvidenceKind.LOG and e not in before.evidence
    ]
    assert any(e.signature == "Failed to flush checkpoint data" for e in new_events)
    logs_before = [e for e in before.evidence if e.kind is EvidenceKind.LOG]
    logs_after = [e for e in after.evidence if e.kind is EvidenceKind.LOG]
    assert len(logs_after) > len(logs_before)


def test_only_the_tail_is_read_when_asked(session: Session) -> None:
    facts = collect_facts(session, resolve_vm(session, FAILED_VM).moref)
    everything = read_vm_log(session, facts)
    tail = read_vm_log(session, facts, max_bytes=600)
    assert 0 < len(tail) <= len(everything)
    assert all(i.source.endswith("of its last 600 bytes") for i in tail)
    assert {i.text for i in tail} <= {i.text for i in everything}
