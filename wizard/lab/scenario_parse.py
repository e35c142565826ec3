"""Checking a decoded scenario field by field, in the one fixed order the lab's reader follows
too, and building the :class:`~wizard.lab.scenario_model.Scenario`; every problem a
:class:`~wizard.lab.scenario_model.ScenarioError` naming the field path and what to do."""

from __future__ import annotations

import difflib
import enum
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, NoReturn, TypeVar

from wizard.kb.model import RemedyId, Verdict
from wizard.lab.scenario_file import LongNumber
from wizard.lab.scenario_model import (
    FORMAT,
    HARDWARE_VERSION_PATTERN,
    ID_PATTERN,
    MAX_DISPLAYS,
    MAX_FILLER_VMS,
    MAX_ID_LENGTH,
    MAX_NAME_LENGTH,
    MAX_SCREEN_SIDE,
    MAX_VRAM_KB,
    CertificateSpec,
    ClusterSpec,
    Difficulty,
    Expectation,
    HaSpec,
    HistorySpec,
    HostSpec,
    LoginSpec,
    PowerState,
    Role,
    Scenario,
    ScenarioError,
    UpgradePolicyName,
    UpgradePolicySpec,
    UserSpec,
    VideoSpec,
    VmSpec,
)

NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""Characters XML 1.0 cannot hold: a scenario's text goes to clients in vCenter's SOAP."""

TOP_REQUIRED: Final = (
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
TOP_OPTIONAL: Final = (
    "ticket",
    "difficulty",
    "teaches",
    "datacenter",
    "vm_of_interest",
    "certificate",
    "$schema",
)
VM_FIELDS: Final = (
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


def _show(value: object) -> str:
    """A short rendering of a value for a message, never raising."""
    if isinstance(value, LongNumber):
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
        if found := NOT_XML.search(value):
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
    f = at.fields(VM_FIELDS)
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
    f = top.fields(TOP_REQUIRED, TOP_OPTIONAL)
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
