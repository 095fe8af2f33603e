"""A stand-in for the X-Ray daemon's UDP side on 127.0.0.1: receives and parses segment documents.

The daemon's protocol: one datagram per document, the header
``{"format":"json","version":1}``, a newline, then the JSON document. Written out
here from the X-Ray documentation, not imported from the exporter under test.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

DAEMON_HEADER = b'{"format":"json","version":1}\n'


class Daemon:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        host, port = sock.getsockname()[:2]
        self.address = f"{host}:{port}"
        self.raw: list[bytes] = []

    def receive(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Exactly ``count`` documents (fails on fewer within ``timeout``)."""
        documents: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(documents) < count:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{len(documents)} of {count} documents received"
            documents.append(self._one(remaining))
        return documents

    def quiet_for(self, seconds: float) -> list[dict[str, Any]]:
        """Whatever arrives within ``seconds`` (expected: nothing)."""
        documents: list[dict[str, Any]] = []
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                documents.append(self._one(remaining))
            except TimeoutError:
                break
        return documents

    def drain_in_background(self) -> list[dict[str, Any]]:
        """From now on, documents are read as they come (so none is lost to a full
        socket buffer) into the returned list, until the daemon closes."""
        found: list[dict[str, Any]] = []

        def drain() -> None:
            while True:
                try:
                    found.append(self._one(0.2))
                except TimeoutError:
                    continue
                except OSError:  # closed
                    return

        threading.Thread(target=drain, daemon=True).start()
        return found

    def _one(self, timeout: float) -> dict[str, Any]:
        self.sock.settimeout(timeout)
        data, _ = self.sock.recvfrom(65_536)
        self.raw.append(data)
        assert data.startswith(DAEMON_HEADER), data[:80]
        document = json.loads(data[len(DAEMON_HEADER) :])
        assert isinstance(document, dict)
        return document


@contextmanager
def xray_daemon() -> Iterator[Daemon]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield Daemon(sock)
    finally:
        sock.close()
