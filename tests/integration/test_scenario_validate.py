"""``scenario validate FILE`` says what the lab says about a file: the same verdict, the same field.

The command reads the file with the wizard's reader, which the corpus tests hold to the lab's
(``test_lab_scenario_agreement.py``); here the command itself is put beside the lab binary on
files of every kind of mistake, and checked for what a scenario author sees.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.helpers.scenario_corpus import Case, fixed_cases, judge, write
from wizard import cli
from wizard.lab.scenario import bundled_scenario_files

pytestmark = pytest.mark.lab

SAMPLE = {
    "valid",
    "bom",
    "upgrade-policy-null",
    "schema-reference",
    "cut-short",
    "top-level-list",
    "nested-too-deep",
    "lone-high-surrogate",
    "filler-20001",
    "screen-float",
    "vm-name-81-runes",
    "unknown-esc",
    "repeated-vm-key",
    "order-hw-then-host",
    "order-user-repeated",
    "expect-ghost",
    "vm-of-interest-without-expect",
    "schema-reference-blank",
    "upgrade-policy-string",
}
CASES = [c for c in fixed_cases() if c.name in SAMPLE]


def test_the_sample_is_complete() -> None:
    assert {c.name for c in CASES} == SAMPLE


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_validate_and_the_lab_agree(
    case: Case,
    tmp_path: Path,
    lab_binary_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    [(c, path)] = write([case], tmp_path)
    lab = judge(path, lab_binary_path, tmp_path)
    code = cli.main(["scenario", "validate", str(path)])
    said = capsys.readouterr()
    if lab.lab_accepted:
        assert code == 0
        assert "a valid scenario (format 1)" in said.out
        # The corpus's files are not meant to be solved right: only warnings may follow.
        assert all(
            line.startswith("checkpoint-wizard: warning: ") for line in said.err.splitlines()
        )
        return
    assert code == 2
    assert lab.lab_message.startswith(f"scenario error: {c.path}: ")
    assert said.err.startswith(f"checkpoint-wizard: {path}: {c.path}: ")
    assert said.err.count("\n") == 1  # one line, as the lab's


def test_every_bundled_scenario_validates(capsys: pytest.CaptureFixture[str]) -> None:
    for path in bundled_scenario_files():
        assert cli.main(["scenario", "validate", str(path)]) == 0
        said = capsys.readouterr()
        assert said.err == "", path.name


def test_an_expect_the_rules_do_not_bear_out_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = next(p for p in bundled_scenario_files() if p.stem == "dual-screen-win7")
    text = source.read_text(encoding="utf-8")
    wrong = tmp_path / "wrong.json"
    wrong.write_text(
        text.replace(
            '"verdict": "confirmed", "recommended": "raise_buffer"',
            '"verdict": "confirmed", "recommended": "enable_3d"',
            1,
        ),
        encoding="utf-8",
    )
    assert cli.main(["scenario", "validate", str(wrong)]) == 0  # the lab would load it
    err = capsys.readouterr().err
    assert "warning: " in err
    assert (
        "the file says confirmed with enable_3d, the rules give confirmed with raise_buffer" in err
    )


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes are a POSIX thing here")
def test_a_named_pipe_is_refused_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pipe = tmp_path / "stuck.json"
    os.mkfifo(pipe)
    assert cli.main(["scenario", "validate", str(pipe)]) == 2
    assert "is a named pipe (FIFO), not a regular file" in capsys.readouterr().err
