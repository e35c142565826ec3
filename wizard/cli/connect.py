"""Connecting to vCenter for a command: the login, the session, and finding one VM.

The login comes from the options (``--vcenter``, ``--user``) and the password from standard
input, the keyring or a prompt, in that order; or from the training lab a command started.
Certificates are judged by the same trust policy as the wizard's.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wizard.cli.exits import EXIT_NOT_FOUND, EXIT_USAGE, CliError, error_exit
from wizard.cli.prompts import ask_secret, stdin_secret

if TYPE_CHECKING:
    from wizard.lab.process import LabInfo
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


def login_from_args(args: argparse.Namespace) -> Login:
    if not args.vcenter or not args.user:
        raise CliError(
            "say where to connect: --vcenter HOST[:PORT] --user USER "
            "(or --scenario FILE to use the training lab).",
            EXIT_USAGE,
        )
    from wizard.vsphere.session import parse_endpoint

    try:
        parse_endpoint(args.vcenter)  # a wrong address is said before a password is asked for
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
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
    return Login(
        args.vcenter, args.user, password, args.trust_fingerprint, args.trust_ca_fingerprint
    )


@contextlib.contextmanager
def connected(login: Login, timeout: float) -> Iterator[Session]:
    from wizard.vsphere.errors import EmptyPassword, VsphereError
    from wizard.vsphere.session import Session, parse_endpoint
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
        session = Session.connect(
            endpoint, login.user, login.password, trust=trust, timeout=timeout
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
