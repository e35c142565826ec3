"""Training results in files: what a saved debrief carries for the trainer, and reading it back.

The debrief page saves a page for people (HTML, or text for a ticket or an e-mail). Since this
format, the page also carries its *result data*: one JSON object with the trainee, the case,
the time taken, the answers and every scored point, so that ``checkpoint-wizard training report``
can count a class without guessing from prose. Where it sits:

- in an HTML debrief, in ``<script type="application/json" id="checkpoint-wizard-result">``
  (a browser neither shows nor runs it; ``<``, ``>`` and ``&`` are written as ``\\u003c`` etc.);
- in a text debrief, on its last line, after ``Result data (for the class report): ``.

The object (``format`` 1)::

    {"kind": "debrief", "format": 1, "product": "0.1.0",
     "trainee": "Ines", "case": {"id": "dual-screen-win7", "title": "...", "level": "beginner",
     "vm": "HD-W7-042"}, "started": "2024-05-02T09:14:03+02:00",
     "finished": "2024-05-02T09:31:40+02:00", "seconds": 1057, "passed": false,
     "answers": {"vm": "HD-W7-042", "verdict": "affected", "expected_verdict": "confirmed",
                 "fix": "raise_buffer", "expected_fix": "raise_buffer", "applied": true,
                 "escalate": false, "hints": 2},
     "points": [{"id": "verdict", "title": "Verdict", "mark": "miss", "text": "...",
                 "turn": "said Affected, it was Confirmed"}, ...]}

Files saved before this format (no result data) are still read: the page's title, VM, date,
trainee and every scored point are taken from the text itself; the time and the answers are then
unknown, which the report says.

Reading is open to more kinds of result file: :data:`READERS` maps a ``kind`` to the function
that turns its object into :class:`Attempt` rows. An exam result file (``kind`` ``exam``,
:mod:`wizard.lab.exam`: a trainee's fixed sequence of cases, signed with the trainer's key) gives
one attempt per case done, each carrying what the signature says (:attr:`Attempt.integrity`:
verified, edited, another key, or not checked when no key was given).
"""

from __future__ import annotations

import html
import html.parser
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from wizard.lab.exam import verify

FORMAT: Final = 1
"""The result data format this module writes and reads."""

DATA_ID: Final = "checkpoint-wizard-result"
"""The id of the ``<script>`` element that carries the data in an HTML debrief."""

TEXT_MARKER: Final = "Result data (for the class report): "
"""What starts the line that carries the data in a text debrief."""

MAX_RESULT_BYTES: Final = 2 * 1024 * 1024
"""A debrief is a few kilobytes; a larger file is not one."""

MARKS: Final = ("good", "miss", "tip", "info")
"""How a point went (``wizard.ui.training.debrief.Mark``'s values)."""


class ResultFileError(Exception):
    """A file that holds no readable result: the reason, in words."""


@dataclass(frozen=True)
class Point:
    """One scored point of a debrief.

    Attributes:
        turn: for a missed point, the wrong turn in a few words (empty when the file does not
            say: the title stands in for it).
    """

    id: str
    title: str
    mark: str
    text: str
    turn: str = ""


@dataclass(frozen=True)
class Attempt:
    """One trainee's run of one case, from one file.

    Attributes:
        trainee: the name the trainee typed ("" when none).
        case_id: the scenario's id; for an old file, the id of the bundled scenario of that
            title, else the title made into an id.
        level: ``beginner``, ``intermediate``, ``advanced`` or "" when not known.
        score: the share of scored points (good or missed) that went well, 0 to 100.
        seconds: the time from opening the case to the debrief; None when not known.
        answers: what the trainee answered and what the case expected (empty for old files).
        kind: the kind of file it came from (``debrief`` or ``exam``).
        notes: what the reader wants the trainer to know about this attempt (an old file, ...).
        integrity: for an exam, what its signature says (an :class:`~wizard.lab.exam.Integrity`
            value); "" for a debrief, which is not signed.
        exam: for an exam, the whole sitting: ``title``, ``total`` (cases in the exam),
            ``done``, ``not_taken`` (skipped when their lab did not start), ``complete``,
            ``score`` and ``seconds``; empty for a debrief.
    """

    trainee: str
    case_id: str
    case_title: str
    level: str
    vm: str
    passed: bool
    score: int
    seconds: int | None
    finished: datetime | None
    points: tuple[Point, ...]
    source: Path
    kind: str = "debrief"
    answers: Mapping[str, object] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    integrity: str = ""
    exam: Mapping[str, object] = field(default_factory=dict)

    @property
    def wrong_turns(self) -> tuple[str, ...]:
        """Each missed point as its wrong turn, in the order of the debrief."""
        return tuple(
            p.turn or f"{p.title.lower()}: missed" for p in self.points if p.mark == "miss"
        )


