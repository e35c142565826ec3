"""The wizard and the lab read every scenario file alike: both accept it, or both refuse it
naming the same field, with no raw control character in either message.

Each file of the shared corpus (``tests/helpers/scenario_corpus.py``) goes to the Python reader
and to the real lab binary, which starts (and is stopped) when it accepts the file.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.helpers.scenario_corpus import (
    Case,
    disagreement,
    fixed_cases,
    judge,
    mutated_cases,
    write,
)

pytestmark = pytest.mark.lab

FIXED = fixed_cases()


@pytest.fixture(scope="module")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One certificate for every run (made by the first lab that starts)."""
    return tmp_path_factory.mktemp("tls")


@pytest.mark.parametrize("case", FIXED, ids=[c.name for c in FIXED])
def test_decided_case(case: Case, tmp_path: Path, lab_binary_path: Path, tls_dir: Path) -> None:
    [(_, path)] = write([case], tmp_path)
    problem = disagreement(case, judge(path, lab_binary_path, tls_dir))
    assert problem is None, problem


def test_damaged_files_are_judged_alike(
    tmp_path: Path, lab_binary_path: Path, tls_dir: Path
) -> None:
    written = write(mutated_cases(150), tmp_path)
    with ThreadPoolExecutor(2) as pool:
        verdicts = list(pool.map(lambda cp: judge(cp[1], lab_binary_path, tls_dir), written))
    found = [disagreement(case, v) for (case, _), v in zip(written, verdicts, strict=True)]
    problems = [p for p in found if p is not None]
    assert not problems, "\n".join(problems)
    assert sum(v.python is not None for v in verdicts) > 100  # most of them are really damaged
