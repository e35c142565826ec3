"""The command line's parser and ``main``: which command runs, and what an error prints."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from wizard import __version__
from wizard.cli import change, check, connect, forget, gui, journal, lab, training
from wizard.cli.exits import EXIT_OK, EXIT_USAGE, CliError
from wizard.cli.options import Parser
from wizard.paths import FolderError


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
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
    sub = parser.add_subparsers(dest="command", parser_class=Parser)

    # The order here is the order of the commands in --help.
    check.add_parser(sub)
    change.add_parsers(sub)
    journal.add_parser(sub)
    lab.add_parser(sub)
    gui.add_tour_parser(sub)
    training.add_parsers(sub)  # scenario generate/validate/export, training report/exam/verify
    forget.add_parser(sub)  # forget-passwords (the uninstaller runs it too)
    policy = sub.add_parser("policy", help="check the administrator's policy file")
    policy.add_argument("file", nargs="?", type=Path, help="default: this computer's")
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
        if args.command in ("check", "apply", "undo", "power-on") or (
            args.command == "scenario" and args.scenario_command == "export"
        ):
            connect.apply_policy(args, sys.stderr)
        if args.command == "tour":
            return gui.tour_command(args)
        if args.command == "lab":
            return lab.run(args)
        if args.command == "check":
            return check.run(args, sys.stdout)
        if args.command in ("apply", "undo", "power-on"):
            return change.run(args, sys.stdout)
        if args.command == "journal":
            return journal.run(args, sys.stdout)
        if args.command == "policy":
            from wizard.policy import run_check

            return run_check(args.file)
        if args.command == "forget-passwords":
            return forget.run(args)
        if args.command in ("scenario", "training"):
            return training.run(args)
        return gui.open_wizard(args)
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
        # Ctrl-C during a change is handled where the change runs (wizard.cli.interrupts); one that
        # lands here came while reading, checking or asking, before anything was changed.
        print("checkpoint-wizard: interrupted; nothing was changed.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) stopped reading: not an error of ours. Point stdout at
        # nothing so the interpreter's final flush does not complain either.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
