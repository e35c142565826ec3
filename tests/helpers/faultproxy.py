"""A loopback TCP proxy between the wizard and the lab that breaks the network on purpose.

It stands in for the network path to vCenter (VPN, firewall, a flaky WAN link): TLS passes
through it untouched (it never sees the plaintext and needs no certificate), so the client
still verifies the lab's own certificate. Requests are told apart the way HTTP/1.1 without
pipelining allows: on each connection, client bytes after server bytes start a new exchange.

A fault is armed for the next exchange (on any connection), or for the N-th one from now
(``skip``: let that many exchanges pass untouched first), and fires once:

- ``DROP_BEFORE_REQUEST``: close the connection before the request reaches vCenter;
- ``DROP_AFTER_REQUEST``: deliver the request, swallow the whole answer, close: the client
  cannot know whether vCenter acted (the "lost answer" case);
- ``CUT_MID_RESPONSE``: deliver the first bytes of the answer, then close;
- ``RESET``: answer the request with a TCP reset (RST) instead;
- ``STALL``: deliver the request, hold the answer back for ``seconds``, then drop it;
- ``CUT_AFTER_DELIVERY``: deliver the request and close the connection ``seconds`` later,
  whether or not vCenter has answered by then (the link died while vCenter was still working:
  it may act on the request after the client has given up on it).

``delay`` adds latency to every chunk, and :meth:`FaultProxy.go_down` refuses new connections
for a while (the link is down). The proxy binds and connects to 127.0.0.1 only, and stops by
itself after ``lifetime`` seconds.
"""

from __future__ import annotations

import contextlib
import enum
import selectors
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from wizard.lab.process import StopsOnExit

LOOPBACK = "127.0.0.1"


class Fault(enum.Enum):
    """What to do to the next exchange."""

    DROP_BEFORE_REQUEST = "drop_before_request"
    DROP_AFTER_REQUEST = "drop_after_request"
    CUT_MID_RESPONSE = "cut_mid_response"
    RESET = "reset"
    STALL = "stall"
    CUT_AFTER_DELIVERY = "cut_after_delivery"


@dataclass
class _Armed:
    fault: Fault
    seconds: float = 0.0
    cut_bytes: int = 64
    skip: int = 0


class FaultProxy(StopsOnExit):
    """Relay 127.0.0.1:<port> to the lab at 127.0.0.1:``target_port``, with faults on demand.

    Args:
        target_port: the lab's port.
        delay: seconds added before each chunk is relayed.
        lifetime: the proxy stops by itself after this many seconds.

    Attributes:
        port: where it listens (after :meth:`start`).
        exchanges: how many request/answer exchanges it has seen.
        fired: the faults that fired, in order.
    """

    def __init__(self, target_port: int, *, delay: float = 0.0, lifetime: float = 120.0) -> None:
        self.target_port = target_port
        self.delay = delay
        self.lifetime = lifetime
        self.port = 0
        self.exchanges = 0
        self.fired: list[Fault] = []
        self._armed: _Armed | None = None
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._deadline = 0.0

    # ------------------------------------------------------------------------------ control

    def arm(
        self, fault: Fault, *, seconds: float = 0.0, cut_bytes: int = 64, skip: int = 0
    ) -> None:
        """Make the next exchange suffer ``fault`` (once), or the one after ``skip`` others."""
        with self._lock:
            self._armed = _Armed(fault, seconds, cut_bytes, skip)

    def disarm(self) -> bool:
        """Take back a fault that has not fired yet; return whether one was still armed."""
        with self._lock:
            armed, self._armed = self._armed, None
        return armed is not None

    def go_down(self, seconds: float) -> None:
        """Refuse new connections (accept and close at once) for ``seconds``."""
        with self._lock:
            self._down_until = time.monotonic() + seconds

    def start(self) -> int:
        """Listen on 127.0.0.1 and return the port."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((LOOPBACK, 0))
        listener.listen(16)
        listener.settimeout(0.2)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._deadline = time.monotonic() + self.lifetime
        thread = threading.Thread(target=self._accept_loop, name="faultproxy", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self.port

    def stop(self) -> None:
        """Stop accepting, close every connection and wait for the threads."""
        self._stop.set()
        for thread in list(self._threads):
            thread.join(5.0)
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def __enter__(self) -> FaultProxy:
        self.start()
        return self

    # ------------------------------------------------------------------------------ relay

    def _running(self) -> bool:
        return not self._stop.is_set() and time.monotonic() < self._deadline

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while self._running():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                down = time.monotonic() < self._down_until
            if down:
                client.close()
                continue
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _take_fault(self) -> _Armed | None:
        with self._lock:
            self.exchanges += 1
            armed = self._armed
            if armed is not None and armed.skip > 0:
                armed.skip -= 1
                return None
            self._armed = None
        if armed is not None:
            self.fired.append(armed.fault)
        return armed

    def _serve(self, client: socket.socket) -> None:
        with contextlib.ExitStack() as stack:
            stack.callback(client.close)
            try:
                server = socket.create_connection((LOOPBACK, self.target_port), timeout=5.0)
            except OSError:
                return
            stack.callback(server.close)
            for s in (client, server):
                s.setblocking(False)
            sel = selectors.DefaultSelector()
            stack.callback(sel.close)
            sel.register(client, selectors.EVENT_READ, "client")
            sel.register(server, selectors.EVENT_READ, "server")
            in_request = False
            fault: _Armed | None = None
            cut_left = 0
            cut_at: float | None = None
            while self._running():
                if cut_at is not None and time.monotonic() >= cut_at:
                    return
                for key, _ in sel.select(timeout=0.05 if cut_at is not None else 0.2):
                    side = key.data
                    try:
                        data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        return
                    if not data:
                        return
                    if self.delay:
                        time.sleep(self.delay)
                    if side == "client":
                        if not in_request:
                            in_request = True
                            fault = self._take_fault()
                            if fault is not None and fault.fault is Fault.DROP_BEFORE_REQUEST:
                                return
                            if fault is not None and fault.fault is Fault.RESET:
                                _reset(client)
                                return
                            cut_left = fault.cut_bytes if fault is not None else 0
                            if fault is not None and fault.fault is Fault.CUT_AFTER_DELIVERY:
                                cut_at = time.monotonic() + fault.seconds
                        _send_all(server, data, self._stop)
                        continue
                    in_request = False
                    if fault is None:
                        _send_all(client, data, self._stop)
                        continue
                    if fault.fault is Fault.DROP_AFTER_REQUEST:
                        return
                    if fault.fault is Fault.CUT_AFTER_DELIVERY:
                        return  # the answer came before the cut: it is lost all the same
                    if fault.fault is Fault.STALL:
                        self._stop.wait(fault.seconds)
                        return
                    if fault.fault is Fault.CUT_MID_RESPONSE:
                        _send_all(client, data[:cut_left], self._stop)
                        return


def _send_all(sock: socket.socket, data: bytes, stop: threading.Event) -> None:
    view = memoryview(data)
    while view and not stop.is_set():
        try:
            sent = sock.send(view)
        except (BlockingIOError, InterruptedError):
            stop.wait(0.005)
            continue
        except OSError:
            return
        view = view[sent:]


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset rather than an orderly close."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


@contextlib.contextmanager
def fault_proxy(target_port: int, **options: float) -> Iterator[FaultProxy]:
    """Run a :class:`FaultProxy` for the block."""
    proxy = FaultProxy(target_port, **options)
    with proxy:
        yield proxy
