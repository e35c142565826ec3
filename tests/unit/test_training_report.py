"""The class report: a folder of saved debriefs becomes one page and one CSV a trainer can use.

The sample class (``tests/helpers/class_results.py``) is twelve trainees times five cases,
scored by the real debrief and saved the way the Debrief page saves. Bad input (a missing
folder, damaged or foreign files, files of an older version) gets a clear message and loses
nothing.
"""

from __future__ import annotations

import csv
import html.parser
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.class_results import CASES, TRAINEES, write_class
from wizard import cli
from wizard.lab import results
from wizard.lab.results import Point, read_result_file
from wizard.lab.scenario import bundled_scenarios_dir, load_scenario
from wizard.lab.served import judge
from wizard.training_report import build_report, duration, render_csv, render_html, trainee_key
from wizard.ui.training.coach import ScenarioBrief, brief_of
from wizard.ui.training.debrief import Debrief, TrainingRecord, score, to_html, to_text


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    folder = tmp_path_factory.mktemp("class")
    return folder, write_class(folder)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_sample_class_is_counted_per_trainee_and_per_case(
    sample: tuple[Path, list[Path]],
) -> None:
    folder, files = sample
    report = build_report(folder)
    assert [t.name for t in report.trainees] == sorted(TRAINEES, key=str.casefold)
    assert {c.id for c in report.cases} == set(CASES)
    assert len(report.attempts) == len(files)
    assert not report.skipped
    for case in report.cases:
        assert len(case.best) == len(TRAINEES)  # every trainee did every case
        assert case.passed == sum(a.passed for a in case.best.values())
        # A trainee's best attempt is the one with the highest score.
        for key, best in case.best.items():
            assert best.score == max(a.score for a in case.attempts if trainee_key(a) == key)


def test_the_page_shows_every_trainee_case_and_chart_without_network(
    sample: tuple[Path, list[Path]],
) -> None:
    folder, _ = sample
    report = build_report(folder)
    page = render_html(report)
    for name in TRAINEES:
        assert html.escape(name) in page
    for case in report.cases:
        assert html.escape(case.title) in page
    assert page.count("<svg") == 2
    assert "<script" not in page
    assert "<link" not in page
    assert "url(" not in page
    external = [u for u in page.split('"') if u.startswith(("http:", "https:", "//"))]
    assert set(external) <= {"http://www.w3.org/2000/svg"}
    parser = html.parser.HTMLParser()
    parser.feed(page)
    parser.close()


def test_the_most_common_wrong_turns_are_counted_from_the_files(
    sample: tuple[Path, list[Path]],
) -> None:
    folder, files = sample
    counts: Counter[str] = Counter()
    for file in files:
        (attempt,) = read_result_file(file)
        counts.update(set(attempt.wrong_turns))
    report = build_report(folder)
    page = render_html(report)
    (top, n), *_ = counts.most_common(1)
    assert f"<title>{html.escape(top[:1].upper() + top[1:])}</title>" in page
    assert f"{n} of {len(files)}</text>" in page
    for case in report.cases:
        case_counts: Counter[str] = Counter()
        for a in case.attempts:
            case_counts.update(set(a.wrong_turns))
        assert case.wrong_turns(3) == case_counts.most_common(3)


def test_the_csv_has_one_row_per_attempt_with_its_answers(
    sample: tuple[Path, list[Path]],
) -> None:
    folder, files = sample
    rows = _rows(render_csv(build_report(folder)))
    assert len(rows) == len(files)
    by_file = {row["file"]: row for row in rows}
    for file in files:
        (attempt,) = read_result_file(file)
        row = by_file[str(file)]
        assert row["trainee"] == attempt.trainee
        assert int(row["score"]) == attempt.score
        assert row["passed"] == ("yes" if attempt.passed else "no")
        assert int(row["seconds"]) == attempt.seconds
        assert row["expected_fix"] == (attempt.answers["expected_fix"] or "")


