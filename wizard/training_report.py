"""The class report: a folder of saved debriefs turned into one HTML page and a CSV file.

:func:`build_report` reads every result file under a folder (``wizard.lab.results``: debriefs
with their result data, and older debriefs from their text), keeps what it could read and says
why it skipped the rest; :func:`render_html` and :func:`render_csv` write it out. Plain Python:
the page is HTML with its styles and its two charts (inline SVG drawn here) inside, so it opens
anywhere, offline, and prints.

What the page shows, per trainee and per case: the score (the share of the debrief's scored
points that went well; a trainee's best attempt counts, and the number of attempts is shown),
whether it passed, the time from opening the case to the debrief, and the most common wrong
turns (the missed points, in a few words each). Exam result files (``wizard.lab.exam``) count
like debriefs, one attempt per case, and get a section of their own: each sitting with its
score, its time and what its signature says; given the session's key, a file changed after the
exam is marked EDITED wherever its results appear.
"""

from __future__ import annotations

import csv
import html
import io
import os
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final

from wizard import __version__
from wizard.lab.exam import Integrity
from wizard.lab.results import Attempt, ResultFileError, is_class_report, read_result_file

RESULT_SUFFIXES: Final = (".html", ".htm", ".txt", ".json")
"""The files a result can be in; anything else in the folder is left alone."""

MAX_FILES: Final = 20_000
"""More files than any class leaves: the reading stops there and says so."""

MAX_DEPTH: Final = 3
"""How far below the folder results are looked for: FOLDER/trainee/session/file at most."""

LEVEL_ORDER: Final = {"beginner": 0, "intermediate": 1, "advanced": 2}

GENERATOR_META: Final = '<meta name="generator" content="checkpoint-wizard class report">'


class ReportError(Exception):
    """No report can be made: the folder is missing or holds no result. Nothing was written."""


@dataclass(frozen=True)
class Skipped:
    """A file under the folder that was not counted, and why."""

    path: Path
    reason: str


class _BestAttempts:
    """What a case and a trainee both say of their best attempts (one per trainee, per case)."""

    best: dict[str, Attempt]

    @property
    def passed(self) -> int:
        return sum(a.passed for a in self.best.values())

    @property
    def average(self) -> float:
        return statistics.fmean(a.score for a in self.best.values()) if self.best else 0.0


@dataclass
class CaseSummary(_BestAttempts):
    """One case as the class did it.

    Attributes:
        best: each trainee's best attempt, by trainee key.
        tries: how many attempts each trainee made.
    """

    id: str
    title: str
    level: str
    vm: str
    attempts: list[Attempt] = field(default_factory=list)
    best: dict[str, Attempt] = field(default_factory=dict)
    tries: Counter[str] = field(default_factory=Counter)

    @property
    def median_seconds(self) -> float | None:
        times = [a.seconds for a in self.best.values() if a.seconds is not None]
        return statistics.median(times) if times else None

    def wrong_turns(self, top: int = 3) -> list[tuple[str, int]]:
        """The wrong turns taken most often in this case (each attempt counts each once)."""
        return _turns(self.attempts).most_common(top)

    @property
    def seed(self) -> tuple[str, str] | None:
        """For a generated case: its level and seed, to hand it out again."""
        parts = self.id.split("-")
        if len(parts) == 3 and parts[0] == "gen" and parts[1] in LEVEL_ORDER and parts[2].isdigit():
            return parts[1], parts[2]
        return None


@dataclass
class TraineeSummary(_BestAttempts):
    """One trainee across the cases: their best attempt at each."""

    key: str
    name: str
    best: dict[str, Attempt] = field(default_factory=dict)

    @property
    def total_seconds(self) -> int | None:
        times = [a.seconds for a in self.best.values() if a.seconds is not None]
        return sum(times) if times else None


@dataclass
class Report:
    """Everything the page and the CSV show."""

    folder: Path
    made: datetime
    attempts: list[Attempt]
    cases: list[CaseSummary]
    trainees: list[TraineeSummary]
    skipped: list[Skipped]
    duplicates: int = 0
    old_files: int = 0
    key_given: bool = False

    @property
    def exams(self) -> list[Attempt]:
        """One attempt per exam file (its first case), which carries the whole sitting."""
        seen: dict[Path, Attempt] = {}
        for a in self.attempts:
            if a.kind == "exam":
                seen.setdefault(a.source, a)
        return sorted(seen.values(), key=lambda a: (a.trainee.casefold(), str(a.source)))

    @property
    def tampered(self) -> list[Attempt]:
        """The exam files whose signature does not hold (one attempt each)."""
        return [a for a in self.exams if tampered(a)]

    def case(self, case_id: str) -> CaseSummary:
        return next(c for c in self.cases if c.id == case_id)


