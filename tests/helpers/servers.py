"""A loopback TCP server for tests that need a peer which misbehaves in a given way."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def loopback_server(
    on_connection: Callable[[socket.socket], None], *, poll: float = 0.2
) -> Iterator[int]:
    """Accept connections on 127.0.0.1 and hand each to ``on_connection`` (on the accepting
    thread); yields the port. The server stops and its socket closes when the block ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(poll)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            on_connection(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()
