"""`watch --http`: the page, the MJPEG stream and the events as a viewer gets them, what bad
clients cannot do to the loop, and stopping with viewers connected."""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import signal
import socket
import threading
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from device.cli import main
from device.contract import load_metadata
from device.output.snapshots import READ_COLOUR, UNSURE_COLOUR
from device.web.address import EXIT_PORT_IN_USE, MAX_VIEWERS, parse_http_address
from device.web.frame import annotate_live, boxes_of
from device.web.server import MAX_HEAD, WRITE_TIMEOUT
from tests.conftest import SHIPPED_MODEL
from tests.livewatch import Watch, wait_until

FRAME_SIZE = (640, 480)  # the synthetic source's frames, width x height


@pytest.fixture(scope="module")
def live():
    watch = Watch("--source", "synthetic", "--http", "127.0.0.1:0")
    yield watch
    assert watch.stop() == 0
    assert "Traceback" not in "\n".join(watch.err) and "internal error" not in "\n".join(watch.err)


def connect(live: Watch) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(live.host, live.port, timeout=30)


def request(live: Watch, path: str, method: str = "GET") -> tuple[int, dict, bytes]:
    connection = connect(live)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def raw(live: Watch, data: bytes) -> bytes:
    """Sends bytes as they are; returns all the server answered before closing."""
    with socket.create_connection((live.host, live.port), timeout=30) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def mjpeg_parts(response: http.client.HTTPResponse, count: int) -> list[bytes]:
    boundary = response.getheader("Content-Type").split("boundary=")[1]
    parts = []
    while len(parts) < count:
        line = response.readline().strip()
        if not line:
            continue
        assert line == f"--{boundary}".encode()
        headers = {}
        while header := response.readline().strip():
            name, _, value = header.decode().partition(":")
            headers[name.lower()] = value.strip()
        assert headers["content-type"] == "image/jpeg"
        parts.append(response.read(int(headers["content-length"])))
    return parts


class Events:
    """A reader of /events: (event name, data) pairs as they come."""

    def __init__(self, live: Watch):
        self.connection = connect(live)
        self.connection.request("GET", "/events")
        self.response = self.connection.getresponse()
        assert self.response.status == 200
        assert self.response.getheader("Content-Type").startswith("text/event-stream")

    def next(self) -> tuple[str, str]:
        name, data = "message", []
        while True:
            line = self.response.readline().decode("utf-8").rstrip("\n")
            if not line:
                if data:
                    return name, "\n".join(data)
                continue
            field, _, value = line.partition(": ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)

    def take(self, wanted: str, count: int) -> list[str]:
        found = []
        while len(found) < count:
            name, data = self.next()
            if name == wanted:
                found.append(data)
        return found

    def status(self) -> dict:
        return json.loads(self.take("status", 1)[0])

    def close(self) -> None:
        self.connection.close()


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


# --- what a viewer gets ---------------------------------------------------------------------


def test_page_is_one_plain_html_file_naming_source_and_model(live):
    status, headers, body = request(live, "/")
    page = body.decode("utf-8")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert 'src="stream.mjpg"' in page and 'EventSource("events")' in page
    assert "synthetic paper 640x480" in page
    assert load_metadata(SHIPPED_MODEL).sha256[:8] in page
    assert "://" not in page  # nothing fetched from elsewhere (no CDN)
    assert "{{" not in page


def test_stream_parts_are_jpegs_of_the_frame_size(live):
    connection = connect(live)
    connection.request("GET", "/stream.mjpg")
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type").startswith("multipart/x-mixed-replace; boundary=")
    parts = mjpeg_parts(response, 3)
    connection.close()
    for part in parts:
        with Image.open(io.BytesIO(part)) as image:
            assert image.format == "JPEG" and image.size == FRAME_SIZE
            image.load()


def test_snapshot_is_a_jpeg_of_the_frame_size(live):
    status, headers, body = request(live, "/snapshot.jpg")
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(body)) as image:
        assert image.format == "JPEG" and image.size == FRAME_SIZE


def test_events_carry_exactly_the_jsonl_lines(live):
    events = Events(live)
    answers = events.take("message", 6)
    status = events.status()
    events.close()
    for data in answers:
        assert wait_until(lambda data=data: data in live.out, 30), data
        assert set(json.loads(data)) >= {"t", "digit", "confidence", "box", "fps"}
    assert status["frames"] > 0 and status["viewers"] >= 0
    assert status["fps"] is None or status["fps"] > 0


