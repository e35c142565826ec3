"""The command line: ``checkpoint-wizard`` / ``python -m wizard``.

Without a subcommand it opens the wizard in training mode on the embedded lab. Subcommands:
``check`` (the verdict for one VM or a whole inventory), ``lab`` (start the training lab),
``apply`` (apply one of the article's workarounds to a VM), ``undo`` (put back what a journal
entry changed), ``power-on`` (start a VM again that a run shut down and could not start),
``journal`` (list the change journal, dangling entries first); ``scenario`` and ``training``
(generated cases, scenario checks, the class report: ``wizard.training_cli``).

``apply`` and ``undo`` show every change (before → after) and the disruption, and ask on the
terminal unless ``--yes`` is given; without a terminal and without ``--yes`` they refuse. A
shutdown needs ``--allow-shutdown`` (or a "yes" at the prompt); a hard power-off needs
``--allow-hard-poweroff``. With ``--password-stdin`` and ``--guest-password-stdin`` together,
the first line of standard input is the vCenter password and the second the guest password.
Before changing anything, they reconcile dangling journal entries of the same vCenter.

Ctrl-C during ``apply`` or ``undo`` does not kill the run halfway: it stops at the next safe
point (before the shutdown, before the change), powers the VM on again if the run shut it down,
and says what was and was not done; once the change is sent it is too late to stop, and the run
finishes (power-on, verification) and says so.

Exit codes: 0 done (any verdict; applied, or nothing to do), 2 usage or bad input,
3 connection, login or certificate, 4 VM not found (or gone, or the name fits several VMs),
5 refused (the plan is stale, consent is missing, the fix is not available, a privilege is
missing, or stopped), 6 failed (a task error, verification failed, the VM could not be powered
on again).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import logging
import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from wizard import __version__
from wizard.paths import FolderError

if TYPE_CHECKING:
    from wizard.audit import Journal
    from wizard.lab.process import LabInfo
    from wizard.vsphere.errors import VsphereError
    from wizard.vsphere.executor import ApplyResult, Executor, StepUpdate
    from wizard.vsphere.inventory import VmRef
    from wizard.vsphere.session import Session

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_CONNECTION = 3
EXIT_NOT_FOUND = 4
EXIT_REFUSED = 5
EXIT_FAILED = 6

_MAX_CALL_TIMEOUT_S = 3600.0
_MAX_SHUTDOWN_TIMEOUT_S = 24 * 3600.0
_MAX_EVIDENCE_DAYS = 3650
_MIN_SCALE = 0.5
_MAX_SCALE = 4.0

_log = logging.getLogger(__name__)


class CliError(Exception):
    """An error for the command line: a message that says what to do, and an exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _error_exit(exc: VsphereError) -> int:
    """The exit code of a vSphere error, from its category (the README's table)."""
    from wizard.vsphere.errors import ErrorCategory

    return {
        ErrorCategory.USAGE: EXIT_USAGE,
        ErrorCategory.LOGIN: EXIT_CONNECTION,
        ErrorCategory.CONNECTION: EXIT_CONNECTION,
        ErrorCategory.CERTIFICATE: EXIT_CONNECTION,
        ErrorCategory.NOT_FOUND: EXIT_NOT_FOUND,
        ErrorCategory.REFUSED: EXIT_REFUSED,
        ErrorCategory.FAILED: EXIT_FAILED,
    }[exc.category]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(
            EXIT_USAGE, f"{self.prog}: {message}\nRun '{self.prog} --help' for the options.\n"
        )


def _seconds(limit: float) -> Callable[[str], float]:
    """An argparse type: a number of seconds above 0 and at most ``limit``.

    Refused here (exit 2) rather than deep in the socket layer: NaN, infinity, zero or a negative
    number used to end in a traceback, once after the guest had already been shut down.
    """

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
        if not math.isfinite(value) or not 0 < value <= limit:
            raise argparse.ArgumentTypeError(
                f"{text!r}: give a number of seconds above 0 and at most {limit:g}"
            )
        return value

    return parse


