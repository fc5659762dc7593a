"""Worker processes that read files, supervised per task: a worker that dies costs its file only."""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path

from device.files.reading import read_file
from device.model.interpreter import load_model
from device.output.formats import FileReading

PREFETCH = 4  # tasks queued per worker, so that it never waits for the next file
WINDOW = 512  # files handed out beyond the next one due out: bounds the results held back
START_DEATHS = 3  # workers dying while loading the model this many times: give up


class WorkerError(Exception):
    """Worker processes cannot load the model (the parent could: out of memory, say)."""


def _worker_main(
    conn: Connection,
    inherited: list[Connection],
    model_path: Path,
    threads: int | None,
    least: float,
) -> None:
    """A worker: load the model, say so, then answer (index, path) tasks until told to stop.

    `inherited`: the parent's ends of the pipes, its own included, which a forked worker holds
    too; closed at once, or the worker would never see end-of-file when the parent dies."""
    for end in inherited:
        end.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    # a forked worker has the parent's SIGTERM handler (KeyboardInterrupt: a traceback);
    # SIGTERM to the whole group (timeout, systemctl stop) must simply end it
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        model = load_model(model_path, threads)
    except Exception as exc:
        conn.send(("error", f"worker could not load {model_path}: {exc}".splitlines()[0]))
        return
    try:
        conn.send(("ready", None))
        while (task := conn.recv()) is not None:
            index, path = task
            conn.send((index, read_file(path, model, least)))
    except (EOFError, OSError):  # the parent has gone (killed, interrupted): nothing to say
        return


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    ready: bool = False
    tasks: deque = field(default_factory=deque)  # (index, path) sent; the first is in progress


def death_reason(exitcode: int | None) -> str:
    """'the reader died (killed by SIGKILL)': why a worker's file has no reading."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = ", out of memory?" if name == "SIGKILL" else ""
        return f"the reader died (killed by {name}{hint})"
    return f"the reader died (exit status {exitcode})"


def start_method() -> multiprocessing.context.BaseContext:
    """fork on Linux: a worker starts as a copy of this process, numpy, Pillow and LiteRT
    already imported. A spawned worker imported them again (0.3 s of CPU each on a PC, seconds
    on a Pi), and a forkserver once, but before the first file: 0.15-0.2 s of a 1.2 s batch of
    1,000 photos here. A forked worker closes the pipe ends it inherits (`_worker_main`), so
    it sees end-of-file and exits when this process dies, however it dies; it uses nothing
    of this process's other threads (the progress bar's). Elsewhere spawn, the safe default."""
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


class _Pool:
    def __init__(self, size: int, model_path: Path, threads: int | None, least: float):
        self.context = start_method()
        self.args = (model_path, threads, least)
        self.workers: list[_Worker] = []
        for _ in range(size):
            self.workers.append(self._start())
        self.start_deaths = 0

    def _start(self) -> _Worker:
        parent, child = self.context.Pipe()
        forked = self.context.get_start_method() == "fork"
        inherited = [parent, *(w.conn for w in self.workers)] if forked else []
        process = self.context.Process(
            target=_worker_main,
            args=(child, inherited, *self.args),
            daemon=True,
            name="digitcam-reader",
        )
        # An ignored SIGINT stays ignored across fork and exec: the child never sees Ctrl-C,
        # even while it starts (no traceback from it). Blocked meanwhile, the parent's is
        # delivered after.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            process.start()
        finally:
            signal.signal(signal.SIGINT, handler)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        child.close()
        return _Worker(process, parent)

    def replace(self, worker: _Worker) -> None:
        worker.conn.close()
        self.workers[self.workers.index(worker)] = self._start()

    def close(self) -> None:
        for worker in self.workers:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        for worker in self.workers:
            worker.process.join(timeout=2)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()


def read_in_workers(
    paths: list[Path], model_path: Path, least: float, workers: int, threads: int | None
) -> Iterator[FileReading]:
    """Readings for `paths` in their order, read by `workers` processes. A worker that dies
    (a signal, the out-of-memory killer) gives its file an error row and is replaced."""
    todo: deque = deque(enumerate(paths))
    done: dict[int, FileReading] = {}
    due = 0
    pool = _Pool(workers, model_path, threads, least)
    try:
        while due < len(paths):
            for worker in pool.workers:
                while len(worker.tasks) < PREFETCH and todo and todo[0][0] < due + WINDOW:
                    task = todo.popleft()
                    worker.tasks.append(task)
                    worker.conn.send(task)
            waits = {w.conn: w for w in pool.workers}
            waits |= {w.process.sentinel: w for w in pool.workers}
            for ready in wait(list(waits)):
                worker = waits[ready]
                if worker in pool.workers and not _collect(worker, done):
                    _bury(pool, worker, todo, done)
            while due in done:
                yield done.pop(due)
                due += 1
    finally:
        pool.close()


def _collect(worker: _Worker, done: dict[int, FileReading]) -> bool:
    """Takes every message the worker has sent; False once it is gone."""
    try:
        while worker.conn.poll():
            index, message = worker.conn.recv()
            if index == "error":
                raise WorkerError(message)
            if index == "ready":
                worker.ready = True
                continue
            worker.tasks.popleft()
            done[index] = message
    except (EOFError, OSError):
        return False
    return worker.process.is_alive() or bool(worker.conn.poll())


def _bury(pool: _Pool, worker: _Worker, todo: deque, done: dict[int, FileReading]) -> None:
    """A dead worker: its file in progress gets an error row; its other tasks go back."""
    worker.process.join()
    tasks = list(worker.tasks)
    if worker.ready and tasks:
        index, path = tasks.pop(0)
        done[index] = FileReading(str(path), None, death_reason(worker.process.exitcode))
    elif not worker.ready:
        pool.start_deaths += 1
        if pool.start_deaths >= START_DEATHS:
            raise WorkerError(
                f"worker processes die while loading the model "
                f"({death_reason(worker.process.exitcode).removeprefix('the reader died ')})"
            )
    todo.extendleft(reversed(tasks))
    pool.replace(worker)
