"""The administrator's policy file: what an IT department pre-sets for every technician.

Where it is read from (the first that applies):

- ``CHECKPOINT_WIZARD_POLICY``: the path of a policy file (empty: no policy);
- under ``CHECKPOINT_WIZARD_BASEDIR`` (tests, the self-test): ``<basedir>/policy.json``;
- Windows: ``%ProgramData%\\checkpoint-wizard\\policy.json``;
- Linux and macOS: ``/etc/checkpoint-wizard/policy.json``.

Only administrators can write those folders, and the product only reads them. No file means no
policy. The format (every field but ``format`` may be left out)::

    {
      "format": 1,
      "vcenters": [
        {"address": "vc01.corp.local",
         "certificate_sha256": "AB:CD:...",       # trust exactly this certificate, or
         "authority_sha256": "12:34:..."}         # the authority (root CA) that issued it
      ],
      "limits": {"call_timeout_s": 60, "evidence_days": 90, "shutdown_timeout_s": 600},
      "locked": ["vcenters", "call_timeout_s"]
    }

``vcenters`` are offered first on the Connect page; when ``"vcenters"`` is locked, only they
are offered and no other address can be typed. A certificate or authority fingerprint makes the
wizard trust that vCenter without asking the technician, and refuse a certificate that does
not match it. ``limits`` replace the built-in defaults (a technician may still change them in
Settings, or with the command line's option); a locked limit cannot be changed: Settings shows
it as set by the administrator, and the command line refuses an option asking for another value.

Read as strictly as a scenario: the file is a regular UTF-8 file of at most 64 KB, strict JSON
(no key given twice, no NaN), and an unknown field, a wrong type or a value out of range is
refused with the field's path and what to do. A refused file is reported to the technician
(and the product starts without any policy), never half-applied.
"""

from __future__ import annotations

import difflib
import json
import os
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, NoReturn, TextIO

from wizard import paths
from wizard.lab.json_text import JsonTextError, strict_loads, utf8_text
from wizard.limits import LIMITS, Limit
from wizard.vsphere.endpoint import parse_endpoint

FORMAT: Final = 1
ENV_PATH: Final = "CHECKPOINT_WIZARD_POLICY"
MAX_BYTES: Final = 64 * 1024
FILE_NAME: Final = "policy.json"
VCENTERS: Final = "vcenters"
LOCKABLE: Final = (VCENTERS, *(limit.key for limit in LIMITS))
"""What ``locked`` may name."""
_TOP: Final = ("format", "vcenters", "limits", "locked")
_VCENTER_KEYS: Final = ("address", "certificate_sha256", "authority_sha256")


class PolicyError(Exception):
    """A policy file that cannot be used: which file, which field, what is wrong, what to do.

    Attributes:
        source: the file.
        path: the field, e.g. ``vcenters[1].address``; ``(file)`` for the file as a whole.
        problem: what is wrong.
        fix: what the administrator should do, one sentence.
    """

    def __init__(self, source: str, path: str, problem: str, fix: str) -> None:
        # Imported here: the scenario model loads the rules, which a command that connects
        # needs only once its first request is on its way (see wizard.cli.check).
        from wizard.lab.scenario_model import escape_controls

        self.source = escape_controls(source)
        self.path = escape_controls(path)
        self.problem = escape_controls(problem)
        self.fix = escape_controls(fix)
        super().__init__(f"{self.source}: {self.path}: {self.problem}. {self.fix}")


@dataclass(frozen=True)
class PolicyVcenter:
    """A vCenter the administrator offers, and how its certificate is to be trusted.

    Attributes:
        address: ``host:port``, as the Connect page normalises a typed address.
        certificate_sha256: the certificate to trust without asking (``AB:CD:…``), if any.
        authority_sha256: the authority whose certificates to trust without asking, if any.
    """

    address: str
    certificate_sha256: str | None = None
    authority_sha256: str | None = None


@dataclass(frozen=True)
class Policy:
    """What the administrator set. The empty policy (no file) sets nothing.

    Attributes:
        source: the file it was read from, or None.
        vcenters: offered first, in the file's order.
        limits: limit key -> value.
        locked: names from :data:`LOCKABLE`.
    """

    source: str | None = None
    vcenters: tuple[PolicyVcenter, ...] = ()
    limits: Mapping[str, int] = field(default_factory=dict)
    locked: frozenset[str] = frozenset()

    def is_locked(self, name: str) -> bool:
        """Whether the technician may not change ``name`` (a limit key or ``vcenters``)."""
        return name in self.locked

    def vcenter(self, address: str) -> PolicyVcenter | None:
        """The entry for a normalised ``host:port``, if the policy names it."""
        for entry in self.vcenters:
            if entry.address.lower() == address.lower():
                return entry
        return None