def _days(text: str) -> int:
    """An argparse type: whole days from 1 to 3650 (a larger span overflows the date)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if not 1 <= value <= _MAX_EVIDENCE_DAYS:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give a number of days from 1 to {_MAX_EVIDENCE_DAYS}"
        )
    return value


def _scale(text: str) -> float:
    """An argparse type: a screen scale from 0.5 to 4 (Qt cannot draw at 0, below or at NaN)."""
    wanted = f"give a screen scale from {_MIN_SCALE:g} to {_MAX_SCALE:g} (e.g. 1 or 1.5)"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number: {wanted}") from None
    if not math.isfinite(value) or not _MIN_SCALE <= value <= _MAX_SCALE:
        raise argparse.ArgumentTypeError(f"{text!r}: {wanted}")
    return value


def _fingerprint(text: str) -> str:
    """An argparse type: a SHA-256 fingerprint, in any of the usual spellings."""
    from wizard.vsphere.tls import normalize_fingerprint

    try:
        return normalize_fingerprint(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
        type=_fingerprint,
        help="accept an untrusted certificate only if its SHA-256 fingerprint is this one",
    )
    g.add_argument(
        "--trust-ca-fingerprint",
        metavar="SHA256",
        type=_fingerprint,
        help="accept an untrusted certificate if the vCenter's own certificate authority, "
        "fetched from the vCenter and compared with this SHA-256 fingerprint, issued it for the "
        "name given with --vcenter (renewed certificates then pass too; nothing is stored)",
    )
    g.add_argument(
        "--timeout",
        type=_seconds(_MAX_CALL_TIMEOUT_S),
        default=30.0,
        help="seconds for each call (30)",
    )
    g.add_argument(
        "--scenario",
        type=Path,
        metavar="FILE",
        help="start the training lab with this scenario, work on it, and stop it afterwards",
    )


def _add_change_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("consent")
    g.add_argument(
        "--allow-shutdown",
        action="store_true",
        help="shut the guest down through VMware Tools if the change needs the VM off",
    )
    g.add_argument(
        "--allow-hard-poweroff",
        action="store_true",
        help="power the VM off hard when no graceful shutdown is possible (unsaved work is lost)",
    )
    g.add_argument(
        "--leave-powered-off", action="store_true", help="do not power the VM on again afterwards"
    )
    g.add_argument(
        "--shutdown-timeout",
        type=_seconds(_MAX_SHUTDOWN_TIMEOUT_S),
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for the guest to shut down (300)",
    )
    g.add_argument("--yes", action="store_true", help="do not ask: the changes are confirmed")
    g.add_argument("--json", action="store_true", help="machine-readable result on stdout")


_MOREF_HELP = "the VM's managed object id, e.g. vm-42 (matches ids only, never names)"


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
    parser.add_argument(
        "--selftest", action="store_true", help="check this installation works, then exit"
    )
    parser.add_argument("--selftest-strict-keyring", action="store_true", help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    check = sub.add_parser("check", help="judge a VM (or all VMs) against the article")
    _add_connection_options(check)
    which = check.add_mutually_exclusive_group()
    which.add_argument("--vm", dest="check_vm", metavar="NAME", help="name, path, DNS name or IP")
    which.add_argument("--moref", dest="check_moref", metavar="ID", help=_MOREF_HELP)
    which.add_argument("--all", action="store_true", help="every VM: a cluster-wide risk scan")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.add_argument(
        "--detail", action="store_true", help="with --all: every VM in full, not in brief"
    )
    check.add_argument(
        "--read-log", action="store_true", help="also search the VM's vmware.log for evidence"
    )
    check.add_argument(
        "--evidence-days", type=_days, default=30, help="how far back to look for failures (30)"
    )

    apply = sub.add_parser("apply", help="apply one of the article's workarounds to a VM")
    _add_connection_options(apply)
    vm = apply.add_mutually_exclusive_group(required=True)
    vm.add_argument("--vm", dest="apply_vm", metavar="NAME", help="name, path, DNS name or IP")
    vm.add_argument("--moref", dest="apply_moref", metavar="ID", help=_MOREF_HELP)
    apply.add_argument(
        "--remedy",
        required=True,
        choices=["raise_buffer", "enable_3d", "lower_resolution", "stay_on_hw7"],
    )
    apply.add_argument(
        "--buffer-bytes", type=int, metavar="N", help="raise_buffer: this size instead of ours"
    )
    apply.add_argument(
        "--variant",
        choices=["cap", "guest"],
        default="cap",
        help="lower_resolution: limit the video card (cap) or set it in the guest now (guest)",
    )
    apply.add_argument("--guest-user", metavar="USER", help="guest login for --variant guest")
    apply.add_argument(
        "--guest-password-stdin",
        action="store_true",
        help="read the guest password from standard input (otherwise a prompt); never stored",
    )
    _add_change_options(apply)

    undo = sub.add_parser("undo", help="put back the values a journal entry changed")
    _add_connection_options(undo)
    undo.add_argument("entry_id", metavar="ENTRY_ID")
    undo.add_argument(
        "--force", action="store_true", help="undo even if the VM changed since in these settings"
    )
    _add_change_options(undo)

    power_on = sub.add_parser(
        "power-on", help="power a VM on again that a run shut down and could not start"
    )
    _add_connection_options(power_on)
    power_on.add_argument("entry_id", metavar="ENTRY_ID")
    power_on.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    power_on.add_argument("--json", action="store_true", help="machine-readable result")

    journal = sub.add_parser("journal", help="list the change journal (dangling entries first)")
    journal.add_argument("--json", action="store_true", help="machine-readable output")

    lab = sub.add_parser("lab", help="start the training lab and print its connection details")
    lab.add_argument("--scenario", type=Path, metavar="FILE", help="scenario file (default one)")
    lab.add_argument(
        "--port", type=_whole(0, 65535, "port"), default=0, help="port (default: a free one)"
    )
    lab.add_argument(
        "--filler-vms",
        type=_filler_vms,
        default=None,
        metavar="N",
        help="filler VMs around the scenario's own (overrides the scenario's number)",
    )
    lab.add_argument(
        "--delay-ms",
        type=_whole(0, 60_000, "delay in milliseconds"),
        default=0,
        help="latency added to every call",
    )

    tour = sub.add_parser(
        "tour", help="walk the wizard offscreen on a lab scenario, saving a PNG of every page"
    )
    tour.add_argument("--scenario", type=Path, required=True, metavar="FILE")
    tour.add_argument("--vm", dest="tour_vm", required=True, metavar="NAME")
    tour.add_argument("--out", type=Path, required=True, metavar="DIR")
    tour.add_argument(
        "--scale",
        type=_scale,
        action="append",
        help="screen scale from 0.5 to 4; repeat for several (1, 1.5)",
    )
    from wizard import training_cli  # scenario generate/validate, training report

    training_cli.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # The wizard lowers the root level for its own log file; the terminal keeps this level.
    for handler in logging.getLogger().handlers:
        handler.setLevel(level)
    if args.selftest:
        from wizard.selftest import run_selftest

        return run_selftest(strict_keyring=args.selftest_strict_keyring)
    try:
        if args.command == "tour":
            return _cmd_tour(args)
        if args.command == "lab":
            return _cmd_lab(args)
        if args.command == "check":
            return _cmd_check(args, sys.stdout)
        if args.command in ("apply", "undo", "power-on"):
            return _cmd_change(args, sys.stdout)
        if args.command == "journal":
            return _cmd_journal(args, sys.stdout)
        if args.command in ("scenario", "training"):
            from wizard import training_cli

            return training_cli.run(args)
        return _cmd_default(args)
    except CliError as exc:
        print(f"checkpoint-wizard: {exc}", file=sys.stderr)
        return exc.code
    except FolderError as exc:
        # Raised before anything is read or changed: apply and undo open the journal (and
        # every command its data folder) before they connect.
        done = " Nothing was changed." if args.command in ("apply", "undo") else ""
        print(f"checkpoint-wizard: {exc}{done}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        # Ctrl-C during a change is handled where the change runs (_Interrupts); one that
        # lands here came while reading, checking or asking, before anything was changed.
        print("checkpoint-wizard: interrupted; nothing was changed.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) stopped reading: not an error of ours. Point stdout at
        # nothing so the interpreter's final flush does not complain either.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


# --------------------------------------------------------------------------------------- lab


def _whole(low: int, high: int, what: str) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high`` (refused here, exit 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r}: give a {what} from {low} to {high:,}")
        return value

    return parse


def _filler_vms(text: str) -> int:
    """An argparse type: as many filler VMs as a scenario file may ask for, at most."""
    from wizard.lab.scenario import MAX_FILLER_VMS

    return _whole(0, MAX_FILLER_VMS, "number of filler VMs")(text)


class _Stopped(BaseException):
    """A signal asked the command to stop. A BaseException, like KeyboardInterrupt: no
    ``except Exception`` on the way swallows it, and every ``with`` block (the lab's) unwinds."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _stop_on_signals(*names: str) -> Iterator[None]:
    """Turn the named signals (those this system has) into :class:`_Stopped` while the block
    runs. Only the first: a second one while the lab is being stopped is ignored, so the stop
    runs to its end."""
    fired = False

    def handler(signum: int, frame: object) -> None:
        nonlocal fired
        if not fired:
            fired = True
            raise _Stopped(signum)

    previous = {}
    for name in names:
        sig = getattr(signal, name, None)
        if isinstance(sig, signal.Signals):
            previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _stopped(exc: _Stopped, outcome: str) -> int:
    """Say which signal stopped the command and what that left; exit 128 + the signal."""
    name = signal.Signals(exc.signum).name
    print(f"checkpoint-wizard: stopped by {name}; {outcome}.", file=sys.stderr)
    return 128 + exc.signum


def _scenario_path(value: Path | str | None) -> Path:
    """A scenario file from a path or a bundled scenario id (None: the default scenario)."""
    from wizard.lab.scenario import (
        DEFAULT_SCENARIO_ID,
        bundled_scenario_files,
        bundled_scenarios_dir,
    )

    if value is None or value == "":
        return bundled_scenarios_dir() / f"{DEFAULT_SCENARIO_ID}.json"
    path = Path(value)
    if path.exists():
        return path
    bundled = bundled_scenarios_dir() / f"{value}.json"
    if bundled.exists():
        return bundled
    known = ", ".join(p.stem for p in bundled_scenario_files())
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
    """Run the lab until Ctrl+C, SIGTERM or SIGHUP (exit 128 + the signal, the lab stopped)."""
    with _stop_on_signals("SIGINT", "SIGTERM", "SIGHUP"):
        try:
            scenario = _scenario_path(args.scenario)
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
                    # For --trust-ca-fingerprint: the lab's authority, as vCenter's VMCA.
                    "ca_thumbprint_sha256": info.ca_thumbprint_sha256,
                }
                print(json.dumps(ready), flush=True)
                while True:
                    time.sleep(3600)
        except _Stopped as exc:
            return _stopped(exc, "the training lab is stopped")


