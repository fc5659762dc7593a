"""A viewer's side of `watch --http`: the `live` fixture, requests, MJPEG parts, /events."""

from __future__ import annotations

import http.client
import json

import pytest

from tests.livewatch import Watch


@pytest.fixture(scope="module", name="live")
def live_fixture():
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
