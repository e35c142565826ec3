"""The Python reader on the shared corpus: each decided case names its field, messages are safe.

The same files go to the lab in ``tests/integration/test_lab_scenario_agreement.py``; here the
Python side alone, fast, with the expected field of every decided case.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.scenario_corpus import Case, fixed_cases, mutated_cases, unsafe_characters
from wizard.lab.scenario import ScenarioError, load_scenario

FIXED = fixed_cases()


def python_verdict(path: Path) -> tuple[str | None, str]:
    """(the field named, the message), or (None, "") when the file is accepted."""
    try:
        load_scenario(path)
    except ScenarioError as exc:
        return exc.path, str(exc)
    return None, ""


@pytest.mark.parametrize("case", FIXED, ids=[c.name for c in FIXED])
def test_decided_case(case: Case, tmp_path: Path) -> None:
    path = tmp_path / case.file_name
    path.write_bytes(case.data)
    named, message = python_verdict(path)
    assert named == case.path, message
    assert not unsafe_characters(message), repr(message)


def test_mutated_cases_give_scenario_errors_with_safe_messages(tmp_path: Path) -> None:
    refused = 0
    for case in mutated_cases(300):
        path = tmp_path / case.file_name
        path.write_bytes(case.data)
        named, message = python_verdict(path)
        refused += named is not None
        assert not unsafe_characters(message), repr(message)
    assert refused > 200  # the damage is real: most mutated files are refused


def test_a_file_name_with_control_characters_is_escaped_in_the_message(tmp_path: Path) -> None:
    path = tmp_path / "a\x1b[2Jb\u202e.json"
    path.write_bytes(b"{")
    named, message = python_verdict(path)
    assert named == "(file)"
    assert "a\\u001b[2Jb\\u202e.json" in message
    assert not unsafe_characters(message)