def score_of(points: Sequence[Point]) -> int:
    """The share of good points among the scored ones (good or missed), 0 to 100; tips and
    notes do not count. A debrief without a scored point scores 100."""
    good = sum(p.mark == "good" for p in points)
    missed = sum(p.mark == "miss" for p in points)
    return round(100 * good / (good + missed)) if good + missed else 100


# --- writing ------------------------------------------------------------------------------------


def make_record(
    *,
    product: str,
    trainee: str,
    case_id: str,
    case_title: str,
    level: str,
    vm: str,
    started: datetime | None,
    finished: datetime,
    passed: bool,
    answers: Mapping[str, object],
    points: Sequence[Point],
) -> dict[str, Any]:
    """The result data of one debrief (the object described in the module docstring)."""
    seconds = None
    if started is not None:
        seconds = max(0, round((finished - started).total_seconds()))
    return {
        "kind": "debrief",
        "format": FORMAT,
        "product": product,
        "trainee": trainee,
        "case": {"id": case_id, "title": case_title, "level": level, "vm": vm},
        "started": started.isoformat(timespec="seconds") if started is not None else None,
        "finished": finished.isoformat(timespec="seconds"),
        "seconds": seconds,
        "passed": passed,
        "answers": dict(answers),
        "points": [
            {"id": p.id, "title": p.title, "mark": p.mark, "text": p.text, "turn": p.turn}
            for p in points
        ],
    }


def _json_for_html(record: Mapping[str, Any]) -> str:
    text = json.dumps(record, ensure_ascii=False, indent=None)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def embed_in_html(page: str, record: Mapping[str, Any]) -> str:
    """``page`` with the result data in a ``<script type="application/json">`` before
    ``</body>`` (or at the end when it has none)."""
    block = f'<script type="application/json" id="{DATA_ID}">{_json_for_html(record)}</script>'
    at = page.rfind("</body>")
    return page[:at] + block + page[at:] if at >= 0 else page + block


def embed_in_text(text: str, record: Mapping[str, Any]) -> str:
    """``text`` with the result data on a last line of its own."""
    return f"{text.rstrip()}\n\n{TEXT_MARKER}{json.dumps(record, ensure_ascii=False)}\n"


# --- reading ------------------------------------------------------------------------------------

_SCRIPT: Final = re.compile(
    r'<script\s+type="application/json"\s+id="' + DATA_ID + r'"\s*>(.*?)</script>', re.DOTALL
)


