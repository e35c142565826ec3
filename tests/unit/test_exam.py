"""Exams on paper: the case list, the signature, and what the class report and `training verify`
make of an exam result file that was or was not changed afterwards.

The window that writes the files is tested in ``tests/gui/test_exam_lab.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers.class_results import CASES, EXAM_KEY, TRAINEES, write_exam_class
from wizard import cli
from wizard.lab.exam import (
    ExamError,
    Integrity,
    canonical,
    check_key,
    materialise,
    parse_cases,
    sign,
    verify,
)
from wizard.lab.scenario import load_scenario
from wizard.training_report import build_report, render_csv, render_html


def test_the_case_list_takes_ids_files_and_seeds(tmp_path: Path) -> None:
    own = tmp_path / "mine.json"
    own.write_bytes(
        (Path(__file__).parents[2] / "resources/scenarios/dual-screen-win7.json").read_bytes()
    )
    cases = parse_cases(f"hw7-pending-upgrade, seed:42:Intermediate,{own}")
    assert [c.label for c in cases] == ["hw7-pending-upgrade", "seed:42:Intermediate", str(own)]
    assert (cases[1].seed, cases[1].level) == (42, "intermediate")
    paths = materialise(cases, tmp_path)
    assert [p.name for p in paths] == ["01.json", "02.json", "03.json"]
    assert load_scenario(paths[1]).id == "gen-intermediate-42"
    again = materialise(parse_cases("seed:42:intermediate"), tmp_path / "..")
    assert again[0].read_bytes() == paths[1].read_bytes()  # the same case on every computer


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("", "no case given"),
        ("dual-screen-win7,,hw7-pending-upgrade", "case 2 is empty"),
        ("seed:x:beginner", "seed:NUMBER:LEVEL"),
        ("seed:1:expert", "is not a level"),
        ("no-such-case", "neither a scenario file nor a bundled scenario"),
    ],
)
def test_a_wrong_case_list_says_which_entry(text: str, said: str) -> None:
    with pytest.raises(ExamError, match=said):
        parse_cases(text)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ExamError, match="at least 8"):
        check_key(b"1234")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), _JSON, max_size=6), st.text(min_size=1), _JSON)
def test_any_change_to_a_signed_file_shows(
    record: dict[str, object], field: str, value: object
) -> None:
    signed = sign(record, EXAM_KEY)
    assert verify(json.loads(json.dumps(signed)), EXAM_KEY) is Integrity.VERIFIED
    assert verify(signed, b"another-key-1") is Integrity.OTHER_KEY
    assert verify(signed, None) is Integrity.UNCHECKED
    if field == "signature":
        return
    changed = {**signed, field: value}
    if canonical(changed) != canonical(signed):
        assert verify(changed, EXAM_KEY) is Integrity.EDITED
    unsigned = {k: v for k, v in signed.items() if k != "signature"}
    assert verify(unsigned, EXAM_KEY) is Integrity.UNSIGNED


def test_the_key_is_never_in_the_file(tmp_path: Path) -> None:
    (path,) = write_exam_class(tmp_path, trainees=TRAINEES[:1])
    text = path.read_text(encoding="utf-8")
    assert EXAM_KEY.decode() not in text
    assert EXAM_KEY.hex() not in text


def test_the_report_counts_exams_and_marks_the_edited_one(tmp_path: Path) -> None:
    write_exam_class(tmp_path, edited=(TRAINEES[3],), unfinished=(TRAINEES[5],))
    report = build_report(tmp_path, key=EXAM_KEY)
    assert len(report.trainees) == len(TRAINEES)
    assert {c.id for c in report.cases} == set(CASES)
    assert len(report.exams) == len(TRAINEES)
    assert [a.trainee for a in report.tampered] == [TRAINEES[3]]
    page = render_html(report)
    assert "1 exam result file was changed after the exam (Dmitri Volkov)" in page
    assert page.count(">EDITED</span>") == len(CASES)  # each of his cells
    assert "2 of 5 (not finished)" in page
    assert "signature verified: unchanged since the exam" in page
    rows = render_csv(report).splitlines()
    assert rows[0].endswith(",kind,signature")
    assert sum(",exam,edited" in r for r in rows) == len(CASES)

    unkeyed = render_html(build_report(tmp_path))
    assert "Signatures were not checked" in unkeyed
    assert ">EDITED</span>" not in unkeyed  # without the key nothing is known


def test_verify_and_report_flag_an_edited_file_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = write_exam_class(tmp_path / "results", trainees=TRAINEES[:3], edited=(TRAINEES[1],))
    key = tmp_path / "session.key"
    key.write_bytes(EXAM_KEY + b"\n")
    assert cli.main(["training", "verify", str(files[0]), "--key-file", str(key)]) == 0
    capsys.readouterr()
    assert cli.main(["training", "verify", *map(str, files), "--key-file", str(key)]) == 5
    said = capsys.readouterr().out
    assert f"{TRAINEES[1]}: EDITED after the exam" in said
    assert said.count("signature verified") == 2

    # A path that is no exam result (a typo, a folder): exit 2, and the terminal says why.
    missing = tmp_path / "results" / "exam-typo.json"
    assert cli.main(["training", "verify", str(missing), "--key-file", str(key)]) == 2
    told = capsys.readouterr()
    assert f"checkpoint-wizard: {missing} is not an exam result" in told.err
    assert told.out == ""
    # JSON, but not what an exam writes (a scenario, a settings file): the same advice.
    other = tmp_path / "settings.json"
    other.write_text('{"kind": "settings"}', encoding="utf-8")
    assert cli.main(["training", "verify", str(other), "--key-file", str(key)]) == 2
    told = capsys.readouterr()
    assert f'{other} is not an exam result (no "kind": "exam"): give the files' in told.err

    out = tmp_path / "class.html"
    args = ["training", "report", str(tmp_path / "results"), "--out", str(out)]
    assert cli.main([*args, "--key-file", str(key)]) == 0
    err = capsys.readouterr().err
    assert f"{TRAINEES[1]}'s exam result was changed after the exam" in err
    assert ">EDITED</span>" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--cases", "no-such-case"], "neither a scenario file nor a bundled scenario"),
        (["--cases", "seed:1:expert"], "is not a level"),
        (["--cases", "dual-screen-win7", "--key-file", "{short}"], "at least 8"),
        (["--cases", "dual-screen-win7", "--key-file", "{missing}"], "cannot be read"),
    ],
)
def test_an_exam_that_cannot_run_exits_2_before_any_window(
    options: list[str],
    said: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    short = tmp_path / "short.key"
    short.write_text("1234\n", encoding="utf-8")
    args = [o.format(short=short, missing=tmp_path / "nope.key") for o in options]
    results = tmp_path / "results"
    assert cli.main(["training", "exam", *args, "--results", str(results)]) == 2
    assert said in capsys.readouterr().err
    assert not results.exists() or not list(results.glob("exam-*.json"))


def test_verify_without_a_key_on_a_pipe_says_how_to_give_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (path,) = write_exam_class(tmp_path, trainees=TRAINEES[:1])
    assert cli.main(["training", "verify", str(path)]) == 2
    assert "--key-file" in capsys.readouterr().err


def test_verify_reads_no_device_and_no_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "session.key"
    key.write_bytes(EXAM_KEY)
    assert cli.main(["training", "verify", "/dev/zero", str(tmp_path), "--key-file", str(key)]) == 2
    said = capsys.readouterr().err
    assert said.count("not a regular file") == 2
