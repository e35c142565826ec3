"""The command line: ``checkpoint-wizard`` / ``python -m wizard``.

Without a subcommand it opens the wizard in training mode on the embedded lab. Subcommands:
``check`` (the verdict for one VM or a whole inventory), ``lab`` (start the training lab).

Exit codes: 0 done (any verdict), 2 usage or bad input, 3 connection, login or certificate,
4 VM not found.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import logging
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from wizard import __version__

if TYPE_CHECKING:
    from wizard.lab.process import LabInfo
    from wizard.vsphere.session import Session

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_CONNECTION = 3
EXIT_NOT_FOUND = 4

_log = logging.getLogger(__name__)


class CliError(Exception):
    """An error for the command line: a message that says what to do, and an exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(
            EXIT_USAGE, f"{self.prog}: {message}\nRun '{self.prog} --help' for the options.\n"
        )


def _add_connection_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("connection")
    g.add_argument("--vcenter", metavar="HOST[:PORT]", help="vCenter to connect to")
    g.add_argument("--user", help="vCenter user, e.g. helpdesk@vsphere.local")
    g.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (otherwise: keyring, then a prompt)",
    )
    g.add_argument(
        "--trust-fingerprint",
        metavar="SHA256",
        help="accept an untrusted certificate only if its SHA-256 fingerprint is this one",
    )
    g.add_argument("--timeout", type=float, default=30.0, help="seconds for each call (30)")
    g.add_argument(
        "--scenario",
        type=Path,
        metavar="FILE",
        help="start the training lab with this scenario, work on it, and stop it afterwards",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="checkpoint-wizard",
        description=(
            "Diagnose and fix VMs whose vMotion fails with "
            "'Failed to flush checkpoint data!'. Without a command, the wizard opens."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--vm", help="preselect this VM in the wizard")
    parser.add_argument(
        "--training",
        nargs="?",
        const="",
        metavar="SCENARIO",
        help="open the wizard in training mode (optionally on this scenario id or file)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    check = sub.add_parser("check", help="judge a VM (or all VMs) against the article")
    _add_connection_options(check)
    which = check.add_mutually_exclusive_group()
    which.add_argument("--vm", dest="check_vm", metavar="NAME", help="name, path, DNS name or IP")
    which.add_argument("--all", action="store_true", help="every VM: a cluster-wide risk scan")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.add_argument(
        "--read-log", action="store_true", help="also search the VM's vmware.log for evidence"
    )
    check.add_argument(
        "--evidence-days", type=int, default=30, help="how far back to look for failures (30)"
    )

    lab = sub.add_parser("lab", help="start the training lab and print its connection details")
    lab.add_argument("--scenario", type=Path, metavar="FILE", help="scenario file (default one)")
    lab.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    lab.add_argument("--filler-vms", type=int, default=None, metavar="N")
    lab.add_argument("--delay-ms", type=int, default=0, help="latency added to every call")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "lab":
            return _cmd_lab(args)
        if args.command == "check":
            return _cmd_check(args, sys.stdout)
        return _cmd_default(args)
    except CliError as exc:
        print(f"checkpoint-wizard: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("checkpoint-wizard: interrupted; nothing was changed.", file=sys.stderr)
        return 130


# --------------------------------------------------------------------------------------- lab


def _scenario_path(value: Path | str | None) -> Path:
    """A scenario file from a path or a bundled scenario id (None: the default scenario)."""
    from wizard.lab.scenario import DEFAULT_SCENARIO_ID, bundled_scenarios_dir

    if value is None or value == "":
        return bundled_scenarios_dir() / f"{DEFAULT_SCENARIO_ID}.json"
    path = Path(value)
    if path.exists():
        return path
    bundled = bundled_scenarios_dir() / f"{value}.json"
    if bundled.exists():
        return bundled
    known = ", ".join(sorted(p.stem for p in bundled_scenarios_dir().glob("*.json")))
    raise CliError(
        f"no scenario file or bundled scenario called '{value}'. Bundled scenarios: {known}.",
        EXIT_USAGE,
    )


@contextlib.contextmanager
def _running_lab(
    scenario: Path, *, port: int = 0, filler_vms: int | None = None, delay_ms: int = 0
) -> Iterator[LabInfo]:
    from wizard.lab.binary import LabUnavailable
    from wizard.lab.process import LabError, LabProcess
    from wizard.lab.scenario import ScenarioError, load_scenario

    try:
        load_scenario(scenario)  # names the wrong field before any process starts
    except ScenarioError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    try:
        with LabProcess(scenario, port=port, filler_vms=filler_vms, delay_ms=delay_ms) as lab:
            yield lab.info
    except (LabUnavailable, LabError) as exc:
        raise CliError(str(exc), EXIT_USAGE) from None


def _cmd_lab(args: argparse.Namespace) -> int:
    scenario = _scenario_path(args.scenario)
    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    with _running_lab(
        scenario, port=args.port, filler_vms=args.filler_vms, delay_ms=args.delay_ms
    ) as info:
        ready = {
            "url": info.url,
            "host": info.host,
            "port": info.port,
            "user": info.user,
            "password": info.password,
            "thumbprint_sha256": info.thumbprint_sha256,
        }
        print(json.dumps(ready), flush=True)
        while not stop.wait(0.5):
            pass
    return EXIT_OK


# ------------------------------------------------------------------------------------- check


@dataclass(frozen=True)
class _Login:
    vcenter: str
    user: str
    password: str
    fingerprint: str | None


def _login_from_args(args: argparse.Namespace) -> _Login:
    from wizard import credentials

    if not args.vcenter or not args.user:
        raise CliError(
            "say where to connect: --vcenter HOST[:PORT] --user USER "
            "(or --scenario FILE to use the training lab).",
            EXIT_USAGE,
        )
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = credentials.load_password(args.vcenter, args.user) or ""
        if not password:
            if not sys.stdin.isatty():
                raise CliError(
                    "no password: pass it with --password-stdin, or remember it in the wizard.",
                    EXIT_USAGE,
                )
            password = getpass.getpass(f"Password for {args.user} on {args.vcenter}: ")
    return _Login(args.vcenter, args.user, password, args.trust_fingerprint)


@contextlib.contextmanager
def _session(login: _Login, timeout: float) -> Iterator[Session]:
    from wizard.vsphere.errors import VsphereError
    from wizard.vsphere.session import Session, parse_endpoint
    from wizard.vsphere.tls import JsonPinStore, TrustPolicy

    try:
        endpoint = parse_endpoint(login.vcenter)
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    trust = TrustPolicy(pins=JsonPinStore(), expected_fingerprint=login.fingerprint)
    try:
        session = Session.connect(
            endpoint, login.user, login.password, trust=trust, timeout=timeout
        )
    except VsphereError as exc:
        raise CliError(f"{exc.message} {exc.next_step}", EXIT_CONNECTION) from None
    try:
        yield session
    finally:
        session.close()


def _cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    if not args.check_vm and not args.all:
        raise CliError("say which VM: --vm NAME, or --all for every VM.", EXIT_USAGE)
    if args.scenario is not None:
        with _running_lab(_scenario_path(args.scenario)) as info:
            login = _Login(
                f"{info.host}:{info.port}", info.user, info.password, info.thumbprint_sha256
            )
            return _check(args, login, out)
    return _check(args, _login_from_args(args), out)


def _check(args: argparse.Namespace, login: _Login, out: TextIO) -> int:
    from wizard import render
    from wizard.kb import assess, remedies
    from wizard.kb.serialize import assessment_to_json
    from wizard.vsphere.errors import VmNotFound, VsphereError
    from wizard.vsphere.facts import collect_all_facts, collect_facts
    from wizard.vsphere.inventory import resolve_vm

    with _session(login, args.timeout) as session:
        try:
            if args.all:
                all_facts = collect_all_facts(session, evidence_days=args.evidence_days)
            else:
                ref = resolve_vm(session, args.check_vm)
                all_facts = [
                    collect_facts(
                        session,
                        ref.moref,
                        evidence_days=args.evidence_days,
                        read_log=args.read_log,
                    )
                ]
        except VmNotFound as exc:
            raise CliError(f"{exc.message} {exc.next_step}", EXIT_NOT_FOUND) from None
        except VsphereError as exc:
            raise CliError(f"{exc.message} {exc.next_step}", EXIT_CONNECTION) from None

    results = []
    for facts in all_facts:
        assessment = assess(facts)
        results.append((facts, assessment, remedies(assessment, facts)))
    if args.json:
        docs = [assessment_to_json(a, r, f, __version__) for f, a, r in results]
        json.dump(docs if args.all else docs[0], out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        for facts, assessment, rems in results:
            out.write(render.check_text(facts, assessment, rems))
            out.write("\n")
    return EXIT_OK


# ----------------------------------------------------------------------------------- default


def _cmd_default(args: argparse.Namespace) -> int:
    """Open the wizard in training mode on the embedded lab."""
    scenario = _scenario_path(args.training or None)
    from wizard.lab.scenario import load_scenario

    vm = args.vm or load_scenario(scenario).vm_of_interest
    check_args = build_parser().parse_args(["check", "--scenario", str(scenario), "--vm", vm or ""])
    return _cmd_check(check_args, sys.stdout)
