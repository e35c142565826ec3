"""Exams: a fixed sequence of cases, one signed result file per trainee.

A trainer starts an exam with ``checkpoint-wizard training exam --cases LIST --results FOLDER``
and a key for the session (typed, or from ``--key-file``). The trainee types their name and
works through the cases in the order given, in the ordinary wizard without coach, hints or
"Just show me", with a timer in sight. After each case the result file is written again, so a
closed window loses nothing.

The cases (:func:`parse_cases`): a bundled scenario's id (``dual-screen-win7``), a scenario file
(``cases/ticket-4711.json``), or a generated case ``seed:N:LEVEL`` (``seed:42:intermediate``),
which is the same case on every computer.

The result file (``kind`` ``exam``, ``format`` 1, JSON)::

    {"kind": "exam", "format": 1, "product": "0.1.0",
     "exam": {"title": "...", "cases": ["dual-screen-win7", "seed:42:intermediate"]},
     "trainee": "Ines", "started": "...", "finished": "..." or null, "complete": false,
     "seconds": 1234, "score": 75,
     "cases": [ <one debrief's result data (wizard.lab.results) per case done> ],
     "not_taken": [{"case": 2, "label": "seed:42:intermediate", "reason": "..."}],
     "signature": {"algorithm": "HMAC-SHA256", "key_check": "<16 hex>", "value": "<64 hex>"}}

``score`` is the mean over every case of the exam, a case not done or not taken counting 0.
``not_taken`` lists the cases whose lab did not start and that the trainee skipped rather than
try again (:func:`skip_case`); files written before it have no such field.

``signature.value`` is HMAC-SHA256, keyed with the trainer's key, over the file's canonical form
(:func:`canonical`: every field but ``signature``, keys sorted, no spaces, UTF-8). The key is
never written anywhere; ``key_check`` (the first 16 hex digits of HMAC-SHA256 of a fixed text)
tells "signed with another key" from "edited" without giving the key away. Anyone can read
the file; only someone with the key can make a matching signature, so a change to a name, an
answer, a score or a time shows (:func:`verify`). What it cannot show: a trainee who reads the
key from the exam's own computer while it runs (the key is in that process's memory and, with
``--key-file``, in that file: type it, or remove the file before the trainees sit down).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from wizard.lab.generate import GenerateError, check_seed, generate, parse_level
from wizard.lab.scenario import ScenarioError, bundled_scenario_files, load_scenario

FORMAT: Final = 1
KIND: Final = "exam"
ALGORITHM: Final = "HMAC-SHA256"
MIN_KEY_LENGTH: Final = 8
"""A key shorter than this is refused: it could be guessed."""

MAX_CASES: Final = 50
_KEY_CHECK_TEXT: Final = b"checkpoint-wizard exam key check"
_SEED: Final = re.compile(r"seed:(?P<seed>[^:]*):(?P<level>.*)")


# The exam's cases are written to a temporary folder named after the exam's process
# (wizard.lab.stale): an exam that is killed leaves it, the next exam removes it.
EXAM_TEMP_PREFIX = "checkpoint-wizard-exam-"


class ExamError(ValueError):
    """An exam that cannot be run or a key that cannot be used: what to do, in words."""


class Integrity(enum.StrEnum):
    """What the signature says about a result file."""

    VERIFIED = "verified"
    """Signed with this key and unchanged since."""
    EDITED = "edited"
    """Signed with this key, but changed since: the signature no longer matches."""
    OTHER_KEY = "other-key"
    """Signed with another key (another session's), or its signature was edited."""
    UNSIGNED = "unsigned"
    """No signature at all (removed, or never an exam file)."""
    UNCHECKED = "unchecked"
    """Not checked: no key was given."""

    @property
    def words(self) -> str:
        return _WORDS[self]


_WORDS: Final = {
    Integrity.VERIFIED: "signature verified: unchanged since the exam",
    Integrity.EDITED: "EDITED after the exam: the signature does not match its content",
    Integrity.OTHER_KEY: "signed with another key (another session's), or its signature edited",
    Integrity.UNSIGNED: "EDITED after the exam: its signature was removed",
    Integrity.UNCHECKED: "signature not checked (give the session's key)",
}


@dataclass(frozen=True)
class ExamCase:
    """One case of an exam as the trainer wrote it, and where its scenario comes from.

    Attributes:
        label: as given (``dual-screen-win7``, ``seed:42:intermediate``, a path).
        path: the scenario file (None for a generated case: :func:`materialise` writes one).
        seed, level: for a generated case.
    """

    label: str
    path: Path | None = None
    seed: int | None = None
    level: str | None = None


def parse_cases(text: str, base: Path | None = None) -> tuple[ExamCase, ...]:
    """The comma-separated case list of ``--cases``, each checked now (before anyone sits down).

    Raises:
        ExamError: an entry is none of the three forms, or its scenario is not valid.
    """
    labels = [part.strip() for part in text.split(",")]
    if not any(labels):
        raise ExamError("no case given: list the cases, e.g. dual-screen-win7,seed:42:intermediate")
    if len(labels) > MAX_CASES:
        raise ExamError(f"{len(labels)} cases: an exam takes at most {MAX_CASES}")
    bundled = {p.stem: p for p in bundled_scenario_files()}
    cases = []
    for i, label in enumerate(labels, 1):
        if not label:
            raise ExamError(f"case {i} is empty: remove the extra comma")
        match = _SEED.fullmatch(label)
        if match is not None:
            try:
                seed = check_seed(int(match.group("seed")))
                level = parse_level(match.group("level"))
            except (GenerateError, ValueError) as exc:
                raise ExamError(
                    f"case {i} ({label}): {exc}. Write seed:NUMBER:LEVEL, e.g. seed:42:beginner"
                ) from None
            cases.append(ExamCase(label, seed=seed, level=level.value))
            continue
        path = bundled.get(label)
        if path is None:
            path = Path(label) if base is None or Path(label).is_absolute() else base / label
            if not path.exists():
                known = ", ".join(sorted(bundled))
                raise ExamError(
                    f"case {i} ({label}) is neither a scenario file nor a bundled scenario "
                    f"(bundled: {known}) nor seed:N:LEVEL"
                )
        try:
            load_scenario(path)
        except ScenarioError as exc:
            raise ExamError(f"case {i} ({label}): {exc}") from None
        cases.append(ExamCase(label, path=path))
    return tuple(cases)


def materialise(cases: Sequence[ExamCase], folder: Path) -> list[Path]:
    """One scenario file per case in ``folder``, numbered in exam order (a case given twice is
    taken twice, each on a fresh lab)."""
    paths = []
    for i, case in enumerate(cases, 1):
        if case.path is not None:
            text = case.path.read_text(encoding="utf-8-sig")
        else:
            assert case.seed is not None
            assert case.level is not None
            text = generate(case.seed, parse_level(case.level)).text
        target = folder / f"{i:02d}.json"
        target.write_text(text, encoding="utf-8")
        paths.append(target)
    return paths


# --- the key and the signature -------------------------------------------------------------------


def check_key(key: bytes) -> bytes:
    """``key`` when it can sign an exam; ExamError says what to give otherwise."""
    if len(key) < MIN_KEY_LENGTH:
        raise ExamError(
            f"the key is {len(key)} characters long: give at least {MIN_KEY_LENGTH}, "
            "e.g. a few words only you know"
        )
    return key


def read_key_file(path: Path) -> bytes:
    """The key in ``path`` (UTF-8 text; line breaks at its end are not part of it)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ExamError(f"{path}: the key file cannot be read: {exc.strerror or exc}") from None
    except ValueError as exc:  # a NUL in the name
        raise ExamError(f"{path!r} cannot be a file name ({exc}): give the key file") from None
    if len(raw) > 4096:
        raise ExamError(f"{path} is larger than 4 KB: a key file holds one line")
    return check_key(raw.rstrip(b"\r\n"))


def canonical(record: Mapping[str, Any]) -> bytes:
    """What is signed: every field but ``signature``, keys sorted, no spaces, UTF-8."""
    body = {k: v for k, v in record.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def key_check(key: bytes) -> str:
    """Which key signed, without giving it away."""
    return hmac.new(key, _KEY_CHECK_TEXT, hashlib.sha256).hexdigest()[:16]


def sign(record: Mapping[str, Any], key: bytes) -> dict[str, Any]:
    """``record`` with its ``signature``."""
    value = hmac.new(key, canonical(record), hashlib.sha256).hexdigest()
    body = {k: v for k, v in record.items() if k != "signature"}
    return {
        **body,
        "signature": {"algorithm": ALGORITHM, "key_check": key_check(key), "value": value},
    }


def verify(record: Mapping[str, Any], key: bytes | None) -> Integrity:
    """Whether ``record`` is as it was signed with ``key``."""
    signature = record.get("signature")
    if not isinstance(signature, dict) or not isinstance(signature.get("value"), str):
        return Integrity.UNSIGNED
    if key is None:
        return Integrity.UNCHECKED
    if signature.get("algorithm") != ALGORITHM or signature.get("key_check") != key_check(key):
        return Integrity.OTHER_KEY
    want = hmac.new(key, canonical(record), hashlib.sha256).hexdigest()
    return Integrity.VERIFIED if hmac.compare_digest(want, signature["value"]) else Integrity.EDITED


# --- the result file -----------------------------------------------------------------------------


def new_result(
    *, product: str, title: str, labels: Sequence[str], trainee: str, started: datetime
) -> dict[str, Any]:
    """The result of an exam nobody has finished a case of yet (unsigned)."""
    return {
        "kind": KIND,
        "format": FORMAT,
        "product": product,
        "exam": {"title": title, "cases": list(labels)},
        "trainee": trainee,
        "started": started.isoformat(timespec="seconds"),
        "finished": None,
        "complete": False,
        "seconds": 0,
        "score": None,
        "cases": [],
        "not_taken": [],
    }


def _score(points: Sequence[Mapping[str, Any]]) -> int:
    good = sum(p.get("mark") == "good" for p in points)
    missed = sum(p.get("mark") == "miss" for p in points)
    return round(100 * good / (good + missed)) if good + missed else 100


def _totals(result: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """``result`` (unsigned) with its totals worked out again: a case not taken scores 0."""
    body = {k: v for k, v in result.items() if k != "signature"}
    total = len(body["exam"]["cases"])
    settled = len(body["cases"]) + len(body.get("not_taken", []))
    started = datetime.fromisoformat(body["started"])
    scores = [_score(c.get("points", [])) for c in body["cases"]]
    return {
        **body,
        "complete": settled >= total,
        "finished": now.isoformat(timespec="seconds") if settled >= total else None,
        "seconds": max(0, round((now - started).total_seconds())),
        "score": round(sum(scores) / total) if total else None,
    }


def add_case(result: Mapping[str, Any], case: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """``result`` with one more case (a debrief's result data) and its totals (unsigned)."""
    return _totals({**result, "cases": [*result["cases"], dict(case)]}, now)


def skip_case(result: Mapping[str, Any], number: int, reason: str, now: datetime) -> dict[str, Any]:
    """``result`` with case ``number`` (1 for the first) recorded as not taken, and why: its lab
    did not start and the trainee went on without it. It scores 0 (unsigned)."""
    label = result["exam"]["cases"][number - 1]
    entry = {"case": number, "label": label, "reason": reason}
    return _totals({**result, "not_taken": [*result.get("not_taken", []), entry]}, now)


def result_file_name(trainee: str, started: datetime) -> str:
    """``exam-<name>-<date>-<time>.json``: one file per trainee and sitting."""
    who = "-".join(re.findall(r"\w+", trainee.lower())) or "trainee"
    return f"exam-{who[:40]}-{started:%Y%m%d-%H%M%S}.json"


def dumps(record: Mapping[str, Any]) -> str:
    """The file's text: readable JSON (the signature covers the canonical form, not this)."""
    return json.dumps(record, ensure_ascii=False, indent=2) + "\n"
