"""SOAP requests counted on the wire, and how many of them lie one after another.

Test-only instrumentation: every POST with a SOAP body that any ``http.client`` connection sends
(pyVmomi's and the collector's lean reader alike) is counted by method name, with the moment it
was sent and the moment its answer's headers arrived. Requests sent at the same time overlap;
the *critical path* is the longest chain of requests each sent after the previous one was
answered: on a link where every call costs a latency, the wall time is that many latencies.

Measured against a lab that delays every call (``delay_ms``), overlapping requests overlap by
almost the whole delay, so the chain is not a matter of luck in thread scheduling.
"""

from __future__ import annotations

import collections
import contextlib
import http.client
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

_SOAP_METHOD = re.compile(rb"<(?:\w+:)?Body[^>]*>\s*<(?:\w+:)?(\w+)")


@dataclass
class Wire:
    """What was sent inside one :func:`watching` block."""

    calls: collections.Counter[str] = field(default_factory=collections.Counter)
    spans: list[tuple[float, float, str]] = field(default_factory=list)

    def clear(self) -> None:
        """Forget everything counted so far."""
        self.calls.clear()
        self.spans.clear()

    @property
    def total(self) -> int:
        """Every request sent."""
        return sum(self.calls.values())

    def critical_path(self) -> list[str]:
        """The longest chain of requests each sent after the one before was answered."""
        spans = sorted(self.spans, key=lambda s: s[1])  # by end
        best: list[list[str]] = []
        for i, (start, _end, name) in enumerate(spans):
            before = [best[j] for j in range(i) if spans[j][1] <= start]
            best.append([*max(before, key=len, default=[]), name])
        return max(best, key=len, default=[])


@contextlib.contextmanager
def watching() -> Iterator[Wire]:
    """Count the SOAP requests sent inside the block (on every thread)."""
    wire = Wire()
    lock = threading.Lock()
    pending: dict[int, tuple[float, str]] = {}
    request = http.client.HTTPConnection.request
    getresponse = http.client.HTTPConnection.getresponse

    def counting_request(
        conn: Any, method: str, url: str, body: Any = None, *a: Any, **k: Any
    ) -> Any:
        data = body.encode() if isinstance(body, str) else body
        found = _SOAP_METHOD.search(data) if isinstance(data, bytes) else None
        if method == "POST" and found:
            name = found.group(1).decode()
            with lock:
                wire.calls[name] += 1
                pending[id(conn)] = (time.perf_counter(), name)
        return request(conn, method, url, body, *a, **k)

    def timed_getresponse(conn: Any) -> Any:
        resp = getresponse(conn)
        with lock:
            sent = pending.pop(id(conn), None)
            if sent is not None:
                wire.spans.append((sent[0], time.perf_counter(), sent[1]))
        return resp

    setattr(http.client.HTTPConnection, "request", counting_request)  # noqa: B010
    setattr(http.client.HTTPConnection, "getresponse", timed_getresponse)  # noqa: B010
    try:
        yield wire
    finally:
        setattr(http.client.HTTPConnection, "request", request)  # noqa: B010
        setattr(http.client.HTTPConnection, "getresponse", getresponse)  # noqa: B010
