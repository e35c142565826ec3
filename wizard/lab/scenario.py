"""Training scenarios, format 1: load and validate them, list them for the picker.

A scenario describes one small vCenter inventory (clusters, hosts, VMs, users) that the lab
serves, and what a trainee should conclude about it (``expect``). The lab (Go, in
``resources/lab/scenario.go``) reads the same files by the same rules, and both must judge every
file alike: accept it, or refuse it naming the same field (``tests/helpers/scenario_corpus.py``
holds the files both are tested on). The rules both apply:

- the file: a regular file (never a pipe, device or folder: reading one could wait forever) of at
  most 2 MB, UTF-8, with at most one byte-order mark (Windows editors write one), JSON nested at
  most 64 levels deep, without NaN or Infinity, without a ``\\u`` escape that is half of a UTF-16
  pair, and without a key given twice in one object;
- the fields are checked in one fixed order, so a file with two mistakes gets the same first
  complaint from both: the top level (its format first), then id, title, briefing, login, users,
  filler_vms, clusters, vms, expect, ticket, difficulty, teaches, datacenter, vm_of_interest,
  certificate, $schema;
  within a VM: name, host, hardware_version, guest_id, tools_guest_id, power_state,
  tools_running, screen, video, extra_config, upgrade_policy, history;
- the bounds: filler_vms 0 to 20,000, a screen side 1 to 16,384 pixels, displays 1 to 10,
  vram_kb 1 to 4,194,304 (4 GB), names of VMs, hosts, clusters and the datacenter at most 80
  characters, the id at most 64;
- text is "empty" when it holds only what Python's ``str.strip()`` removes, and holds no
  character that XML cannot carry (control characters other than tab, line feed and carriage
  return; U+FFFE, U+FFFF): vCenter's SOAP could not send it;
- a field path names object keys as ``.key`` when the key is an identifier and ``["key"]``
  (JSON-quoted, cut at 40 characters) otherwise; keys that are names (extra_config settings,
  expect's VMs) are always ``["key"]``;
- control, bidirectional and invisible format characters in a message are written as ``\\uXXXX``.

The format's reference, for authors and for both readers, is
``resources/scenarios/README.md``.

Every problem, whatever the input, is a :class:`ScenarioError` naming the field path and saying
what to do. Nothing is ignored silently: an unknown field, a key given twice in one object or a
value of the wrong type is refused, so a typo never turns into a default.
"""

from __future__ import annotations

import difflib
import enum
import json
import os
import re
import stat
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, NoReturn, TypeVar

from wizard import paths
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


# --- reading --------------------------------------------------------------------------------

