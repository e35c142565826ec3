"""Traces of the article's failure: its signatures, matched in events, tasks and ``vmware.log``.

The signatures of both editions of the article (the first and KB 308477) are listed here and
nowhere else. :func:`read_vm_log` reads the VM's log files from its datastore over HTTPS
(``/folder/<dir>/vmware.log?dcPath=…&dsName=…``) with the session's cookie and the session's own
verified TLS context, and keeps the lines that match.
"""

from __future__ import annotations

import collections
import http.client
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from wizard.kb.facts import EvidenceItem, EvidenceKind, VmFacts
from wizard.kb.model import Privilege
from wizard.vsphere._pyvmomi import PC, vim
from wizard.vsphere.collector import climb_to_root, datacenter_path, retrieve
from wizard.vsphere.errors import NoPermission, ServerFault, SessionExpired, VmGone, translate
from wizard.vsphere.session import Session

log = logging.getLogger(__name__)

MAX_TEXT = 500
"""Evidence text longer than this is cut (a log line or an event message)."""
MAX_ITEMS_PER_LOG = 50
"""Matches kept per log file (the latest ones)."""
LOG_FILES = ("vmware.log", *(f"vmware-{i}.log" for i in range(1, 7)))
"""The current log and the six rotated ones ESXi keeps by default, newest first."""


@dataclass(frozen=True)
class Signature:
    """One text by which the article recognises its failure.

    Attributes:
        text: the text matched (case and runs of blanks ignored).
        where: where the article says it appears: ``"task"``, ``"error stack"`` or ``"vmware.log"``.
        edition: ``"seed"`` (the article as first published) or ``"later"`` (KB 2005741 / 308477).
    """

    text: str
    where: str
    edition: str


SIGNATURES: tuple[Signature, ...] = (
    # Most specific first: the first match names the evidence.
    Signature("Failed to flush checkpoint data", "task", "seed"),
    Signature("[vob.vmotion.chkpt.toobig]", "vmware.log", "seed"),
    Signature("Failed waiting for data. Error bad0006. Limit exceeded.", "vmware.log", "seed"),
    Signature("Failed waiting for data. Error 195887110. Limit exceeded.", "vmware.log", "later"),
    Signature("[msg.checkpoint.migration.writefail]", "vmware.log", "later"),
    Signature(
        "An I/O error occurred while saving the checkpoint: 0 (Resource temporarily unavailable)",
        "error stack",
        "seed",
    ),
    Signature("Failed to write checkpoint data", "error stack", "seed"),
    Signature(
        "[msg.moduletable.powerOnFailed] Module Migrate power on failed.", "vmware.log", "seed"
    ),
)


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


_FOLDED = tuple((_fold(s.text), s.text) for s in SIGNATURES)


def match_signatures(text: str) -> str | None:
    """The article's signature found in ``text`` (case and blanks ignored), or None."""
    folded = _fold(text)
    for needle, original in _FOLDED:
        if needle in folded:
            return original
    return None


def _trim(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


# --- events -----------------------------------------------------------------------------------

EVENT_TYPES = (
    "VmFailedMigrateEvent",
    "VmFailedRelocateEvent",
    "VmRelocateFailedEvent",
    "MigrationErrorEvent",
    "MigrationHostErrorEvent",
    "MigrationResourceErrorEvent",
    "TaskEvent",
)
"""Event types that can carry a failed migration's message (vMotion, Storage vMotion, tasks)."""


def _fault_texts(fault: Any) -> Iterator[str]:
    """Texts of a fault: its message and its error stack (``faultMessage``)."""
    if fault is None:
        return
    for attr in ("localizedMessage", "msg"):
        value = getattr(fault, attr, None)
        if value:
            yield str(value)
    for lm in getattr(fault, "faultMessage", None) or ():
        message = getattr(lm, "message", None)
        if message:
            yield str(message)
    cause = getattr(fault, "faultCause", None)
    if cause is not None and cause is not fault:
        yield from _fault_texts(cause)


def _utc(when: datetime | None) -> datetime | None:
    """pyVmomi's own tzinfo, as plain UTC (naive times from a lax server taken as UTC)."""
    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def evidence_from_events(events: list[Any]) -> tuple[EvidenceItem, ...]:
    """Events whose message or fault carries a signature, oldest first.

    The fault is the event's ``reason`` (``VmFailedMigrateEvent``, ``VmRelocateFailedEvent``,
    ...) or, for a ``TaskEvent``, its task's ``info.error``.
    """
    items = []
    for event in events:
        type_name = type(event).__name__
        texts = [str(getattr(event, "fullFormattedMessage", None) or "")]
        texts.extend(_fault_texts(getattr(event, "reason", None)))
        info = getattr(event, "info", None)
        texts.extend(_fault_texts(getattr(info, "error", None)))
        for text in texts:
            signature = match_signatures(text)
            if signature is None:
                continue
            context = texts[0] if texts[0] and texts[0] != text else ""
            items.append(
                EvidenceItem(
                    kind=EvidenceKind.TASK
                    if isinstance(event, vim.event.TaskEvent)
                    else EvidenceKind.EVENT,
                    source=f"event {event.key} ({type_name})",
                    signature=signature,
                    text=_trim(f"{context} — {text}" if context else text),
                    time=_utc(getattr(event, "createdTime", None)),
                )
            )
            break
    items.sort(key=lambda e: (e.time is None, e.time or datetime.min))
    return tuple(items)


# --- vmware.log -------------------------------------------------------------------------------

_DATASTORE_PATH = re.compile(r"^\[(?P<ds>[^\]]+)\]\s*(?P<path>.*)$")
_LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d))")