@pytest.mark.parametrize(
    "path",
    [
        "/nope",
        "/page.html",
        "/device/web/page.html",
        "/../../etc/passwd",
        "//etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/stream.mjpg/x",
        "/favicon.ico",
    ],
)
def test_other_paths_are_404(live, path):
    status, _, body = request(live, path)
    assert status == 404 and b"root:" not in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "BREW"])
def test_other_methods_are_405(live, method):
    status, headers, _ = request(live, "/", method)
    assert status == 405 and headers["Allow"] == "GET"


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


# --- starting and stopping --------------------------------------------------------------------


def test_sigterm_stops_at_once_with_viewers_connected():
    watch = Watch("--source", "synthetic", "--http", "127.0.0.1:0")
    stalled = socket.create_connection((watch.host, watch.port), timeout=30)
    stalled.sendall(b"GET /stream.mjpg HTTP/1.1\r\n\r\n")
    stalled.recv(12)  # admitted, and now reads nothing more
    events = Events(watch)
    events.status()
    watch.process.send_signal(signal.SIGTERM)
    # A server that waited for its viewers would wait at least WRITE_TIMEOUT for the stalled one.
    assert watch.process.wait(timeout=WRITE_TIMEOUT - 1) == 0
    stalled.close()
    events.close()
    assert wait_until(lambda: any("stopped after" in line for line in watch.err), 10)
    assert "Traceback" not in "\n".join(watch.err)


def test_port_in_use_is_one_line_and_its_own_exit_code(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["watch", "--source", "synthetic", "--http", f"127.0.0.1:{port}"])
    err = capsys.readouterr().err
    assert code == EXIT_PORT_IN_USE == 7
    assert err.count("\n") == 1 and f"port {port} is already in use" in err


def test_an_address_not_on_this_machine_is_one_line_and_exit_2(capsys):
    code = main(["watch", "--source", "synthetic", "--http", "203.0.113.7:8000"])  # TEST-NET-3
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "cannot listen" in err


def test_every_interface_is_warned_about(capsys):
    code = main(["watch", "--source", "synthetic", "--frames", "2", "--http", "0.0.0.0:0"])
    err = capsys.readouterr().err
    assert code == 0 and "anyone on the network" in err and "live view on http://" in err


def test_http_fps_needs_http(capsys):
    assert main(["watch", "--source", "synthetic", "--http-fps", "5"]) == 2
    assert "--http-fps applies to --http" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("8000", "127.0.0.1", 8000),
        ("0.0.0.0:8000", "0.0.0.0", 8000),
        ("[::1]:0", "::1", 0),
        ("localhost:8080", "localhost", 8080),
    ],
)
def test_http_address(text, host, port):
    address = parse_http_address(text)
    assert (address.host, address.port) == (host, port)
    assert address.public == (host == "0.0.0.0")


@pytest.mark.parametrize("text", ["", "x", "8000x", "70000", ":8000", "::1:8000", "host:"])
def test_bad_http_address_is_refused(text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_http_address(text)


# --- the picture ---------------------------------------------------------------------------


def test_every_box_of_a_whole_number_is_drawn_with_each_input():
    grey = np.full((480, 640), 200, np.uint8)
    white, black = np.full((28, 28), 255, np.uint8), np.zeros((28, 28), np.uint8)
    fields = {
        "digit": None,
        "confidence": 0.9,
        "box": [100, 100, 200, 100],
        "text": "42",
        "digits": [
            {"digit": 4, "confidence": 0.99, "box": [100, 100, 80, 100]},
            {"digit": None, "confidence": 0.4, "box": [220, 100, 80, 100]},
        ],
    }
    reading = SimpleNamespace(fields=lambda: fields, model_inputs=[white, black])
    picture = np.asarray(annotate_live(grey, reading))
    assert picture.shape == (480, 640, 3)
    assert tuple(picture[150, 100]) == READ_COLOUR  # the 4's left edge
    assert tuple(picture[150, 220]) == UNSURE_COLOUR  # the unsure digit's left edge
    assert tuple(picture[50, 630]) == (0, 0, 0)  # the last digit's input, rightmost
    assert tuple(picture[50, 500]) == (255, 255, 255)  # the first digit's input, left of it


def test_boxes_fall_back_to_the_single_box():
    assert boxes_of({"digit": 3, "box": [1, 2, 3, 4]}) == [([1, 2, 3, 4], True)]
    assert boxes_of({"digit": None, "box": None}) == []
    assert boxes_of({"digit": None, "box": [1, 2, 3, 4], "digits": []}) == [([1, 2, 3, 4], False)]