# ------------------------------------------------------------------------------------- check


@dataclass(frozen=True)
class _Login:
    vcenter: str
    user: str
    password: str
    fingerprint: str | None
    ca_fingerprint: str | None = None


def _login_from_args(args: argparse.Namespace) -> _Login:
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
        password = _stdin_secret("password")
    else:
        from wizard import credentials  # the keyring loads only when it is asked

        password = credentials.load_password(args.vcenter, args.user) or ""
        if not password:
            if not sys.stdin.isatty():
                raise CliError(
                    "no password: pass it with --password-stdin, or remember it in the wizard.",
                    EXIT_USAGE,
                )
            password = _ask_secret(
                f"Password for {args.user} on {args.vcenter}: ", "password", "--password-stdin"
            )
    return _Login(
        args.vcenter, args.user, password, args.trust_fingerprint, args.trust_ca_fingerprint
    )


def _stdin_secret(what: str) -> str:
    """The next line of standard input: a password, which must be text UTF-8 can carry.

    A UTF-8 locale reads standard input strictly (bytes that are not UTF-8 raise); the C locale
    lets them through as escapes, which would reach vCenter's SOAP encoder and crash there.
    Either way: refused here, before anything is sent, without repeating what was read.
    """
    try:
        line = sys.stdin.readline()
        line.encode("utf-8")
    except UnicodeError:
        raise CliError(
            f"the {what} on standard input is not UTF-8 text, so it was not sent to vCenter "
            "and nothing was changed. Send it as UTF-8 (as a UTF-8 terminal or file holds it), "
            "one line.",
            EXIT_USAGE,
        ) from None
    return line.rstrip("\r\n")