def _turns(attempts: Iterable[Attempt]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for a in attempts:
        counts.update(set(a.wrong_turns))
    return counts


def trainee_key(attempt: Attempt) -> str:
    """Who an attempt belongs to: the typed name, ignoring case and spaces; an attempt saved
    without a name is its file's own trainee."""
    name = " ".join(attempt.trainee.split()).casefold()
    return name or f"(no name: {attempt.source.name})"


def _known_cases() -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """Bundled scenarios: title -> id (to name old debriefs' cases), id -> (title, level)."""
    from wizard.lab.scenario import bundled_scenarios_dir, list_scenarios

    by_title: dict[str, str] = {}
    by_id: dict[str, tuple[str, str]] = {}
    for listing in list_scenarios([bundled_scenarios_dir()]):
        sc = listing.scenario
        if sc is not None:
            by_title[sc.title] = sc.id
            by_id[sc.id] = (sc.title, sc.difficulty.value if sc.difficulty else "")
    return by_title, by_id


def _files(folder: Path) -> tuple[list[Path], list[Skipped]]:
    """The result files under ``folder``: its subfolders down to :data:`MAX_DEPTH` levels,
    hidden files and folders left out, symbolic links to folders not followed."""
    found: list[Path] = []
    skipped: list[Skipped] = []
    problems: list[OSError] = []
    for root, dirs, names in os.walk(folder, onerror=problems.append):
        here = Path(root)
        depth = len(here.relative_to(folder).parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if depth < MAX_DEPTH else []
        for name in sorted(names, key=str.casefold):
            path = here / name
            if name.startswith(".") or path.suffix.lower() not in RESULT_SUFFIXES:
                continue
            try:
                regular = path.is_file()
            except OSError:
                regular = False
            if not regular:
                skipped.append(Skipped(path, "is not a regular file"))
            elif len(found) >= MAX_FILES:
                skipped.append(Skipped(path, f"more than {MAX_FILES:,} files: not read"))
            else:
                found.append(path)
    for exc in problems:
        where = Path(exc.filename) if exc.filename else folder
        if where == folder:
            raise ReportError(f"{folder}: the folder cannot be read: {exc.strerror or exc}")
        skipped.append(Skipped(where, f"the folder cannot be read: {exc.strerror or exc}"))
    return found, skipped


def tampered(attempt: Attempt) -> bool:
    """Whether an exam attempt comes from a file changed after the exam (as far as the key
    given tells: without one, nothing is known)."""
    return attempt.integrity in (Integrity.EDITED, Integrity.OTHER_KEY, Integrity.UNSIGNED)


def build_report(folder: Path, *, now: datetime | None = None, key: bytes | None = None) -> Report:
    """Read every result file under ``folder`` (and its subfolders) into a report.

    A file that cannot be read, is not a result or is damaged is listed in ``skipped`` with the
    reason, and the others are still counted; the same run saved twice (as HTML and as text)
    counts once. With ``key`` (the exam session's), each exam file's signature is checked.

    Raises:
        ReportError: the folder does not exist, cannot be read, or holds no readable result.
    """
    if not folder.exists():
        raise ReportError(
            f"{folder}: no such folder. Give the folder the trainees' debriefs were collected in."
        )
    if not folder.is_dir():
        raise ReportError(f"{folder} is a file, not a folder: give the folder of the debriefs.")
    by_title, by_id = _known_cases()
    paths, skipped = _files(folder)
    attempts: list[Attempt] = []
    seen: set[tuple[object, ...]] = set()
    duplicates = 0
    for path in paths:
        try:
            text_head = path.read_bytes()[:4096].decode("utf-8", "replace")
        except OSError as exc:
            skipped.append(Skipped(path, f"cannot be read: {exc.strerror or exc}"))
            continue
        if is_class_report(text_head):
            continue
        try:
            found = read_result_file(path, by_title, key)
        except ResultFileError as exc:
            skipped.append(Skipped(path, str(exc)))
            continue
        for attempt in found:
            same_run = (
                trainee_key(attempt) if attempt.trainee else "",
                attempt.case_id,
                attempt.finished,
                attempt.score,
                tuple(p.mark for p in attempt.points),
            )
            if same_run in seen:
                duplicates += 1
                continue
            seen.add(same_run)
            attempts.append(attempt)
    if not attempts:
        why = f" ({len(skipped)} file{'s' if len(skipped) != 1 else ''} could not be used)"
        raise ReportError(
            f"{folder}: no saved debrief found{why if skipped else ''}. Trainees save theirs "
            "with Save… on the Debrief page; collect the .html or .txt files in this folder."
        )
    cases: dict[str, CaseSummary] = {}
    trainees: dict[str, TraineeSummary] = {}
    for a in attempts:
        title, level = by_id.get(a.case_id, (a.case_title, a.level))
        case = cases.setdefault(a.case_id, CaseSummary(a.case_id, title, a.level or level, a.vm))
        who = trainee_key(a)
        person = trainees.setdefault(who, TraineeSummary(who, a.trainee or "(no name)"))
        case.attempts.append(a)
        case.tries[who] += 1
        if _better(a, case.best.get(who)):
            case.best[who] = a
            person.best[a.case_id] = a
    ordered_cases = sorted(
        cases.values(), key=lambda c: (LEVEL_ORDER.get(c.level, 3), c.title.casefold(), c.id)
    )
    ordered_people = sorted(trainees.values(), key=lambda t: (t.name.casefold(), t.key))
    return Report(
        folder=folder,
        made=now or datetime.now().astimezone(),
        attempts=attempts,
        cases=ordered_cases,
        trainees=ordered_people,
        skipped=skipped,
        duplicates=duplicates,
        old_files=sum(bool(a.notes) for a in attempts),
        key_given=key is not None,
    )


def _better(new: Attempt, old: Attempt | None) -> bool:
    """The best attempt: the higher score, then passed, then the quicker, then the later."""
    if old is None:
        return True

    def rank(a: Attempt) -> tuple[int, bool, float, str]:
        quick = -a.seconds if a.seconds is not None else float("-inf")
        return (a.score, a.passed, quick, a.finished.isoformat() if a.finished else "")

    return rank(new) > rank(old)


# --- words and numbers ------------------------------------------------------------------------


def duration(seconds: float | None) -> str:
    """``12:05`` (minutes and seconds), ``1:02:05`` from an hour on; ``\u2013`` when not known."""
    if seconds is None:
        return "\u2013"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _level(level: str) -> str:
    return level.capitalize() if level else "Level not known"


# --- the chart ---------------------------------------------------------------------------------

_GOOD = "#2e7d32"
_MID = "#b26a00"
_BAD = "#c62828"
_INK = "#1f2a36"
_MUTED = "#5b6875"
_RULE = "#d5dbe1"
_ACCENT = "#1f5fa8"


def _score_colour(score: float) -> str:
    return _GOOD if score >= 80 else _MID if score >= 50 else _BAD


def _svg_text(x: float, y: float, text: str, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{html.escape(v)}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{html.escape(text)}</text>'


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _wrap(text: str, limit: int) -> list[str]:
    """``text`` in at most two lines of ``limit`` characters (the second clipped)."""
    if len(text) <= limit:
        return [text]
    cut = text.rfind(" ", 0, limit + 1)
    cut = cut if cut > 0 else limit
    return [text[:cut].rstrip(), _clip(text[cut:].strip(), limit)]


def _label(x: float, y: float, text: str, limit: int) -> str:
    """A right-aligned label of one or two lines centred on ``y``, the whole text as its
    tooltip."""
    lines = _wrap(text, limit)
    first = y - 7 * (len(lines) - 1)
    spans = "".join(
        f'<tspan x="{x:.1f}" y="{first + 14 * i:.1f}">{html.escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f'<text text-anchor="end" fill="{_INK}"><title>{html.escape(text)}</title>{spans}</text>'


def _svg_open(width: int, height: int, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{html.escape(label)}" font-family="inherit" font-size="12">'
    )


def case_chart(cases: Sequence[CaseSummary], width: int = 540) -> str:
    """Horizontal bars: each case's average score (of each trainee's best attempt), with how
    many passed and the median time beside it."""
    label_w, right_w, row_h, top = 180, 140, 36, 26
    bar_w = width - label_w - right_w
    height = top + row_h * len(cases) + 24
    parts = [
        _svg_open(width, height, "Average score per case"),
        _svg_text(label_w, 14, "Average score", fill=_MUTED),
        _svg_text(width - right_w + 10, 14, "Passed · median time", fill=_MUTED),
    ]
    for tick in (0, 50, 100):
        x = label_w + bar_w * tick / 100
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 20}" '
            f'stroke="{_RULE}" stroke-dasharray="{"none" if tick == 0 else "3 3"}"/>'
        )
        parts.append(_svg_text(x, height - 6, f"{tick} %", fill=_MUTED, text_anchor="middle"))
    for i, case in enumerate(cases):
        y = top + i * row_h
        mid = y + row_h / 2
        avg = case.average
        parts.append(_label(label_w - 8, mid + 4, case.title, 28))
        parts.append(
            f'<rect x="{label_w}" y="{mid - 10:.1f}" width="{bar_w}" height="20" rx="3" '
            'fill="#eef1f4"/>'
        )
        parts.append(
            f'<rect x="{label_w}" y="{mid - 10:.1f}" width="{bar_w * avg / 100:.1f}" '
            f'height="20" rx="3" fill="{_score_colour(avg)}"/>'
        )
        inside = avg >= 18
        parts.append(
            _svg_text(
                label_w + (bar_w * avg / 100 - 6 if inside else bar_w * avg / 100 + 6),
                mid + 4,
                f"{avg:.0f} %",
                fill="#ffffff" if inside else _INK,
                text_anchor="end" if inside else "start",
                font_weight="600",
            )
        )
        parts.append(
            _svg_text(
                width - right_w + 10,
                mid + 4,
                f"{case.passed}/{len(case.best)} · {duration(case.median_seconds)}",
                fill=_INK,
            )
        )
    parts.append("</svg>")
    return "".join(parts)


def turns_chart(turns: Sequence[tuple[str, int]], of: int, width: int = 540) -> str:
    """Horizontal bars: how many attempts took each of the most common wrong turns."""
    label_w, row_h, top = 250, 34, 6
    bar_w = width - label_w - 70
    height = top + row_h * max(len(turns), 1) + 6
    parts = [_svg_open(width, height, "Most common wrong turns")]
    most = max((n for _, n in turns), default=1)
    for i, (turn, count) in enumerate(turns):
        mid = top + i * row_h + row_h / 2
        parts.append(_label(label_w - 8, mid + 4, turn[:1].upper() + turn[1:], 38))
        w = max(2.0, bar_w * count / most)
        parts.append(
            f'<rect x="{label_w}" y="{mid - 8:.1f}" width="{w:.1f}" height="16" rx="3" '
            f'fill="{_ACCENT}" opacity="0.85"/>'
        )
        share = f"{count} of {of}" if of else str(count)
        parts.append(_svg_text(label_w + w + 6, mid + 4, share, fill=_MUTED))
    if not turns:
        parts.append(_svg_text(8, top + 20, "No wrong turns: every point went well.", fill=_MUTED))
    parts.append("</svg>")
    return "".join(parts)


# --- the page ----------------------------------------------------------------------------------

_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f6f8; color: #1f2a36;
  font: 14px/1.45 "Segoe UI", "Helvetica Neue", Arial, "Noto Sans", "DejaVu Sans", sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 0 28px 40px; }
header.band { background: #1f3a5a; color: #fff; padding: 22px 28px 18px; }
header.band div { max-width: 1180px; margin: 0 auto; }
header.band h1 { margin: 0 0 4px; font-size: 24px; font-weight: 600; letter-spacing: .2px; }
header.band p { margin: 0; color: #c9d6e4; }
h2 { font-size: 17px; margin: 28px 0 10px; font-weight: 600; }
h3 { font-size: 15px; margin: 0 0 6px; font-weight: 600; }
.cards { display: flex; gap: 12px; margin: 18px 0 6px; flex-wrap: wrap; }
.card { background: #fff; border: 1px solid #d5dbe1; border-radius: 8px; padding: 10px 16px;
  min-width: 150px; }
.card b { display: block; font-size: 22px; font-weight: 600; }
.card span { color: #5b6875; font-size: 12px; text-transform: uppercase; letter-spacing: .5px; }
.panel { background: #fff; border: 1px solid #d5dbe1; border-radius: 8px; padding: 14px 16px; }
.charts { display: flex; gap: 14px; flex-wrap: wrap; align-items: flex-start; }
.charts .panel { flex: 1 1 480px; }
.charts svg { display: block; height: auto; }
.legend { margin: 8px 0 0; color: #5b6875; font-size: 12px; }
.legend .pill { min-width: 0; font-size: 11px; padding: 1px 7px; margin-right: 4px; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { border-bottom: 1px solid #e3e8ed; padding: 7px 8px; text-align: left;
  vertical-align: top; }
thead th { background: #eef2f6; font-size: 12px; color: #3d4a57; font-weight: 600; }
table.matrix td.cell { text-align: center; white-space: nowrap; }
table.matrix tbody th { white-space: nowrap; }
table.matrix th.case { text-align: center; width: 11%; }
table.matrix th.case small { display: block; font-weight: 400; color: #5b6875; }
td.num, th.num { text-align: right; white-space: nowrap; }
.pill { display: inline-block; min-width: 48px; padding: 2px 8px; border-radius: 10px;
  font-weight: 600; color: #fff; }
.pass { background: #2e7d32; } .near { background: #b26a00; } .fail { background: #c62828; }
.sub { display: block; color: #5b6875; font-size: 12px; }
.none { color: #9aa5b1; }
.muted { color: #5b6875; }
.cases { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 12px; }
.cases ol { margin: 6px 0 0 18px; padding: 0; }
.flag { display: inline-block; font-size: 11px; padding: 1px 7px; border-radius: 9px;
  background: #c62828; color: #fff; font-weight: 600; margin-left: 6px; vertical-align: 2px; }
td.edited { background: #fdecea; }
tr.edited th, tr.edited td { background: #fdecea; }
td.bad { color: #c62828; font-weight: 600; } td.ok { color: #2e7d32; }
.alert { background: #fdecea; border: 1px solid #c62828; border-radius: 6px; padding: 8px 12px;
  color: #7f1d1d; }
.tag { display: inline-block; font-size: 11px; padding: 1px 7px; border-radius: 9px;
  background: #e6edf5; color: #1f3a5a; margin-left: 6px; vertical-align: 2px; }
footer { margin-top: 30px; color: #5b6875; font-size: 12px; }
@media print { body { background: #fff; } .panel, .card { border-color: #bbb; }
  header.band { background: #fff; color: #000; border-bottom: 2px solid #000; }
  header.band p { color: #333; } }
"""


def _pill(attempt: Attempt) -> str:
    cls = "pass" if attempt.passed else "near" if attempt.score >= 50 else "fail"
    word = "passed" if attempt.passed else "not yet"
    return f'<span class="pill {cls}" title="{word}">{attempt.score} %</span>'


def _cards(report: Report) -> str:
    best = [a for c in report.cases for a in c.best.values()]
    passed = sum(a.passed for a in best)
    times = [a.seconds for a in best if a.seconds is not None]
    cards = [
        (str(len(report.trainees)), "trainees"),
        (str(len(report.cases)), "cases"),
        (str(len(report.attempts)), "attempts"),
        (f"{round(100 * passed / len(best)) if best else 0} %", "cases passed"),
        (f"{statistics.fmean(a.score for a in best):.0f} %" if best else "\u2013", "average score"),
        (duration(statistics.median(times)) if times else "\u2013", "median time per case"),
    ]
    return (
        '<div class="cards">'
        + "".join(
            f"<div class='card'><b>{html.escape(v)}</b><span>{k}</span></div>" for v, k in cards
        )
        + "</div>"
    )


def _matrix(report: Report) -> str:
    e = html.escape
    head = "".join(
        f'<th class="case">{e(_clip(c.title, 34))}<small>{e(_level(c.level))}</small></th>'
        for c in report.cases
    )
    rows = []
    for t in report.trainees:
        cells = []
        for c in report.cases:
            a = t.best.get(c.id)
            if a is None:
                cells.append('<td class="cell none">not done</td>')
                continue
            tries = c.tries[t.key]
            extra = f" · {tries} tries" if tries > 1 else ""
            mark = ""
            if a.kind == "exam":
                mark = (
                    '<span class="flag" title="changed after the exam">EDITED</span>'
                    if tampered(a)
                    else '<span class="tag">exam</span>'
                )
            cells.append(
                f'<td class="cell{" edited" if tampered(a) else ""}">{_pill(a)}{mark}'
                f'<span class="sub">{duration(a.seconds)}{extra}</span></td>'
            )
        rows.append(
            f"<tr><th>{e(t.name)}</th>{''.join(cells)}"
            f'<td class="num">{t.passed}/{len(report.cases)}</td>'
            f'<td class="num">{t.average:.0f} %</td>'
            f'<td class="num">{duration(t.total_seconds)}</td></tr>'
        )
    foot = "".join(
        f'<td class="cell"><b>{c.average:.0f} %</b>'
        f'<span class="sub">{c.passed}/{len(c.best)} passed · '
        f"{duration(c.median_seconds)}</span></td>"
        for c in report.cases
    )
    return (
        '<table class="matrix"><thead><tr><th>Trainee</th>'
        f'{head}<th class="num">Passed</th><th class="num">Average</th>'
        f'<th class="num">Time</th></tr></thead><tbody>{"".join(rows)}</tbody>'
        f"<tfoot><tr><th>Class</th>{foot}<td></td><td></td><td></td></tr></tfoot></table>"
    )


def _case_panels(report: Report) -> str:
    e = html.escape
    panels = []
    for c in report.cases:
        turns = c.wrong_turns(3)
        listed = (
            "<ol>"
            + "".join(
                f"<li>{e(turn[:1].upper() + turn[1:])} <span class='muted'>({n} of "
                f"{len(c.attempts)} attempts)</span></li>"
                for turn, n in turns
            )
            + "</ol>"
            if turns
            else "<p class='muted'>No wrong turns.</p>"
        )
        seed = c.seed
        again = (
            f"<p class='muted'>A generated case: hand it out again with "
            f"<code>scenario generate --level {e(seed[0])} --seed {e(seed[1])}</code>.</p>"
            if seed is not None
            else ""
        )
        panels.append(
            '<div class="panel">'
            f"<h3>{e(c.title)}<span class='tag'>{e(_level(c.level))}</span></h3>"
            f"<p class='muted'>VM {e(c.vm or chr(0x2013))} · {c.passed} of {len(c.best)} passed · "
            f"average {c.average:.0f} % · median time {duration(c.median_seconds)} · "
            f"{len(c.attempts)} attempt{'s' if len(c.attempts) != 1 else ''}</p>"
            f"<b>Most common wrong turns</b>{listed}{again}</div>"
        )
    return '<div class="cases">' + "".join(panels) + "</div>"


def _exams(report: Report) -> str:
    exams = report.exams
    if not exams:
        return ""
    e = html.escape

    def shown(path: Path) -> str:
        return str(path.relative_to(report.folder) if path.is_relative_to(report.folder) else path)

    rows = []
    for a in exams:
        sitting = a.exam
        total, done = sitting.get("total", 0), sitting.get("done", 0)
        score = sitting.get("score")
        seconds = sitting.get("seconds")
        skipped = sitting.get("not_taken", 0)
        state = f", {skipped} not taken" if isinstance(skipped, int) and skipped else ""
        state += "" if sitting.get("complete") else " (not finished)"
        integrity = Integrity(a.integrity) if a.integrity else Integrity.UNCHECKED
        cls = "bad" if tampered(a) else "ok" if integrity is Integrity.VERIFIED else "muted"
        rows.append(
            f'<tr class="{"edited" if tampered(a) else ""}"><th>{e(a.trainee or "(no name)")}'
            f"</th><td>{e(shown(a.source))}</td>"
            f'<td class="num">{done} of {total}{e(state)}</td>'
            f'<td class="num">{score if isinstance(score, int) else chr(0x2013)} %</td>'
            f'<td class="num">{duration(seconds if isinstance(seconds, int) else None)}</td>'
            f'<td class="{cls}">{e(integrity.words)}</td></tr>'
        )
    how = (
        "Each file's signature was checked with the session's key."
        if report.key_given
        else "Signatures were not checked: give the session's key (--key-file) to see which "
        "files were changed after the exam."
    )
    return (
        "<h2>Exams</h2>"
        f"<p class='muted'>One row per exam result file: the cases done, the exam's score (cases "
        f"not done or not taken count 0; a case is not taken when its lab did not start and the "
        f"trainee skipped it), the time from the name to the last case. {e(how)}</p>"
        '<table class="exams"><thead><tr><th>Trainee</th><th>File</th><th class="num">Cases</th>'
        '<th class="num">Score</th><th class="num">Time</th><th>Signature</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _skipped(report: Report) -> str:
    if not report.skipped:
        return ""
    e = html.escape

    def shown(path: Path) -> str:
        return str(path.relative_to(report.folder) if path.is_relative_to(report.folder) else path)

    rows = "".join(
        f"<tr><td>{e(shown(s.path))}</td><td>{e(s.reason)}</td></tr>" for s in report.skipped
    )
    return (
        "<h2>Files not counted</h2>"
        "<p class='muted'>Nothing in them was counted above; nothing was changed in them.</p>"
        f"<table><thead><tr><th>File</th><th>Why</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page (styles and charts inside)."""
    e = html.escape
    overall = _turns(report.attempts).most_common(8)
    notes = []
    if report.old_files:
        notes.append(
            f"{report.old_files} debrief{'s were' if report.old_files != 1 else ' was'} saved "
            "by an earlier version: their time taken is not known (shown as \u2013)."
        )
    if report.duplicates:
        notes.append(
            f"{report.duplicates} file{'s' if report.duplicates != 1 else ''} held a run already "
            "counted (the same debrief saved twice) and counted once."
        )
    note_html = "".join(f"<p class='muted'>{e(n)}</p>" for n in notes)
    if report.tampered:
        n = len(report.tampered)
        note_html = (
            "<p class='alert'><b>"
            + e(
                f"{n} exam result file{'s were' if n != 1 else ' was'} changed after the exam "
                f"({', '.join(a.trainee or '(no name)' for a in report.tampered)}):"
            )
            + "</b> "
            + e("their results are marked EDITED below; do not count them without asking.")
            + "</p>"
            + note_html
        )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"{GENERATOR_META}"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Class report: {e(report.folder.name or str(report.folder))}</title>"
        f"<style>{_CSS}</style></head><body>"
        '<header class="band"><div><h1>Class report</h1>'
        f"<p>{e(str(report.folder))} · made {report.made:%Y-%m-%d %H:%M}</p></div></header>"
        f"<main>{_cards(report)}{note_html}"
        "<h2>How each case went</h2>"
        '<div class="charts">'
        f'<div class="panel"><h3>Average score per case</h3>{case_chart(report.cases)}</div>'
        '<div class="panel"><h3>Most common wrong turns</h3>'
        f"{turns_chart(overall, len(report.attempts))}</div></div>"
        "<h2>Trainees and cases</h2>"
        "<p class='muted'>Each cell: the trainee's best attempt, its score (the share of the "
        "debrief's points that went well; green: passed) and the time from opening the case to "
        "the debrief.</p>"
        f"{_matrix(report)}"
        '<p class="legend"><span class="pill pass">passed</span> no point missed '
        '<span class="pill near" style="margin-left:12px">not yet</span> half or more '
        '<span class="pill fail" style="margin-left:12px">not yet</span> less than half</p>'
        f"{_exams(report)}"
        f"<h2>Cases</h2>{_case_panels(report)}"
        f"{_skipped(report)}"
        f"<footer>Checkpoint Wizard {e(__version__)}, training mode. Made from "
        f"{len(report.attempts)} attempt{'s' if len(report.attempts) != 1 else ''} in saved "
        f"debriefs{' and exam results' if report.exams else ''}."
        "</footer></main></body></html>\n"
    )


_CSV_FIELDS: Final = (
    "trainee",
    "case_id",
    "case_title",
    "level",
    "vm",
    "score",
    "passed",
    "seconds",
    "finished",
    "verdict",
    "expected_verdict",
    "fix",
    "expected_fix",
    "wrong_turns",
    "file",
    "kind",
    "signature",
)


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a leading =, +, - or @ would make a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render_csv(report: Report) -> str:
    """One row per attempt (every attempt, not only the best), for a spreadsheet."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_CSV_FIELDS)
    for a in sorted(
        report.attempts,
        key=lambda a: (trainee_key(a), a.case_id, a.finished.isoformat() if a.finished else ""),
    ):
        answers = a.answers
        writer.writerow(
            _cell(v)
            for v in (
                a.trainee,
                a.case_id,
                a.case_title,
                a.level,
                a.vm,
                a.score,
                "yes" if a.passed else "no",
                a.seconds,
                a.finished.isoformat() if a.finished else "",
                answers.get("verdict"),
                answers.get("expected_verdict"),
                answers.get("fix"),
                answers.get("expected_fix"),
                "; ".join(a.wrong_turns),
                str(a.source),
                a.kind,
                a.integrity,
            )
        )
    return buffer.getvalue()
