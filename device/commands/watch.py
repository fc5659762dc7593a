"""digitcam watch: read digits from the camera continuously, report each new stable answer."""

from __future__ import annotations

import argparse
import errno
import sys
import time
from pathlib import Path

from device.commands.common import (
    EXIT_INTERNAL,
    EXIT_OUTPUT,
    MODEL_ENV,
    InternalError,
    add_model_arguments,
    default_model_path,
    silence_stdout,
    whole_number,
)
from device.live.spec import (
    CAMERA_RETRIES,
    EXIT_CAMERA_BUSY,
    EXIT_CAMERA_STOPPED,
    EXIT_NO_CAMERA,
    EXIT_UNAVAILABLE,
    UNSUPPORTED_HELP,
    parse_source,
)
from device.live.stability import DEFAULT_STABLE_FRAMES
from device.output.formats import ANSWER_FORMATS
from device.web.address import (
    DEFAULT_HTTP_FPS,
    EXIT_PORT_IN_USE,
    MAX_VIEWERS,
    HttpAddress,
    parse_http_address,
)

EXIT_STOPPED, EXIT_USAGE = 0, 2

DESCRIPTION = f"""\
Every frame goes through the same pipeline as 'digitcam predict'. An answer is reported once
it has been the same for --stable frames in a row, and again each time it changes. "No digit"
(blank paper, or nothing the model is sure of) is an answer too.

Sources (--source):
  picamera      the Raspberry Pi camera through picamera2 (the default), read as 640x480 grey
  dir:FOLDER    the pictures in FOLDER as frames, sorted by name (--loop plays them again)
  synthetic     seeded photos of font-drawn digits and of blank paper (--seed), for demos
{UNSUPPORTED_HELP}

Output: a line per answer for people ("table", the default on a terminal), or with
--format jsonl (the default when piped) one JSON object per answer, flushed at once:
  {{"t": 1714567890.123, "text": "42", "digit": null, "confidence": null, "box": null,
   "digits": [{{"digit": 4, ...}}, {{"digit": 2, ...}}], "rejected": 0, "crowded": false,
   "fps": 29.8}}
t is the Unix time of the frame; the other fields are predict's (see 'digitcam predict
--help'): text is the number read, null for "no digit"; digit, confidence and box describe
the single digit when exactly one was read; fps is the recent frame rate (null at first).
Start, end and problems are reported on stderr. --save DIR keeps an annotated JPEG of the
frame behind each answer (box, answer and the 28x28 image the model saw).

Live view: --http [HOST:]PORT serves a page showing the camera with the digits boxed, the
28x28 input(s) the model saw, the answer and the last answers (the same JSON objects as
--format jsonl), fps, source and model. It listens on 127.0.0.1 unless HOST says otherwise:
from a laptop, 'ssh -L 8000:localhost:8000 pi@raspberrypi.local', then open
http://localhost:8000/. --http 0.0.0.0:8000 lets anyone on the network watch. The stream
is encoded at --http-fps (default {DEFAULT_HTTP_FPS}) only while someone watches, for at most
{MAX_VIEWERS} viewers at once. Read only: GET /, /stream.mjpg, /events, /snapshot.jpg.

Exit status:
  {EXIT_STOPPED}  stopped: Ctrl-C, SIGTERM, --frames reached, or the folder played to its end
  {EXIT_USAGE}  wrong usage, an unusable model, a --save folder that cannot be made, or an
     --http address that cannot be listened on (other than a port in use)
  {EXIT_UNAVAILABLE}  no source: picamera2 missing, camera will not start, no pictures in folder
  {EXIT_NO_CAMERA}  no camera found
  {EXIT_CAMERA_BUSY}  the camera is in use by another process
  {EXIT_CAMERA_STOPPED}  the camera stopped delivering frames (after {CAMERA_RETRIES} tries)
  {EXIT_PORT_IN_USE}  the --http port is already in use
  {EXIT_INTERNAL} a bug in digitcam (one line; --debug shows the traceback)
  {EXIT_OUTPUT} answers could not be written (a full disk): watch kept reading and tried the
      output again every 30 s; this is the status it stops with
  130 interrupted while starting (loading the model)

The model is --model, else ${MODEL_ENV}, else the shipped one (as for 'digitcam predict').
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        type=parse_source,
        default=parse_source("picamera"),
        metavar="SOURCE",
        help="picamera (default), dir:FOLDER or synthetic",
    )
    parser.add_argument("--loop", action="store_true", help="dir: play the pictures again")
    parser.add_argument(
        "--seed",
        type=whole_number(0),
        metavar="N",
        help="synthetic: the seed (default 0)",
    )
    parser.add_argument(
        "--stable",
        type=whole_number(1),
        default=DEFAULT_STABLE_FRAMES,
        metavar="N",
        help="frames in a row an answer must last to be reported; 1 reports at once "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--frames", type=whole_number(1), metavar="N", help="stop after N frames (default: never)"
    )
    parser.add_argument(
        "--format",
        type=answer_format,
        metavar="{table,jsonl}",
        help="table: a line per answer for people (the default on a terminal; 'text' is "
        "accepted too); jsonl: one JSON object per answer (the default when piped)",
    )
    parser.add_argument(
        "--save", type=Path, metavar="DIR", help="keep an annotated JPEG of each answer's frame"
    )
    parser.add_argument(
        "--http",
        type=parse_http_address,
        metavar="[HOST:]PORT",
        help="serve a live view of the camera and the answers on this port (host: 127.0.0.1)",
    )
    parser.add_argument(
        "--http-fps",
        type=whole_number(1),
        metavar="N",
        help=f"frames a second in the live view's stream (default: {DEFAULT_HTTP_FPS})",
    )
    add_model_arguments(parser, "interpreter threads")


def answer_format(text: str) -> str:
    """argparse type for --format: 'text' is the older name of 'table'."""
    name = "table" if text == "text" else text
    if name not in ANSWER_FORMATS:
        raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose table or jsonl)")
    return name


def _say(message: str) -> None:
    print(f"digitcam watch: {message}", file=sys.stderr, flush=True)


def check_source_options(args: argparse.Namespace) -> str | None:
    """Options that do not apply to the chosen source are a usage error, not ignored."""
    if args.loop and args.source.kind != "dir":
        return f"--loop applies to --source dir:FOLDER, not {args.source.kind}"
    if args.seed is not None and args.source.kind != "synthetic":
        return f"--seed applies to --source synthetic, not {args.source.kind}"
    if args.http_fps is not None and args.http is None:
        return "--http-fps applies to --http [HOST:]PORT"
    return None


def run(args: argparse.Namespace) -> int:
    from functools import partial

    from device.contract import MetadataError
    from device.live.loop import signals_held, sigterm_as_interrupt
    from device.model.interpreter import ModelError, load_model
    from device.output.formats import Reporter

    problem = check_source_options(args)
    if problem:
        _say(f"error: {problem}")
        return EXIT_USAGE
    try:
        model = load_model(args.model or default_model_path(), threads=args.threads)
    except (ModelError, MetadataError) as exc:
        _say(str(exc))
        return EXIT_USAGE
    snapshot = None
    if args.save:
        try:
            args.save.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            _say(f"{args.save}: cannot create ({exc.strerror})")
            return EXIT_USAGE
        from device.output.snapshots import save_snapshot

        snapshot = partial(save_snapshot, args.save)
    fmt = args.format or ("table" if sys.stdout.isatty() else "jsonl")
    reporter = Reporter(fmt, sys.stdout, snapshot)
    with sigterm_as_interrupt():
        server = None
        if args.http is not None:
            server = _start_live_view(args.http, args.http_fps or DEFAULT_HTTP_FPS, model)
            if isinstance(server, int):
                return server
        try:
            return _watch_source(args, model, reporter, server.view if server else None)
        finally:
            if server is not None:
                with signals_held():
                    server.stop()


def _start_live_view(address: HttpAddress, fps: int, model):
    """The live view's server, serving; or watch's exit code when it cannot listen."""
    from device.web.server import start_server
    from device.web.view import LiveView

    view = LiveView(fps)
    meta = model.metadata
    view.about = {
        "source": "opening",
        "model": f"{model.path.name} (sha256 {meta.sha256[:8]}, "
        f"{meta.int8_accuracy:.2%} on the MNIST test set)",
    }
    try:
        server = start_server(address, view)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            _say(
                f"--http {address}: port {address.port} is already in use (another "
                "'digitcam watch', or the service): choose another port"
            )
            return EXIT_PORT_IN_USE
        _say(f"--http {address}: cannot listen ({exc.strerror or exc})")
        return EXIT_USAGE
    _say(f"live view on {server.url()}")
    if address.public:
        _say(
            f"warning: --http {address} lets anyone on the network watch the camera; "
            "without a host it listens on 127.0.0.1 only (view it through ssh -L)"
        )
    return server


def _watch_source(args: argparse.Namespace, model, reporter, view) -> int:
    from device.live.frames import SourceError
    from device.live.loop import Tally, signals_held, watch
    from device.live.sources import open_source

    on_answer, on_frame = reporter, None
    if view is not None:
        from device.output.formats import format_jsonl

        def on_answer(answer, grey):
            reporter(answer, grey)
            view.publish(format_jsonl(answer))

        on_frame = view.offer
    tally, source, ending = Tally(), None, "stopped"
    try:
        source = open_source(args.source, loop=args.loop, seed=args.seed or 0)
        _say(f"reading {source.description}; answers after {args.stable} equal frame(s)")
        if view is not None:
            view.about["source"] = source.description
        tally.started = time.monotonic()  # the camera's settling is not frame time
        options = (args.stable, args.min_confidence, args.frames, tally)
        watch(source, model, on_answer, *options, on_frame=on_frame)
        ending = "done" if args.frames and tally.frames >= args.frames else "no more frames"
    except KeyboardInterrupt:
        ending = "stopped"
    except SourceError as exc:
        _say(str(exc))
        return exc.exit_code
    except BrokenPipeError:
        # stdout's reader went away (`| head`): stop quietly, and keep Python's final flush of
        # the dead pipe from printing an error of its own.
        silence_stdout()
        ending = "output closed"
    except Exception as exc:  # a bug: name the frame, then let the command line report it
        raise InternalError(f"frame {tally.frames + 1}", exc) from exc
    finally:
        if source is not None:
            with signals_held():
                source.close()
    _say(f"{ending} after {tally.frames} frame(s), {tally.fps():.1f} fps; source closed")
    if reporter.lost:
        silence_stdout()  # what is still buffered for the failed output is dropped
        _say(f"{reporter.lost} answer(s) could not be written ({reporter.failure or 'recovered'})")
        return EXIT_OUTPUT
    return EXIT_STOPPED