def _ask_secret(prompt: str, what: str, option: str) -> str:
    """Ask for a password on the terminal; the end of input (Ctrl-D) is no answer."""
    try:
        return getpass.getpass(prompt)
    except EOFError:
        print(file=sys.stderr)  # the prompt's line was left open
        raise CliError(
            f"no {what} was typed (the input ended at the prompt); nothing was changed. "
            f"Type the {what} at the prompt, or send it with {option}.",
            EXIT_USAGE,
        ) from None


def _answer(prompt: str) -> str:
    """Ask a yes/no question on the terminal; the end of input (Ctrl-D) refuses."""
    try:
        return input(prompt)
    except EOFError:
        print(file=sys.stderr)  # the question's line was left open
        raise CliError(
            "no answer (the input ended at the question), so nothing was changed. Run the "
            "command again and answer y or n, or review the changes with 'check' and add --yes.",
            EXIT_REFUSED,
        ) from None


@contextlib.contextmanager
def _session(login: _Login, timeout: float) -> Iterator[Session]:
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
        raise CliError(f"{exc.message} {exc.next_step}", _error_exit(exc)) from None
    try:
        yield session
    finally:
        session.close()


def _cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    if not args.check_vm and not args.check_moref and not args.all:
        raise CliError("say which VM: --vm NAME, --moref ID, or --all for every VM.", EXIT_USAGE)
    if args.scenario is not None:
        with _stop_on_signals("SIGTERM", "SIGHUP"):
            try:
                with _running_lab(_scenario_path(args.scenario)) as info:
                    login = _Login(
                        f"{info.host}:{info.port}", info.user, info.password, info.thumbprint_sha256
                    )
                    return _check(args, login, out)
            except _Stopped as exc:
                return _stopped(exc, "the training lab is stopped, nothing was changed")
    return _check(args, _login_from_args(args), out)