def test_a_name_that_looks_like_a_formula_stays_text_in_the_csv(tmp_path: Path) -> None:
    write_class(tmp_path, trainees=("=HYPERLINK(1)", "@Bob"), cases=CASES[:1])
    rows = _rows(render_csv(build_report(tmp_path)))
    assert {row["trainee"] for row in rows} == {"'=HYPERLINK(1)", "'@Bob"}


def _debrief(case: str = "dual-screen-win7") -> tuple[ScenarioBrief, TrainingRecord, Debrief]:
    scenario = load_scenario(bundled_scenarios_dir() / f"{case}.json")
    brief = brief_of(scenario)
    _, remedies = judge(scenario, scenario.vm(brief.vm or ""))
    record = TrainingRecord(vm_name=brief.vm, guess=brief.expected_verdict)
    return brief, record, score(brief, record, remedies)


def test_debriefs_saved_before_the_result_data_are_still_read(tmp_path: Path) -> None:
    _, _, debrief = _debrief()
    old_html = tmp_path / "old.html"
    old_html.write_text(to_html(debrief, "Mia <Q>"), encoding="utf-8")
    old_text = tmp_path / "Old.TXT"
    old_text.write_text(to_text(debrief, "Noah"), encoding="utf-8")
    titles = {load_scenario(bundled_scenarios_dir() / "dual-screen-win7.json").title: "x-id"}
    (from_html,) = read_result_file(old_html, titles)
    (from_text,) = read_result_file(old_text, titles)
    for attempt, name in ((from_html, "Mia <Q>"), (from_text, "Noah")):
        assert attempt.trainee == name
        assert attempt.case_id == "x-id"
        assert attempt.seconds is None
        assert attempt.notes
        assert attempt.passed is debrief.passed
        assert [p.mark for p in attempt.points] == [line.mark.value for line in debrief.lines]
    report = build_report(tmp_path)
    assert report.old_files == 2
    assert report.cases[0].id == "dual-screen-win7"  # named by the bundled scenario's title
    assert "saved by an earlier version" in render_html(report)


def _one_point_record(
    debrief: Debrief, *, product: str, trainee: str, case_id: str, level: str, vm: str
) -> dict[str, Any]:
    """A passed run's record with one good point, finished when ``debrief`` was made."""
    return results.make_record(
        product=product,
        trainee=trainee,
        case_id=case_id,
        case_title="t",
        level=level,
        vm=vm,
        started=None,
        finished=debrief.when.astimezone(),
        passed=True,
        answers={},
        points=[Point("vm", "VM", "good", "ok")],
    )


def test_the_same_run_saved_twice_counts_once(tmp_path: Path) -> None:
    _, _, debrief = _debrief()
    data = _one_point_record(
        debrief,
        product="test",
        trainee="Ola",
        case_id="dual-screen-win7",
        level="beginner",
        vm="HD-W7-042",
    )
    (tmp_path / "a.html").write_text(to_html(debrief, "Ola", data), encoding="utf-8")
    (tmp_path / "a.txt").write_text(to_text(debrief, "Ola", data), encoding="utf-8")
    report = build_report(tmp_path)
    assert len(report.attempts) == 1
    assert report.duplicates == 1
    assert "the same debrief saved twice" in render_html(report)


