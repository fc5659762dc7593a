"""watch's recognition rate with the live view (watch --http) off, on but unwatched, and with
one viewer connected: the viewer must not slow the loop it watches."""

from __future__ import annotations

import itertools
import statistics
import subprocess
import sys
import time

from device.live.loop import watch
from device.live.sources import SyntheticSource
from device.output.formats import format_jsonl
from device.vision.read import Scorer
from device.web.address import DEFAULT_HTTP_FPS, HttpAddress
from device.web.server import start_server
from device.web.view import LiveView

MODES = ("off", "unwatched", "one viewer")

# A viewer as a browser is one: another process reading the stream and the events.
VIEWER = r"""
import signal, sys, threading, urllib.request
def stop(signum, frame):
    raise KeyboardInterrupt
signal.signal(signal.SIGTERM, stop)
base = sys.argv[1]
parts = 0
def read(path, count):
    global parts
    with urllib.request.urlopen(base + path) as response:
        while chunk := response.readline():
            parts += count and chunk.startswith(b"--FRAME")
threading.Thread(target=read, args=("events", False), daemon=True).start()
try:
    read("stream.mjpg", True)
except (KeyboardInterrupt, OSError):
    pass
finally:
    print(parts, flush=True)
"""


def live_view_rates(model: Scorer, frames: int, repeat: int, seed: int = 0) -> dict:
    """Frames per second of the watch loop on pooled synthetic 640x480 frames, per mode: the
    median of `repeat` runs of `frames` frames each, the modes taking turns."""
    source = iter(SyntheticSource(seed=seed, pool=16))
    view = LiveView(DEFAULT_HTTP_FPS)
    view.about = {"source": "synthetic (bench)", "model": "bench"}
    server = start_server(HttpAddress("127.0.0.1", 0), view)
    rates: dict[str, list[float]] = {mode: [] for mode in MODES}
    streamed = []
    try:
        watch(itertools.islice(source, frames // 4), model, lambda a, g: None)  # warm-up
        for _ in range(repeat):
            for mode in MODES:
                viewer = _start_viewer(server.url(), view) if mode == "one viewer" else None
                hooked = mode != "off"
                started = time.perf_counter()
                watch(
                    itertools.islice(source, frames),
                    model,
                    (lambda a, g: view.publish(format_jsonl(a))) if hooked else (lambda a, g: None),
                    on_frame=view.offer if hooked else None,
                )
                seconds = time.perf_counter() - started
                rates[mode].append(frames / seconds)
                if viewer is not None:
                    streamed.append(_stop_viewer(viewer) / seconds)
    finally:
        server.stop()
    medians = {mode: statistics.median(values) for mode, values in rates.items()}
    return {
        "frames_per_run": frames,
        "runs": repeat,
        "fps": medians,
        "fps_runs": rates,
        "viewer_vs_off": medians["one viewer"] / medians["off"],
        "stream_fps": statistics.median(streamed),
        "http_fps": DEFAULT_HTTP_FPS,
    }


def _start_viewer(url: str, view: LiveView) -> subprocess.Popen:
    viewer = subprocess.Popen(
        [sys.executable, "-c", VIEWER, url], stdout=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 30
    while view.streams < 1:  # timed from when it watches
        if time.monotonic() > deadline or viewer.poll() is not None:
            viewer.kill()
            raise RuntimeError("the benchmark's viewer did not connect to the live view")
        time.sleep(0.01)
    return viewer


def _stop_viewer(viewer: subprocess.Popen) -> int:
    """Stops it; returns how many JPEGs it received (0 if it would not say)."""
    viewer.terminate()  # it prints its count
    try:
        out, _ = viewer.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        viewer.kill()
        viewer.communicate()
        return 0
    return int(out.strip() or 0)
