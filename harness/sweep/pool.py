"""Where the points run: in this process, in a local process pool, or on an existing Dask
distributed cluster. Each yields the outcomes of a chunk of points as the chunk finishes; a chunk
lost with its worker comes back as failed points, never as an exception that stops the sweep.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Iterator
from urllib.parse import urlsplit

from harness.errors import config_error
from harness.sweep import figures
from harness.sweep.execute import Outcome, Task, run_chunk

MAX_CHUNK = 32
CONNECT_TIMEOUT_S = 10


def chunks(tasks: list[Task], workers: int, mode: str) -> list[list[Task]]:
    """Runs one point per task (each takes long); profiles in chunks of up to MAX_CHUNK, at least
    four chunks per worker so that the last ones do not leave workers idle."""
    size = 1 if mode == "run" else max(1, min(MAX_CHUNK, len(tasks) // (4 * max(workers, 1))))
    return [tasks[i:i + size] for i in range(0, len(tasks), size)]


def lost(chunk: list[Task], exc: BaseException) -> list[Outcome]:
    error = f"worker lost: {type(exc).__name__}: {' '.join(str(exc).split())}"
    return [Outcome(t.name, "failed", figures.empty(), error=error) for t in chunk]


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class InProcess:
    """workers = 1: no pool at all."""

    workers = 1

    def run(self, batches: list[list[Task]]) -> Iterator[list[Outcome]]:
        for batch in batches:
            yield run_chunk(batch)

    def close(self) -> None:
        pass


def die_with_parent() -> None:
    """A worker ends when the sweep's process ends, even by SIGKILL (Linux: the parent-death
    signal); elsewhere the pool's own shutdown is all there is."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before the signal was armed
        os._exit(1)


PR_SET_PDEATHSIG = 1


class LocalPool:
    """A process pool over the cores. Started with fork where there is one (workers inherit the
    imported modules) before any progress display starts a thread."""

    def __init__(self, workers: int):
        self.workers = workers
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        self.executor = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                            initializer=die_with_parent)

    def run(self, batches: list[list[Task]]) -> Iterator[list[Outcome]]:
        """Submits at once (the workers fork now), then yields as chunks finish."""
        futures = {self.executor.submit(run_chunk, b): b for b in batches}
        return self._collect(futures)

    @staticmethod
    def _collect(futures: dict) -> Iterator[list[Outcome]]:
        for future in as_completed(futures):
            exc = future.exception()
            yield lost(futures[future], exc) if exc else future.result()

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


class DaskPool:
    """The same chunks on an existing Dask distributed cluster (its scheduler's address)."""

    def __init__(self, address: str):
        try:
            from distributed import Client
        except ImportError:
            raise config_error("--scheduler", "", address,
                               "needs Dask distributed: pip install 'bench[dask]'") from None
        _check_address(address)
        try:
            self.client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise config_error("--scheduler", "", address, f"cannot connect: {exc}") from None
        self.workers = max(1, sum(self.client.nthreads().values()))

    def run(self, batches: list[list[Task]]) -> Iterator[list[Outcome]]:
        futures = [self.client.submit(run_chunk, b, pure=False) for b in batches]
        return self._collect(futures, {f.key: b for f, b in zip(futures, batches)})

    def _collect(self, futures: list, chunk_of: dict) -> Iterator[list[Outcome]]:
        from distributed import as_completed as dask_completed

        with self.client.as_current():
            for future in dask_completed(futures):
                exc = future.exception()
                yield lost(chunk_of[future.key], exc) if exc else future.result()

    def close(self) -> None:
        self.client.close()


def _check_address(address: str) -> None:
    """A scheduler address names a host and a port (tcp://HOST:PORT or HOST:PORT)."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise config_error("--scheduler", "", address,
                           "must be a scheduler address with a port, e.g. tcp://127.0.0.1:8786")


def make_pool(workers: int | None, scheduler: str | None, pending: int):
    if scheduler:
        return DaskPool(scheduler)
    workers = min(workers or default_workers(), max(pending, 1))
    return InProcess() if workers <= 1 else LocalPool(workers)