def split_datastore_path(path: str) -> tuple[str, str]:
    """``"[datastore1] vm/vm.vmx"`` -> ``("datastore1", "vm/vm.vmx")``.

    Raises:
        ValueError: not a datastore path.
    """
    m = _DATASTORE_PATH.match(path.strip())
    if m is None:
        raise ValueError(f"{path!r} is not a datastore path such as '[datastore1] vm/vm.vmx'")
    return m.group("ds"), m.group("path")


def folder_url_path(directory: str, file_name: str, dc_path: str, ds_name: str) -> str:
    """The request path of a datastore file: ``/folder/<dir>/<file>?dcPath=…&dsName=…``.

    Every part is percent-encoded (spaces, ``%``, ``#``, non-ASCII), slashes between folders kept.
    """
    file_path = f"{directory.strip('/')}/{file_name}" if directory.strip("/") else file_name
    query = urlencode({"dcPath": dc_path, "dsName": ds_name}, quote_via=quote)
    return f"/folder/{quote(file_path, safe='/')}?{query}"


def _parse_log_time(line: str) -> datetime | None:
    m = _LOG_TIME.match(line)
    if m is None:
        return None
    try:
        return datetime.fromisoformat(m.group(1).replace("Z", "+00:00"))
    except ValueError:
        return None


def scan_log_lines(
    lines: Iterator[tuple[int | None, str]], file_name: str, offset_note: str = ""
) -> list[EvidenceItem]:
    """Evidence items for log lines that carry a signature (the latest ``MAX_ITEMS_PER_LOG``).

    Args:
        lines: (line number or None when unknown, text) pairs.
        file_name: ``vmware.log`` or a rotated one, for the source.
        offset_note: appended to the source when line numbers count from the start of a tail.
    """
    found: collections.deque[EvidenceItem] = collections.deque(maxlen=MAX_ITEMS_PER_LOG)
    for number, text in lines:
        signature = match_signatures(text)
        if signature is None:
            continue
        where = f"{file_name} line {number}{offset_note}" if number is not None else file_name
        found.append(
            EvidenceItem(
                kind=EvidenceKind.LOG,
                source=where,
                signature=signature,
                text=_trim(text),
                time=_parse_log_time(text),
            )
        )
    return list(found)


@dataclass(frozen=True)
class _LogLocation:
    dc_path: str
    ds_name: str
    directory: str


def _log_location(session: Session, facts: VmFacts) -> _LogLocation:
    """Read the VM's log directory and its datacenter's inventory path (one request)."""
    ds_up = PC.TraversalSpec(
        name="dsUp", type=vim.Datastore, path="parent", skip=False, selectSet=[climb_to_root()]
    )
    vm_ds = PC.TraversalSpec(
        name="vmDs", type=vim.VirtualMachine, path="datastore", skip=True, selectSet=[ds_up]
    )
    spec = PC.FilterSpec(
        objectSet=[
            PC.ObjectSpec(
                obj=session.managed_object(vim.VirtualMachine, facts.moref),
                skip=False,
                selectSet=[vm_ds],
            )
        ],
        propSet=[
            PC.PropertySpec(
                type=vim.VirtualMachine,
                pathSet=["config.files.logDirectory", "config.files.vmPathName"],
            ),
            PC.PropertySpec(type=vim.Datacenter, pathSet=["name", "parent"]),
            PC.PropertySpec(type=vim.Folder, pathSet=["name", "parent"]),
        ],
    )
    objects = session.call(lambda: retrieve(session.content.propertyCollector, [spec]))
    vm = next((o for o in objects if o.type == "VirtualMachine"), None)
    if vm is None:
        raise VmGone(facts.moref)
    log_dir = str(vm.get("config.files.logDirectory") or "")
    if not log_dir:  # older hosts leave it unset: the log lies beside the .vmx file
        vmx = str(vm.get("config.files.vmPathName") or facts.vmx_path)
        log_dir = vmx.rsplit("/", 1)[0] + "/" if "/" in vmx else vmx.split("]")[0] + "]"
    try:
        ds_name, directory = split_datastore_path(log_dir)
    except ValueError as exc:
        raise ServerFault("VirtualMachine.config.files", str(exc)) from exc
    return _LogLocation(datacenter_path(objects), ds_name, directory)


