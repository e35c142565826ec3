"""A real VM as a training scenario: the facts read from vCenter, turned into a format-1 file.

``checkpoint-wizard scenario export`` reads one VM, its host, its cluster and the cluster's hosts
through :mod:`wizard.vsphere` (read-only: only property reads, events and privileges, as
``check`` does) into a :class:`~wizard.kb.facts.VmFacts`, and :func:`export_scenario` makes the
scenario from those facts alone. Nothing here talks to vCenter.

What is kept, because the rules judge it: the guest ids (configured and from Tools), whether
Tools run, the power state, the hardware version and any scheduled upgrade, the screen, the video
card, the two advanced settings the rules read (``migrate.baseCptCacheSize`` and
``mks.enable3d``, every spelling and value as vCenter stores it), each host's CPU model and
SSE4.1 answer, the cluster's HA and admission control, whether the failure was seen (any
evidence becomes ``history.failed_vmotion``), and what the signed-in user may do (as the lab's
nearest role).

What is not kept: every other advanced setting (they can hold names, addresses and paths), the
evidence's own words, the vCenter's address, the VM's path and ids, the other VMs.

Anonymisation (the default): every VM, host, cluster, datacenter and user name is replaced by a
made-up one (``VM-01``, ``esx-01.lab.local``, ``Cluster-01``, ``DC-01``,
``trainee01@lab.local``), never one of the real names met. The same real name always gets the
same made-up name within one file, whatever kind of object it names, so two objects that shared
a name still do and two that did not still do not. With ``keep_names`` the real names stay (a
name the lab cannot carry is refused, naming the field). The lab's password is never a real one.

The export then works out what the rules make of the scenario as the lab will serve it
(:mod:`wizard.lab.served`) and compares it with what they made of the real VM: where the lab
cannot show a fact the way vCenter did (a VM without a video card, a host that does not say
whether it has SSE4.1, a host outside any cluster ...) it says so in :attr:`Export.warnings`,
and a verdict or fix that differs is a warning too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from wizard.kb import assess, remedies
from wizard.kb.facts import HostFacts, VmFacts
from wizard.kb.model import CPT_CACHE_KEY, MKS_3D_KEY, Privilege, RemedyId, Verdict
from wizard.kb.rules import plural
from wizard.lab.generate import dumps
from wizard.lab.scenario import (
    FORMAT,
    ID_PATTERN,
    MAX_ID_LENGTH,
    Role,
    ScenarioError,
    parse_scenario,
)
from wizard.lab.served import expected

LAB_PASSWORD: Final = "Exported-Case-1"  # noqa: S105 (the lab's, for training)
"""The lab's password for the exported case's login: never the real one, which is not known."""

RULE_SETTINGS: Final = (CPT_CACHE_KEY.lower(), MKS_3D_KEY.lower())
"""The advanced settings the rules read (compared without case, as vSphere does)."""

_POWER: Final = frozenset({Privilege.POWER_OFF.value, Privilege.POWER_ON.value})


class ExportError(ValueError):
    """The VM cannot become a scenario: what stands in the way and what to do."""


class Pseudonyms:
    """Made-up names for real ones: the same real name always gets the same made-up one.

    The first kind a real name is met as decides its form; counters run per kind.
    """

    _FORMS: Final = {
        "vm": "VM-{:02d}",
        "host": "esx-{:02d}.lab.local",
        "cluster": "Cluster-{:02d}",
        "datacenter": "DC-{:02d}",
        "user": "trainee{:02d}@lab.local",
    }

    def __init__(self, *, keep: bool, avoid: Iterable[str] = ()) -> None:
        self.keep = keep
        self._avoid = {a.casefold() for a in avoid}
        self._fake: dict[str, str] = {}
        self._count: dict[str, int] = {}

    def __call__(self, kind: str, real: str) -> str:
        if self.keep:
            return real
        if real not in self._fake:
            taken = self._avoid | {f.casefold() for f in self._fake.values()}
            while True:  # a made-up name never equals a real one, whatever the case
                n = self._count.get(kind, 0) + 1
                self._count[kind] = n
                fake = self._FORMS[kind].format(n)
                if fake.casefold() not in taken:
                    break
            self._fake[real] = fake
        return self._fake[real]

    @property
    def mapping(self) -> Mapping[str, str]:
        """Real name -> made-up name, for the trainer's eyes only (never written to the file)."""
        return dict(self._fake)


