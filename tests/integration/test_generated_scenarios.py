"""Generated cases through the real lab: each loads, and ``check --all`` agrees with its expect.

A generated case takes its ``expect`` from the rules applied to the facts the lab *should* serve
(``wizard.lab.served``); this is where the lab is asked. Each case runs the way the bundled ones
do in ``test_check_scenarios.py``: ``check --scenario FILE --all --json`` (the lab started on
the file, pyVmomi, the rules, the JSON contract), every VM with an ``expect`` entry compared.

The default run takes a few seeds per level (a second or two each level); the slow test takes
200 seeds per level, about two minutes on two busy cores (measured: 133 s for the 600).
"""

from __future__ import annotations

import io
import json
import time
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from wizard import cli
from wizard.lab.generate import generate
from wizard.lab.scenario import Difficulty, load_scenario

pytestmark = pytest.mark.lab

LEVELS = list(Difficulty)
SAMPLE = (0, 7, 1234, 99_999, 2**31 - 1)
FULL = 200


def _disagreements(path: Path) -> list[str]:
    """What ``check --all`` says differently from the file's expect (nothing when they agree)."""
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(["check", "--scenario", str(path), "--all", "--json"])
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
    for level in LEVELS:
        for seed in range(FULL):
            problems += _disagreements(_write(seed, level, tmp_path))
    took = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n{FULL * len(LEVELS)} generated cases through the lab in {took:.0f} s")
    assert not problems, "\n".join(problems)
