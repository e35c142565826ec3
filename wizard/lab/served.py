"""What the lab serves for a scenario, as the rules see it: a :class:`VmFacts` per VM.

The lab (``resources/lab/``) builds its inventory from a scenario and the wizard reads it back
through pyVmomi (``wizard.vsphere.facts``). This module goes the short way, from the scenario
straight to the facts the wizard would read right after the lab started, so a scenario's
``expect`` can be worked out (and checked) by the real rules without starting anything. The
integration tests hold it to the lab: ``tests/integration/test_check_scenarios.py`` and
``test_generated_scenarios.py`` compare what the rules make of these facts with what
``check --all`` makes of the lab.

What the lab does, and so what this module does:

- Tools report a guest id (``tools_guest_id``) and the screen only while they run, and
  interactive guest operations are ready exactly then;
- an account's role decides its privileges: ``admin`` holds all, ``read-only`` none of those
  the remedies ask about, ``no-power`` all but powering off and on;
- ``history.failed_vmotion`` leaves a failed migration behind, which the wizard finds as
  evidence; nothing else does;
- the VM's cluster brings every host of that cluster, each with its SSE4.1 answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from wizard.kb import Assessment, Remedy, assess, remedies
from wizard.kb.facts import (
    ClusterFacts,
    EvidenceItem,
    EvidenceKind,
    HostFacts,
    UpgradePolicy,
    VideoCard,
    VmFacts,
)
from wizard.kb.model import Privilege, RemedyId, Verdict
from wizard.lab.scenario import Role, Scenario, VmSpec

_POWER = frozenset({Privilege.POWER_OFF, Privilege.POWER_ON})

_FAILED_VMOTION = EvidenceItem(
    EvidenceKind.EVENT,
    "a failed migration the lab seeds (history.failed_vmotion)",
    "Failed to flush checkpoint data",
    "Failed to flush checkpoint data!",
)


def privileges_of(role: Role) -> tuple[tuple[str, bool], ...]:
    """The remedies' privileges, each with whether an account of ``role`` holds it in the lab."""

    def held(p: Privilege) -> bool:
        if role is Role.ADMIN:
            return True
        if role is Role.NO_POWER:
            return p not in _POWER
        return False

    return tuple((p.value, held(p)) for p in Privilege)


def _host(scenario: Scenario, name: str) -> HostFacts:
    spec = next(h for h in scenario.hosts if h.name == name)
    return HostFacts(
        name=spec.name,
        moref=f"host-{spec.name}",
        cpu_model=spec.cpu_model,
        sse41=spec.sse41,
        sse41_source="config.featureCapability[cpuid.SSE41]",
    )


def served_facts(scenario: Scenario, vm: VmSpec) -> VmFacts:
    """The facts the wizard reads for ``vm`` from a lab that just started on ``scenario``."""
    cluster_spec = scenario.cluster_of(vm.host)
    cluster = ClusterFacts(
        name=cluster_spec.name,
        moref=f"cluster-{cluster_spec.name}",
        ha_enabled=cluster_spec.ha.enabled,
        admission_control_enabled=cluster_spec.ha.admission_control,
        evc_mode=None,
        hosts=tuple(
            sorted(
                (_host(scenario, h.name) for h in cluster_spec.hosts),
                key=lambda h: h.name.casefold(),
            )
        ),
    )
    running = vm.tools_running
    policy = vm.upgrade_policy
    return VmFacts(
        name=vm.name,
        moref=f"vm-{vm.name}",
        instance_uuid="",
        vcenter="lab",
        power_state=vm.power_state.value,
        hardware_version=vm.hardware_version,
        guest_id=vm.guest_id,
        tools_guest_id=(vm.tools_guest_id or None) if running else None,
        tools_running=running,
        screen=vm.screen if running else None,
        video=VideoCard(
            num_displays=vm.video.displays,
            video_ram_kb=vm.video.vram_kb,
            use_auto_detect=vm.video.auto_detect,
            enable_3d_support=vm.video.enable_3d,
        ),
        extra_config=vm.extra_config,
        upgrade_policy=UpgradePolicy(policy.policy.value, policy.version, "none"),
        interactive_guest_ops_ready=running,
        host=_host(scenario, vm.host),
        cluster=cluster,
        privileges=privileges_of(scenario.login_role),
        evidence=(_FAILED_VMOTION,) if vm.history.failed_vmotion else (),
        datacenter=scenario.datacenter or "Datacenter",
    )


def judge(scenario: Scenario, vm: VmSpec) -> tuple[Assessment, tuple[Remedy, ...]]:
    """The rules' assessment and remedies for ``vm`` as the lab serves it."""
    facts = served_facts(scenario, vm)
    assessment = assess(facts)
    return assessment, remedies(assessment, facts)


def expected(scenario: Scenario, vm: VmSpec) -> tuple[Verdict, RemedyId | None]:
    """The verdict and the recommended fix (None: none) the rules give ``vm`` in the lab: what
    the scenario's ``expect`` entry for it must say."""
    assessment, rems = judge(scenario, vm)
    chosen = next((r.id for r in rems if r.recommended), None)
    return assessment.verdict, chosen


@dataclass(frozen=True)
class Disagreement:
    """An ``expect`` entry the rules do not bear out: what the file says, what the rules give."""

    vm: str
    says: tuple[Verdict, RemedyId | None]
    rules: tuple[Verdict, RemedyId | None]

    def __str__(self) -> str:
        def words(pair: tuple[Verdict, RemedyId | None]) -> str:
            fix = pair[1].value if pair[1] is not None else "no fix"
            return f"{pair[0].value} with {fix}"

        return (
            f'expect["{self.vm}"]: the file says {words(self.says)}, the rules give '
            f"{words(self.rules)}"
        )


def disagreements(scenario: Scenario) -> Iterator[Disagreement]:
    """Each ``expect`` entry the rules do not bear out (nothing when all agree)."""
    for entry in scenario.expect:
        got = expected(scenario, scenario.vm(entry.vm))
        want = (entry.verdict, entry.recommended)
        if got != want:
            yield Disagreement(entry.vm, want, got)
