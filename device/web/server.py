"""The live view's web server: the page, the MJPEG stream, the answers as Server-Sent Events.

Read only: GET of four fixed paths; no path from a URL ever reaches the file system. Each
connection has its own thread; a viewer that reads slowly, or not at all, only loses frames.
"""

from __future__ import annotations

import html
import io
import json
import socket
import socketserver
import sys
import threading
import time
from contextlib import contextmanager, suppress
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import urlsplit

from device.web.address import MAX_VIEWERS, WILDCARDS, HttpAddress
from device.web.view import LiveView

MAX_CONNECTIONS = 64  # beyond this many at once, new connections are closed unanswered
MAX_HEAD = 8192  # bytes of request line and headers; a longer request gets 414 or 431
DRAIN = 1 << 20  # bytes read and dropped after refusing a long request, at most
HEAD_TIMEOUT = 5.0  # seconds to send them (a client trickling its request is dropped)
WRITE_TIMEOUT = 5.0  # a viewer that accepts nothing for this long is dropped
SEND_BUFFER = 64 * 1024  # bytes queued per viewer (the kernel doubles it): about 3 frames
STATUS_EVERY = 1.0  # seconds between the event feed's status events (frames, fps, viewers)
BOUNDARY = "FRAME"
ROUTES = {"/": "page", "/stream.mjpg": "stream", "/events": "events", "/snapshot.jpg": "snapshot"}


class LiveServer(ThreadingHTTPServer):
    daemon_threads = True  # a stalled viewer never keeps watch from exiting
    request_queue_size = MAX_CONNECTIONS

    def __init__(self, address: HttpAddress, view: LiveView):
        self.address_family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
        super().__init__((address.host, address.port), LiveHandler)
        self.view = view
        self.page = resources.files("device.web").joinpath("page.html").read_text("utf-8")
        self.slots = {name: threading.BoundedSemaphore(MAX_VIEWERS) for name in ROUTES.values()}
        self._connections = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._open: set[socket.socket] = set()

    def server_bind(self) -> None:
        # HTTPServer's own looks up the host's name (DNS), which can hang on a Pi offline.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def url(self) -> str:
        host, port = self.server_address[:2]
        if host in WILDCARDS:
            host = socket.gethostname()
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"

    def process_request(self, request, client_address) -> None:
        if not self._connections.acquire(blocking=False):
            self.shutdown_request(request)
            return
        self._open.add(request)
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._open.discard(request)
            self._connections.release()

    def handle_error(self, request, client_address) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):  # a viewer going away is not worth a line
            problem = f"{type(error).__name__}: {error}".splitlines()[0]
            print(f"digitcam watch: live view: internal error ({problem})", file=sys.stderr)

    def stop(self) -> None:
        """Stops serving and drops every viewer at once (a stalled one included)."""
        self.view.close()
        self.shutdown()
        for request in list(self._open):
            with suppress(OSError):
                request.shutdown(socket.SHUT_RDWR)
        self.server_close()

    def render_page(self) -> bytes:
        about = {"max_viewers": str(MAX_VIEWERS), **self.view.about}
        text = self.page
        for key, value in about.items():
            text = text.replace("{{" + key + "}}", html.escape(value))
        return text.encode("utf-8")


def start_server(address: HttpAddress, view: LiveView) -> LiveServer:
    """Binds (OSError if it cannot: the port in use, an unknown host) and serves in a thread."""
    server = LiveServer(address, view)
    view.start()
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="live-view", daemon=True
    ).start()
    return server


