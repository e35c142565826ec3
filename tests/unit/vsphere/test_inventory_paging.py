"""The bulk read follows vCenter's pages; the picker rows are built from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from wizard.vsphere._pyvmomi import vim, vmodl
from wizard.vsphere.collector import ObjectProps, retrieve
from wizard.vsphere.inventory import close_matches, summaries_from


@dataclass
class PagingCollector:
    """Stands in for vCenter's PropertyCollector handing out results in pages with tokens.

    The lab pages too (tests/integration/test_lab_paging.py); this stand-in is for what the lab
    cannot do on demand: fail on a chosen page, to see the rest of the answer released. It has
    the same three methods and answers with the same pyVmomi result types.
    """

    objects: list[Any]
    fail_on_page: int | None = None
    calls: list[str] = field(default_factory=list)
    _tokens: dict[str, int] = field(default_factory=dict)
    _page_size: int = 0

    def _page(self, start: int) -> Any:
        if self.fail_on_page is not None and start // self._page_size == self.fail_on_page:
            raise vmodl.fault.SystemError(reason="vpxd restarted")
        chunk = self.objects[start : start + self._page_size]
        token = None
        if start + self._page_size < len(self.objects):
            token = f"token-{start + self._page_size}"
            self._tokens[token] = start + self._page_size
        return vmodl.query.PropertyCollector.RetrieveResult(objects=chunk, token=token)

    def RetrievePropertiesEx(self, specSet: list[Any], options: Any) -> Any:
        self.calls.append("RetrievePropertiesEx")
        self._page_size = options.maxObjects
        return self._page(0) if self.objects else None

    def ContinueRetrievePropertiesEx(self, token: str) -> Any:
        self.calls.append("ContinueRetrievePropertiesEx")
        return self._page(self._tokens.pop(token))

    def CancelRetrievePropertiesEx(self, token: str) -> None:
        self.calls.append("CancelRetrievePropertiesEx")
        self._tokens.pop(token, None)


def _content(obj: Any, **props: Any) -> Any:
    pc = vmodl.query.PropertyCollector
    return pc.ObjectContent(
        obj=obj, propSet=[vmodl.DynamicProperty(name=k, val=v) for k, v in props.items()]
    )


def _vms(n: int) -> list[Any]:
    return [_content(vim.VirtualMachine(f"vm-{i}"), name=f"VM {i:04d}") for i in range(n)]


def test_every_page_is_read() -> None:
    collector = PagingCollector(_vms(2500))
    objects = retrieve(collector, [], page_size=1000)
    assert [o.moref for o in objects] == [f"vm-{i}" for i in range(2500)]
    assert collector.calls == ["RetrievePropertiesEx"] + ["ContinueRetrievePropertiesEx"] * 2


def test_a_single_page_needs_no_token() -> None:
    collector = PagingCollector(_vms(3))
    assert len(retrieve(collector, [])) == 3
    assert collector.calls == ["RetrievePropertiesEx"]


def test_an_empty_inventory_is_none_from_vcenter() -> None:
    assert retrieve(PagingCollector([]), []) == []


def test_a_failing_page_releases_the_result_set() -> None:
    collector = PagingCollector(_vms(2500), fail_on_page=1)
    with pytest.raises(vmodl.fault.SystemError):
        retrieve(collector, [], page_size=1000)
    assert collector.calls[-1] == "CancelRetrievePropertiesEx"
    assert collector._tokens == {}


def test_missing_properties_are_reported() -> None:
    pc = vmodl.query.PropertyCollector
    content = pc.ObjectContent(
        obj=vim.VirtualMachine("vm-1"),
        propSet=[vmodl.DynamicProperty(name="name", val="x")],
        missingSet=[pc.MissingProperty(path="config.version", fault=vim.fault.NoPermission())],
    )
    (obj,) = retrieve(PagingCollector([content]), [])
    assert obj.get("config.version") is None
    assert obj.missing == (("config.version", "vim.fault.NoPermission"),)


def test_summaries_resolve_host_and_cluster_and_unescape() -> None:
    cluster = vim.ClusterComputeResource("domain-c7")
    standalone = vim.ComputeResource("domain-s9")
    host_a = vim.HostSystem("host-1")
    host_b = vim.HostSystem("host-2")
    objects = [
        ObjectProps("domain-c7", "ClusterComputeResource", {"name": "Cluster%2fA"}),
        ObjectProps("host-1", "HostSystem", {"name": "esx-a1.lab.local", "parent": cluster}),
        ObjectProps("host-2", "HostSystem", {"name": "esx-solo", "parent": standalone}),
        ObjectProps(
            "vm-2",
            "VirtualMachine",
            {
                "name": "Büro-PC 7%2f2 50%25",
                "runtime.powerState": "poweredOn",
                "config.guestId": "windows7_64Guest",
                "config.version": "vmx-08",
                "runtime.host": host_a,
                "guest.toolsRunningStatus": "guestToolsRunning",
            },
        ),
        ObjectProps(
            "vm-1",
            "VirtualMachine",
            {
                "name": "alpha",
                "runtime.powerState": "poweredOff",
                "config.guestId": "rhel8_64Guest",
                "guest.guestId": "rhel8_64Guest",
                "config.version": "vmx-19",
                "runtime.host": host_b,
                "guest.toolsRunningStatus": "guestToolsNotRunning",
            },
        ),
        ObjectProps("vm-3", "VirtualMachine", {"name": "orphan"}),  # config unreadable
    ]
    rows = summaries_from(objects)
    assert [r.name for r in rows] == ["alpha", "Büro-PC 7/2 50%", "orphan"]
    alpha, buero, orphan = rows
    assert (buero.host, buero.cluster, buero.tools_running, buero.prescreen) == (
        "esx-a1.lab.local",
        "Cluster/A",
        True,
        True,
    )
    assert buero.tools_guest_id is None
    assert (alpha.host, alpha.cluster, alpha.prescreen, alpha.tools_guest_id) == (
        "esx-solo",
        "",
        False,
        "rhel8_64Guest",
    )
    assert (orphan.host, orphan.hardware_version, orphan.power_state) == ("", "", "")


def test_close_matches_prefers_names_containing_the_query() -> None:
    names = ["HD-W7-042", "HD-W7-043", "HD-W10-001", "mail01"]
    assert close_matches("w7-04", names)[:2] == ("HD-W7-042", "HD-W7-043")
    assert close_matches("HD-W7-024", names)[0] in {"HD-W7-042", "HD-W7-043"}
    assert close_matches("zzzz", names) == ()
    assert close_matches("  ", names) == ()


def test_each_page_is_handed_on_as_it_is_read() -> None:
    collector = PagingCollector(_vms(2500))
    pages: list[list[str]] = []
    retrieve(collector, [], page_size=1000, on_page=lambda p: pages.append([o.moref for o in p]))
    assert [len(p) for p in pages] == [1000, 1000, 500]
    assert [m for p in pages for m in p] == [f"vm-{i}" for i in range(2500)]


def test_a_first_page_alone_releases_the_rest() -> None:
    collector = PagingCollector(_vms(2500))
    objects = retrieve(collector, [], page_size=250, max_pages=1)
    assert len(objects) == 250
    assert collector.calls == ["RetrievePropertiesEx", "CancelRetrievePropertiesEx"]
    assert collector._tokens == {}
