"""The trainer's commands: ``scenario generate/validate/export``, ``training report/exam/verify``.

The command line registers them (:func:`add_parsers`) and hands them their arguments
(:func:`run`). Like every command, each imports what it needs when it runs.

- ``scenario generate --seed N --level L [--out FILE]``: a new training case
  (:mod:`wizard.lab.generate`), on standard output or into FILE. The same seed and level give the
  same file, byte for byte.
- ``scenario validate FILE``: reads FILE by the rules the lab reads it by
  (:mod:`wizard.lab.scenario`), so a file it accepts the lab accepts, and a file it refuses the
  lab refuses naming the same field. It also works out what the rules conclude for each VM with
  an ``expect`` entry and warns where the file says otherwise.
- ``scenario export``: a real VM, read read-only through :mod:`wizard.vsphere`, as a training
  scenario (:mod:`wizard.lab.export`); the command itself is :mod:`wizard.cli.export`.
- ``training report FOLDER [--out FILE.html] [--csv FILE.csv] [--key-file KEY]``: one page for a
  class from a folder of saved debriefs and exam results (:mod:`wizard.training_report`); with
  the exam session's key, edited exam results are marked.
- ``training exam --cases LIST --results FOLDER [--key-file KEY]``: the wizard in exam mode
  (:mod:`wizard.ui.training.exam`); the key is typed twice unless given by file.
- ``training verify FILE... [--key-file KEY]``: whether exam results were edited after the exam.

Exit codes: 0 done, 2 bad input (a wrong seed or level, a scenario that is not valid, a folder
that does not exist or holds no result, a file that cannot be written, a short key); for
``export`` also 3 (connection, login, certificate), 4 (VM not found), 5 and 6 as ``check``; for
``verify`` 5 when a file was edited, signed with another key, or lost its signature.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from wizard.cli import export
from wizard.cli.exits import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
)
from wizard.cli.files import write_atomically
from wizard.cli.gui import no_screen


class _Refused(Exception):
    """Bad input: the message says what to do; the command exits 2 (or ``code``)."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


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
    export.add_parser(actions)

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
    report.add_argument(
        "--key-file",
        type=Path,
        metavar="FILE",
        help="the exam session's key: mark exam results changed after the exam",
    )
    exam = t_actions.add_parser(
        "exam", help="open the wizard in exam mode: fixed cases, no coach, a timer, signed results"
    )
    exam.add_argument(
        "--cases",
        required=True,
        metavar="LIST",
        help="comma-separated, in order: bundled scenario ids, scenario files, seed:N:LEVEL",
    )
    exam.add_argument(
        "--results",
        required=True,
        type=Path,
        metavar="FOLDER",
        help="where each trainee's result file is written (collect them from here)",
    )
    exam.add_argument(
        "--key-file",
        type=Path,
        metavar="FILE",
        help="the session's key (default: typed twice at a prompt; never stored)",
    )
    exam.add_argument("--title", default="Exam", help="the exam's name, shown to the trainee")
    verify = t_actions.add_parser(
        "verify", help="say whether exam result files were changed after the exam"
    )
    verify.add_argument("files", type=Path, nargs="+", metavar="FILE")
    verify.add_argument(
        "--key-file",
        type=Path,
        metavar="FILE",
        help="the exam session's key (default: typed at a prompt)",
    )


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run ``scenario ...`` or ``training ...``; the exit code."""
    stdout = out if out is not None else sys.stdout
    try:
        if args.command == "scenario" and args.scenario_command == "generate":
            return _generate(args, stdout)
        if args.command == "scenario" and args.scenario_command == "export":
            return export.run(args, stdout)
        if args.command == "scenario":
            return _validate(args.file, stdout)
        if args.training_command == "exam":
            return _exam(args, stdout)
        if args.training_command == "verify":
            return _verify(args, stdout)
        return _report(args, stdout)
    except _Refused as exc:
        print(f"checkpoint-wizard: {exc}", file=sys.stderr)
        return exc.code


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

    from wizard.kb.rules import plural
    from wizard.training_report import ReportError, build_report, render_csv, render_html

    folder: Path = args.folder
    target: Path = args.out if args.out is not None else folder / "class-report.html"
    key = _exam_key(args.key_file, ask=False) if args.key_file is not None else None
    started = time.perf_counter()
    try:
        report = build_report(folder, key=key)
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
        + f": {plural(len(report.trainees), 'trainee')}, "
        f"{plural(len(report.cases), 'case')}, "
        f"{plural(len(report.attempts), 'attempt')} "
        f"({took:.2f} s).",
        file=out,
    )
    for skipped in report.skipped:
        print(f"checkpoint-wizard: not read: {skipped.path}: {skipped.reason}", file=sys.stderr)
    for exam in report.tampered:
        print(
            f"checkpoint-wizard: warning: {exam.source}: {exam.trainee or '(no name)'}'s exam "
            "result was changed after the exam (marked EDITED in the report).",
            file=sys.stderr,
        )
    return EXIT_OK


# ------------------------------------------------------------------------------------ exams


def _exam_key(key_file: Path | None, *, ask: bool, twice: bool = False) -> bytes:
    """The session's key: from the file, else typed at the terminal (twice for a new exam)."""
    import getpass

    from wizard.lab.exam import ExamError, check_key, read_key_file

    try:
        if key_file is not None:
            return read_key_file(key_file)
        if not ask or not sys.stdin.isatty():
            raise _Refused("give the session's key with --key-file FILE, or type it on a terminal.")
        try:
            key = getpass.getpass("The session's key (not shown; trainees must not see it): ")
            if twice and getpass.getpass("The same key again: ") != key:
                raise _Refused("the two keys differ: nothing was started. Type the same twice.")
        except EOFError:
            raise _Refused("no key was typed: nothing was started.") from None
        return check_key(key.encode("utf-8"))
    except ExamError as exc:
        raise _Refused(str(exc)) from None


