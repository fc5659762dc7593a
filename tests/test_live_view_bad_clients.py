"""`watch --http` against bad clients: refused or dropped while the loop goes on."""

from __future__ import annotations

import contextlib
import socket
import threading

import pytest

from device.web.address import MAX_VIEWERS
from device.web.server import MAX_HEAD, WRITE_TIMEOUT
from tests.live_view_client import (  # noqa: F401 (live_fixture: the `live` fixture)
    Events,
    connect,
    live_fixture,
    mjpeg_parts,
    request,
)
from tests.livewatch import Watch, wait_until


def raw(live: Watch, data: bytes) -> bytes:
    """Sends bytes as they are; returns all the server answered before closing."""
    with socket.create_connection((live.host, live.port), timeout=30) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def viewers_become(live: Watch, count: int, timeout: float) -> bool:
    """Waits, on one event feed, for a status event saying `count` viewers are connected."""
    events = Events(live)
    try:
        return wait_until(lambda: events.status()["viewers"] == count, timeout)
    finally:
        events.close()


def frames_keep_coming(live: Watch) -> None:
    """The loop is not held up: the frame count grows and new answers are published."""
    events = Events(live)
    try:
        first = events.status()["frames"]
        answers_before = len(live.out)
        assert wait_until(lambda: len(live.out) >= answers_before + 2, 60)
        assert events.status()["frames"] > first
    finally:
        events.close()


# --- bad clients: the server refuses or drops them, the loop never notices --------------------


@pytest.mark.parametrize(
    "data",
    [
        b"garbage\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",  # a TLS hello, or part of one
        b"GET / HTTP/1.1 extra\r\n\r\n",
        b"GET / HTTP/x.y\r\n\r\n",
    ],
)
def test_malformed_requests_get_400(live, data):
    assert raw(live, data).startswith(b"HTTP/1.0 400 ")


def test_too_long_url_or_headers_are_refused(live):
    url = "/" + "a" * (2 * MAX_HEAD)
    assert raw(live, f"GET {url} HTTP/1.1\r\n\r\n".encode()).startswith(b"HTTP/1.0 414 ")
    header = "X-Long: " + "b" * (2 * MAX_HEAD)
    answer = raw(live, f"GET / HTTP/1.1\r\n{header}\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.0 431 ")
    assert request(live, "/")[0] == 200
    frames_keep_coming(live)


def test_fifty_connections_at_once(live):
    assert viewers_become(live, 0, 30)
    sockets = [socket.create_connection((live.host, live.port), timeout=30) for _ in range(50)]
    try:
        for sock in sockets:
            sock.sendall(b"GET /stream.mjpg HTTP/1.1\r\nHost: pi\r\n\r\n")
        statuses = [status_of(sock) for sock in sockets]
        assert statuses.count(b"200") == MAX_VIEWERS
        assert statuses.count(b"503") == 50 - MAX_VIEWERS
        # the admitted four read nothing more: stalled viewers, while the loop goes on
        assert request(live, "/")[0] == 200
        frames_keep_coming(live)
    finally:
        for sock in sockets:
            sock.close()


def test_a_viewer_reading_a_byte_a_second_is_dropped_while_others_keep_up(live):
    assert viewers_become(live, 0, 30)
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect((live.host, live.port))
    slow.sendall(b"GET /stream.mjpg HTTP/1.1\r\nHost: pi\r\n\r\n")
    stop, bytes_read = threading.Event(), []

    def trickle():
        while not stop.wait(1.0):
            try:
                bytes_read.append(slow.recv(1))
            except OSError:
                return

    threading.Thread(target=trickle, daemon=True).start()
    try:
        connection = connect(live)
        connection.request("GET", "/stream.mjpg")
        assert len(mjpeg_parts(connection.getresponse(), 10)) == 10
        connection.close()
        frames_keep_coming(live)
        # the server gives up on it: its slot is free again while it still "reads"
        assert viewers_become(live, 0, 10 * WRITE_TIMEOUT)
        assert bytes_read and not stop.is_set()
    finally:
        stop.set()
        slow.close()


class Viewer:
    """A stream viewer that keeps reading, in a thread, until closed."""

    def __init__(self, live: Watch):
        self.sock = socket.create_connection((live.host, live.port), timeout=30)
        self.sock.sendall(b"GET /stream.mjpg HTTP/1.1\r\nHost: pi\r\n\r\n")
        self.status = status_of(self.sock)
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        with contextlib.suppress(OSError):
            while self.sock.recv(65536):
                pass

    def close(self) -> None:
        self.sock.close()


def status_of(sock: socket.socket) -> bytes:
    """The status code of the answer on sock ('200'), read from its first line only."""
    line = b""
    while not line.endswith(b"\r\n"):
        line += sock.recv(1)
    return line.split()[1]


def test_viewers_past_the_cap_get_503_and_a_leaving_one_frees_its_place(live):
    assert viewers_become(live, 0, 30)
    viewers = [Viewer(live) for _ in range(MAX_VIEWERS)]
    try:
        assert [v.status for v in viewers] == [b"200"] * MAX_VIEWERS
        one_more = Viewer(live)
        assert one_more.status == b"503"
        one_more.close()
        viewers.pop().close()
        assert wait_until(lambda: viewers.append(Viewer(live)) or viewers[-1].status == b"200", 30)
    finally:
        for viewer in viewers:
            viewer.close()
