"""A training scenario as the program holds it once read: its limits, its values' kinds,
its parts (users, clusters, hosts, VMs, what a trainee should conclude) and the error that names
what is wrong with a file. Reading and checking a file is :mod:`wizard.lab.scenario`'s."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from wizard.kb.model import RemedyId, Verdict

FORMAT: Final = 1
"""The only scenario format this reader knows."""

DEFAULT_SCENARIO_ID: Final = "dual-screen-win7"
"""The bundled scenario the README's run command starts: the article's classic case."""

MAX_FILE_BYTES: Final = 2 * 1024 * 1024
"""A scenario is a small hand-written file; anything larger is not one."""

MAX_FILLER_VMS: Final = 20_000
"""The lab serves 10,000 VMs after 7-10 s in 192 MiB (README, Performance); twice is the limit
(also for the lab's ``--filler-vms``)."""

MAX_DISPLAYS: Final = 10
"""vSphere's largest ``numDisplays`` for a virtual video card."""

MAX_SCREEN_SIDE: Final = 16_384
"""The widest or tallest guest screen a scenario may give, in pixels (far beyond any monitor)."""

MAX_VRAM_KB: Final = 4 * 1024 * 1024
"""The largest ``videoRamSizeInKB`` a scenario may give: 4 GB."""

MAX_NAME_LENGTH: Final = 80
"""vCenter's limit for an inventory name (VMs, hosts, clusters, the datacenter)."""

MAX_VM_NAME_LENGTH: Final = MAX_NAME_LENGTH

MAX_NESTING: Final = 64
"""How deep a scenario's JSON may nest; a real one needs 5 levels."""

ID_PATTERN: Final = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
"""Scenario ids: lowercase words joined by hyphens, e.g. ``dual-screen-win7`` (the file stem)."""

MAX_ID_LENGTH: Final = 64

HARDWARE_VERSION_PATTERN: Final = re.compile(r"vmx-[0-9]{2}")
"""``config.version`` as vCenter writes it: ``vmx-`` and two digits."""


class Role(enum.StrEnum):
    """What a lab user may do. The lab enforces it; the wizard learns it from vCenter."""

    ADMIN = "admin"
    READ_ONLY = "read-only"
    NO_POWER = "no-power"

    @property
    def label(self) -> str:
        """The role's name as the training UI shows it."""
        return _ROLE_TEXT[self][0]

    @property
    def description(self) -> str:
        """What the role allows, one sentence for the trainee."""
        return _ROLE_TEXT[self][1]


_ROLE_TEXT: Final[Mapping[Role, tuple[str, str]]] = {
    Role.ADMIN: ("Administrator", "May change settings and power VMs off and on."),
    Role.READ_ONLY: ("Read-only", "May look at everything and change nothing."),
    Role.NO_POWER: (
        "Settings without power",
        "May change VM settings and run programs in guests, but may not power VMs off or on.",
    ),
}


class PowerState(enum.StrEnum):
    """``runtime.powerState`` values."""

    POWERED_ON = "poweredOn"
    POWERED_OFF = "poweredOff"
    SUSPENDED = "suspended"


class UpgradePolicyName(enum.StrEnum):
    """``scheduledHardwareUpgradeInfo.upgradePolicy`` values."""

    NEVER = "never"
    ON_SOFT_POWER_OFF = "onSoftPowerOff"
    ALWAYS = "always"


class Difficulty(enum.StrEnum):
    """How hard a scenario is, for sorting and labelling in the picker."""

    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"

    @property
    def label(self) -> str:
        """The level as the training UI shows it."""
        return self.value.capitalize()


class ScenarioError(Exception):
    """A scenario that cannot be used: where the problem is and what to do about it.

    Attributes:
        source: where the scenario came from (usually the file path).
        path: the field path, e.g. ``vms[2].video.displays``; ``(file)`` for problems with the
            file itself (unreadable, not JSON), ``(top level)`` for the document as a whole.
        problem: what is wrong, e.g. ``expected a whole number >= 1, got "two"``.
        fix: what to do, one sentence.
    """

    def __init__(self, source: str, path: str, problem: str, fix: str) -> None:
        self.source = escape_controls(source)
        self.path = escape_controls(path)
        self.problem = escape_controls(problem)
        self.fix = escape_controls(fix)
        super().__init__(f"{self.source}: {self.message}" if source else self.message)

    @property
    def message(self) -> str:
        """The problem without the source: ``path: problem. fix``."""
        return f"{self.path}: {self.problem}. {self.fix}"


@dataclass(frozen=True)
class UserSpec:
    """A lab user and the role the lab gives it."""

    user: str
    password: str = field(repr=False)
    role: Role


@dataclass(frozen=True)
class LoginSpec:
    """The account the wizard signs in with for this scenario."""

    user: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class HaSpec:
    """The cluster's vSphere HA settings that the 3D caveats look at."""

    enabled: bool
    admission_control: bool


@dataclass(frozen=True)
class HostSpec:
    """An ESXi host: its CPU model as vCenter shows it and whether the CPU has SSE4.1."""

    name: str
    cpu_model: str
    sse41: bool


@dataclass(frozen=True)
class ClusterSpec:
    """A cluster and its hosts."""

    name: str
    ha: HaSpec
    hosts: tuple[HostSpec, ...]


@dataclass(frozen=True)
class VideoSpec:
    """The VM's video card (``VirtualMachineVideoCard``)."""

    displays: int
    vram_kb: int
    auto_detect: bool
    enable_3d: bool


@dataclass(frozen=True)
class UpgradePolicySpec:
    """``config.scheduledHardwareUpgradeInfo``: the policy and the version it upgrades to.

    A file's ``"upgrade_policy": null`` (no upgrade scheduled) reads as ``never`` without a
    version, which is how vCenter reports a VM nobody scheduled an upgrade for.
    """

    policy: UpgradePolicyName
    version: str | None


@dataclass(frozen=True)
class HistorySpec:
    """What already happened to the VM before the trainee arrives."""

    failed_vmotion: bool


@dataclass(frozen=True)
class VmSpec:
    """One VM of the scenario.

    Attributes:
        tools_guest_id: the guest OS id VMware Tools report; None when they report none.
        screen: ``guest.screen`` (width, height); None when Tools do not report it.
        extra_config: ``config.extraConfig`` as (key, value) pairs, in the file's order.
    """

    name: str
    host: str
    hardware_version: str
    guest_id: str
    tools_guest_id: str | None
    tools_running: bool
    power_state: PowerState
    screen: tuple[int, int] | None
    video: VideoSpec
    extra_config: tuple[tuple[str, str], ...]
    upgrade_policy: UpgradePolicySpec
    history: HistorySpec


@dataclass(frozen=True)
class CertificateSpec:
    """What happens to the lab's vCenter certificate during the exercise.

    Attributes:
        renewed: training offers to renew it (same authority) and sign in again, to show what
            trusting the certificate itself, or its authority, leads to.
    """

    renewed: bool


@dataclass(frozen=True)
class Expectation:
    """What the rules should conclude for one VM: the verdict and the recommended remedy."""

    vm: str
    verdict: Verdict
    recommended: RemedyId | None


@dataclass(frozen=True)
class Scenario:
    """A validated training scenario (format 1).

    Attributes:
        users: extra lab users; the ``login`` user is ``admin`` unless listed here.
        filler_vms: how many ordinary VMs the lab adds around the scenario's own.
        ticket: the ticket text a user filed, as the trainee receives it.
        vm_of_interest: the VM the ticket is about.
        certificate: what happens to the lab's certificate during the exercise.
    """

    format: int
    id: str
    title: str
    briefing: str
    login: LoginSpec
    users: tuple[UserSpec, ...]
    filler_vms: int
    clusters: tuple[ClusterSpec, ...]
    vms: tuple[VmSpec, ...]
    expect: tuple[Expectation, ...]
    ticket: str | None = None
    difficulty: Difficulty | None = None
    teaches: tuple[str, ...] = ()
    datacenter: str | None = None
    vm_of_interest: str | None = None
    certificate: CertificateSpec | None = None

    @property
    def certificate_renewed(self) -> bool:
        """Whether the exercise renews the lab's certificate."""
        return self.certificate is not None and self.certificate.renewed

    @property
    def login_role(self) -> Role:
        """The role of the account the wizard signs in with."""
        for user in self.users:
            if user.user == self.login.user:
                return user.role
        return Role.ADMIN

    @property
    def hosts(self) -> tuple[HostSpec, ...]:
        """Every host of every cluster."""
        return tuple(host for cluster in self.clusters for host in cluster.hosts)

    def vm(self, name: str) -> VmSpec:
        """The VM called ``name``; KeyError if there is none."""
        for vm in self.vms:
            if vm.name == name:
                return vm
        raise KeyError(name)

    def cluster_of(self, host: str) -> ClusterSpec:
        """The cluster that holds the host called ``host``; KeyError if there is none."""
        for cluster in self.clusters:
            if any(h.name == host for h in cluster.hosts):
                return cluster
        raise KeyError(host)

    def expectation(self, vm: str) -> Expectation | None:
        """What the scenario expects for the VM called ``vm``, if anything."""
        for entry in self.expect:
            if entry.vm == vm:
                return entry
        return None


@dataclass(frozen=True)
class ScenarioListing:
    """One file (or folder) the training picker found: a scenario, or why it cannot be used.

    Exactly one of ``scenario`` and ``error`` is set.
    """

    path: Path
    scenario: Scenario | None
    error: str | None

    @property
    def ok(self) -> bool:
        """True when the file holds a usable scenario."""
        return self.scenario is not None


_UNSAFE_RANGES: Final = (
    (0x00, 0x1F),  # C0 controls: newline, escape (terminal sequences), ...
    (0x7F, 0x9F),  # DEL and the C1 controls (0x9B starts a terminal sequence too)
    (0xAD, 0xAD),  # soft hyphen
    (0x061C, 0x061C),  # Arabic letter mark
    (0x180E, 0x180E),  # Mongolian vowel separator
    (0x200B, 0x200F),  # zero-width characters, left-to-right and right-to-left marks
    (0x2028, 0x202E),  # line and paragraph separators, bidirectional embeddings and overrides
    (0x2060, 0x206F),  # word joiner, invisible operators, bidirectional isolates
    (0xD800, 0xDFFF),  # surrogates (cannot even be written as UTF-8)
    (0xFEFF, 0xFEFF),  # byte-order mark, zero-width no-break space
    (0xFFF9, 0xFFFB),  # interlinear annotation
    (0xE0000, 0xE007F),  # tag characters
)
_UNSAFE: Final = re.compile(
    "[" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in _UNSAFE_RANGES) + "]"
)


def _escape_one(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def escape_controls(text: str) -> str:
    """``text`` with every control, bidirectional or invisible format character written as
    ``\\uXXXX`` (``\\UXXXXXXXX`` above U+FFFF), so a message never moves the cursor, recolours
    a terminal or reverses what it shows. The lab escapes the same characters the same way."""
    return _UNSAFE.sub(_escape_one, text)