@dataclass(frozen=True)
class Export:
    """An exported case.

    Attributes:
        doc: the scenario as JSON-ready data; ``text`` is the file.
        vm: the VM's name in the scenario.
        real: the verdict and recommended fix the rules gave the real VM.
        lab: the same for the VM as the lab will serve the scenario.
        warnings: what the lab cannot show as vCenter did, and any difference in the result.
        renamed: how many distinct real names were replaced.
    """

    doc: dict[str, Any]
    vm: str
    real: tuple[Verdict, RemedyId | None]
    lab: tuple[Verdict, RemedyId | None]
    warnings: tuple[str, ...]
    renamed: int

    @property
    def text(self) -> str:
        return dumps(self.doc)

    @property
    def same(self) -> bool:
        """Whether the lab gives the same verdict and fix as the real VM."""
        return self.real == self.lab


def _result(facts: VmFacts) -> tuple[Verdict, RemedyId | None]:
    assessment = assess(facts)
    chosen = next((r.id for r in remedies(assessment, facts) if r.recommended), None)
    return assessment.verdict, chosen


def role_of(privileges: tuple[tuple[str, bool], ...]) -> tuple[Role, bool]:
    """The lab role nearest to what the user holds, and whether it is exact."""
    held = dict(privileges)
    if not held:
        return Role.ADMIN, True  # not asked: the rules assume it may
    if all(held.values()):
        return Role.ADMIN, True
    if not any(held.values()):
        return Role.READ_ONLY, True
    if all(v == (k not in _POWER) for k, v in held.items()):
        return Role.NO_POWER, True
    settings = held.get(Privilege.ADVANCED_CONFIG.value, True)
    return (Role.ADMIN if settings else Role.READ_ONLY), False


def default_id(stem: str, vm: str) -> str:
    """A scenario id from the output file's stem, else from the VM's name."""
    for text in (stem, f"exported-{vm}" if vm else ""):
        slug = "-".join(re.findall(r"[a-z0-9]+", text.lower()))[:MAX_ID_LENGTH].strip("-")
        if slug and ID_PATTERN.fullmatch(slug):
            return slug
    return "exported-case"