class LiveHandler(BaseHTTPRequestHandler):
    server: LiveServer
    timeout = WRITE_TIMEOUT
    default_request_version = "HTTP/1.0"  # so that even a garbled request gets a status line
    error_message_format = "%(code)d %(message)s\n"
    error_content_type = "text/plain; charset=utf-8"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)

    def handle(self) -> None:
        """One request a connection, its head read whole (within limits) before parsing."""
        head = self._read_head()
        if head is None:
            return
        if len(head) > MAX_HEAD:
            self._refuse_long(first_line_ends=head.find(b"\n", 0, MAX_HEAD) >= 0)
            return
        self.rfile = io.BytesIO(head)  # GET has no body: the head is all there is to read
        self.handle_one_request()

    def _refuse_long(self, first_line_ends: bool) -> None:
        self.request_version, self.command, self.requestline = "HTTP/1.0", "", ""
        if first_line_ends:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
        else:
            self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
        # Read a little of the rest before closing: closing on unread data would reset the
        # connection, and the client might lose the answer.
        self.connection.shutdown(socket.SHUT_WR)
        deadline, drained = time.monotonic() + 1.0, 0
        while drained < DRAIN and (remaining := deadline - time.monotonic()) > 0:
            self.connection.settimeout(remaining)
            try:
                chunk = self.connection.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            drained += len(chunk)

    def _read_head(self) -> bytes | None:
        deadline, head = time.monotonic() + HEAD_TIMEOUT, b""
        while b"\r\n\r\n" not in head and b"\n\n" not in head and len(head) <= MAX_HEAD:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self.connection.settimeout(remaining)
            try:
                chunk = self.connection.recv(4096)
            except OSError:  # too slow, or gone
                return None
            if not chunk:
                return None
            head += chunk
        self.connection.settimeout(WRITE_TIMEOUT)
        return head

    def do_GET(self) -> None:
        route = ROUTES.get(urlsplit(self.path).path)
        if route is None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        with self._slot(route) as admitted:
            if admitted:
                getattr(self, f"_{route}")()

    def __getattr__(self, name: str):
        if name.startswith("do_"):  # every other method: 405, not http.server's 501
            return self._not_allowed
        raise AttributeError(name)

    def _not_allowed(self) -> None:
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        body = b"405 only GET is served here\n"
        self.send_header("Allow", "GET")
        self._headers("text/plain; charset=utf-8", len(body))
        if self.command != "HEAD":
            self.wfile.write(body)

    def version_string(self) -> str:
        return "digitcam"

    def log_message(self, format, *args) -> None:
        """Nothing: stderr belongs to watch's own messages (the service's journal)."""

    @contextmanager
    def _slot(self, route: str):
        slot = self.server.slots[route]
        if not slot.acquire(blocking=False):
            self.send_error(
                HTTPStatus.SERVICE_UNAVAILABLE, f"at most {MAX_VIEWERS} viewers at once"
            )
            yield False
            return
        try:
            yield True
        finally:
            slot.release()

    def _headers(self, content_type: str, length: int | None = None) -> None:
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()

    def _page(self) -> None:
        body = self.server.render_page()
        self.send_response(HTTPStatus.OK)
        self.send_header(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
        )
        self.send_header("Referrer-Policy", "no-referrer")
        self._headers("text/html; charset=utf-8", len(body))
        self.wfile.write(body)

    def _snapshot(self) -> None:
        jpeg = self.server.view.snapshot(timeout=2.0)
        if jpeg is None:
            self.send_error(HTTPStatus.SERVICE_UNAVAILABLE, "no frame yet")
            return
        self.send_response(HTTPStatus.OK)
        self._headers("image/jpeg", len(jpeg))
        self.wfile.write(jpeg)

    def _stream(self) -> None:
        view = self.server.view
        self.send_response(HTTPStatus.OK)
        self._headers(f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        seen = 0
        with view.watching():
            while not view.closed:
                got = view.jpeg_after(seen, timeout=1.0)
                if got is None:
                    continue
                seen, jpeg = got
                head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                head += f"Content-Length: {len(jpeg)}\r\n\r\n"
                self.wfile.write(head.encode("ascii") + jpeg + b"\r\n")

    def _events(self) -> None:
        """Each answer as an event whose data is its `--format jsonl` line, the last few first;
        a `status` event (frames, fps, viewers) every second."""
        view = self.server.view
        self.send_response(HTTPStatus.OK)
        self._headers("text/event-stream; charset=utf-8")
        self.wfile.write(b"retry: 2000\n\n")
        seen, last_status = 0, float("-inf")
        while True:
            answers = view.answers_after(seen, timeout=STATUS_EVERY)
            if answers is None:
                return
            events = [f"data: {line}\n\n" for _, line in answers]
            seen = answers[-1][0] if answers else seen
            if time.monotonic() - last_status >= STATUS_EVERY:
                events.append(f"event: status\ndata: {json.dumps(view.status())}\n\n")
                last_status = time.monotonic()
            if events:
                self.wfile.write("".join(events).encode("utf-8"))
