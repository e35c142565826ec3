"""``journal``: list the change journal, dangling entries first. Reads only."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from wizard.cli.exits import EXIT_OK


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``journal``."""
    journal = sub.add_parser("journal", help="list the change journal (dangling entries first)")
    journal.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace, out: TextIO) -> int:
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