def test_damaged_and_foreign_files_are_named_and_left_alone(
    tmp_path: Path, sample: tuple[Path, list[Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    _, files = sample
    good = tmp_path / "good.html"
    good.write_bytes(files[0].read_bytes())
    damaged = tmp_path / "damaged.html"
    damaged.write_text(
        files[0].read_text(encoding="utf-8").replace('"passed":', '"passed"', 1), encoding="utf-8"
    )
    newer = tmp_path / "newer.txt"
    record = json.dumps({"kind": "debrief", "format": 9})
    newer.write_text(f"Training debrief: x\n\n{results.TEXT_MARKER}{record}\n", encoding="utf-8")
    exam = tmp_path / "exam.json"
    exam.write_text(json.dumps({"kind": "exam", "format": 1}), encoding="utf-8")
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\xff\xd8\xff\xe0 not text")
    notes = tmp_path / "notes.txt"
    notes.write_text("Remember to book room 4.", encoding="utf-8")
    (tmp_path / "picture.png").write_bytes(b"\x89PNG")  # not a result file: not even listed
    before = {p: p.read_bytes() for p in tmp_path.iterdir()}
    out = tmp_path / "report.html"
    assert cli.main(["training", "report", str(tmp_path), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    expected = {
        damaged: "its result data is damaged",
        newer: "in format 9; this version reads format 1",
        exam: "has no usable cases",
        binary: "is not UTF-8 text",
        notes: "is not a debrief",
    }
    for path, reason in expected.items():
        assert f"not read: {path}: " in err
        assert reason in err
    page = out.read_text(encoding="utf-8")
    assert "Files not counted" in page
    for path in expected:
        assert html.escape(path.name) in page
    assert "picture.png" not in page
    assert all(p.read_bytes() == b for p, b in before.items())  # nothing was changed
    report = build_report(tmp_path)
    assert len(report.attempts) == 1  # the good one still counts


def test_the_report_next_to_the_debriefs_is_not_read_as_one(
    sample: tuple[Path, list[Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, files = sample
    for _ in range(2):
        assert cli.main(["training", "report", str(folder)]) == 0
    said = capsys.readouterr()
    assert f"{len(TRAINEES)} trainees, {len(CASES)} cases, {len(files)} attempts" in said.out
    assert "not read" not in said.err
    assert (folder / "class-report.html").is_file()


@pytest.mark.parametrize("problem", ["missing", "a-file", "empty"])
def test_no_folder_or_no_debrief_exits_2_and_writes_nothing(
    problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "results"
    if problem == "a-file":
        folder.write_text("x", encoding="utf-8")
    elif problem == "empty":
        folder.mkdir()
        (folder / "readme.txt").write_text("not a debrief", encoding="utf-8")
    out = tmp_path / "report.html"
    csv_out = tmp_path / "report.csv"
    args = ["training", "report", str(folder), "--out", str(out), "--csv", str(csv_out)]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    said = {
        "missing": "no such folder",
        "a-file": "is a file, not a folder",
        "empty": "no saved debrief found (1 file could not be used)",
    }[problem]
    assert said in err
    assert not out.exists()
    assert not csv_out.exists()


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(None, "\u2013"), (0, "0:00"), (59.6, "1:00"), (754, "12:34"), (3725, "1:02:05")],
)
def test_times_read_as_minutes_and_seconds(seconds: float | None, shown: str) -> None:
    assert duration(seconds) == shown


def test_a_damaged_point_names_the_field(tmp_path: Path) -> None:
    _, _, debrief = _debrief()
    data = _one_point_record(debrief, product="t", trainee="", case_id="c", level="", vm="")
    data["points"][0]["mark"] = 7
    file = tmp_path / "d.html"
    file.write_text(to_html(debrief, "", data), encoding="utf-8")
    with pytest.raises(results.ResultFileError, match=r"points\[0\]\.mark"):
        read_result_file(file)


def test_the_report_never_overwrites_a_file_it_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = write_class(tmp_path, trainees=TRAINEES[:1], cases=CASES[:1])
    before = files[0].read_bytes()
    for option in ("--out", "--csv"):
        assert cli.main(["training", "report", str(tmp_path), option, str(files[0])]) == 2
        assert "is one of the files the report reads" in capsys.readouterr().err
    assert files[0].read_bytes() == before
    assert not (tmp_path / "class-report.html").exists()


def test_results_are_looked_for_three_folders_deep_and_not_in_hidden_ones(tmp_path: Path) -> None:
    (source,) = write_class(tmp_path / "made", trainees=TRAINEES[:1], cases=CASES[:1])
    folder = tmp_path / "class"
    places = {
        "a/b/c/read.html": True,
        "a/b/c/d/too-deep.html": False,
        ".hidden/not-read.html": False,
        "a/.cache/not-read.html": False,
    }
    for where in places:
        target = folder / where
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            source.read_text(encoding="utf-8").replace(TRAINEES[0], target.stem), encoding="utf-8"
        )
    report = build_report(folder)
    assert [t.name for t in report.trainees] == ["read"]
