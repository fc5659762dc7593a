"""Starting and stopping `watch --http`: SIGTERM with viewers, busy port, bad addresses."""

from __future__ import annotations

import argparse
import signal
import socket

import pytest

from device.cli import main
from device.web.address import EXIT_PORT_IN_USE, parse_http_address
from device.web.server import WRITE_TIMEOUT
from tests.live_view_client import Events
from tests.livewatch import Watch, wait_until

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