_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""Characters XML 1.0 cannot hold: a scenario's text goes to clients in vCenter's SOAP."""

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


_TOP_REQUIRED: Final = (
    "format",
    "id",
    "title",
    "briefing",
    "login",
    "users",
    "filler_vms",
    "clusters",
    "vms",
    "expect",
)
_TOP_OPTIONAL: Final = (
    "ticket",
    "difficulty",
    "teaches",
    "datacenter",
    "vm_of_interest",
    "certificate",
    "$schema",
)
_VM_FIELDS: Final = (
    "name",
    "host",
    "hardware_version",
    "guest_id",
    "tools_guest_id",
    "tools_running",
    "power_state",
    "screen",
    "video",
    "extra_config",
    "upgrade_policy",
    "history",
)
_IDENTIFIER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_SHOWN: Final = 40
_E = TypeVar("_E", bound=enum.StrEnum)


class _Pairs(dict[str, object]):
    """A JSON object that remembers the keys it saw more than once (JSON allows it; we don't)."""

    duplicates: tuple[str, ...] = ()


def _object_pairs(pairs: list[tuple[str, object]]) -> _Pairs:
    obj = _Pairs(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        repeated: list[str] = []
        for key, _ in pairs:
            if key in seen:
                repeated.append(key)
            seen.add(key)
        obj.duplicates = tuple(repeated)
    return obj


def _refuse_constant(name: str) -> NoReturn:
    # Python's json accepts NaN and Infinity; JSON (and the Go lab) does not.
    raise ValueError(f"{name} is not valid JSON")


class _LongNumber:
    """A JSON integer too long for Python to convert (over 4300 digits): never a valid value."""

    def __init__(self, digits: str) -> None:
        self.digits = digits


def _parse_int(text: str) -> int | _LongNumber:
    # Python refuses to convert integers of more than 4300 digits; the field then names it.
    return int(text) if len(text) <= 1000 else _LongNumber(text)


def _show(value: object) -> str:
    """A short rendering of a value for a message, never raising."""
    if isinstance(value, _LongNumber):
        return value.digits[: _MAX_SHOWN - 3] + "..."
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return f"a value of type {type(value).__name__}"
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _quoted(key: str) -> str:
    shown = key if len(key) <= _MAX_SHOWN else key[: _MAX_SHOWN - 3] + "..."
    return json.dumps(shown, ensure_ascii=False)


def _choices(values: Iterable[str]) -> str:
    return ", ".join(json.dumps(v) for v in values)


@dataclass(frozen=True)
class _At:
    """A value in the document and where it is, so every error can name its field path."""

    value: object
    path: str
    source: str

    def fail(self, problem: str, fix: str) -> NoReturn:
        raise ScenarioError(self.source, self.path or "(top level)", problem, fix)

    def field(self, key: str, value: object = None) -> _At:
        if _IDENTIFIER.fullmatch(key):
            path = f"{self.path}.{key}" if self.path else key
        else:
            path = f"{self.path}[{_quoted(key)}]"
        return _At(value, path, self.source)

    def name(self, key: str, value: object) -> _At:
        """An entry of an object keyed by names (VMs, settings): always ``path["key"]``."""
        return _At(value, f"{self.path}[{_quoted(key)}]", self.source)

    def item(self, index: int, value: object) -> _At:
        return _At(value, f"{self.path}[{index}]", self.source)

    # Typed reads ---------------------------------------------------------------------------

    def fields(self, required: Sequence[str], optional: Sequence[str] = ()) -> dict[str, _At]:
        """Check an object: no repeated, unknown or missing fields; return the present ones."""
        obj = self.value
        if not isinstance(obj, dict):
            self.fail(
                f"expected an object {{...}}, got {_show(obj)}",
                f"Write an object with the fields {_choices(required)}",
            )
        for key in getattr(obj, "duplicates", ()):
            self.field(key).fail(
                "appears twice in the same object",
                "Keep one of them: readers would otherwise have to guess which one you meant",
            )
        known = (*required, *optional)
        for key in obj:
            if not isinstance(key, str) or key not in known:
                name = str(key)
                close = difflib.get_close_matches(name, known, n=1)
                hint = f'Did you mean "{close[0]}"? ' if close else ""
                self.field(name).fail(
                    "unknown field",
                    f"{hint}Remove it or correct its spelling; known fields here: "
                    f"{_choices(known)}",
                )
        for key in required:
            if key not in obj:
                self.field(key).fail("missing", "Add it (see resources/scenarios/README.md)")
        return {key: self.field(key, obj[key]) for key in known if key in obj}

    def entries(self) -> list[tuple[str, _At]]:
        """An object whose keys are free (names): its entries, checking repeated keys."""
        obj = self.value
        if not isinstance(obj, dict):
            self.fail(
                f"expected an object {{...}}, got {_show(obj)}",
                'Write an object such as {"name": ...}, or {} for none',
            )
        for key in getattr(obj, "duplicates", ()):
            self.name(key, None).fail("appears twice in the same object", "Keep one of them")
        out: list[tuple[str, _At]] = []
        for key, value in obj.items():
            if not isinstance(key, str):
                self.fail(f"has a key that is not a string: {_show(key)}", "Use text keys")
            out.append((key, self.name(key, value)))
        return out

    def items(self, *, min_items: int = 0) -> list[_At]:
        value = self.value
        if not isinstance(value, list):
            self.fail(f"expected a list [...], got {_show(value)}", "Write a list in [ ]")
        if len(value) < min_items:
            self.fail(
                f"needs at least {min_items} entr{'y' if min_items == 1 else 'ies'}, got none",
                "Add one",
            )
        return [self.item(i, v) for i, v in enumerate(value)]

    def string(self) -> str:
        value = self.value
        if not isinstance(value, str):
            self.fail(f"expected a string, got {_show(value)}", "Write text in double quotes")
        self.carried(value)
        if not value.strip():
            self.fail("is empty", "Write some text")
        return value

    def carried(self, value: str) -> None:
        """Refuse characters that vCenter's XML cannot carry (the lab would send U+FFFD)."""
        if found := _NOT_XML.search(value):
            self.fail(
                f"holds the character U+{ord(found.group()):04X}, which vCenter cannot carry",
                "Remove it (tabs and line breaks are fine)",
            )

    def optional_string(self) -> str | None:
        return None if self.value is None else self.string()

    def text(self) -> str:
        """Free text that may be empty (an extra-config value as vCenter stores it)."""
        if not isinstance(self.value, str):
            self.fail(
                f"expected a string, got {_show(self.value)}",
                'Extra-config values are text: write it in double quotes, e.g. "16777216"',
            )
        self.carried(self.value)
        return self.value

    def boolean(self) -> bool:
        value = self.value
        if not isinstance(value, bool):
            self.fail(
                f"expected true or false, got {_show(value)}", "Write true or false without quotes"
            )
        return value

    def whole(self, minimum: int, maximum: int | None = None) -> int:
        value = self.value
        limits = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or value < minimum
            or (maximum is not None and value > maximum)
        ):
            self.fail(
                f"expected a whole number {limits}, got {_show(value)}",
                "Write a number without quotes or decimals",
            )
        return value

    def choice(self, kind: type[_E]) -> _E:
        value = self.value
        allowed = [member.value for member in kind]
        if not isinstance(value, str) or value not in allowed:
            self.fail(f"expected one of {_choices(allowed)}, got {_show(value)}", "Use one of them")
        return kind(value)

    def entity_name(self) -> str:
        """An inventory name: text of at most :data:`MAX_NAME_LENGTH` characters."""
        value = self.string()
        if len(value) > MAX_NAME_LENGTH:
            self.fail(
                f"is {len(value)} characters long; vCenter allows {MAX_NAME_LENGTH}",
                "Shorten it",
            )
        return value

    def hardware_version(self) -> str:
        value = self.value
        if not isinstance(value, str) or not HARDWARE_VERSION_PATTERN.fullmatch(value):
            self.fail(
                f'expected a hardware version like "vmx-08", got {_show(value)}',
                'Write "vmx-" and two digits, as vCenter shows config.version',
            )
        return value


def _unique(where: _At, label: str, seen: dict[str, str], name: str) -> None:
    if name in seen:
        where.fail(f'{label} "{name}" is already used at {seen[name]}', "Give each its own name")
    seen[name] = where.path


def _parse_login(at: _At) -> LoginSpec:
    f = at.fields(("user", "password"))
    return LoginSpec(f["user"].string(), f["password"].string())


def _parse_users(at: _At, login: LoginSpec) -> tuple[UserSpec, ...]:
    users: list[UserSpec] = []
    seen: dict[str, str] = {}
    for item in at.items():
        f = item.fields(("user", "password", "role"))
        name = f["user"].string()
        _unique(f["user"], "user", seen, name)
        password = f["password"].string()
        if name == login.user and password != login.password:
            f["password"].fail(
                "differs from login.password for the same user",
                "Give the login user one password in both places",
            )
        users.append(UserSpec(name, password, f["role"].choice(Role)))
    return tuple(users)


def _parse_clusters(at: _At) -> tuple[ClusterSpec, ...]:
    clusters: list[ClusterSpec] = []
    cluster_names: dict[str, str] = {}
    host_names: dict[str, str] = {}
    for item in at.items(min_items=1):
        f = item.fields(("name", "ha", "hosts"))
        name = f["name"].entity_name()
        _unique(f["name"], "cluster", cluster_names, name)
        ha_fields = f["ha"].fields(("enabled", "admission_control"))
        ha = HaSpec(ha_fields["enabled"].boolean(), ha_fields["admission_control"].boolean())
        hosts: list[HostSpec] = []
        for host_at in f["hosts"].items(min_items=1):
            h = host_at.fields(("name", "cpu_model", "sse41"))
            host_name = h["name"].entity_name()
            _unique(h["name"], "host", host_names, host_name)
            cpu_model = h["cpu_model"].string()
            hosts.append(HostSpec(host_name, cpu_model, h["sse41"].boolean()))
        clusters.append(ClusterSpec(name, ha, tuple(hosts)))
    return tuple(clusters)


def _parse_screen(at: _At) -> tuple[int, int] | None:
    if at.value is None:
        return None
    value = at.value
    if not isinstance(value, list) or len(value) != 2:
        at.fail(
            f"expected [width, height] or null, got {_show(value)}",
            "Write two whole numbers such as [1920, 1200], or null when Tools report no screen",
        )
    width, height = (at.item(i, v).whole(1, MAX_SCREEN_SIDE) for i, v in enumerate(value))
    return (width, height)


def _parse_vm(at: _At, host_names: Sequence[str]) -> VmSpec:
    # The order of the checks is the lab's too (see the module's docstring).
    f = at.fields(_VM_FIELDS)
    name = f["name"].entity_name()
    host = f["host"].string()
    if host not in host_names:
        f["host"].fail(
            f'no host named "{host}" in any cluster',
            f"Use one of the hosts listed under clusters: {_choices(host_names)}",
        )
    hardware_version = f["hardware_version"].hardware_version()
    guest_id = f["guest_id"].string()
    tools_guest_id = f["tools_guest_id"].optional_string()
    power_state = f["power_state"].choice(PowerState)
    tools_running = f["tools_running"].boolean()
    if tools_running and power_state is not PowerState.POWERED_ON:
        f["tools_running"].fail(
            f"is true for a VM that is {power_state.value}",
            "Tools run only in a powered-on VM: set it to false or power the VM on",
        )
    screen = _parse_screen(f["screen"])
    if screen is not None and not tools_running:
        f["screen"].fail(
            "is set while tools_running is false",
            "Tools report the screen only while they run: set screen to null",
        )
    v = f["video"].fields(("displays", "vram_kb", "auto_detect", "enable_3d"))
    video = VideoSpec(
        v["displays"].whole(1, MAX_DISPLAYS),
        v["vram_kb"].whole(1, MAX_VRAM_KB),
        v["auto_detect"].boolean(),
        v["enable_3d"].boolean(),
    )
    extra_config = tuple((key, value.text()) for key, value in _extra(f["extra_config"]))
    if f["upgrade_policy"].value is None:
        # No upgrade scheduled: what vCenter reports for a VM nobody scheduled one for.
        policy, version = UpgradePolicyName.NEVER, None
    else:
        u = f["upgrade_policy"].fields(("policy", "version"))
        policy = u["policy"].choice(UpgradePolicyName)
        version = None if u["version"].value is None else u["version"].hardware_version()
    h = f["history"].fields(("failed_vmotion",))
    return VmSpec(
        name=name,
        host=host,
        hardware_version=hardware_version,
        guest_id=guest_id,
        tools_guest_id=tools_guest_id,
        tools_running=tools_running,
        power_state=power_state,
        screen=screen,
        video=video,
        extra_config=extra_config,
        upgrade_policy=UpgradePolicySpec(policy, version),
        history=HistorySpec(h["failed_vmotion"].boolean()),
    )


def _extra(at: _At) -> list[tuple[str, _At]]:
    entries = at.entries()
    for key, value in entries:
        value.carried(key)
        if not key.strip():
            value.fail(
                "the key is empty", "Write the setting's name, e.g. migrate.baseCptCacheSize"
            )
    return entries


def _parse_vms(at: _At, host_names: Sequence[str]) -> tuple[VmSpec, ...]:
    vms: list[VmSpec] = []
    seen: dict[str, str] = {}
    for item in at.items(min_items=1):
        vm = _parse_vm(item, host_names)
        _unique(item.field("name"), "VM", seen, vm.name)
        vms.append(vm)
    return tuple(vms)


def _parse_expect(at: _At, vm_names: Sequence[str]) -> tuple[Expectation, ...]:
    expectations: list[Expectation] = []
    for name, entry in at.entries():
        if name not in vm_names:
            entry.fail(
                f'no VM named "{name}" in vms', "Name a VM listed under vms (exact spelling)"
            )
        f = entry.fields(("verdict", "recommended"))
        verdict = f["verdict"].choice(Verdict)
        recommended = None if f["recommended"].value is None else f["recommended"].choice(RemedyId)
        if recommended is not None and verdict in (Verdict.MITIGATED, Verdict.NOT_AFFECTED):
            f["recommended"].fail(
                f'must be null for a VM that is "{verdict.value}"',
                "Nothing is recommended for a VM that needs no fix: write null",
            )
        expectations.append(Expectation(name, verdict, recommended))
    return tuple(expectations)


def parse_scenario(data: object, source: str) -> Scenario:
    """Validate a decoded JSON document as a format-1 scenario.

    Args:
        data: the document, as ``json.loads`` gives it.
        source: where it came from, for messages (usually the file path).

    Returns:
        The scenario.

    Raises:
        ScenarioError: for anything that is not a valid format-1 scenario; never another
            exception.
    """
    top = _At(data, "", source)
    if isinstance(data, dict) and "format" in data:
        fmt = top.field("format", data["format"])
        if not isinstance(fmt.value, int) or isinstance(fmt.value, bool) or fmt.value != FORMAT:
            fmt.fail(
                f"this wizard reads format {FORMAT}, got {_show(fmt.value)}",
                f"Write a scenario in format {FORMAT}, or use a wizard that knows this format",
            )
    f = top.fields(_TOP_REQUIRED, _TOP_OPTIONAL)
    scenario_id = f["id"].string()
    if len(scenario_id) > MAX_ID_LENGTH or not ID_PATTERN.fullmatch(scenario_id):
        f["id"].fail(
            f"{_show(scenario_id)} is not a usable id",
            f"Use lowercase letters, digits and single hyphens, at most {MAX_ID_LENGTH} "
            'characters, e.g. "dual-screen-win7" (the file name without .json)',
        )
    title = f["title"].string()
    briefing = f["briefing"].string()
    login = _parse_login(f["login"])
    users = _parse_users(f["users"], login)
    filler_vms = f["filler_vms"].whole(0, MAX_FILLER_VMS)
    clusters = _parse_clusters(f["clusters"])
    host_names = [host.name for cluster in clusters for host in cluster.hosts]
    vms = _parse_vms(f["vms"], host_names)
    vm_names = [vm.name for vm in vms]
    expect = _parse_expect(f["expect"], vm_names)

    ticket = f["ticket"].string() if "ticket" in f else None
    difficulty = f["difficulty"].choice(Difficulty) if "difficulty" in f else None
    teaches = tuple(item.string() for item in f["teaches"].items()) if "teaches" in f else ()
    datacenter = f["datacenter"].entity_name() if "datacenter" in f else None
    vm_of_interest: str | None = None
    if "vm_of_interest" in f:
        vm_of_interest = f["vm_of_interest"].string()
        if vm_of_interest not in vm_names:
            f["vm_of_interest"].fail(
                f'no VM named "{vm_of_interest}" in vms',
                "Name a VM listed under vms (exact spelling)",
            )
        if all(e.vm != vm_of_interest for e in expect):
            f["expect"].fail(
                f'has no entry for the vm_of_interest "{vm_of_interest}"',
                "Add its verdict and recommended remedy: the debrief compares against them",
            )
    certificate: CertificateSpec | None = None
    if "certificate" in f:
        certificate = CertificateSpec(f["certificate"].fields(("renewed",))["renewed"].boolean())
    if "$schema" in f:
        f["$schema"].string()  # where editors find scenario.schema.json; nothing else
    return Scenario(
        format=FORMAT,
        id=scenario_id,
        title=title,
        briefing=briefing,
        login=login,
        users=users,
        filler_vms=filler_vms,
        clusters=clusters,
        vms=vms,
        expect=expect,
        ticket=ticket,
        difficulty=difficulty,
        teaches=teaches,
        datacenter=datacenter,
        vm_of_interest=vm_of_interest,
        certificate=certificate,
    )


_STRING_OR_BRACKET: Final = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_ESCAPE: Final = re.compile(r"\\(?:u([0-9a-fA-F]{4})|.)", re.DOTALL)
_BOM: Final = "\ufeff"


def _where(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


def _lone_surrogate(token: str) -> int | None:
    """The offset in a JSON string token of a ``\\u`` escape that is half of a UTF-16 pair."""
    high: tuple[int, int] | None = None  # start and end of a high surrogate awaiting its pair
    for m in _ESCAPE.finditer(token):
        code = int(m.group(1), 16) if m.group(1) else None
        if high is not None:
            if code is not None and 0xDC00 <= code <= 0xDFFF and m.start() == high[1]:
                high = None
                continue
            return high[0]
        if code is not None and 0xD800 <= code <= 0xDBFF:
            high = (m.start(), m.end())
        elif code is not None and 0xDC00 <= code <= 0xDFFF:
            return m.start()
    return high[0] if high is not None else None


def _check_structure(text: str, source: str) -> None:
    """Refuse nesting deeper than :data:`MAX_NESTING` and escapes that name no character.

    Python's decoder would give a lone surrogate back as is (unprintable, unsendable), Go's
    turns it into U+FFFD silently: both readers refuse the file instead.
    """
    depth = 0
    for m in _STRING_OR_BRACKET.finditer(text):
        lexeme = m.group()
        if lexeme[0] == '"':
            if "\\u" in lexeme and (lone := _lone_surrogate(lexeme)) is not None:
                raise ScenarioError(
                    source,
                    "(file)",
                    f"invalid JSON at {_where(text, m.start() + lone)}: the escape "
                    f"{lexeme[lone : lone + 6]} is half of a UTF-16 surrogate pair, "
                    "not a character",
                    "Write the character itself, or both halves of the pair",
                )
        elif lexeme in "[{":
            depth += 1
            if depth > MAX_NESTING:
                raise ScenarioError(
                    source,
                    "(file)",
                    f"nested deeper than {MAX_NESTING} levels (at {_where(text, m.start())})",
                    "A scenario needs only a few levels: correct the brackets",
                )
        else:
            depth -= 1


def parse_scenario_json(text: str | bytes, source: str) -> Scenario:
    """Decode JSON text (UTF-8, one byte-order mark allowed) and validate it as a scenario.

    Raises:
        ScenarioError: for invalid JSON (with line and column) or an invalid scenario.
    """
    if isinstance(text, bytes):
        bom = text.startswith(_BOM.encode("utf-8"))
        try:
            text = text[3 if bom else 0 :].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ScenarioError(
                source,
                "(file)",
                f"is not UTF-8 text (byte {exc.start + (3 if bom else 0)})",
                "Save the file as UTF-8",
            ) from None
    else:
        text = text.removeprefix(_BOM)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ScenarioError(
                source,
                "(file)",
                f"holds a character that is not one (a lone surrogate at {exc.start})",
                "Save the file as UTF-8",
            ) from None
    _check_structure(text, source)
    try:
        data = json.loads(
            text,
            object_pairs_hook=_object_pairs,
            parse_constant=_refuse_constant,
            parse_int=_parse_int,
        )
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            source,
            "(file)",
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            "Correct the JSON there (a JSON validator or editor shows the spot)",
        ) from None
    except (ValueError, RecursionError) as exc:
        # NaN and Infinity, which JSON (and the lab) does not know.
        raise ScenarioError(source, "(file)", f"invalid JSON: {exc}", "Correct the JSON") from None
    return parse_scenario(data, source)


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _not_regular(source: str, mode: int) -> ScenarioError:
    return ScenarioError(
        source,
        "(file)",
        f"is {_file_kind(mode)}, not a regular file",
        "Give the path of a scenario's .json file",
    )


def _unreadable(source: str, exc: OSError) -> ScenarioError:
    return ScenarioError(
        source,
        "(file)",
        f"cannot be read: {exc.strerror or exc}",
        "Check that the file exists and that you may read it",
    )


_OPEN_FLAGS: Final = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
if sys.platform != "win32":
    # Opening a named pipe for reading waits for a writer; with O_NONBLOCK it returns at once
    # (and the check after it refuses the pipe). A regular file reads the same either way.
    _OPEN_FLAGS_NOWAIT: Final = _OPEN_FLAGS | os.O_NONBLOCK
else:
    _OPEN_FLAGS_NOWAIT: Final = _OPEN_FLAGS


def read_scenario_file(path: Path) -> bytes:
    """The bytes of a scenario file: a regular file of at most :data:`MAX_FILE_BYTES`.

    A named pipe, a device, a socket or a folder is refused before it is opened (reading a pipe
    without a writer, or a terminal, would wait forever), and again on what was opened, in case
    the path was swapped in between.

    Raises:
        ScenarioError: the file cannot be read, is not a regular file, or is too large.
    """
    source = str(path)
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise _unreadable(source, exc) from None
    if not stat.S_ISREG(mode):
        raise _not_regular(source, mode)
    try:
        fd = os.open(path, _OPEN_FLAGS_NOWAIT)
    except OSError as exc:
        raise _unreadable(source, exc) from None
    try:
        with open(fd, "rb") as stream:
            mode = os.fstat(stream.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise _not_regular(source, mode)
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _unreadable(source, exc) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(
            source,
            "(file)",
            f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB",
            "A scenario is a small JSON file: use filler_vms for a large inventory",
        )
    return raw


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file.

    Args:
        path: the ``.json`` file.

    Returns:
        The scenario.

    Raises:
        ScenarioError: the file cannot be read (or is not a regular file: a named pipe is
            refused at once, never waited on), is not JSON, or is not a valid scenario.
    """
    return parse_scenario_json(read_scenario_file(path), str(path))


SCHEMA_FILE_NAME: Final = "scenario.schema.json"
"""The format's JSON Schema, beside the bundled scenarios (for editors; not a scenario)."""


def is_scenario_file(path: Path) -> bool:
    """Whether a folder's entry is listed as a scenario: a ``.json`` file that is neither hidden
    nor a JSON Schema (``*.schema.json``, like :data:`SCHEMA_FILE_NAME`)."""
    name = path.name.lower()
    return name.endswith(".json") and not name.startswith(".") and not name.endswith(".schema.json")


def bundled_scenarios_dir() -> Path:
    """The folder of the scenarios that ship with the product."""
    return paths.repo_resources() / "scenarios"


def bundled_scenario_files() -> list[Path]:
    """The bundled scenario files, by name (the schema beside them is not one)."""
    folder = bundled_scenarios_dir()
    return sorted((p for p in folder.glob("*.json") if is_scenario_file(p)), key=lambda p: p.name)


def list_scenarios(folders: Iterable[Path]) -> list[ScenarioListing]:
    """Every scenario file in ``folders`` (:func:`is_scenario_file`: ``*.json`` but hidden files
    and JSON Schemas), loaded or with the reason it cannot be used.

    Folders are read in the order given (the bundled one first), files by name. A folder that
    does not exist is skipped; one that cannot be read gives a listing with the error. A
    scenario whose id an earlier file already uses is listed as an error, so the picker never
    shows two scenarios under one id. Never raises.

    Args:
        folders: the folders to read, e.g. the bundled folder and the trainer's folder.

    Returns:
        One listing per file (and per unreadable folder).
    """
    listings: list[ScenarioListing] = []
    ids: dict[str, Path] = {}
    for folder in folders:
        try:
            if not folder.is_dir():
                continue
            files = sorted(
                (p for p in folder.iterdir() if is_scenario_file(p)),
                key=lambda p: p.name.casefold(),
            )
        except OSError as exc:
            listings.append(
                ScenarioListing(folder, None, f"{folder}: the folder cannot be read: {exc}")
            )
            continue
        for file in files:
            try:
                scenario = load_scenario(file)
            except ScenarioError as exc:
                listings.append(ScenarioListing(file, None, str(exc)))
                continue
            if scenario.id in ids:
                listings.append(
                    ScenarioListing(
                        file,
                        None,
                        f'{file}: id: "{scenario.id}" is already used by {ids[scenario.id]}. '
                        "Give this scenario its own id (and file name)",
                    )
                )
                continue
            ids[scenario.id] = file
            listings.append(ScenarioListing(file, scenario, None))
    return listings