def export_scenario(
    facts: VmFacts,
    *,
    user: str,
    keep_names: bool = False,
    scenario_id: str = "exported-case",
) -> Export:
    """The scenario that reproduces ``facts`` in the lab.

    Args:
        facts: the VM as :func:`wizard.vsphere.facts.collect_facts` read it.
        user: the account it was read with (becomes the lab's login, renamed unless kept).
        keep_names: keep the real names instead of made-up ones.
        scenario_id: the scenario's id (lowercase words joined by hyphens).

    Raises:
        ExportError: the result is not a valid scenario (with ``keep_names``: a name the lab
            cannot carry); the message names the field.
    """
    real_names = [facts.name, facts.datacenter, user]
    if facts.host is not None:
        real_names.append(facts.host.name)
    if facts.cluster is not None:
        real_names += [facts.cluster.name, *(h.name for h in facts.cluster.hosts)]
    name = Pseudonyms(keep=keep_names, avoid=real_names)
    warnings: list[str] = []
    vm_name = name("vm", facts.name)
    datacenter = name("datacenter", facts.datacenter or "Datacenter")

    hosts: list[HostFacts] = list(facts.cluster.hosts) if facts.cluster is not None else []
    own = facts.host
    if own is None:
        warnings.append(
            "vCenter did not say which host the VM runs on: the case puts it on a host of "
            "its cluster" + ("" if hosts else " (a made-up one)")
        )
        own = hosts[0] if hosts else HostFacts("unknown-host", "", "", True, "")
    if all(h.name != own.name for h in hosts):
        hosts.insert(0, own)
    if facts.cluster is None:
        warnings.append(
            "the VM's host is in no cluster: the case puts it in a cluster of its own, without HA"
        )
    host_docs = []
    for h in hosts:
        if h.sse41 is None:
            warnings.append(
                f"host {name('host', h.name)} does not say whether its CPU has SSE4.1: the case "
                "says it has"
            )
        host_docs.append(
            {
                "name": name("host", h.name),
                "cpu_model": h.cpu_model or "unknown CPU",
                "sse41": h.sse41 is not False,
            }
        )
    cluster = facts.cluster
    cluster_doc = {
        "name": name("cluster", cluster.name if cluster is not None else "Standalone"),
        "ha": {
            "enabled": bool(cluster and cluster.ha_enabled),
            "admission_control": bool(cluster and cluster.admission_control_enabled),
        },
        "hosts": host_docs,
    }

    video = facts.video
    if video is None:
        warnings.append("the VM has no video card: the case gives it one display of 4 MB")
    kept = [(k, v) for k, v in facts.extra_config if k.lower() in RULE_SETTINGS]
    dropped = len(facts.extra_config) - len(kept)
    if facts.tools_guest_id and not facts.tools_running:
        warnings.append(
            "Tools report a guest id but do not run: the lab reports a guest id only while "
            "Tools run"
        )
    policy = facts.upgrade_policy
    running = facts.tools_running and facts.power_state == "poweredOn"
    vm_doc = {
        "name": vm_name,
        "host": name("host", own.name),
        "hardware_version": facts.hardware_version,
        "guest_id": facts.guest_id,
        "tools_guest_id": facts.tools_guest_id,
        "tools_running": running,
        "power_state": facts.power_state,
        "screen": list(facts.screen) if facts.screen is not None and running else None,
        "video": {
            "displays": video.num_displays if video is not None else 1,
            "vram_kb": video.video_ram_kb if video is not None else 4096,
            "auto_detect": video.use_auto_detect if video is not None else False,
            "enable_3d": video.enable_3d_support if video is not None else False,
        },
        "extra_config": dict(kept),
        "upgrade_policy": (
            None
            if policy is None
            else {"policy": policy.policy, "version": policy.version_key or None}
        ),
        "history": {"failed_vmotion": bool(facts.evidence)},
    }

    role, exact = role_of(facts.privileges)
    if not exact:
        warnings.append(
            f"the account's privileges fit none of the lab's roles exactly: the case signs in "
            f"as {role.label.lower()}"
        )
    login = {"user": name("user", user or "helpdesk"), "password": LAB_PASSWORD}
    seen = "keeps failing with" if facts.evidence else "has to be checked for"
    doc: dict[str, Any] = {
        "format": FORMAT,
        "id": scenario_id,
        "title": f"A real case: {vm_name}",
        "briefing": (
            f"{vm_name} comes from a real ticket, rebuilt in the lab with its own settings, host "
            "and cluster"
            + (" (the names are made up)" if not keep_names else "")
            + ". Check it against the four conditions, choose the fix that suits it, and show "
            "that the migration works afterwards."
        ),
        "ticket": (
            "From: Virtualisation team\nTo: IT Helpdesk\n"
            f"Subject: {vm_name} on {name('host', own.name)}\n\n"
            f'Hi,\nthe vMotion of {vm_name} {seen} "Failed to flush checkpoint data!". '
            "Please find out why and fix it so the host can be patched.\n\nThanks"
        ),
        "datacenter": datacenter,
        "vm_of_interest": vm_name,
        "login": login,
        "users": [] if role is Role.ADMIN else [{**login, "role": role.value}],
        "filler_vms": 0,
        "clusters": [cluster_doc],
        "vms": [vm_doc],
        "expect": {vm_name: {"verdict": "affected", "recommended": None}},  # worked out below
    }
    try:
        scenario = parse_scenario(doc, scenario_id)
    except ScenarioError as exc:
        hint = (
            " Run the export without --keep-names: made-up names always fit." if keep_names else ""
        )
        raise ExportError(f"the VM does not make a valid scenario: {exc.message}{hint}") from None
    lab = expected(scenario, scenario.vm(vm_name))
    doc["expect"] = {
        vm_name: {"verdict": lab[0].value, "recommended": lab[1].value if lab[1] else None}
    }
    real = _result(facts)
    if real != lab:

        def words(pair: tuple[Verdict, RemedyId | None]) -> str:
            return f"{pair[0].value} with {pair[1].value if pair[1] else 'no fix'}"

        warnings.append(
            f"the real VM is {words(real)}, the case in the lab gives {words(lab)}: the "
            "trainee would learn something else than the real VM shows"
        )
    if dropped:
        warnings.insert(
            0,
            f"{plural(dropped, 'advanced setting')} the rules do not read "
            "left out (they can hold names and addresses)",
        )
    return Export(doc, vm_name, real, lab, tuple(warnings), len(name.mapping))
