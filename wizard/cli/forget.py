"""``checkpoint-wizard forget-passwords``: remove every password the product remembered.

Passwords live only in the OS password store (``wizard.credentials``), under the vCenter and
user the technician signed in with. Which ones exist is known from the settings file's list of
recent vCenters (``gui.json``, written by ``wizard.ui.settings``): every vCenter and user in it
is looked up and its password, if any, deleted; the list keeps the vCenters (they are no
secret) but no longer marks any password as remembered. The Windows uninstaller runs this
command when "Also forget my remembered passwords" is ticked (``/FORGETPASSWORDS``), because
uninstalling the program does not touch the Credential Manager.

Exit codes: 0 done (also when there was nothing to forget), 2 a question declined or a
settings file that cannot be read, 6 a password that the store would not delete.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from wizard import paths

COMMAND = "forget-passwords"
EXIT_OK = 0
EXIT_USAGE = 2
EXIT_FAILED = 6


@dataclass(frozen=True)
class Outcome:
    """What happened to each login's password."""

    forgotten: tuple[tuple[str, str], ...]
    failed: tuple[tuple[str, str], ...]
    checked: int


def settings_file() -> Path:
    """The settings file that lists the vCenters signed in to (``wizard.ui.settings``)."""
    return paths.config_dir() / "gui.json"


def _read(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return data if isinstance(data, dict) else {}


def logins(path: Path | None = None) -> list[tuple[str, str]]:
    """Every (vCenter, user) of the recent list, remembered or not, in the list's order.

    Raises:
        OSError, ValueError: the settings file cannot be read or is not JSON.
    """
    recent = _read(path or settings_file()).get("recent", [])
    found: list[tuple[str, str]] = []
    if isinstance(recent, list):
        for item in recent:
            if isinstance(item, dict) and isinstance(item.get("endpoint"), str):
                login = (str(item["endpoint"]), str(item.get("user", "")))
                if login not in found:
                    found.append(login)
    return found


def forget_all(path: Path | None = None) -> Outcome:
    """Delete the remembered password of every login the settings list, then unmark them.

    Raises:
        OSError, ValueError: the settings file cannot be read or is not JSON.
    """
    from wizard import credentials  # the keyring library loads only for this command

    where = path or settings_file()
    known = logins(where)
    forgotten: list[tuple[str, str]] = []
    failed: list[tuple[str, str]] = []
    for vcenter, user in known:
        if credentials.load_password(vcenter, user) is None:
            continue
        credentials.forget_password(vcenter, user)
        # The store says nothing useful when a delete fails: read back to know.
        if credentials.load_password(vcenter, user) is None:
            forgotten.append((vcenter, user))
        else:
            failed.append((vcenter, user))
    data = _read(where)
    recent = data.get("recent")
    if isinstance(recent, list) and any(isinstance(i, dict) and i.get("remember") for i in recent):
        for item in recent:
            login = (
                (str(item.get("endpoint")), str(item.get("user", "")))
                if isinstance(item, dict)
                else None
            )
            if isinstance(item, dict) and login not in failed:
                item["remember"] = False
        tmp = where.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
        tmp.replace(where)
    return Outcome(tuple(forgotten), tuple(failed), len(known))


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    """The command's arguments, on the command line's parser."""
    command = sub.add_parser(
        COMMAND,
        help="remove every password this program remembered from the OS password store",
    )
    command.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run ``forget-passwords`` (printing to stdout and stderr); returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    from wizard import credentials

    store = credentials.store_name()
    try:
        known = logins()
    except (OSError, ValueError) as exc:
        print(
            f"checkpoint-wizard: the settings file {settings_file()} cannot be read ({exc}); "
            f"remove the entries named checkpoint-wizard:<vCenter> from the {store} by hand.",
            file=err,
        )
        return EXIT_USAGE
    if not known:
        print("Nothing to forget: no vCenter was signed in to from this account.", file=out)
        return EXIT_OK
    if not args.yes and sys.stdin is not None and sys.stdin.isatty():
        answer = input(
            f"Forget the passwords of {len(known)} vCenter login(s) in the {store}? [y/N] "
        )
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing was forgotten.", file=out)
            return EXIT_USAGE
    outcome = forget_all()
    for vcenter, user in outcome.forgotten:
        print(f"Forgot the password of {user} on {vcenter}.", file=out)
    for vcenter, user in outcome.failed:
        print(
            f"checkpoint-wizard: the {store} kept the password of {user} on {vcenter}: "
            f"remove checkpoint-wizard:{vcenter.lower()} there by hand.",
            file=err,
        )
    if not outcome.forgotten and not outcome.failed:
        print(f"No password was remembered in the {store}: nothing to forget.", file=out)
    return EXIT_FAILED if outcome.failed else EXIT_OK