def policy_path() -> Path | None:
    """The policy file this computer uses (it need not exist); None when turned off."""
    given = os.environ.get(ENV_PATH)
    if given is not None:
        return Path(given) if given else None
    basedir = paths.basedir()
    if basedir is not None:
        return basedir / FILE_NAME
    if sys.platform == "win32":
        program_data = os.environ.get("PROGRAMDATA") or os.environ.get("ALLUSERSPROFILE")
        return Path(program_data or r"C:\ProgramData") / "checkpoint-wizard" / FILE_NAME
    return Path("/etc/checkpoint-wizard") / FILE_NAME


def load_policy(path: Path | None = None) -> Policy:
    """Read and check the policy file (``path``, or :func:`policy_path`'s).

    Returns:
        The policy; the empty one when there is no file.

    Raises:
        PolicyError: the file exists but cannot be read or is not a valid policy.
    """
    where = path if path is not None else policy_path()
    if where is None:
        return Policy()
    source = str(where)
    try:
        mode = os.stat(where).st_mode
    except FileNotFoundError:
        return Policy()
    except OSError as exc:
        raise _unreadable(source, exc) from None
    if not stat.S_ISREG(mode):
        raise PolicyError(
            source, "(file)", "is not a regular file", "Put the policy in a plain .json file"
        )
    try:
        with open(where, "rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except OSError as exc:
        raise _unreadable(source, exc) from None
    if len(raw) > MAX_BYTES:
        raise PolicyError(
            source,
            "(file)",
            f"is larger than {MAX_BYTES // 1024} KB",
            "A policy is a short JSON file: remove what is not a policy setting",
        )
    return parse_policy_json(raw, source)


def load_policy_or_problem(path: Path | None = None) -> tuple[Policy, str | None]:
    """The policy, or the empty policy and the message to show when the file is refused."""
    try:
        return load_policy(path), None
    except PolicyError as exc:
        return Policy(), (
            f"The administrator's policy file was not applied: {exc} "
            "The wizard runs with its own defaults until the file is corrected."
        )


def _unreadable(source: str, exc: OSError) -> PolicyError:
    return PolicyError(
        source,
        "(file)",
        f"cannot be read: {exc.strerror or exc}",
        "Check that the file exists and that everyone may read it",
    )


def _pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {json.dumps(key)} is given twice in one object")
        out[key] = value
    return out


def parse_policy_json(raw: bytes, source: str) -> Policy:
    """Decode (UTF-8, one byte-order mark allowed) and check a policy.

    Raises:
        PolicyError: naming the field and what to do.
    """
    try:
        data = strict_loads(utf8_text(raw), object_pairs_hook=_pairs)
    except JsonTextError as exc:
        raise PolicyError(source, "(file)", exc.problem, exc.next_step) from None
    return parse_policy(data, source)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object"


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, problem: str, fix: str) -> NoReturn:
        raise PolicyError(self.source, path, problem, fix)

    def obj(self, value: object, path: str, known: tuple[str, ...]) -> dict[str, object]:
        if not isinstance(value, dict):
            self.fail(path, f"expected an object, got {_kind(value)}", "Write it as { ... }")
        for key in value:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = (
                    f"Did you mean {close[0]!r}?"
                    if close
                    else f"Use only {', '.join(repr(k) for k in known)}"
                )
                self.fail(f"{path}.{key}" if path != "(top level)" else key, "unknown field", hint)
        return value

    def text(self, value: object, path: str, example: str) -> str:
        if not isinstance(value, str) or not value.strip():
            shown = "empty text" if isinstance(value, str) else _kind(value)
            self.fail(path, f"expected text, got {shown}", f"Write it like {example}")
        return value.strip()

    def fingerprint(self, value: object, path: str) -> str:
        text = self.text(value, path, '"AB:CD:…" (64 hexadecimal digits)')
        digits = "".join(ch for ch in text if ch not in ": \t-").upper()
        if len(digits) != 64 or any(ch not in "0123456789ABCDEF" for ch in digits):
            self.fail(
                path,
                f"is not a SHA-256 fingerprint ({len(digits)} characters, not 64 hexadecimal "
                "digits)",
                "Copy the SHA-256 fingerprint (not the 40-digit SHA-1 one), e.g. from "
                "openssl x509 -noout -fingerprint -sha256",
            )
        return ":".join(digits[i : i + 2] for i in range(0, 64, 2))


