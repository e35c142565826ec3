"""The trainer's commands: ``scenario generate``, ``scenario validate`` and ``training report``.

The command line registers them (:func:`add_parsers`) and hands them their arguments
(:func:`run`). Like every command, each imports what it needs when it runs.

- ``scenario generate --seed N --level L [--out FILE]``: a new training case
  (:mod:`wizard.lab.generate`), on standard output or into FILE. The same seed and level give the
  same file, byte for byte.
- ``scenario validate FILE``: reads FILE by the rules the lab reads it by
  (:mod:`wizard.lab.scenario`), so a file it accepts the lab accepts, and a file it refuses the
  lab refuses naming the same field. It also works out what the rules conclude for each VM with
  an ``expect`` entry and warns where the file says otherwise.
- ``training report FOLDER [--out FILE.html] [--csv FILE.csv]``: one page for a class from a
  folder of saved debriefs (:mod:`wizard.training_report`).

Exit codes: 0 done, 2 bad input (a wrong seed or level, a scenario that is not valid, a folder
that does not exist or holds no result, a file that cannot be written).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from wizard.cli.exits import EXIT_OK, EXIT_USAGE


class _Refused(Exception):
    """Bad input: the message says what to do; the command exits 2."""


def _seed(text: str) -> int:
    from wizard.lab.generate import MAX_SEED

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number: give a seed from 0 to {MAX_SEED}"
        ) from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"{text!r}: give a seed from 0 to {MAX_SEED}")
    return value


_LEVELS = ("beginner", "intermediate", "advanced")


def add_parsers(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``scenario`` and ``training`` to the command line's subcommands."""
    scenario = sub.add_parser("scenario", help="make or check training scenario files")
    actions = scenario.add_subparsers(dest="scenario_command", metavar="ACTION")
    actions.required = True
    gen = actions.add_parser(
        "generate", help="build a new training case from a seed (the same seed: the same case)"
    )
    gen.add_argument("--seed", type=_seed, required=True, metavar="N", help="the case's number")
    gen.add_argument("--level", required=True, choices=_LEVELS, help="how hard the case is")
    gen.add_argument(
        "--out", type=Path, metavar="FILE", help="write the scenario here (default: stdout)"
    )
    val = actions.add_parser(
        "validate", help="check a scenario file by the rules the lab reads it by"
    )
    val.add_argument("file", type=Path, metavar="FILE")

    training = sub.add_parser("training", help="the trainer's view of a class")
    t_actions = training.add_subparsers(dest="training_command", metavar="ACTION")
    t_actions.required = True
    report = t_actions.add_parser(
        "report", help="one HTML page (and CSV) from a folder of saved debriefs"
    )
    report.add_argument("folder", type=Path, metavar="FOLDER")
    report.add_argument(
        "--out",
        type=Path,
        metavar="FILE.html",
        help="where to write the page (default: class-report.html in FOLDER)",
    )
    report.add_argument(
        "--csv", type=Path, metavar="FILE.csv", help="also write one CSV row per attempt"
    )


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run ``scenario ...`` or ``training ...``; the exit code."""
    stdout = out if out is not None else sys.stdout
    try:
        if args.command == "scenario" and args.scenario_command == "generate":
            return _generate(args, stdout)
        if args.command == "scenario":
            return _validate(args.file, stdout)
        return _report(args, stdout)
    except _Refused as exc:
        print(f"checkpoint-wizard: {exc}", file=sys.stderr)
        return EXIT_USAGE


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file in the same folder, so the
    file is either the old one or the whole new one, never half of it.

    Raises:
        _Refused: the folder is missing or the file cannot be written (nothing was written).
    """
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise _Refused(f"{path} is a folder: give a file name. Nothing was written.")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise _Refused(
            f"cannot write {path}: {exc.strerror or exc}. Nothing was written."
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise _Refused(
            f"cannot write {path}: {exc.strerror or exc}. Nothing was written."
        ) from None


# ------------------------------------------------------------------------------------ scenario


def _generate(args: argparse.Namespace, out: TextIO) -> int:
    from wizard.lab.generate import generate, parse_level

    case = generate(args.seed, parse_level(args.level))
    if args.out is None:
        out.write(case.text)
        return EXIT_OK
    write_atomically(args.out, case.text)
    print(
        f"Wrote {args.out}: {case.doc['title']} ({args.level}, seed {args.seed}). Open it in "
        "training mode, or put it in the scenarios folder to list it in the picker.",
        file=out,
    )
    return EXIT_OK


def _validate(path: Path, out: TextIO) -> int:
    from wizard.lab.scenario import ScenarioError, load_scenario
    from wizard.lab.served import disagreements

    try:
        scenario = load_scenario(path)
    except ScenarioError as exc:
        raise _Refused(str(exc)) from None
    expected = len(scenario.expect)
    print(
        f"{path}: a valid scenario (format {scenario.format}): {len(scenario.vms)} VM"
        f"{'s' if len(scenario.vms) != 1 else ''}, {expected} with an expected verdict. "
        "The lab reads it by the same rules.",
        file=out,
    )
    for problem in disagreements(scenario):
        print(
            f"checkpoint-wizard: warning: {path}: {problem}. A trainee who follows the rules "
            "would be marked wrong: correct the entry (check --scenario FILE --all gives the "
            "reason).",
            file=sys.stderr,
        )
    return EXIT_OK


# ------------------------------------------------------------------------------------ training


def _report(args: argparse.Namespace, out: TextIO) -> int:
    import time

    from wizard.training_report import ReportError, build_report, render_csv, render_html

    folder: Path = args.folder
    target: Path = args.out if args.out is not None else folder / "class-report.html"
    started = time.perf_counter()
    try:
        report = build_report(folder)
    except ReportError as exc:
        raise _Refused(str(exc)) from None
    read = {a.source.resolve() for a in report.attempts} | {
        s.path.resolve() for s in report.skipped
    }
    for out_file in (target, args.csv):
        if out_file is not None and out_file.resolve() in read:
            raise _Refused(
                f"{out_file} is one of the files the report reads: give another name for the "
                "report. Nothing was written."
            )
    write_atomically(target, render_html(report))
    if args.csv is not None:
        write_atomically(args.csv, render_csv(report))
    took = time.perf_counter() - started
    print(
        f"Wrote {target}"
        + (f" and {args.csv}" if args.csv is not None else "")
        + f": {len(report.trainees)} trainee{'s' if len(report.trainees) != 1 else ''}, "
        f"{len(report.cases)} case{'s' if len(report.cases) != 1 else ''}, "
        f"{len(report.attempts)} attempt{'s' if len(report.attempts) != 1 else ''} "
        f"({took:.2f} s).",
        file=out,
    )
    for skipped in report.skipped:
        print(f"checkpoint-wizard: not read: {skipped.path}: {skipped.reason}", file=sys.stderr)
    return EXIT_OK