def _check(args: argparse.Namespace, login: _Login, out: TextIO) -> int:
    from wizard import render
    from wizard.vsphere.errors import VsphereError
    from wizard.vsphere.facts import collect_all_facts, collect_facts

    with _session(login, args.timeout) as session:
        try:
            if args.all:
                all_facts = collect_all_facts(session, evidence_days=args.evidence_days)
            else:
                ref = _one_vm(session, args.check_vm, args.check_moref)
                all_facts = [
                    collect_facts(
                        session,
                        ref.moref,
                        evidence_days=args.evidence_days,
                        read_log=args.read_log,
                    )
                ]
        except VsphereError as exc:
            raise CliError(f"{exc.message} {exc.next_step}", _error_exit(exc)) from None
        # before logging out: the verdict does not wait for the logout's round trip
        report = render.check_report(
            all_facts, scan=args.all, as_json=args.json, detail=args.detail, version=__version__
        )
        out.write(report)
        out.flush()
    return EXIT_OK


def _one_vm(session: Session, name: str | None, moref: str | None) -> VmRef:
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


# ------------------------------------------------------------------------ apply, undo, journal


def _cmd_change(args: argparse.Namespace, out: TextIO) -> int:
    """``apply`` and ``undo``: connect (or start the lab), then change one VM."""
    if args.scenario is not None:
        with _running_lab(_scenario_path(args.scenario)) as info:
            login = _Login(
                f"{info.host}:{info.port}", info.user, info.password, info.thumbprint_sha256
            )
            return _change(args, login, out)
    return _change(args, _login_from_args(args), out)


def _guest_credentials(args: argparse.Namespace) -> tuple[str, str] | None:
    """The guest login for ``--variant guest``: asked for each time, never stored."""
    if getattr(args, "variant", None) != "guest" or args.remedy != "lower_resolution":
        return None
    if not args.guest_user:
        raise CliError("--variant guest needs --guest-user USER (a guest login).", EXIT_USAGE)
    if args.guest_password_stdin:
        password = _stdin_secret("guest password")
    elif sys.stdin.isatty():
        password = _ask_secret(
            f"Guest password for {args.guest_user}: ", "guest password", "--guest-password-stdin"
        )
    else:
        raise CliError(
            "no guest password: pass it with --guest-password-stdin, or run on a terminal.",
            EXIT_USAGE,
        )
    return args.guest_user, password


def _exit_code(outcome: str, reason: str | None) -> int:
    if outcome in ("applied", "nothing_to_do"):
        return EXIT_OK
    if reason in ("vm_gone",):
        return EXIT_NOT_FOUND
    if reason in ("journal_failed",):
        return EXIT_FAILED
    if reason in ("connection", "session"):
        return EXIT_CONNECTION
    if outcome in ("refused", "cancelled"):
        return EXIT_REFUSED
    return EXIT_FAILED