def _vcenter(read: _Reader, value: object, path: str) -> PolicyVcenter:
    entry = read.obj(value, path, _VCENTER_KEYS)
    if "address" not in entry:
        read.fail(
            f"{path}.address", "is missing", 'Give the vCenter\'s name, e.g. "vc01.corp.local"'
        )
    typed = read.text(entry["address"], f"{path}.address", '"vc01.corp.local" or "vc01:8443"')
    try:
        address = str(parse_endpoint(typed))
    except ValueError as exc:
        read.fail(f"{path}.address", str(exc).rstrip("."), "Give a host name or address")
    certificate = entry.get("certificate_sha256")
    authority = entry.get("authority_sha256")
    return PolicyVcenter(
        address,
        None
        if certificate is None
        else read.fingerprint(certificate, f"{path}.certificate_sha256"),
        None if authority is None else read.fingerprint(authority, f"{path}.authority_sha256"),
    )


def _limit(read: _Reader, limit: Limit, value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        read.fail(
            path, f"expected a whole number, got {_kind(value)}", f"Write e.g. {limit.default}"
        )
    if not limit.minimum <= value <= limit.maximum:
        read.fail(
            path,
            f"{value} is out of range",
            f"Give a whole number from {limit.minimum} to {limit.maximum}",
        )
    return value


def parse_policy(data: object, source: str) -> Policy:
    """Check decoded JSON as a policy.

    Raises:
        PolicyError: naming the field and what to do.
    """
    read = _Reader(source)
    top = read.obj(data, "(top level)", _TOP)
    if "format" not in top:
        read.fail("format", "is missing", f'Start the file with "format": {FORMAT}')
    if top["format"] != FORMAT or isinstance(top["format"], bool):
        read.fail(
            "format", f"is {json.dumps(top['format'])}", f"This version reads format {FORMAT}"
        )

    vcenters: list[PolicyVcenter] = []
    raw_vcenters = top.get("vcenters", [])
    if not isinstance(raw_vcenters, list):
        read.fail("vcenters", f"expected a list, got {_kind(raw_vcenters)}", "Write it as [ ... ]")
    for index, item in enumerate(raw_vcenters):
        entry = _vcenter(read, item, f"vcenters[{index}]")
        if any(v.address.lower() == entry.address.lower() for v in vcenters):
            read.fail(f"vcenters[{index}].address", f"{entry.address} is listed twice", "Keep one")
        vcenters.append(entry)

    limits: dict[str, int] = {}
    by_key = {limit.key: limit for limit in LIMITS}
    raw_limits = read.obj(top.get("limits", {}), "limits", tuple(by_key))
    for key, value in raw_limits.items():
        limits[key] = _limit(read, by_key[key], value, f"limits.{key}")

    locked: set[str] = set()
    raw_locked = top.get("locked", [])
    if not isinstance(raw_locked, list):
        read.fail("locked", f"expected a list, got {_kind(raw_locked)}", "Write it as [ ... ]")
    for index, name in enumerate(raw_locked):
        path = f"locked[{index}]"
        if not isinstance(name, str) or name not in LOCKABLE:
            shown = json.dumps(name) if isinstance(name, str) else _kind(name)
            read.fail(path, f"{shown} cannot be locked", f"Lock one of {', '.join(LOCKABLE)}")
        if name == VCENTERS and not vcenters:
            read.fail(path, "locks the vCenters but none is listed", "List them under vcenters")
        if name in by_key and name not in limits:
            read.fail(path, f"locks {name} but gives no value", f"Set limits.{name} too")
        locked.add(name)
    return Policy(source, tuple(vcenters), limits, frozenset(locked))


def describe(policy: Policy) -> list[str]:
    """What a policy sets, one line each, for ``checkpoint-wizard policy``."""
    lines = []
    for entry in policy.vcenters:
        trust = (
            f"certificate {entry.certificate_sha256}"
            if entry.certificate_sha256
            else f"authority {entry.authority_sha256}"
            if entry.authority_sha256
            else "asks the technician about its certificate"
        )
        lines.append(f"vCenter {entry.address}: {trust}")
    if policy.vcenters:
        lines.append(
            "vCenters: only these"
            if policy.is_locked(VCENTERS)
            else "vCenters: these first, others may be typed"
        )
    for key, value in policy.limits.items():
        lines.append(f"{key} = {value}" + (" (locked)" if policy.is_locked(key) else ""))
    return lines or ["It sets nothing."]


def run_check(path: Path | None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """``checkpoint-wizard policy [FILE]``: check a policy file and say what it sets.

    Returns:
        0 valid (or no file), 2 refused (the message names the field and what to do).
    """
    out = out or sys.stdout
    err = err or sys.stderr
    where = path if path is not None else policy_path()
    if where is None:
        print(f"No policy file: {ENV_PATH} is set to nothing.", file=out)
        return 0
    try:
        policy = load_policy(where)
    except PolicyError as exc:
        print(f"checkpoint-wizard: refused: {exc}", file=err)
        return 2
    if policy.source is None:
        print(f"No policy file at {where}: the wizard runs on its own defaults.", file=out)
        return 0
    print(f"{where}: valid.", file=out)
    for line in describe(policy):
        print(f"  {line}", file=out)
    return 0