def _exam(args: argparse.Namespace, out: TextIO) -> int:
    import shutil

    from wizard.lab.exam import EXAM_TEMP_PREFIX, ExamError, materialise, parse_cases
    from wizard.lab.stale import make_owned_temp_dir

    results: Path = args.results
    try:
        cases = parse_cases(args.cases)
    except ExamError as exc:
        raise _Refused(f"{exc}. Nothing was started.") from None
    title = " ".join(str(args.title).split()) or "Exam"
    if len(title) > 80:
        raise _Refused("--title is longer than 80 characters: shorten it.")
    try:
        results.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=results, prefix=".probe-")  # noqa: SIM115
        probe.close()
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise _Refused(
            f"{str(results)!r}: the results folder cannot be written ({why}). Nothing was started."
        ) from None
    if no_screen():
        raise _Refused(
            "there is no screen to open the exam on (neither DISPLAY nor WAYLAND_DISPLAY is "
            "set). Start it from the trainee's desktop session. Nothing was started."
        )
    key = _exam_key(args.key_file, ask=True, twice=True)
    # Named after this process: a later exam removes it if this one is killed.
    folder = make_owned_temp_dir(EXAM_TEMP_PREFIX)
    try:
        paths = materialise(cases, folder)
        from wizard.ui.training.exam import ExamPlan, run_exam

        plan = ExamPlan(
            title=title,
            labels=tuple(c.label for c in cases),
            paths=tuple(paths),
            key=key,
            results=results,
        )
        print(
            f"{title}: {len(paths)} cases; each trainee's result goes to {results}. Check them "
            "with: training report FOLDER --key-file FILE (or training verify).",
            file=out,
        )
        return run_exam(plan)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _verify(args: argparse.Namespace, out: TextIO) -> int:
    """Each file: verified, or why not. Exit 0 when all are unchanged, 5 when one is not."""
    import json

    from wizard.lab.exam import KIND, Integrity, verify
    from wizard.lab.results import MAX_RESULT_BYTES

    key = _exam_key(args.key_file, ask=True)
    worst = EXIT_OK
    for path in args.files:
        try:
            if not path.is_file():
                raise ValueError("not a regular file")
            if path.stat().st_size > MAX_RESULT_BYTES:
                raise ValueError("larger than 2 MB, too large for an exam result")
            data = json.loads(path.read_text(encoding="utf-8-sig"))
            if not isinstance(data, dict) or data.get("kind") != KIND:
                raise ValueError(f'no "kind": "{KIND}"')
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            print(
                f"checkpoint-wizard: {path} is not an exam result ({exc}): give the files the "
                "exam wrote (exam-NAME-DATE-TIME.json).",
                file=sys.stderr,
            )
            worst = max(worst, EXIT_USAGE) if worst != EXIT_REFUSED else worst
            continue
        integrity = verify(data, key)
        trainee = data.get("trainee") if isinstance(data.get("trainee"), str) else "(no name)"
        print(f"{path}: {trainee}: {integrity.words}", file=out)
        if integrity is not Integrity.VERIFIED:
            worst = EXIT_REFUSED
    return worst
