"""The journal: an append-only record of every change the product makes to a VM.

One JSON object per line (JSON Lines) in ``journal.jsonl`` under the user data folder. Each
operation (an ``apply`` or an ``undo``) is an *entry* with an id; inside it every step that
changes anything is written twice: an ``intent`` record before the step (written and flushed to
disk before vCenter is asked) and an ``outcome`` record after it. An entry whose last intent has
no outcome is *dangling*: the process died in between, and the next start reports it so the
technician can reconcile it against the VM's real state.

The file is never rewritten. A line that cannot be read (a crash mid-write, a hand edit, a newer
format) is reported with its line number and skipped; it never stops the rest from being read.
No secret is ever written: records are checked for password-like keys before they are written.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wizard import paths

FORMAT_VERSION = 1
JOURNAL_NAME = "journal.jsonl"

_FORBIDDEN_KEY_PARTS = ("password", "passwd", "secret", "cookie", "token")


class JournalError(Exception):
    """The journal cannot be written: nothing may change without a record, so stop."""


@dataclass(frozen=True)
class VmIdentity:
    """Which VM an entry is about: name for people, moref and instance UUID for certainty."""

    name: str
    moref: str
    instance_uuid: str


@dataclass(frozen=True)
class JournalRecord:
    """One line of the journal, as read back."""

    line: int
    entry: str
    phase: str  # "begin", "intent", "outcome", "end"
    step: str
    time: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class JournalEntry:
    """One operation (apply or undo) with all its records in order.

    Attributes:
        outcome: the final outcome (``"succeeded"``, ``"failed"``, ``"refused"``, ``"nothing to
            do"``, ``"reconciled"``...), or None when the entry never ended.
        dangling_step: the step whose intent has no outcome, if any.
    """

    id: str
    action: str
    vcenter: str
    user: str
    vm: VmIdentity
    remedy: str | None
    changes: tuple[Mapping[str, Any], ...]
    undo_of: str | None
    started: str
    records: tuple[JournalRecord, ...]
    outcome: str | None
    dangling_step: str | None

    @property
    def is_dangling(self) -> bool:
        return self.outcome is None or self.dangling_step is not None


@dataclass(frozen=True)
class JournalProblem:
    """A line that could not be read, and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class JournalReading:
    entries: tuple[JournalEntry, ...]
    problems: tuple[JournalProblem, ...] = field(default=())

    def entry(self, entry_id: str) -> JournalEntry | None:
        for e in self.entries:
            if e.id == entry_id:
                return e
        return None

    @property
    def dangling(self) -> tuple[JournalEntry, ...]:
        return tuple(e for e in self.entries if e.is_dangling)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _check_no_secrets(obj: object, where: str = "record") -> None:
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            lowered = str(k).lower()
            if any(part in lowered for part in _FORBIDDEN_KEY_PARTS):
                raise ValueError(f"refusing to journal a secret-like field {where}.{k}")
            _check_no_secrets(v, f"{where}.{k}")
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            _check_no_secrets(v, f"{where}[{i}]")


class Journal:
    """Append-only journal of changes. Thread-safe; every write is flushed to disk."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else paths.data_dir() / JOURNAL_NAME
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------ writing

    def _append(self, record: dict[str, Any]) -> None:
        _check_no_secrets(record)
        line = json.dumps(record, ensure_ascii=False, sort_keys=True)
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.path, "a+b") as f:
                    # A crash mid-write can leave a last line without its newline: start a new
                    # line so the damage stays on that one line.
                    f.seek(0, os.SEEK_END)
                    if f.tell() > 0:
                        f.seek(-1, os.SEEK_END)
                        if f.read(1) != b"\n":
                            f.write(b"\n")
                    f.write(line.encode("utf-8") + b"\n")
                    f.flush()
                    os.fsync(f.fileno())
            except OSError as exc:
                raise JournalError(
                    f"The journal {self.path} cannot be written ({exc.strerror or exc}). "
                    "Nothing was changed. Free some disk space or fix the folder's "
                    "permissions, then try again."
                ) from exc

    def begin(
        self,
        *,
        action: str,
        vcenter: str,
        user: str,
        vm: VmIdentity,
        remedy: str | None,
        changes: Sequence[Mapping[str, Any]],
        undo_of: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> str:
        """Start an entry (before anything is changed) and return its id."""
        entry_id = uuid.uuid4().hex[:12]
        self._append(
            {
                "v": FORMAT_VERSION,
                "entry": entry_id,
                "phase": "begin",
                "step": action,
                "time": _now(),
                "action": action,
                "vcenter": vcenter,
                "user": user,
                "vm": {"name": vm.name, "moref": vm.moref, "instance_uuid": vm.instance_uuid},
                "remedy": remedy,
                "changes": [dict(c) for c in changes],
                "undo_of": undo_of,
                **(dict(details) if details else {}),
            }
        )
        return entry_id

    def intent(self, entry_id: str, step: str, **details: Any) -> None:
        """Record that ``step`` is about to happen. Written to disk before the step starts."""
        self._append(
            {
                "v": FORMAT_VERSION,
                "entry": entry_id,
                "phase": "intent",
                "step": step,
                "time": _now(),
                **details,
            }
        )

    def outcome(self, entry_id: str, step: str, outcome: str, **details: Any) -> None:
        """Record how ``step`` ended (``succeeded``, ``failed``, ``unknown``, ``skipped``)."""
        self._append(
            {
                "v": FORMAT_VERSION,
                "entry": entry_id,
                "phase": "outcome",
                "step": step,
                "time": _now(),
                "outcome": outcome,
                **details,
            }
        )

    def end(self, entry_id: str, outcome: str, **details: Any) -> None:
        """Close the entry with its final outcome and (when there is one) the verification."""
        self._append(
            {
                "v": FORMAT_VERSION,
                "entry": entry_id,
                "phase": "end",
                "step": "end",
                "time": _now(),
                "outcome": outcome,
                **details,
            }
        )

    # ------------------------------------------------------------------------------ reading

    def read(self) -> JournalReading:
        """Read every entry; unreadable lines are reported, never fatal."""
        if not self.path.exists():
            return JournalReading(entries=())
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            return JournalReading(
                entries=(), problems=(JournalProblem(0, f"cannot read the journal: {exc}"),)
            )
        return parse_journal(raw.decode("utf-8", errors="replace").splitlines())


def parse_journal(lines: Iterable[str]) -> JournalReading:
    """Group journal lines into entries. Pure: used by :meth:`Journal.read` and by tests."""
    problems: list[JournalProblem] = []
    begins: dict[str, tuple[int, dict[str, Any]]] = {}
    records: dict[str, list[JournalRecord]] = {}
    order: list[str] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            problems.append(JournalProblem(number, f"not valid JSON ({exc.msg}); skipped"))
            continue
        except RecursionError:  # e.g. "[[[[…" thousands deep: the parser gives up
            problems.append(JournalProblem(number, "nested too deeply to read; skipped"))
            continue
        if not isinstance(obj, dict):
            problems.append(JournalProblem(number, "not a JSON object; skipped"))
            continue
        version = obj.get("v")
        if not isinstance(version, int):
            problems.append(JournalProblem(number, "no format version; skipped"))
            continue
        if version > FORMAT_VERSION:
            problems.append(
                JournalProblem(
                    number, f"written by a newer version of the product (format {version})"
                )
            )
        entry = obj.get("entry")
        phase = obj.get("phase")
        step = obj.get("step")
        if not isinstance(entry, str) or phase not in ("begin", "intent", "outcome", "end"):
            problems.append(JournalProblem(number, "no entry id or phase; skipped"))
            continue
        if phase == "begin":
            vm = obj.get("vm")
            if not isinstance(vm, dict) or not all(
                isinstance(vm.get(k), str) for k in ("name", "moref", "instance_uuid")
            ):
                problems.append(JournalProblem(number, "entry without its VM; skipped"))
                continue
            if entry in begins:
                problems.append(JournalProblem(number, f"entry {entry} started twice; skipped"))
                continue
            begins[entry] = (number, obj)
            order.append(entry)
        elif entry not in begins:
            problems.append(JournalProblem(number, f"record of unknown entry {entry}; skipped"))
            continue
        records.setdefault(entry, []).append(
            JournalRecord(
                line=number,
                entry=entry,
                phase=str(phase),
                step=str(step),
                time=str(obj.get("time", "")),
                data=obj,
            )
        )

    entries = []
    for entry_id in order:
        _, b = begins[entry_id]
        recs = tuple(records.get(entry_id, ()))
        open_steps: list[str] = []
        outcome: str | None = None
        for r in recs:
            if r.phase == "intent":
                open_steps.append(r.step)
            elif r.phase == "outcome" and r.step in open_steps:
                open_steps.remove(r.step)
            elif r.phase == "end":
                outcome = str(r.data.get("outcome", "unknown"))
        vm = b["vm"]
        changes = b.get("changes")
        entries.append(
            JournalEntry(
                id=entry_id,
                action=str(b.get("action", "")),
                vcenter=str(b.get("vcenter", "")),
                user=str(b.get("user", "")),
                vm=VmIdentity(vm["name"], vm["moref"], vm["instance_uuid"]),
                remedy=b.get("remedy") if isinstance(b.get("remedy"), str) else None,
                changes=tuple(c for c in changes if isinstance(c, dict))
                if isinstance(changes, list)
                else (),
                undo_of=b.get("undo_of") if isinstance(b.get("undo_of"), str) else None,
                started=str(b.get("time", "")),
                records=recs,
                outcome=outcome,
                dangling_step=open_steps[-1] if open_steps else None,
            )
        )
    return JournalReading(entries=tuple(entries), problems=tuple(problems))
