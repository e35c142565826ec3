"""``check``: the verdict for one VM or a whole inventory, as text or JSON. Reads only."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from wizard import __version__
from wizard.cli.connect import Login, connected, one_vm
from wizard.cli.exits import EXIT_OK, EXIT_USAGE, CliError, error_exit
from wizard.cli.lab import with_login
from wizard.cli.options import MOREF_HELP, add_connection_options, days


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``check``."""
    check = sub.add_parser("check", help="judge a VM (or all VMs) against the article")
    add_connection_options(check)
    which = check.add_mutually_exclusive_group()
    which.add_argument("--vm", dest="check_vm", metavar="NAME", help="name, path, DNS name or IP")
    which.add_argument("--moref", dest="check_moref", metavar="ID", help=MOREF_HELP)
    which.add_argument("--all", action="store_true", help="every VM: a cluster-wide risk scan")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.add_argument(
        "--detail", action="store_true", help="with --all: every VM in full, not in brief"
    )
    check.add_argument(
        "--read-log", action="store_true", help="also search the VM's vmware.log for evidence"
    )
    check.add_argument(
        "--evidence-days",
        type=days,
        default=None,  # the administrator's policy, else 30 (wizard.cli.connect.apply_policy)
        help="how far back to look for failures (default: the administrator's policy, else 30)",
    )


def run(args: argparse.Namespace, out: TextIO) -> int:
    if not args.check_vm and not args.check_moref and not args.all:
        raise CliError("say which VM: --vm NAME, --moref ID, or --all for every VM.", EXIT_USAGE)
    return with_login(
        args,
        lambda login: _check(args, login, out),
        "the training lab is stopped, nothing was changed",
    )


def _load() -> None:
    """What the check needs besides the login, loaded while the first answer is on its way
    (see :func:`~wizard.cli.connect.connected`)."""
    import wizard.check_text
    import wizard.vsphere.facts
    import wizard.vsphere.inventory  # noqa: F401


def _check(args: argparse.Namespace, login: Login, out: TextIO) -> int:
    with connected(login, args.timeout, _load) as session:
        from wizard.check_text import check_report, scan_asks_privileges, scan_judge, scan_report
        from wizard.vsphere.errors import VsphereError
        from wizard.vsphere.facts import collect_facts, scan_all

        try:
            if args.all:
                # Each VM judged as soon as its page is read, while the server sends the next.
                judge = scan_judge(as_json=args.json, detail=args.detail, version=__version__)
                judged = scan_all(
                    session,
                    judge,
                    evidence_days=args.evidence_days,
                    asks_privileges=scan_asks_privileges(detail=args.detail),
                )
                report = scan_report(judged, as_json=args.json, detail=args.detail)
            else:
                ref = one_vm(session, args.check_vm, args.check_moref)
                facts = collect_facts(
                    session, ref.moref, evidence_days=args.evidence_days, read_log=args.read_log
                )
                report = check_report(
                    [facts], scan=False, as_json=args.json, detail=args.detail, version=__version__
                )
        except VsphereError as exc:
            raise CliError(f"{exc.message} {exc.next_step}", error_exit(exc)) from None
        # before logging out: the verdict does not wait for the logout's round trip
        out.write(report)
        out.flush()
    return EXIT_OK
