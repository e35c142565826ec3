"""The collector's lean reader against pyVmomi's own deserializer: the same values, on the lab.

Every value the lean reader builds is compared with what pyVmomi builds from the same request,
type by type and field by field, for the picker's read, the scan's read (devices, extra config,
hosts' CPU features, clusters' HA settings, folders) and the privileges of every VM.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

from tests.helpers.lab import RICH_SCENARIO, running_lab
from tests.helpers.vsphere_lab import session_to, write_scenario
from wizard.kb.model import RULE_EXTRA_KEYS, Privilege
from wizard.lab.process import LabInfo
from wizard.vsphere._pyvmomi import PC, VmomiSupport, vim, vmodl
from wizard.vsphere.collector import (
    ObjectProps,
    container_view,
    held_of,
    privileges_held,
    retrieve,
    view_filter,
)
from wizard.vsphere.facts import CLUSTER_PROPS, HOST_PROPS, VM_PROPS
from wizard.vsphere.inventory import _VM_PROPS, list_vms, summaries_from
from wizard.vsphere.session import Session

pytestmark = pytest.mark.lab

SCAN_PROPS = {
    vim.VirtualMachine: (*VM_PROPS, "parent", "snapshot", "config.hardware.numCPU"),
    vim.HostSystem: (*HOST_PROPS, "parent"),
    vim.ClusterComputeResource: CLUSTER_PROPS,
    vim.Datacenter: ("name", "parent"),
    vim.Folder: ("name", "parent"),
}


@pytest.fixture(scope="module", params=["gateway", "rich"])
def lab(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LabInfo]:
    if request.param == "rich":
        with running_lab(RICH_SCENARIO, tmp_path_factory.mktemp("rich")) as lab:
            yield lab.info
    else:
        path = write_scenario(tmp_path_factory.mktemp("gateway"), filler_vms=20)
        with running_lab(path, path.parent) as lab:
            yield lab.info


@pytest.fixture(scope="module")
def session(lab: LabInfo) -> Iterator[Session]:
    with session_to(lab, timeout=30.0) as s:
        yield s


def plain(value: Any) -> Any:
    """A value with its exact pyVmomi types spelt out, for comparing two readings."""
    if isinstance(value, VmomiSupport.ManagedObject):
        return ("moref", type(value).__name__, value._moId)
    if isinstance(value, VmomiSupport.DataObject):
        return (type(value).__name__, {k: plain(v) for k, v in sorted(vars(value).items())})
    if isinstance(value, list):
        return (type(value).__name__, [plain(v) for v in value])
    return (type(value).__name__, value)


def _plain_objects(objects: list[ObjectProps]) -> list[Any]:
    return sorted(
        (o.moref, o.type, {k: plain(v) for k, v in sorted(o.props.items())}, o.missing)
        for o in objects
    )


def _read(session: Session, props: Mapping[Any, Sequence[str]], **options: Any) -> list[Any]:
    content = session.content
    with container_view(content, list(props)) as view:
        objects = retrieve(content.propertyCollector, [view_filter(view, props)], **options)
    return _plain_objects(objects)


def test_the_pickers_read_is_the_same(session: Session) -> None:
    props = {
        vim.VirtualMachine: _VM_PROPS,
        vim.HostSystem: ("name", "parent"),
        vim.ClusterComputeResource: ("name",),
    }
    lean = _read(session, props, lean=True)
    assert lean == _read(session, props)
    assert len(lean) > 3


def test_the_scans_read_is_the_same(session: Session) -> None:
    lean = _read(session, SCAN_PROPS, lean=True)
    assert lean == _read(session, SCAN_PROPS)
    devices = [o[2]["config.hardware.device"] for o in lean if o[1] == "VirtualMachine"]
    assert devices
    assert all(len(d[1]) > 1 for d in devices)  # whole device lists, not just the video card


def test_only_items_keeps_the_video_card_both_ways(session: Session) -> None:
    only = {"config.hardware.device": vim.vm.device.VirtualVideoCard}
    props = {vim.VirtualMachine: ("name", "config.hardware.device")}
    lean = _read(session, props, lean=True, only_items=only)
    assert lean == _read(session, props, only_items=only)
    kinds = {item[0] for o in lean for item in o[2]["config.hardware.device"][1]}
    assert kinds == {"vim.vm.device.VirtualVideoCard"}


def test_only_keys_keeps_the_rules_options_both_ways(session: Session) -> None:
    only = {"config.extraConfig": RULE_EXTRA_KEYS}
    props = {vim.VirtualMachine: ("name", "config.extraConfig")}
    lean = _read(session, props, lean=True, only_keys=only)
    assert lean == _read(session, props, only_keys=only)
    wanted = {k.lower() for k in RULE_EXTRA_KEYS}
    whole = {o[0]: o[2]["config.extraConfig"][1] for o in _read(session, props, lean=True)}
    kept = {o[0]: o[2]["config.extraConfig"][1] for o in lean}
    for moref, options in whole.items():
        # each VM's options of the rules' keys, in vCenter's order, and no other
        assert kept[moref] == [o for o in options if o[1]["key"][1].lower() in wanted], moref
    assert any(kept.values())  # a scenario VM's migrate.baseCptCacheSize, mks.enable3d
    assert sum(map(len, whole.values())) > 3 * sum(map(len, kept.values()))  # the fillers' dozens


def test_privileges_are_the_same(session: Session, caplog: pytest.LogCaptureFixture) -> None:
    content = session.content
    vms = [session.managed_object(vim.VirtualMachine, r.moref) for r in list_vms(session)]
    privileges = [p.value for p in Privilege]
    with caplog.at_level(logging.DEBUG, logger="wizard.vsphere.collector"):
        lean = privileges_held(content.authorizationManager, vms, session.session_key, privileges)
    # the lab's answer is read by the regular expression, not handed on to the decoder
    assert [r.message for r in caplog.records if "HasPrivilegeOnEntities" in r.message] == []
    by_pyvmomi = content.authorizationManager.HasPrivilegeOnEntities(
        entity=vms, sessionId=session.session_key, privId=privileges
    )
    assert lean == held_of(by_pyvmomi)
    assert sorted(lean) == sorted(vm._moId for vm in vms)
    assert all(set(granted) <= set(privileges) for granted in lean.values())


def test_the_picker_rows_are_the_same(session: Session) -> None:
    content = session.content
    props = {
        vim.VirtualMachine: _VM_PROPS,
        vim.HostSystem: ("name", "parent"),
        vim.ClusterComputeResource: ("name",),
    }
    with container_view(content, list(props)) as view:
        by_pyvmomi = summaries_from(retrieve(content.propertyCollector, [view_filter(view, props)]))
    assert list_vms(session) == by_pyvmomi


def test_a_fault_is_raised_as_pyvmomi_raises_it(session: Session) -> None:
    gone = session.managed_object(vim.VirtualMachine, "vm-999999")
    spec = PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=gone, skip=False)],
        propSet=[PC.PropertySpec(type=vim.VirtualMachine, pathSet=["name"])],
    )
    faults = []
    for lean in (False, True):
        with pytest.raises(vmodl.fault.ManagedObjectNotFound) as caught:
            retrieve(session.content.propertyCollector, [spec], lean=lean)
        faults.append(plain(caught.value.obj))
    assert faults[0] == faults[1]
    assert list_vms(session)  # the connection went back to the pool in a usable state
