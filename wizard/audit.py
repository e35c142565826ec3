"""The journal: an append-only record of every change the product makes to a VM.

One JSON object per line (JSON Lines) in ``journal.jsonl`` under the user data folder. Each
operation (an ``apply`` or an ``undo``) is an *entry* with an id; inside it every step that
changes anything is written twice: an ``intent`` record before the step (written and flushed to
disk before vCenter is asked) and an ``outcome`` record after it.

A step's state is honest by construction: *intended* (intent written, nothing sent yet),
*sent* (the request left; its outcome is open), then settled by an outcome of ``succeeded``,
``failed``, ``skipped`` or ``reconciled``. An outcome of ``unknown`` (the answer was lost and
neither the task nor the VM's values settled it) does **not** settle the step: the entry stays
*dangling* until a later re-read does. A dangling entry is reconciled against the VM's real
state by the next run, but only once its owner is gone: every run holds a per-VM *lease* (an
OS file lock in the journal's folder, released by the OS when the process ends, however it
ends), so a second technician's run never touches a live entry and never works on the same VM
at the same time.

The file is never rewritten. A line that cannot be read (a crash mid-write, a hand edit, a newer
format) is reported with its line number and skipped; it never stops the rest from being read.
No secret is ever written: records are checked for password-like keys before they are written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import sys
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wizard import paths

FORMAT_VERSION = 1
JOURNAL_NAME = "journal.jsonl"

_FORBIDDEN_KEY_PARTS = ("password", "passwd", "secret", "cookie", "token")

MIN_FREE_BYTES = 1024 * 1024
"""Free space a run needs in the journal's folder before it changes anything (a whole run
writes a few kilobytes; a megabyte leaves room for the records that say how it ended)."""

UNSETTLED = "unknown"
"""The outcome that leaves a step open: the request may or may not have been carried out."""

LOCKS_DIR = "locks"


class JournalError(Exception):
    """The journal cannot be written: nothing may change without a record, so stop.

    Attributes:
        message: the whole sentence, naming the file and what to do.
        reason: the operating system's short reason ("No space left on device").
    """

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or message

    @classmethod
    def from_os(
        cls,
        exc: OSError,
        what: str,
        fix: str = "Free some disk space or fix the folder's permissions, then try again.",
    ) -> JournalError:
        """``what`` failed ("The journal X cannot be written") for the system's reason in
        ``exc``; ``fix`` says what to do."""
        reason = str(exc.strerror or exc)
        return cls(f"{what} ({reason}). {fix}", reason)


class VmBusy(Exception):
    """Another run (of this product, on this computer) holds the VM's lease."""

    def __init__(self, message: str, owner: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.message = message
        self.owner = dict(owner)


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
        vcenter: the address the entry was made through (for people).
        vcenter_id: vCenter's own identity (``about.instanceUuid``); the same vCenter reached
            by another address is the same vCenter. None in entries of older versions.
        changes: the changes the entry made or meant to make: the last ``changes`` the entry
            recorded (a forced undo records the values it really found), else those of begin.
        outcome: the final outcome (``"applied"``, ``"failed"``, ``"refused"``,
            ``"unknown"``, ``"reconciled"``...), or None when the entry never ended.
        dangling_step: the step whose intent has no settling outcome, if any.
    """

    id: str
    action: str
    vcenter: str
    vcenter_id: str | None
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

    def same_vcenter(self, vcenter: str, vcenter_id: str | None) -> bool:
        """Whether this entry was made on that vCenter (by identity when both know it)."""
        if self.vcenter_id and vcenter_id:
            return self.vcenter_id == vcenter_id
        return self.vcenter == vcenter

    @property
    def owner(self) -> Mapping[str, Any]:
        """Who ran the entry: process id, computer, start time (from its begin record)."""
        for r in self.records:
            if r.phase == "begin":
                owner = r.data.get("owner")
                return owner if isinstance(owner, Mapping) else {}
        return {}


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


def _owner() -> dict[str, Any]:
    return {"pid": os.getpid(), "host": socket.gethostname(), "since": _now()}


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 1 << 30, os.SEEK_SET)  # lock a byte far past the owner record
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True


def _read_owner(fd: int) -> dict[str, Any]:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        raw = os.read(fd, 4096)
        owner = json.loads(raw.decode("utf-8", errors="replace") or "{}")
    except (OSError, ValueError):
        return {}
    return owner if isinstance(owner, dict) else {}


def _busy_message(owner: Mapping[str, Any]) -> str:
    who = []
    if owner.get("action"):
        who.append(f"an {owner['action']}" if owner["action"] in ("apply", "undo") else "a run")
    else:
        who.append("a run")
    if owner.get("user"):
        who.append(f"by {owner['user']}")
    if owner.get("pid"):
        who.append(f"(process {owner['pid']}")
        who[-1] += f", started {owner['since']})" if owner.get("since") else ")"
    return (
        f"Another run of the wizard on this computer is working on this VM right now: "
        f"{' '.join(who)}. Nothing was changed. Wait for it to finish (or close it), then "
        "check the VM again."
    )


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
                raise JournalError.from_os(
                    exc, f"The journal {self.path} cannot be written"
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
        vcenter_id: str | None = None,
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
                "vcenter_id": vcenter_id,
                "user": user,
                "owner": _owner(),
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
        """Record how ``step`` ended (``succeeded``, ``failed``, ``skipped``, ``reconciled``).

        ``unknown`` (:data:`UNSETTLED`) records what was seen but leaves the step open.
        """
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

    # ------------------------------------------------------------------------------ guards

    def check_room(self, needed: int = MIN_FREE_BYTES) -> None:
        """Refuse to start a run that could not record how it ends.

        Raises:
            JournalError: the folder cannot be created or written, or has less than
                ``needed`` bytes free.
        """
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            free = shutil.disk_usage(folder).free
        except OSError as exc:
            raise JournalError.from_os(
                exc,
                f"The journal's folder {folder} cannot be used",
                "Fix the folder's permissions, then try again.",
            ) from exc
        if free < needed:
            raise JournalError(
                f"The disk holding the journal ({folder}) has only {free // 1024} KB free; a "
                f"change needs at least {needed // 1024} KB there so that every step can be "
                "recorded. Free some disk space, then try again.",
                "not enough free space",
            )

    @contextlib.contextmanager
    def lease(self, vcenter_id: str, instance_uuid: str, **about: Any) -> Iterator[None]:
        """Hold the VM's lease for the block: one run per VM on this computer at a time.

        The lease is an OS lock on a file in the journal's folder; the OS releases it when the
        process ends, even when it is killed, so a lease is never left behind by a dead run.

        Raises:
            VmBusy: another run holds it (the message names that run).
            JournalError: the lock file cannot be created.
        """
        folder = self.path.parent / LOCKS_DIR
        name = hashlib.sha256(f"{vcenter_id}\n{instance_uuid}".encode()).hexdigest()[:32]
        path = folder / f"{name}.lock"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise JournalError.from_os(exc, f"The lock file {path} cannot be created") from exc
        try:
            if not _try_lock(fd):
                owner = _read_owner(fd)
                raise VmBusy(_busy_message(owner), owner)
            record = json.dumps({**_owner(), **about}, ensure_ascii=False).encode("utf-8")
            with contextlib.suppress(OSError):  # the lock holds; who holds it is a courtesy
                os.ftruncate(fd, 0)
                os.lseek(fd, 0, os.SEEK_SET)
                os.write(fd, record)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def lease_holder(self, vcenter_id: str, instance_uuid: str) -> Mapping[str, Any] | None:
        """Who holds the VM's lease now (None when nobody: its runs are all over)."""
        try:
            with self.lease(vcenter_id, instance_uuid):
                return None
        except VmBusy as busy:
            return busy.owner

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
        changes = b.get("changes")
        for r in recs:
            if r.phase == "intent":
                if r.step not in open_steps:
                    open_steps.append(r.step)
            elif (
                r.phase == "outcome" and r.step in open_steps and r.data.get("outcome") != UNSETTLED
            ):
                open_steps.remove(r.step)
            elif r.phase == "end":
                outcome = str(r.data.get("outcome", UNSETTLED))
            if r.phase != "begin" and isinstance(r.data.get("changes"), list):
                changes = r.data["changes"]
        vm = b["vm"]
        entries.append(
            JournalEntry(
                id=entry_id,
                action=str(b.get("action", "")),
                vcenter=str(b.get("vcenter", "")),
                vcenter_id=b.get("vcenter_id") if isinstance(b.get("vcenter_id"), str) else None,
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
