"""Generated cases through the real lab: each loads, and ``check --all`` agrees with its expect.

A generated case takes its ``expect`` from the rules applied to the facts the lab *should* serve
(``wizard.lab.served``); this is where the lab is asked. Each case runs the way the bundled ones
do in ``test_check_scenarios.py``: ``check --scenario FILE --all --json`` (the lab started on
the file, pyVmomi, the rules, the JSON contract), every VM with an ``expect`` entry compared.

The default run takes a few seeds per level (a second or two each level); the slow test takes
200 seeds per level. There each case's lab is started while the case before it is checked (a
lab takes 0.2-0.3 s to build its inventory, the check about as long), and the check is
``check --vcenter HOST:PORT --trust-fingerprint FP --password-stdin --all --json`` on it: what
``--scenario`` does once its lab is up (the sample above runs ``--scenario`` itself), and the
lab is stopped while the next case is checked. Measured on 60 cases (20 seeds a level): 34 s one
after the other, 20 s so; the 600 took 218 s one after the other.
"""

from __future__ import annotations

import io
import json
import sys
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import redirect_stdout
from pathlib import Path
from unittest import mock

import pytest

from tests.helpers.lab import cli_login
from wizard import cli
from wizard.lab.generate import generate
from wizard.lab.process import LabProcess
from wizard.lab.scenario import Difficulty, load_scenario

pytestmark = pytest.mark.lab

LEVELS = list(Difficulty)
SAMPLE = (0, 7, 1234, 99_999, 2**31 - 1)
FULL = 200


def _disagreements(path: Path, lab: LabProcess | None = None) -> list[str]:
    """What ``check --all`` says differently from the file's expect (nothing when they agree):
    on a lab ``check`` starts for the file, or on ``lab``, already running it."""
    out = io.StringIO()
    if lab is None:
        with redirect_stdout(out):
            code = cli.main(["check", "--scenario", str(path), "--all", "--json"])
    else:
        password = io.StringIO(lab.info.password + "\n")
        with mock.patch.object(sys, "stdin", password), redirect_stdout(out):
            code = cli.main(["check", *cli_login(lab.info), "--all", "--json"])
    if code != cli.EXIT_OK:
        return [f"{path.name}: check exited {code}"]
    docs = {d["vm"]["name"]: d for d in json.loads(out.getvalue())}
    problems = []
    for entry in load_scenario(path).expect:
        doc = docs.get(entry.vm)
        if doc is None:
            problems.append(f"{path.name}: the lab serves no VM named {entry.vm!r}")
            continue
        chosen = [r["id"] for r in doc["remedies"] if r["recommended"]]
        got = (doc["verdict"], chosen[0] if chosen else None)
        want = (entry.verdict.value, entry.recommended.value if entry.recommended else None)
        if got != want:
            problems.append(f"{path.name}: {entry.vm}: expected {want}, lab {got}: {doc['reason']}")
    return problems


def _write(seed: int, level: Difficulty, folder: Path) -> Path:
    case = generate(seed, level)
    path = folder / f"{case.id}.json"
    path.write_text(case.text, encoding="utf-8")
    return path


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("seed", SAMPLE)
def test_a_generated_case_agrees_with_check_all(
    seed: int, level: Difficulty, tmp_path: Path
) -> None:
    assert _disagreements(_write(seed, level, tmp_path)) == []


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_200_seeds_per_level_agree_with_check_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.perf_counter()
    problems: list[str] = []
    for path, lab in _labs_started_ahead(
        _write(seed, level, tmp_path) for level in LEVELS for seed in range(FULL)
    ):
        problems += _disagreements(path, lab)
    took = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n{FULL * len(LEVELS)} generated cases through the lab in {took:.0f} s")
    assert not problems, "\n".join(problems)


def _labs_started_ahead(paths: Iterable[Path]) -> Iterator[tuple[Path, LabProcess]]:
    """Each file with its lab, running: the next file's lab starts while this one is used, and
    this one is stopped, once the caller asks for the next, while the next is used."""

    def start(path: Path) -> tuple[Path, LabProcess]:
        lab = LabProcess(path)
        lab.start()
        return path, lab

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="lab-ahead") as ahead:
        started: list[Future[tuple[Path, LabProcess]]] = []
        try:
            for path in paths:
                started.append(ahead.submit(start, path))
                if len(started) == 2:
                    yield from _handed_over(started.pop(0).result(), ahead)
            while started:
                yield from _handed_over(started.pop(0).result(), ahead)
        finally:
            for future in started:  # started ahead, never handed over
                future.result()[1].stop()


def _handed_over(
    case: tuple[Path, LabProcess], stopper: ThreadPoolExecutor
) -> Iterator[tuple[Path, LabProcess]]:
    try:
        yield case
    finally:
        stopper.submit(case[1].stop)