def _change(args: argparse.Namespace, login: _Login, out: TextIO) -> int:
    from wizard.audit import Journal, JournalError
    from wizard.kb import InvalidRemedyOptions, RemedyOptions, assess, remedies
    from wizard.kb.facts import PowerState
    from wizard.kb.plan import (
        CannotUndo,
        UnreadableChange,
        change_from_json,
        needs_power_off,
        undo_changes,
    )
    from wizard.vsphere.errors import VmNotFound, VsphereError
    from wizard.vsphere.executor import (
        ApplyRequest,
        Executor,
        GuestCredentials,
    )
    from wizard.vsphere.facts import collect_facts

    guest = _guest_credentials(args) if args.command == "apply" else None
    journal = Journal()
    stopping = _Interrupts()

    def progress(update: StepUpdate) -> None:
        stopping.seen(update)
        if update.state != "running" or update.progress in (None, 0):
            print(f"  {update.step}: {update.state}: {update.message}", file=sys.stderr)

    with _session(login, args.timeout) as session:
        executor = Executor(session, journal, on_progress=progress, cancel=stopping.event)
        if args.command == "power-on":
            return _power_on(args, executor, journal, stopping, out)
        try:
            for rec in executor.reconcile_dangling():
                print(
                    f"checkpoint-wizard: an earlier run did not finish (entry {rec.entry_id}): "
                    f"{rec.message}",
                    file=sys.stderr,
                )
            if args.command == "apply":
                try:
                    options = RemedyOptions(
                        buffer_bytes=args.buffer_bytes, lower_resolution_variant=args.variant
                    )
                    ref = _one_vm(session, args.apply_vm, args.apply_moref)
                    facts = collect_facts(session, ref.moref)
                    found = remedies(assess(facts), facts, options=options)
                except InvalidRemedyOptions as exc:
                    raise CliError(str(exc), EXIT_USAGE) from None
                remedy = next(r for r in found if r.id.value == args.remedy)
                changes = remedy.changes
                off = remedy.needs_power_off and facts.power_state != PowerState.OFF
                name, power = facts.name, facts.power_state
                if not remedy.available:
                    off = False
            else:
                entry = journal.read().entry(args.entry_id)
                if entry is None:
                    raise CliError(
                        f"there is no journal entry {args.entry_id}; list them with "
                        "'checkpoint-wizard journal'.",
                        EXIT_USAGE,
                    )
                try:
                    changes = undo_changes(change_from_json(c) for c in entry.changes)
                except (CannotUndo, UnreadableChange) as exc:
                    raise CliError(
                        f"entry {entry.id} cannot be undone: {exc}", EXIT_REFUSED
                    ) from None
                name = entry.vm.name
                power = collect_facts(session, entry.vm.moref).power_state
                off = needs_power_off(changes) and power != PowerState.OFF
            allow_shutdown = args.allow_shutdown
            if not args.yes:
                allow_shutdown = _confirm(
                    name, power, changes, off, args, allow_shutdown, sys.stderr
                )
            if args.command == "apply":
                with stopping.armed():
                    result = executor.apply(
                        ApplyRequest(
                            facts,
                            remedy,
                            allow_shutdown=allow_shutdown,
                            allow_hard_poweroff=args.allow_hard_poweroff,
                            leave_powered_off=args.leave_powered_off,
                            guest_credentials=GuestCredentials(*guest) if guest else None,
                            shutdown_timeout=args.shutdown_timeout,
                        )
                    )
            else:
                with stopping.armed():
                    result = executor.undo(
                        args.entry_id,
                        force=args.force,
                        allow_shutdown=allow_shutdown,
                        allow_hard_poweroff=args.allow_hard_poweroff,
                        leave_powered_off=args.leave_powered_off,
                        shutdown_timeout=args.shutdown_timeout,
                    )
        except VmNotFound as exc:
            raise CliError(f"{exc.message} {exc.next_step}", EXIT_NOT_FOUND) from None
        except VsphereError as exc:
            raise CliError(f"{exc.message} {exc.next_step}", _error_exit(exc)) from None
        except JournalError as exc:
            raise CliError(str(exc), EXIT_FAILED) from None

    return _print_result(result, args, out)


def _print_result(result: ApplyResult, args: argparse.Namespace, out: TextIO) -> int:
    from wizard.vsphere.executor import result_to_json

    code = _exit_code(result.outcome.value, result.reason.value if result.reason else None)
    if args.json:
        json.dump(result_to_json(result), out, indent=2, ensure_ascii=False)
        out.write("\n")
        return code
    out.write(f"{result.outcome.value.upper().replace('_', ' ')}: {result.message}\n")
    for d in result.differences:
        out.write(f"  changed since: {d.describe()}\n")
    for c in result.checks:
        mark = "ok " if c.in_place else "NOT"
        out.write(f"  [{mark}] {c.change.key}: {c.change.before} -> {c.change.after}\n")
    if result.next_step:
        out.write(f"Next: {result.next_step}\n")
    if result.entry_id:
        out.write(f"Journal entry: {result.entry_id}\n")
    return code


