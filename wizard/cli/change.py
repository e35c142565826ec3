"""``apply``, ``undo`` and ``power-on``: the commands that change a VM.

Each shows what it will change and the disruption, and asks unless ``--yes``; before changing
anything it settles dangling journal entries of the same vCenter. The run itself is the
executor's (:mod:`wizard.vsphere.executor`); Ctrl-C is handled by :mod:`wizard.cli.interrupts`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from wizard.cli.connect import Login, connected, login_from_args, one_vm
from wizard.cli.exits import (
    EXIT_CONNECTION,
    EXIT_FAILED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    CliError,
    error_exit,
)
from wizard.cli.interrupts import Interrupts
from wizard.cli.lab import running_lab, scenario_path
from wizard.cli.options import MOREF_HELP, add_change_options, add_connection_options
from wizard.cli.prompts import ask, ask_secret, stdin_secret

if TYPE_CHECKING:
    from wizard.audit import Journal, JournalEntry
    from wizard.vsphere.executor import Executor
    from wizard.vsphere.results import ApplyResult, StepUpdate


def add_parsers(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``apply``, ``undo`` and ``power-on``."""
    apply = sub.add_parser("apply", help="apply one of the article's workarounds to a VM")
    add_connection_options(apply)
    vm = apply.add_mutually_exclusive_group(required=True)
    vm.add_argument("--vm", dest="apply_vm", metavar="NAME", help="name, path, DNS name or IP")
    vm.add_argument("--moref", dest="apply_moref", metavar="ID", help=MOREF_HELP)
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
    add_change_options(apply)

    undo = sub.add_parser("undo", help="put back the values a journal entry changed")
    add_connection_options(undo)
    undo.add_argument("entry_id", metavar="ENTRY_ID")
    undo.add_argument(
        "--force", action="store_true", help="undo even if the VM changed since in these settings"
    )
    add_change_options(undo)

    power_on = sub.add_parser(
        "power-on", help="power a VM on again that a run shut down and could not start"
    )
    add_connection_options(power_on)
    power_on.add_argument("entry_id", metavar="ENTRY_ID")
    power_on.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    power_on.add_argument("--json", action="store_true", help="machine-readable result")


def run(args: argparse.Namespace, out: TextIO) -> int:
    """``apply`` and ``undo``: connect (or start the lab), then change one VM."""
    if args.scenario is not None:
        with running_lab(scenario_path(args.scenario)) as info:
            return _change(args, Login.of_lab(info), out)
    return _change(args, login_from_args(args), out)


def _guest_credentials(args: argparse.Namespace) -> tuple[str, str] | None:
    """The guest login for ``--variant guest``: asked for each time, never stored."""
    if getattr(args, "variant", None) != "guest" or args.remedy != "lower_resolution":
        return None
    if not args.guest_user:
        raise CliError("--variant guest needs --guest-user USER (a guest login).", EXIT_USAGE)
    if args.guest_password_stdin:
        password = stdin_secret("guest password")
    elif sys.stdin.isatty():
        password = ask_secret(
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


def _change(args: argparse.Namespace, login: Login, out: TextIO) -> int:
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
    from wizard.vsphere.executor import Executor
    from wizard.vsphere.facts import collect_facts
    from wizard.vsphere.results import ApplyRequest, GuestCredentials

    guest = _guest_credentials(args) if args.command == "apply" else None
    journal = Journal()
    stopping = Interrupts()

    def progress(update: StepUpdate) -> None:
        stopping.seen(update)
        if update.state != "running" or update.progress in (None, 0):
            print(f"  {update.step}: {update.state}: {update.message}", file=sys.stderr)

    with connected(login, args.timeout) as session:
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
                    ref = one_vm(session, args.apply_vm, args.apply_moref)
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
                entry = _journal_entry(journal, args.entry_id)
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
            raise CliError(f"{exc.message} {exc.next_step}", error_exit(exc)) from None
        except JournalError as exc:
            raise CliError(str(exc), EXIT_FAILED) from None

    return print_result(result, args, out)


def print_result(result: ApplyResult, args: argparse.Namespace, out: TextIO) -> int:
    from wizard.vsphere.results import result_to_json

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


def _journal_entry(journal: Journal, entry_id: str) -> JournalEntry:
    """The entry ``undo`` or ``power-on`` names; one that does not exist is a usage error."""
    entry = journal.read().entry(entry_id)
    if entry is None:
        raise CliError(
            f"there is no journal entry {entry_id}; list them with 'checkpoint-wizard journal'.",
            EXIT_USAGE,
        )
    return entry


def _power_on(
    args: argparse.Namespace,
    executor: Executor,
    journal: Journal,
    stopping: Interrupts,
    out: TextIO,
) -> int:
    """``power-on ENTRY``: start the VM that entry left off (asks first unless ``--yes``)."""
    entry = _journal_entry(journal, args.entry_id)
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError(
                "not confirmed: there is no terminal to ask on. Add --yes to power it on.",
                EXIT_REFUSED,
            )
        answer = ask(f"Power on {entry.vm.name} (journal entry {entry.id})? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise CliError("not confirmed; nothing was changed.", EXIT_REFUSED)
    with stopping.armed():
        result = executor.retry_power_on(entry.id)
    return print_result(result, args, out)


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
    if ask("Go ahead? [y/N] ").strip().lower() not in ("y", "yes"):
        raise CliError("not confirmed; nothing was changed.", EXIT_REFUSED)
    if off and not allow_shutdown and not args.allow_hard_poweroff:
        answer = ask(f"Shut down the guest of {name} now (warn the user first)? [y/N] ")
        allow_shutdown = answer.strip().lower() in ("y", "yes")
    return allow_shutdown
