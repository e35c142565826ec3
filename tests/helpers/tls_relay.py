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


def _read_all(sock: ssl.SSLSocket) -> bytes | None:
    """Everything readable now; None at the end of the stream.

    OpenSSL may have taken several records off the socket at once: the later ones then wait in
    its buffer, where select() does not see them, so reading stops only when it has no more.
    """
    chunks: list[bytes] = []
    while True:
        try:
            data = sock.recv(65536)
        except (ssl.SSLWantReadError, BlockingIOError):
            return b"".join(chunks)
        if not data:
            return b"".join(chunks) if chunks else None
        chunks.append(data)


def _pump(a: ssl.SSLSocket, b: ssl.SSLSocket, stop: threading.Event) -> None:
    sel = selectors.DefaultSelector()
    with contextlib.ExitStack() as stack:
        stack.callback(sel.close)
        stack.callback(a.close)
        stack.callback(b.close)
        for sock in (a, b):
            sock.setblocking(False)
        sel.register(a, selectors.EVENT_READ, b)
        sel.register(b, selectors.EVENT_READ, a)
        while not stop.is_set():
            for key, _ in sel.select(timeout=0.2):
                try:
                    data = _read_all(key.fileobj)  # type: ignore[arg-type]
                except OSError:
                    return
                if data is None:
                    return
                if data:
                    peer: ssl.SSLSocket = key.data
                    peer.setblocking(True)
                    try:
                        peer.sendall(data)
                    except OSError:
                        return
                    finally:
                        peer.setblocking(False)


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
            try:
                front = server_ctx.wrap_socket(raw, server_side=True)
                back = client_ctx.wrap_socket(socket.create_connection((LOOPBACK, target_port)))
            except (OSError, ssl.SSLError):
                raw.close()
                continue
            t = threading.Thread(target=_pump, args=(front, back, stop), daemon=True)
            t.start()
            threads.append(t)

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