class _Interrupts:
    """Ctrl-C during a change: stop at the next safe point and say what that means now.

    Killing a run between "the change was sent" and "the VM is on again" is what leaves a VM
    off or a journal wrong, so the first Ctrl-C asks the executor to stop at its next safe
    point, and the message says what will happen given the step the run is in.
    """

    def __init__(self) -> None:
        self.event = threading.Event()
        self._last: tuple[str, str] = ("", "")
        self._changed = False
        self._presses = 0

    def seen(self, update: StepUpdate) -> None:
        self._last = (update.step, update.state)
        if update.step in ("reconfigure", "guest_resolution") and update.state in (
            "running",
            "done",
        ):
            self._changed = self._changed or update.state == "done" or "Sending" in update.message

    @contextlib.contextmanager
    def armed(self) -> Iterator[None]:
        previous = signal.signal(signal.SIGINT, self._on_interrupt)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def _on_interrupt(self, signum: int, frame: object) -> None:
        self._presses += 1
        self.event.set()
        step, state = self._last
        if self._presses > 1:
            text = (
                "still finishing safely; the VM must not be left half-way (the journal would "
                "then have to be settled by the next run)."
            )
        elif self._changed:
            text = (
                "too late to stop: the change has been sent to vCenter. Finishing it (power-on "
                "and verification), then stopping."
            )
        elif step in ("shutdown", "power_off") and state == "running":
            text = (
                "stopping after the shutdown: the guest is already going down. Once it is off "
                "it is powered on again, and nothing is changed."
            )
        else:
            text = "stopping before the next step; nothing more will be changed."
        print(f"checkpoint-wizard: Ctrl-C: {text}", file=sys.stderr, flush=True)


