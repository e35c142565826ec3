"""A loopback TLS relay with a certificate of its own, in front of the lab.

It plays the part of something between the technician and vCenter that presents another
certificate (an intercepting proxy): clients talk TLS to the relay with the relay's certificate,
the relay talks TLS to the lab and passes the bytes on, so the vCenter behind it, and its
identity, are the real lab's. It binds 127.0.0.1 only and stops with the block.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

LOOPBACK = "127.0.0.1"


def _pump(a: ssl.SSLSocket, b: ssl.SSLSocket, stop: threading.Event) -> None:
    """Pass bytes both ways until either side closes.

    Both sides are read without blocking after every wake-up, not only when select() says so:
    TLS may already hold decrypted bytes that select() cannot see (a TLS 1.3 client's first
    request can arrive with its handshake, and be read by it).
    """
    sel = selectors.DefaultSelector()
    with contextlib.ExitStack() as stack:
        stack.callback(sel.close)
        stack.callback(a.close)
        stack.callback(b.close)
        for s in (a, b):
            s.setblocking(False)
        sel.register(a, selectors.EVENT_READ)
        sel.register(b, selectors.EVENT_READ)
        while not stop.is_set():
            sel.select(timeout=0.05)
            for src, dst in ((a, b), (b, a)):
                data = b""
                while True:
                    try:
                        chunk = src.recv(65536)
                    except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                        break
                    except OSError:
                        return
                    if not chunk:
                        if data:
                            _send(dst, data, stop)
                        return
                    data += chunk
                if data and not _send(dst, data, stop):
                    return


def _send(sock: ssl.SSLSocket, data: bytes, stop: threading.Event) -> bool:
    view = memoryview(data)
    while view and not stop.is_set():
        try:
            sent = sock.send(view)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
            stop.wait(0.005)
            continue
        except OSError:
            return False
        view = view[sent:]
    return True


@contextlib.contextmanager
def tls_relay(target_port: int, cert_file: Path, key_file: Path) -> Iterator[int]:
    """Relay 127.0.0.1:<port> (TLS with ``cert_file``) to the lab's TLS port; yield the port."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert_file, key_file)
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.check_hostname = False
    client_ctx.verify_mode = ssl.CERT_NONE  # the relay is the test's interceptor
    listener = socket.create_server((LOOPBACK, 0))
    listener.settimeout(0.2)
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            t = threading.Thread(target=_relay, args=(raw, stop), daemon=True)
            t.start()
            threads.append(t)

    def _relay(raw: socket.socket, stop: threading.Event) -> None:
        # Each connection's handshakes in its own thread: one slow client never holds up the
        # next one (pyVmomi and the certificate fetch may connect at the same time).
        raw.settimeout(10)
        try:
            front = server_ctx.wrap_socket(raw, server_side=True)
            back = client_ctx.wrap_socket(
                socket.create_connection((LOOPBACK, target_port), timeout=10)
            )
        except (OSError, ssl.SSLError):
            raw.close()
            return
        _pump(front, back, stop)

    accept = threading.Thread(target=serve, name="tls-relay", daemon=True)
    accept.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        accept.join(5)
        for t in threads:
            t.join(5)
        listener.close()
