"""The live view in a real browser: headless Chromium from Debian opens the page, waits for an
answer and must show the digit the camera is showing; a screenshot is kept in build/."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PIL import Image

from device.files.decode import read_picture
from device.model.selftest import builtin_digit
from device.synthetic.photos import photo_of_digit
from tests.chromium import Browser, find_chromium
from tests.conftest import REPO
from tests.livewatch import Watch

SCREENSHOT = REPO / "build" / "live-view.png"
ANSWER = "document.getElementById('answer')"


@pytest.fixture(scope="module")
def chromium() -> str:
    path = find_chromium()
    if path:
        return path
    message = "no chromium: apt-get install chromium (.ci/run does)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def browser(chromium):
    opened = Browser(chromium)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def seven(tmp_path_factory):
    """A folder with one synthetic photo: MNIST's handwritten 7 on paper."""
    folder = tmp_path_factory.mktemp("seven")
    rgb = photo_of_digit(builtin_digit(), np.random.default_rng(3))
    Image.fromarray(rgb).convert("L").save(folder / "seven.png")
    return folder


def test_the_page_shows_the_digit_the_camera_sees(browser, seven):
    watch = Watch("--source", f"dir:{seven}", "--loop", "--http", "127.0.0.1:0")
    try:
        browser.open(watch.url)
        assert browser.wait_for(f"{ANSWER} && {ANSWER}.textContent === '7'", 60)
        assert browser.wait_for("document.getElementById('rate').textContent.includes('fps')", 30)
        width = read_picture(seven / "seven.png").grey.shape[1]  # what the folder source gives
        assert browser.wait_for(f"document.getElementById('frame').naturalWidth === {width}", 30)
        assert "confidence 1.00" in browser.evaluate(
            "document.getElementById('detail').textContent"
        )
        assert browser.evaluate("document.querySelector('#history li').textContent").endswith(
            "7  (confidence 1.00)"
        )
        shown_at = float(browser.evaluate(f"{ANSWER}.dataset.t"))
        assert any(json.loads(line)["t"] == shown_at for line in watch.out)
        browser.screenshot(SCREENSHOT)
    finally:
        assert watch.stop() == 0
    with Image.open(SCREENSHOT) as image:
        assert image.format == "PNG" and image.size == (1100, 640)


def test_the_page_says_what_the_log_says(browser):
    watch = Watch("--source", "synthetic", "--http", "127.0.0.1:0")
    try:
        browser.open(watch.url)
        assert browser.wait_for(f"{ANSWER} && {ANSWER}.dataset.t !== undefined", 60)
        assert browser.wait_for("document.getElementById('frame').naturalWidth === 640", 30)
        shown = browser.evaluate(f"[{ANSWER}.textContent, {ANSWER}.dataset.t]")
        browser.screenshot(SCREENSHOT.with_name("live-view-synthetic.png"))
    finally:
        assert watch.stop() == 0
    logged = {json.loads(line)["t"]: json.loads(line) for line in watch.out}
    answer = logged[float(shown[1])]
    assert shown[0] == ("no digit" if answer["digit"] is None else str(answer["digit"]))


def test_a_whole_number_is_shown_by_its_text(browser, seven):
    """The page reads `text` when the answer has one (whole numbers), else `digit`."""
    watch = Watch("--source", f"dir:{seven}", "--loop", "--http", "127.0.0.1:0")
    try:
        browser.open(watch.url)
        assert browser.wait_for("typeof said === 'function'", 60)
        said = browser.evaluate(
            "[said({text: '42', digit: null}), said({digit: 3}), said({digit: null}),"
            " said({text: null, digit: 0})]"
        )
    finally:
        assert watch.stop() == 0
    assert said == ["42", "3", None, "0"]