def _power_on(
    args: argparse.Namespace,
    executor: Executor,
    journal: Journal,
    stopping: _Interrupts,
    out: TextIO,
) -> int:
    """``power-on ENTRY``: start the VM that entry left off (asks first unless ``--yes``)."""
    entry = journal.read().entry(args.entry_id)
    if entry is None:
        raise CliError(
            f"there is no journal entry {args.entry_id}; list them with "
            "'checkpoint-wizard journal'.",
            EXIT_USAGE,
        )
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError(
                "not confirmed: there is no terminal to ask on. Add --yes to power it on.",
                EXIT_REFUSED,
            )
        answer = _answer(f"Power on {entry.vm.name} (journal entry {entry.id})? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise CliError("not confirmed; nothing was changed.", EXIT_REFUSED)
    with stopping.armed():
        result = executor.retry_power_on(entry.id)
    return _print_result(result, args, out)


def _confirm(
    name: str,
    power: str,
    changes: Sequence[object],
    off: bool,
    args: argparse.Namespace,
    allow_shutdown: bool,
    err: TextIO,
) -> bool:
    """Show the changes and the disruption, and ask. Returns the shutdown consent."""
    from wizard.kb.model import Change

    if not sys.stdin.isatty():
        raise CliError(
            "not confirmed: there is no terminal to ask on. Review the changes (run 'check'), "
            "then add --yes.",
            EXIT_REFUSED,
        )
    print(f"{args.command.capitalize()} on {name} ({power}):", file=err)
    for change in changes:
        assert isinstance(change, Change)
        before = "(not set)" if change.before is None else change.before
        after = "(removed)" if change.after is None else change.after
        print(f"  {change.target.value} {change.key}: {before} -> {after}", file=err)
    if not changes:
        print("  nothing to change", file=err)
    if off:
        how = "powered off hard" if args.allow_hard_poweroff else "shut down through VMware Tools"
        back = "left off" if args.leave_powered_off else "powered on again"
        print(f"  Disruption: the VM is {how}, changed, and {back}.", file=err)
    if _answer("Go ahead? [y/N] ").strip().lower() not in ("y", "yes"):
        raise CliError("not confirmed; nothing was changed.", EXIT_REFUSED)
    if off and not allow_shutdown and not args.allow_hard_poweroff:
        answer = _answer(f"Shut down the guest of {name} now (warn the user first)? [y/N] ")
        allow_shutdown = answer.strip().lower() in ("y", "yes")
    return allow_shutdown


def _cmd_journal(args: argparse.Namespace, out: TextIO) -> int:
    """List the journal's entries, dangling ones first and marked."""
    from wizard.audit import Journal

    reading = Journal().read()
    dangling = reading.dangling
    if args.json:
        doc = {
            "dangling": [e.id for e in dangling],
            "problems": [{"line": p.line, "reason": p.reason} for p in reading.problems],
            "entries": [
                {
                    "id": e.id,
                    "action": e.action,
                    "started": e.started,
                    "vcenter": e.vcenter,
                    "user": e.user,
                    "vm": {
                        "name": e.vm.name,
                        "moref": e.vm.moref,
                        "instance_uuid": e.vm.instance_uuid,
                    },
                    "remedy": e.remedy,
                    "undo_of": e.undo_of,
                    "changes": list(e.changes),
                    "outcome": e.outcome,
                    "dangling": e.is_dangling,
                    "dangling_step": e.dangling_step,
                }
                for e in reading.entries
            ],
        }
        json.dump(doc, out, indent=2, ensure_ascii=False)
        out.write("\n")
        return EXIT_OK
    if dangling:
        out.write(f"!! {len(dangling)} entr{'y' if len(dangling) == 1 else 'ies'} did not finish ")
        out.write("(the process ended mid-way); they are reconciled at the next apply or undo:\n")
        for e in dangling:
            step = e.dangling_step or "end"
            out.write(f"!! {e.id}  {e.started}  {e.action} {e.remedy or ''} on {e.vm.name} ")
            out.write(f"({e.vm.moref}), stopped in step {step}\n")
    for e in reading.entries:
        changes = ", ".join(f"{c.get('key')}: {c.get('from')} -> {c.get('to')}" for c in e.changes)
        mark = "!!" if e.is_dangling else "  "
        out.write(
            f"{mark} {e.id}  {e.started}  {e.action:<8} {e.remedy or '-':<16} {e.vm.name} "
            f"({e.vm.moref})  {e.outcome or 'UNFINISHED'}  {changes}\n"
        )
    for p in reading.problems:
        out.write(f"   line {p.line}: {p.reason}\n")
    if not reading.entries:
        out.write("The journal is empty.\n")
    return EXIT_OK


# ----------------------------------------------------------------------------------- default


def _cmd_default(args: argparse.Namespace) -> int:
    """Open the wizard; in training mode on the embedded lab when asked."""
    import os

    scenario = _scenario_path(args.training) if args.training is not None else None
    if (
        sys.platform.startswith("linux")
        and not os.environ.get("QT_QPA_PLATFORM")
        and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    ):
        raise CliError(
            "there is no screen to open the wizard on (neither DISPLAY nor WAYLAND_DISPLAY is "
            "set). Run it from a desktop session, or under a virtual screen with "
            "'xvfb-run -a', or use the command line: 'checkpoint-wizard check --scenario "
            f"{scenario or _scenario_path(None)} --all'.",
            EXIT_USAGE,
        )
    from wizard.ui.app import run_gui

    return run_gui(training_scenario=scenario, vm=args.vm)


def _cmd_tour(args: argparse.Namespace) -> int:
    from wizard.ui.tour import TourError, TourVmNotFound, run_tour

    if not args.tour_vm.strip():
        raise CliError("say which VM to walk through: --vm NAME.", EXIT_USAGE)
    scenario = _scenario_path(args.scenario)
    _writable_folder(args.out)
    try:
        for scale in args.scale or [1.0, 1.5]:
            for path in run_tour(scenario, args.tour_vm, args.out, scale):
                print(path)
    except TourVmNotFound as exc:
        raise CliError(
            f"the tour stopped at Choose VM: {exc} Give --vm the name of exactly one VM of the "
            "scenario.",
            EXIT_NOT_FOUND,
        ) from None
    except TourError as exc:
        raise CliError(
            f"the tour stopped: {str(exc).rstrip('.')}. Run it again; if it stops at the same "
            "place, report it with the pictures saved so far.",
            EXIT_FAILED,
        ) from None
    return EXIT_OK


def _writable_folder(path: Path) -> None:
    """Create ``path`` if needed and make sure a file can be written in it (for --out)."""
    import tempfile

    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise CliError(
            f"the pictures cannot be saved in {path} ({exc.strerror or exc}). Give --out a "
            "folder you can write to (it is created if it does not exist).",
            EXIT_USAGE,
        ) from None
