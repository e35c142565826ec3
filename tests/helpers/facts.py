"""Builders of ``VmFacts`` for tests of the rules.

``make_facts()`` with no arguments gives the article's textbook case: a Windows 7 VM on hardware
version 8 with two 1920x1200 displays, 3D off, no buffer setting, powered on with Tools running,
in an HA cluster with admission control on (as most production clusters have) of two SSE4.1
hosts, with every privilege held. Every field can be overridden by keyword.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from wizard.kb.facts import (
    ClusterFacts,
    EvidenceItem,
    EvidenceKind,
    HostFacts,
    UpgradePolicy,
    VideoCard,
    VmFacts,
)
from wizard.kb.model import Privilege

ALL_PRIVILEGES: tuple[tuple[str, bool], ...] = tuple((p.value, True) for p in Privilege)


def make_host(name: str = "esx-a1.lab.local", *, sse41: bool | None = True) -> HostFacts:
    """A connected host; ``sse41=None`` when the host does not say."""
    return HostFacts(
        name=name,
        moref=f"host-{name.split('.')[0]}",
        cpu_model="Intel(R) Xeon(R) CPU E5-2680 v4" if sse41 is not False else "Intel Core 2",
        sse41=sse41,
        sse41_source="capability cpuid.SSE41" if sse41 is not None else "",
    )


def make_cluster(
    name: str = "Cluster-A",
    *,
    ha: bool = True,
    admission_control: bool = True,
    hosts: tuple[HostFacts, ...] | None = None,
) -> ClusterFacts:
    """A cluster, by default HA and admission control on, with two SSE4.1 hosts."""
    return ClusterFacts(
        name=name,
        moref="domain-c7",
        ha_enabled=ha,
        admission_control_enabled=admission_control,
        evc_mode=None,
        hosts=hosts if hosts is not None else (make_host(), make_host("esx-a2.lab.local")),
    )


def make_video(**overrides: Any) -> VideoCard:
    """The textbook video card: two displays, 32 MB, no auto-detect, 3D off."""
    card = VideoCard(
        num_displays=2, video_ram_kb=32768, use_auto_detect=False, enable_3d_support=False
    )
    return replace(card, **overrides)


def make_evidence() -> EvidenceItem:
    """One failed-vMotion event, as the evidence reader reports it."""
    return EvidenceItem(
        kind=EvidenceKind.EVENT,
        source="event 4711 (VmFailedMigrateEvent)",
        signature="Failed to flush checkpoint data",
        text="A general system error occurred: Failed to flush checkpoint data!",
    )


def make_facts(**overrides: Any) -> VmFacts:
    """An affected VM (dual-screen Windows 7 on vmx-08), with any field overridden."""
    host = make_host()
    facts = VmFacts(
        name="HD-W7-042",
        moref="vm-42",
        instance_uuid="5003a1b2-0000-0000-0000-000000000042",
        vcenter="vc01.lab.local:443",
        power_state="poweredOn",
        hardware_version="vmx-08",
        guest_id="windows7_64Guest",
        tools_guest_id="windows7_64Guest",
        tools_running=True,
        screen=(1920, 1200),
        video=make_video(),
        extra_config=(),
        upgrade_policy=None,
        change_version="2024-05-01T10:00:00.000000Z",
        tools_version="11365",
        interactive_guest_ops_ready=True,
        host=host,
        cluster=make_cluster(hosts=(host, make_host("esx-a2.lab.local"))),
        privileges=ALL_PRIVILEGES,
        evidence=(),
        datacenter="DC-Lab",
        vmx_path="[datastore1] HD-W7-042/HD-W7-042.vmx",
    )
    return replace(facts, **overrides)


def with_extra(facts: VmFacts, **settings: str) -> VmFacts:
    """Add extra-config entries; keyword ``cpt`` and ``mks3d`` stand for the article's keys."""
    aliases = {"cpt": "migrate.baseCptCacheSize", "mks3d": "mks.enable3d"}
    pairs = tuple((aliases.get(k, k), v) for k, v in settings.items())
    return replace(facts, extra_config=facts.extra_config + pairs)


def privileges(**held: bool) -> tuple[tuple[str, bool], ...]:
    """All privileges held except those given, e.g. ``privileges(POWER_OFF=False)``."""
    result = dict(ALL_PRIVILEGES)
    for name, value in held.items():
        result[Privilege[name].value] = value
    return tuple(result.items())


def make_upgrade_policy(
    policy: str = "onSoftPowerOff", version: str | None = "vmx-08"
) -> UpgradePolicy:
    """A scheduled hardware upgrade."""
    return UpgradePolicy(policy=policy, version_key=version, status="pending")