def _decode(raw: bytes) -> str:
    if len(raw) > MAX_RESULT_BYTES:
        raise ResultFileError(
            f"is larger than {MAX_RESULT_BYTES // (1024 * 1024)} MB, too large for a debrief"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ResultFileError(f"is not UTF-8 text (byte {exc.start})") from None


def embedded_record(text: str) -> dict[str, Any] | None:
    """The result data a debrief carries; None when it carries none (an older file).

    Raises:
        ResultFileError: the data is there but damaged.
    """
    match = _SCRIPT.search(text)
    raw: str | None = match.group(1) if match else None
    if raw is None:
        for line in reversed(text.splitlines()):
            if line.startswith(TEXT_MARKER):
                raw = line[len(TEXT_MARKER) :]
                break
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ResultFileError(f"its result data is damaged ({exc})") from None
    if not isinstance(data, dict):
        raise ResultFileError("its result data is not an object")
    return data


class _Fields:
    """Typed reads from the result data, each failure naming the field."""

    def __init__(self, data: Mapping[str, Any], where: str = "") -> None:
        self.data = data
        self.where = where

    def _bad(self, key: str, wanted: str) -> ResultFileError:
        return ResultFileError(
            f"its result data has no usable {self.where}{key} ({wanted} expected)"
        )

    def text(self, key: str, *, optional: bool = False) -> str:
        value = self.data.get(key)
        if value is None and optional:
            return ""
        if not isinstance(value, str):
            raise self._bad(key, "text")
        return value

    def flag(self, key: str) -> bool:
        value = self.data.get(key)
        if not isinstance(value, bool):
            raise self._bad(key, "true or false")
        return value

    def seconds(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self._bad(key, "a whole number of seconds")
        return value

    def when(self, key: str) -> datetime | None:
        value = self.data.get(key)
        if value is None:
            return None
        try:
            return datetime.fromisoformat(str(value))
        except ValueError:
            raise self._bad(key, "a date and time") from None

    def obj(self, key: str) -> _Fields:
        value = self.data.get(key)
        if not isinstance(value, dict):
            raise self._bad(key, "an object")
        return _Fields(value, f"{self.where}{key}.")

    def items(self, key: str) -> list[_Fields]:
        value = self.data.get(key)
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self._bad(key, "a list of objects")
        return [_Fields(v, f"{self.where}{key}[{i}].") for i, v in enumerate(value)]


def _debrief_attempts(
    data: Mapping[str, Any], source: Path, key: bytes | None = None
) -> list[Attempt]:
    f = _Fields(data)
    case = f.obj("case")
    points = []
    for p in f.items("points"):
        mark = p.text("mark")
        if mark not in MARKS:
            raise ResultFileError(f"its result data has an unknown mark {mark!r}")
        points.append(
            Point(
                p.text("id"), p.text("title"), mark, p.text("text"), p.text("turn", optional=True)
            )
        )
    answers = data.get("answers")
    return [
        Attempt(
            trainee=f.text("trainee", optional=True).strip(),
            case_id=case.text("id"),
            case_title=case.text("title"),
            level=case.text("level", optional=True),
            vm=case.text("vm", optional=True),
            passed=f.flag("passed"),
            score=score_of(points),
            seconds=f.seconds("seconds"),
            finished=f.when("finished"),
            points=tuple(points),
            source=source,
            answers=dict(answers) if isinstance(answers, dict) else {},
        )
    ]


def _exam_attempts(data: Mapping[str, Any], source: Path, key: bytes | None) -> list[Attempt]:
    integrity = verify(data, key).value
    f = _Fields(data)
    trainee = f.text("trainee", optional=True).strip()
    cases = f.items("cases")
    exam = f.obj("exam")
    planned = exam.data.get("cases")
    not_taken = data.get("not_taken")
    score = data.get("score")
    sitting = {
        "title": exam.text("title", optional=True),
        "total": len(planned) if isinstance(planned, list) else len(cases),
        "done": len(cases),
        "not_taken": len(not_taken) if isinstance(not_taken, list) else 0,
        "complete": data.get("complete") is True,
        "score": score if isinstance(score, int) and not isinstance(score, bool) else None,
        "seconds": f.seconds("seconds"),
    }
    attempts = []
    for case in cases:
        (attempt,) = _debrief_attempts({**case.data, "trainee": trainee}, source)
        attempts.append(replace(attempt, kind="exam", integrity=integrity, exam=sitting))
    if not attempts:
        raise ResultFileError("is an exam result without a finished case")
    return attempts


READERS: Final[dict[str, Callable[[Mapping[str, Any], Path, bytes | None], list[Attempt]]]] = {
    "debrief": _debrief_attempts,
    "exam": _exam_attempts,
}
"""How each kind of result data becomes attempts; a new kind of result file adds itself here."""


# --- files saved before the result data -----------------------------------------------------------

_LABELS: Final = {"Good": "good", "Missed": "miss", "Tip": "tip", "Note": "info"}
_TEXT_HEAD: Final = re.compile(r"Training debrief: (?P<title>.+)")
_TEXT_WHO: Final = re.compile(
    r"VM (?P<vm>.*), (?P<when>\d{4}-\d{2}-\d{2} \d{2}:\d{2})(?:, (?P<trainee>.*))?"
)
_TEXT_POINT: Final = re.compile(
    r"\[(?P<label>Good|Missed|Tip|Note)\] (?P<title>[^:]+): (?P<text>.*)"
)
_TEXT_RESULT: Final = re.compile(r"Result: (?P<result>PASSED|NOT YET)\.")
_OLD_NOTE: Final = "saved before debriefs carried their data: no time taken and no answers"


def _slug(title: str) -> str:
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "-".join(words) or "unnamed-case"


def _legacy(
    source: Path,
    title: str,
    who: re.Match[str] | None,
    points: list[Point],
    passed: bool | None,
    case_ids: Mapping[str, str],
) -> Attempt:
    if not points:
        raise ResultFileError("is a debrief without any scored point")
    when = None
    if who is not None:
        try:
            when = datetime.strptime(who.group("when"), "%Y-%m-%d %H:%M")
        except ValueError:
            when = None
    return Attempt(
        trainee=(who.group("trainee") or "").strip() if who is not None else "",
        case_id=case_ids.get(title, _slug(title)),
        case_title=title,
        level="",
        vm=who.group("vm") if who is not None else "",
        passed=passed if passed is not None else all(p.mark != "miss" for p in points),
        score=score_of(points),
        seconds=None,
        finished=when,
        points=tuple(points),
        source=source,
        notes=(_OLD_NOTE,),
    )


def _legacy_text(text: str, source: Path, case_ids: Mapping[str, str]) -> Attempt:
    lines = text.splitlines()
    head = _TEXT_HEAD.fullmatch(lines[0].strip()) if lines else None
    if head is None:
        raise ResultFileError("is not a debrief (it does not start with 'Training debrief:')")
    who = _TEXT_WHO.fullmatch(lines[1].strip()) if len(lines) > 1 else None
    points: list[Point] = []
    passed: bool | None = None
    for line in lines[2:]:
        if (m := _TEXT_RESULT.match(line)) is not None:
            passed = m.group("result") == "PASSED"
        elif (m := _TEXT_POINT.fullmatch(line.strip())) is not None:
            title = m.group("title")
            points.append(
                Point(
                    _slug(title).replace("-", "_"),
                    title,
                    _LABELS[m.group("label")],
                    m.group("text"),
                )
            )
    return _legacy(source, head.group("title"), who, points, passed, case_ids)


class _OldPage(html.parser.HTMLParser):
    """The parts of a debrief page saved before the result data: title, byline, points."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.byline = ""
        self.rows: list[list[str]] = []
        self._in: str | None = None
        self._cell: list[str] = []
        self._paragraphs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("h2", "p", "td", "title"):
            self._in, self._cell = tag, []

    def handle_endtag(self, tag: str) -> None:
        if tag != self._in:
            return
        value = "".join(self._cell).strip()
        if tag == "td" and self.rows:
            self.rows[-1].append(value)
        elif tag == "h2" and not self.title:
            self.title = value
        elif tag == "p":
            self._paragraphs.append(value)
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            self._cell.append(data)

    @property
    def paragraphs(self) -> list[str]:
        return self._paragraphs


def _legacy_html(text: str, source: Path, case_ids: Mapping[str, str]) -> Attempt:
    page = _OldPage()
    try:
        page.feed(text)
        page.close()
    except (ValueError, AssertionError) as exc:
        raise ResultFileError(f"is not a readable web page ({exc})") from None
    head = _TEXT_HEAD.fullmatch(page.title)
    if head is None:
        raise ResultFileError("is not a debrief (no 'Training debrief:' heading)")
    who = next((m for p in page.paragraphs if (m := _TEXT_WHO.fullmatch(p)) is not None), None)
    passed = None
    for p in page.paragraphs:
        if p.startswith("Passed."):
            passed = True
        elif p.startswith("Not yet."):
            passed = False
    points = [
        Point(_slug(title).replace("-", "_"), title, _LABELS[label], text)
        for row in page.rows
        if len(row) == 3
        for label, title, text in [row]
        if label in _LABELS
    ]
    return _legacy(source, html.unescape(head.group("title")), who, points, passed, case_ids)


def is_class_report(text: str) -> bool:
    """Whether ``text`` is a class report of ours (skipped, never counted as a result)."""
    return '<meta name="generator" content="checkpoint-wizard class report">' in text[:4096]


def read_result_file(
    path: Path, case_ids: Mapping[str, str] | None = None, key: bytes | None = None
) -> list[Attempt]:
    """The attempts in one saved result file (a debrief: one attempt; an exam: one per case).

    Args:
        path: the file (``.html``, ``.htm``, ``.txt`` or ``.json``).
        case_ids: scenario title -> id, to name the case of a file saved before the result
            data (the bundled scenarios' titles, usually).
        key: the exam session's key, to check an exam file's signature (None: not checked).

    Raises:
        ResultFileError: the file cannot be read, or holds no result; the reason in words.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ResultFileError(f"cannot be read: {exc.strerror or exc}") from None
    text = _decode(raw)
    data = embedded_record(text)
    if data is None and path.suffix.lower() == ".json":
        try:
            loaded = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise ResultFileError(f"is not valid JSON ({exc})") from None
        if not isinstance(loaded, dict):
            raise ResultFileError("is JSON but not a result (not an object)")
        data = loaded
    if data is not None:
        kind = data.get("kind")
        reader = READERS.get(kind) if isinstance(kind, str) else None
        if reader is None:
            raise ResultFileError(f"holds result data of an unknown kind ({kind!r})")
        fmt = data.get("format")
        if fmt != FORMAT:
            raise ResultFileError(
                f"holds result data in format {fmt!r}; this version reads format {FORMAT}"
            )
        return reader(data, path, key)
    known = dict(case_ids or {})
    if path.suffix.lower() in (".html", ".htm"):
        return [_legacy_html(text, path, known)]
    return [_legacy_text(text, path, known)]
