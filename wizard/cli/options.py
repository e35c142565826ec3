"""The options and argument types the commands share.

Each type refuses a bad value while the arguments are read (exit 2, the usage line and what to
give instead), never deep in a command after something has happened.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from wizard.cli.exits import EXIT_USAGE

_MAX_CALL_TIMEOUT_S = 3600.0
_MAX_SHUTDOWN_TIMEOUT_S = 24 * 3600.0
_MAX_EVIDENCE_DAYS = 3650
_MIN_SCALE = 0.5
_MAX_SCALE = 4.0


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(
            EXIT_USAGE, f"{self.prog}: {message}\nRun '{self.prog} --help' for the options.\n"
        )


def seconds(limit: float) -> Callable[[str], float]:
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


def days(text: str) -> int:
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


def scale(text: str) -> float:
    """An argparse type: a screen scale from 0.5 to 4 (Qt cannot draw at 0, below or at NaN)."""
    wanted = f"give a screen scale from {_MIN_SCALE:g} to {_MAX_SCALE:g} (e.g. 1 or 1.5)"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number: {wanted}") from None
    if not math.isfinite(value) or not _MIN_SCALE <= value <= _MAX_SCALE:
        raise argparse.ArgumentTypeError(f"{text!r}: {wanted}")
    return value


def window_size(text: str) -> tuple[int, int]:
    """An argparse type: a window size WIDTHxHEIGHT in logical pixels, e.g. 1024x600."""
    wanted = "give the window size as WIDTHxHEIGHT, e.g. 1024x600"
    width, _, height = text.lower().partition("x")
    if not (width.isdigit() and height.isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r}: {wanted}")
    if not (400 <= int(width) <= 8000 and 300 <= int(height) <= 8000):
        raise argparse.ArgumentTypeError(f"{text!r}: {wanted}, from 400x300 to 8000x8000")
    return int(width), int(height)


def fingerprint(text: str) -> str:
    """An argparse type: a SHA-256 fingerprint, in any of the usual spellings."""
    from wizard.vsphere.tls import normalize_fingerprint

    try:
        return normalize_fingerprint(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def whole(low: int, high: int, what: str) -> Callable[[str], int]:
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


def filler_vms(text: str) -> int:
    """An argparse type: as many filler VMs as a scenario file may ask for, at most."""
    from wizard.lab.scenario import MAX_FILLER_VMS

    return whole(0, MAX_FILLER_VMS, "number of filler VMs")(text)


def add_connection_options(p: argparse.ArgumentParser) -> None:
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
        type=fingerprint,
        help="accept an untrusted certificate only if its SHA-256 fingerprint is this one",
    )
    g.add_argument(
        "--trust-ca-fingerprint",
        metavar="SHA256",
        type=fingerprint,
        help="accept an untrusted certificate if the vCenter's own certificate authority, "
        "fetched from the vCenter and compared with this SHA-256 fingerprint, issued it for the "
        "name given with --vcenter (renewed certificates then pass too; nothing is stored)",
    )
    g.add_argument(
        "--timeout",
        type=seconds(_MAX_CALL_TIMEOUT_S),
        default=None,  # the administrator's policy, else 30 (wizard.cli.connect.apply_policy)
        help="seconds for each call (default: the administrator's policy, else 30)",
    )
    g.add_argument(
        "--scenario",
        type=Path,
        metavar="FILE",
        help="start the training lab with this scenario, work on it, and stop it afterwards",
    )


def add_change_options(p: argparse.ArgumentParser) -> None:
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
        type=seconds(_MAX_SHUTDOWN_TIMEOUT_S),
        default=None,  # the administrator's policy, else 300 (wizard.cli.connect.apply_policy)
        metavar="SECONDS",
        help="how long to wait for the guest to shut down "
        "(default: the administrator's policy, else 300)",
    )
    g.add_argument("--yes", action="store_true", help="do not ask: the changes are confirmed")
    g.add_argument("--json", action="store_true", help="machine-readable result on stdout")


MOREF_HELP = "the VM's managed object id, e.g. vm-42 (matches ids only, never names)"
