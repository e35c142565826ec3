"""Connecting to vCenter for a command: the login, the session, and finding one VM.

The login comes from the options (``--vcenter``, ``--user``) and the password from standard
input, the keyring or a prompt, in that order; or from the training lab a command started.
Certificates are judged by the same trust policy as the wizard's.

The administrator's policy file (:mod:`wizard.policy`) applies as in the window: a locked vCenter
list refuses any other ``--vcenter`` (a training lab, ``--scenario``, is always allowed); the
policy's certificate or authority fingerprint for the vCenter counts as if given with
``--trust-fingerprint`` / ``--trust-ca-fingerprint`` (a different one given on the command line
is refused). The policy's limits are the defaults of their options (``--timeout``,
``--evidence-days``, ``--shutdown-timeout``): an option given still wins, unless the limit is
locked and the option asks for another value, which is refused before anything is sent. A
refused policy file is reported once on stderr and the command goes on with its own defaults.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from wizard.cli.exits import EXIT_NOT_FOUND, EXIT_USAGE, CliError, error_exit
from wizard.cli.prompts import ask_secret, stdin_secret
from wizard.limits import CALL_TIMEOUT_S, EVIDENCE_DAYS, SHUTDOWN_TIMEOUT_S, Limit

if TYPE_CHECKING:
    from wizard.lab.process import LabInfo
    from wizard.policy import Policy
    from wizard.vsphere.inventory import VmRef
    from wizard.vsphere.session import Session


@dataclass(frozen=True)
class Login:
    vcenter: str
    user: str
    password: str
    fingerprint: str | None
    ca_fingerprint: str | None = None

    @classmethod
    def of_lab(cls, info: LabInfo) -> Login:
        """The login of a training lab this command started (``--scenario``)."""
        return cls(f"{info.host}:{info.port}", info.user, info.password, info.thumbprint_sha256)


# Limit -> (the option's attribute, the option as typed, its type, its unit). The options'
# argparse default is None ("not given"): apply_policy fills in the policy's value or the limit's.
_LIMIT_OPTIONS: tuple[tuple[Limit, str, str, type[int] | type[float], str], ...] = (
    (CALL_TIMEOUT_S, "timeout", "--timeout", float, "seconds"),
    (EVIDENCE_DAYS, "evidence_days", "--evidence-days", int, "days"),
    (SHUTDOWN_TIMEOUT_S, "shutdown_timeout", "--shutdown-timeout", float, "seconds"),
)


def apply_policy(args: argparse.Namespace, err: TextIO) -> Policy:
    """Read the administrator's policy for a command that connects and settle its limits.

    An option left out takes the policy's value, else the built-in default; an option given
    wins, except over a locked limit: a different value is refused (CliError, exit 2) before
    anything is sent. A refused policy file is said on ``err`` and the command goes on without
    a policy. The policy is kept on ``args`` for :func:`login_from_args`.
    """
    from wizard.policy import load_policy_or_problem

    policy, problem = load_policy_or_problem()
    if problem is not None:
        print(f"checkpoint-wizard: warning: {problem}", file=err)
    for limit, attr, option, kind, unit in _LIMIT_OPTIONS:
        if not hasattr(args, attr):
            continue
        given = getattr(args, attr)
        value = policy.limits.get(limit.key, limit.default)
        if given is None:
            setattr(args, attr, kind(value))
        elif policy.is_locked(limit.key) and given != value:
            raise CliError(
                f"{option} {given:g}: the administrator's policy ({policy.source}) locks it at "
                f"{value} {unit}. Leave {option} out to use that, or ask your administrator.",
                EXIT_USAGE,
            )
    args.policy = policy
    return policy


def _policy_of(args: argparse.Namespace) -> Policy:
    from wizard.policy import Policy

    policy = getattr(args, "policy", None)
    return policy if isinstance(policy, Policy) else Policy()


def _trust_from_policy(args: argparse.Namespace, address: str) -> tuple[str | None, str | None]:
    """The certificate and authority fingerprints to expect: the options', or the policy's for
    this vCenter; a locked list refuses a vCenter it does not name."""
    from wizard.policy import VCENTERS

    policy = _policy_of(args)
    entry = policy.vcenter(address)
    if entry is None and policy.is_locked(VCENTERS):
        allowed = ", ".join(v.address for v in policy.vcenters) or "none"
        raise CliError(
            f"--vcenter {address}: the administrator's policy ({policy.source}) allows only "
            f"these vCenters: {allowed}. Use one of them, or ask your administrator to add it.",
            EXIT_USAGE,
        )
    fingerprint, authority = args.trust_fingerprint, args.trust_ca_fingerprint
    if entry is None:
        return fingerprint, authority
    for given, pinned, option in (
        (fingerprint, entry.certificate_sha256, "--trust-fingerprint"),
        (authority, entry.authority_sha256, "--trust-ca-fingerprint"),
    ):
        if given is not None and pinned is not None and given.upper() != pinned.upper():
            raise CliError(
                f"{option} {given} is not the fingerprint the administrator's policy "
                f"({policy.source}) sets for {address} ({pinned}). Leave {option} out to use "
                "the policy's, or ask your administrator which one is right.",
                EXIT_USAGE,
            )
    return fingerprint or entry.certificate_sha256, authority or entry.authority_sha256


def login_from_args(args: argparse.Namespace) -> Login:
    if not args.vcenter or not args.user:
        raise CliError(
            "say where to connect: --vcenter HOST[:PORT] --user USER "
            "(or --scenario FILE to use the training lab).",
            EXIT_USAGE,
        )
    from wizard.vsphere.endpoint import parse_endpoint

    try:
        # A wrong address (or one the policy refuses) is said before a password is asked for.
        address = str(parse_endpoint(args.vcenter))
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    fingerprint, authority = _trust_from_policy(args, address)
    if args.password_stdin:
        password = stdin_secret("password")
    else:
        from wizard import credentials  # the keyring loads only when it is asked

        password = credentials.load_password(args.vcenter, args.user) or ""
        if not password:
            if not sys.stdin.isatty():
                raise CliError(
                    "no password: pass it with --password-stdin, or remember it in the wizard.",
                    EXIT_USAGE,
                )
            password = ask_secret(
                f"Password for {args.user} on {args.vcenter}: ", "password", "--password-stdin"
            )
    return Login(args.vcenter, args.user, password, fingerprint, authority)


@contextlib.contextmanager
def connected(
    login: Login, timeout: float, meanwhile: Callable[[], object] | None = None
) -> Iterator[Session]:
    """The session of ``login``, logged out afterwards.

    The first request leaves before pyVmomi is loaded (:mod:`wizard.vsphere.opening`); pyVmomi,
    and whatever ``meanwhile`` loads (the command's own modules), load while its answer is on
    its way: over a slow link they cost no time.
    """
    from wizard.vsphere.endpoint import parse_endpoint
    from wizard.vsphere.errors import EmptyPassword, VsphereError
    from wizard.vsphere.opening import send_first
    from wizard.vsphere.tls import JsonPinStore, TrustPolicy

    try:
        endpoint = parse_endpoint(login.vcenter)
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    trust = TrustPolicy(
        pins=JsonPinStore(),
        expected_fingerprint=login.fingerprint,
        expected_authority=login.ca_fingerprint,
    )
    try:
        if not login.password:
            raise EmptyPassword(login.user)  # before anything is sent
        first = send_first(endpoint, trust, timeout, (login.user, login.password))
        try:
            if meanwhile is not None:
                meanwhile()
            from wizard.vsphere.session import Session
        except BaseException:
            first.abandon()
            raise
        session = Session.connect(
            endpoint, login.user, login.password, trust=trust, timeout=timeout, first=first
        )
    except EmptyPassword as exc:
        raise CliError(
            f"{exc.message} {exc.next_step} Send it with --password-stdin, or type it at the "
            "prompt on a terminal.",
            EXIT_USAGE,
        ) from None
    except VsphereError as exc:
        raise CliError(f"{exc.message} {exc.next_step}", error_exit(exc)) from None
    try:
        yield session
    finally:
        session.close()


def one_vm(session: Session, name: str | None, moref: str | None) -> VmRef:
    """The VM of ``--vm NAME`` or ``--moref ID``; several VMs of that name exit 4 and list them."""
    from wizard.vsphere.errors import VmAmbiguous
    from wizard.vsphere.inventory import resolve_vm, vm_by_moref

    try:
        return vm_by_moref(session, moref) if moref else resolve_vm(session, name or "")
    except ValueError as exc:  # blank
        raise CliError(str(exc), EXIT_USAGE) from None
    except VmAmbiguous as exc:
        example = exc.matches[0][1] if exc.matches else "vm-42"
        raise CliError(
            f"{exc.message} Run the command again with --moref and the id of the one you mean, "
            f"e.g. --moref {example}: --moref matches the id only, never a name.",
            EXIT_NOT_FOUND,
        ) from None
