"""`watch --http` as a viewer gets it: page, MJPEG stream, snapshot, events, 404/405, boxes."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from device.model_pair import load_metadata
from device.output.snapshots import READ_COLOUR, UNSURE_COLOUR
from device.web.frame import annotate_live, boxes_of
from tests.conftest import SHIPPED_MODEL
from tests.live_view_client import (  # noqa: F401 (live_fixture: the `live` fixture)
    Events,
    connect,
    live_fixture,
    mjpeg_parts,
    request,
)
from tests.livewatch import wait_until

FRAME_SIZE = (640, 480)  # the synthetic source's frames, width x height


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
