"""Host CPU facts: SSE4.1 from the feature capability or the CPUID register string."""

from __future__ import annotations

import pytest

from wizard.vsphere._pyvmomi import vim
from wizard.vsphere.collector import ObjectProps, datacenter_path
from wizard.vsphere.facts import host_facts, sse41_from_cpuid_ecx

# ECX of CPUID level 1 on a Nehalem-or-later CPU (bit 19 set) and on a Core 2 "Merom" (clear).
WITH_SSE41 = "0000:0010:1001:1000:0010:0010:0000:0011"
WITHOUT_SSE41 = "0000:0000:0000:0000:1110:0011:1011:1101"


@pytest.mark.parametrize(
    ("ecx", "expected"),
    [
        (WITH_SSE41, True),
        (WITHOUT_SSE41, False),
        ("----:----:----:1---:----:----:----:----", True),
        ("----:----:----:0---:----:----:----:----", False),
        ("----:----:----:----:----:----:----:----", None),
        ("xxxx:xxxx:xxxx:Rxxx:xxxx:xxxx:xxxx:xxxx", None),
        ("0000", None),
        ("", None),
    ],
)
def test_sse41_is_bit_19_counted_from_the_right(ecx: str, expected: bool | None) -> None:
    assert sse41_from_cpuid_ecx(ecx) is expected


def _host(**props: object) -> ObjectProps:
    return ObjectProps("host-1", "HostSystem", {"name": "esx%2f1", **props})


def test_feature_capability_wins() -> None:
    facts = host_facts(
        _host(
            **{
                "config.featureCapability": [
                    vim.host.FeatureCapability(key="cpuid.SSE41", featureName="SSE4.1", value="0")
                ],
                "hardware.cpuFeature": [vim.host.CpuIdInfo(level=1, ecx=WITH_SSE41)],
                "summary.hardware.cpuModel": "Intel Core 2",
                "runtime.connectionState": "connected",
                "runtime.inMaintenanceMode": True,
            }
        )
    )
    assert (facts.sse41, facts.sse41_source) == (False, "config.featureCapability[cpuid.SSE41]")
    assert facts.name == "esx/1"
    assert facts.in_maintenance


def test_cpuid_when_no_capability() -> None:
    facts = host_facts(
        _host(
            **{
                "hardware.cpuFeature": [
                    vim.host.CpuIdInfo(level=0, ecx=WITHOUT_SSE41),
                    vim.host.CpuIdInfo(level=1, ecx=WITH_SSE41),
                ]
            }
        )
    )
    assert (facts.sse41, facts.sse41_source) == (True, "hardware.cpuFeature[level 1].ecx bit 19")


def test_nothing_reported() -> None:
    facts = host_facts(_host())
    assert (facts.sse41, facts.sse41_source) == (None, "not reported")


def test_datacenter_path_climbs_folders() -> None:
    root = vim.Folder("group-d1")
    europe = vim.Folder("group-d5")
    objects = [
        ObjectProps("group-d1", "Folder", {"name": "Datacenters"}),
        ObjectProps("group-d5", "Folder", {"name": "Europe", "parent": root}),
        ObjectProps("datacenter-2", "Datacenter", {"name": "DC%2f1", "parent": europe}),
    ]
    assert datacenter_path(objects) == "Europe/DC%2f1"
    assert datacenter_path(objects[:1]) == ""