def _lines_of(
    response: http.client.HTTPResponse, max_bytes: int, start_known: bool
) -> Iterator[tuple[int | None, str]]:
    """Numbered lines of a response, keeping only about the last ``max_bytes`` bytes in memory."""
    kept: collections.deque[tuple[int, bytes]] = collections.deque()
    kept_bytes = 0
    number = 0
    first = True
    for raw in response:
        if first and not start_known:
            first = False
            continue  # a tail starts mid-line: drop the partial first line
        first = False
        number += 1
        kept.append((number, raw))
        kept_bytes += len(raw)
        while kept_bytes > max_bytes and kept:
            kept_bytes -= len(kept.popleft()[1])
    for n, raw in kept:
        yield n, raw.decode("utf-8", errors="replace").rstrip("\r\n")


def _size_text(n: int) -> str:
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


def read_vm_log(
    session: Session,
    facts: VmFacts,
    *,
    max_bytes: int = 4 * 1024 * 1024,
    timeout: float | None = None,
) -> tuple[EvidenceItem, ...]:
    """The article's signatures in the VM's ``vmware.log`` and its rotated logs.

    Each file is fetched with a ``Range`` request for its last ``max_bytes`` bytes (a server that
    ignores ``Range`` is read to the end keeping only the last ``max_bytes``). Line numbers are
    absolute when the whole file was read; for a tail they count from its first whole line and
    the source says so. A missing rotated log (404) is simply absent.

    Args:
        session: the session (its cookie and its verified TLS context are used).
        facts: the VM's facts (its moref, and ``vmx_path`` as a fallback).
        max_bytes: how much of the end of each file to read.
        timeout: seconds for each connect and read; the session's timeout by default.

    Returns:
        Matching lines, ``vmware.log`` first, then the rotated ones (newest first).

    Raises:
        NoPermission: the user may not browse the datastore (``Datastore.Browse``).
        SessionExpired, ConnectionLost, TimedOut, VsphereError: see :mod:`wizard.vsphere.errors`.
    """
    where = _log_location(session, facts)
    limit = session.timeout if timeout is None else timeout
    ep = session.endpoint
    items: list[EvidenceItem] = []
    conn = http.client.HTTPSConnection(ep.host, ep.port, timeout=limit, context=session.ssl_context)
    try:
        for name in LOG_FILES:
            url = folder_url_path(where.directory, name, where.dc_path, where.ds_name)
            headers = {"Cookie": session.cookie_header(), "Range": f"bytes=-{max_bytes}"}
            try:
                conn.request("GET", url, headers=headers)
                response = conn.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                raise translate(exc, ep.netloc, limit) from exc
            try:
                status = response.status
                if status == 404:
                    response.read()
                    log.debug("%s: not present", name)
                    continue
                if status in (401, 403):
                    response.read()
                    if status == 401:
                        raise SessionExpired()
                    raise NoPermission(
                        Privilege.DATASTORE_BROWSE.value, f"datastore {where.ds_name}"
                    )
                if status not in (200, 206):
                    response.read()
                    raise ServerFault(f"HTTP {status}", f"reading {name} failed: {response.reason}")
                start_known = True
                note = ""
                if status == 206:
                    content_range = response.getheader("Content-Range", "")
                    m = re.match(r"bytes (\d+)-\d+/(\d+|\*)", content_range)
                    start_known = m is None or m.group(1) == "0"
                    if not start_known:
                        note = f" of its last {_size_text(max_bytes)}"
                try:
                    items.extend(
                        scan_log_lines(_lines_of(response, max_bytes, start_known), name, note)
                    )
                except (OSError, http.client.HTTPException) as exc:
                    raise translate(exc, ep.netloc, limit) from exc
            finally:
                response.close()
    finally:
        conn.close()
    log.info("Read the logs of %s: %d matching lines", facts.name, len(items))
    return tuple(items)
