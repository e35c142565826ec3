"""``scenario export``: a real VM, read read-only, as a training scenario.

It connects like every command (:mod:`wizard.cli.connect`: ``--vcenter``/``--user`` and the
password from standard input, the keyring or a prompt; or ``--scenario`` to export from a
training lab), reads the VM with the same reads as ``check`` and writes the scenario that
:mod:`wizard.lab.export` builds from those facts, names made up unless ``--keep-names``.

Exit codes as ``check``: 0 written, 2 bad input (a folder for ``--out``, a wrong ``--id``, a name
the lab cannot carry), 3 connection, login or certificate, 4 VM not found or ambiguous.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from wizard.cli.connect import Login, connected, one_vm
from wizard.cli.exits import EXIT_OK, EXIT_USAGE, CliError, error_exit
from wizard.cli.files import write_atomically
from wizard.cli.lab import with_login
from wizard.cli.options import add_connection_options, days


def add_parser(actions: argparse._SubParsersAction[Any]) -> None:
    """Add ``export`` to the ``scenario`` actions."""
    exp = actions.add_parser(
        "export",
        help="make a training scenario from a real VM (read-only; names made up unless kept)",
    )
    add_connection_options(exp)
    vm = exp.add_mutually_exclusive_group(required=True)
    vm.add_argument("--vm", dest="export_vm", metavar="NAME", help="name, path, DNS name or IP")
    vm.add_argument("--moref", dest="export_moref", metavar="ID", help="managed object id")
    exp.add_argument("--out", type=Path, required=True, metavar="FILE", help="the scenario file")
    exp.add_argument(
        "--keep-names",
        action="store_true",
        help="keep the real VM, host, cluster, datacenter and user names (default: made up)",
    )
    exp.add_argument(
        "--id", dest="scenario_id", metavar="ID", help="the scenario's id (default: from FILE)"
    )
    exp.add_argument(
        "--evidence-days",
        type=days,
        default=None,  # the administrator's policy, else 30 (wizard.cli.connect.apply_policy)
        metavar="N",
        help="how far back a failed migration counts as seen "
        "(default: the administrator's policy, else 30)",
    )


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Read one VM (read-only) and write the scenario that reproduces it."""
    from wizard.lab.scenario import ID_PATTERN, MAX_ID_LENGTH

    target: Path = args.out
    if target.is_dir():
        raise CliError(f"{target} is a folder: give a file name. Nothing was read.", EXIT_USAGE)
    if args.scenario_id is not None and not (
        ID_PATTERN.fullmatch(args.scenario_id) and len(args.scenario_id) <= MAX_ID_LENGTH
    ):
        raise CliError(
            f"--id {args.scenario_id!r}: give lowercase words joined by hyphens, e.g. "
            "ticket-4711 (at most 64 characters).",
            EXIT_USAGE,
        )
    return with_login(
        args,
        lambda login: _export(args, login, out),
        "the training lab is stopped, nothing was written",
    )


def _export(args: argparse.Namespace, login: Login, out: TextIO) -> int:
    from wizard.kb.rules import plural
    from wizard.lab.export import ExportError, default_id, export_scenario
    from wizard.vsphere.errors import VsphereError
    from wizard.vsphere.facts import collect_facts

    target: Path = args.out
    with connected(login, args.timeout) as session:
        try:
            ref = one_vm(session, args.export_vm, args.export_moref)
            facts = collect_facts(session, ref.moref, evidence_days=args.evidence_days)
        except VsphereError as exc:
            raise CliError(f"{exc.message} {exc.next_step}", error_exit(exc)) from None
    scenario_id = args.scenario_id or default_id(target.stem, facts.name if args.keep_names else "")
    try:
        case = export_scenario(
            facts, user=login.user, keep_names=args.keep_names, scenario_id=scenario_id
        )
    except ExportError as exc:
        raise CliError(f"{exc} Nothing was written.", EXIT_USAGE) from None
    write_atomically(target, case.text)
    names = "real names kept" if args.keep_names else f"{plural(case.renamed, 'name')} made up"
    print(
        f"Wrote {target}: {case.vm} ({names}); in the lab it is {case.lab[0].value}"
        f"{' with ' + case.lab[1].value if case.lab[1] else ''}"
        f"{', as the real VM' if case.same else ''}. Check it with: scenario validate {target}",
        file=out,
    )
    for warning in case.warnings:
        print(f"checkpoint-wizard: warning: {warning}.", file=sys.stderr)
    return EXIT_OK
