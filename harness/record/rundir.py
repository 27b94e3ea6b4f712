"""Writing a run directory atomically and exclusively.

Everything goes to a hidden sibling first (`.NAME.tmp-PID-xxxx`); then one atomic step puts it
in place, so a reader never sees a half-written run:

* a new result: `--out` is claimed up front by a lock beside it (two runs aimed at one
  folder: the second is refused before it measures), and the finished sibling is renamed to
  it (onto it, when it is an empty folder);
* `--force` over an existing result: the two directories are exchanged in one step
  (Linux renameat2 RENAME_EXCHANGE), so at every instant the old or the new result is there
  whole; elsewhere two renames, and a result left aside by a kill between them is put back by
  the next run.

Hidden siblings of a process that is gone are removed by the next run that writes beside them,
and no command reads a hidden directory as a result. Ctrl-C while a finished run is written
waits for the write: the measurement is kept. Names from files (a system's or a workload's)
become path components only through `safe_name`.

The run's files are the measurement: records, result.json, the chart series and the MLPerf logs.
report.html is drawn afterwards from those files (`harness.render.report_beside`, the code of
`bench report`), and written atomically on its own.

`--out .` (the current folder, empty) is filled in place instead — renaming onto it would
leave the shell in a deleted folder: the files are moved in one by one, result.json last, so
no reader takes it for a result before it is whole. A file that cannot be written (a full disk,
a figure that cannot be encoded) never costs the others: what can be written lands, and
`write_run` then raises NotWritten naming what was not, with why.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import os
import re
import secrets
import shutil
import signal
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa

from harness.record import mlperf_log_write as mlperf_log
from harness.record import series
from harness.errors import NO_VALUE, BenchError, config_error
from harness.measure.loadgen import Records
from harness.record.build import write_queries, write_sample_completions
from harness.record.schema import RunRecord, from_dict, to_json

NAME_CHARS = re.compile(r"[^A-Za-z0-9._+-]+")
MAX_NAME = 48
_TMP = re.compile(r"^\.(?P<name>.+)\.(?:tmp|old)-(?P<pid>\d+)-")


def safe_name(text: str) -> str:
    """A name from a file, as one harmless path component: no separators, no leading dot."""
    cleaned = NAME_CHARS.sub("_", str(text)).strip("._") or "unnamed"
    return cleaned[:MAX_NAME]


def default_out_dir(sut: str, workload: str, scenario: str) -> Path:
    """reports/<UTC stamp>_<system>_<workload>_<scenario>_<random>: one draw of a default name."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    parts = [safe_name(p) for p in (sut, workload, scenario)]
    return Path("reports") / f"{stamp}_{'_'.join(parts)}_{secrets.token_hex(3)}"


FRESH_DRAWS = 64


def claim_fresh(sut: str, workload: str, scenario: str) -> Path:
    """A default folder of this run's own, claimed: a drawn name that is already there or held
    by another run is drawn again, so two runs never share one (the random part alone repeats
    for one pair in 16.8 million started in the same second: about once in 840 sets of 200)."""
    for _ in range(FRESH_DRAWS):
        out = default_out_dir(sut, workload, scenario)
        where = target(out)
        if where.exists() or not _lock(where):
            continue
        if where.exists():   # a run that held the name finished between the look and the lock
            release(where)
            continue
        return out
    raise BenchError(f"reports: no free folder name in {FRESH_DRAWS} draws; name one with --out")


def target(path: Path) -> Path:
    """The absolute output folder (so `.` has a name and a parent); never the root."""
    absolute = Path(os.path.abspath(path))
    if absolute.parent == absolute:
        raise config_error("--out", "", str(path), "cannot be the root folder: name a folder to write the run in")
    return absolute


def check_out_dir(path: Path, force: bool = False) -> None:
    """Refuse, before running, to write over anything but an earlier result given --force."""
    if path.exists() and not path.is_dir():
        raise config_error("--out", "", str(path), "exists and is not a directory")
    if not path.is_dir() or not any(path.iterdir()):
        return
    if not (path / "result.json").is_file():
        raise config_error("--out", "", str(path), "is a non-empty directory that holds no bench result")
    if not force:
        raise config_error("--out", "", str(path), "holds a result already: choose another "
                           "folder, or --force to replace it")


def claim(path: Path) -> None:
    """Hold `path` for this run: an advisory lock beside it (`.NAME.lock`), released when the
    process ends however it ends. A second run aimed at the same folder is refused at once;
    a folder that cannot be written is refused before the run, in one line."""
    if not _lock(path):
        raise config_error("--out", "", str(path), "another bench run is writing there now")


def _lock(path: Path) -> bool:
    """Take `path`'s lock for this process; False when another process holds it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path.parent / f".{path.name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise config_error("--out", "", str(path), f"cannot write there: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    _HELD[path] = fd
    return True


_HELD: dict[Path, int] = {}


def release(path: Path) -> None:
    """Let `path` go: the lock file is removed (a kill leaves it; the lock itself goes with
    the process)."""
    fd = _HELD.pop(path, None)
    if fd is not None:
        (path.parent / f".{path.name}.lock").unlink(missing_ok=True)
        os.close(fd)


class NotWritten(BenchError):
    """The run directory is in place, but some of its files could not be written."""

    def __init__(self, path: Path, missing: list[str]):
        super().__init__(f"{path}: the measurement is kept, but not written: {'; '.join(missing)}")


@dataclass(frozen=True)
class Encoded:
    """A run's files as bytes, encoded where the run ran (a sweep's worker sends these, not
    the records), and those that could not be encoded, with why."""

    files: tuple[tuple[str, bytes], ...]
    missing: tuple[str, ...] = ()


def encode_run(result: RunRecord | dict, records: Records) -> Encoded:
    """Every file of the run as bytes; one that cannot be encoded is left out, never the others."""
    files, missing = [], []
    for name, write in _writers(_typed(result), records):
        sink = pa.BufferOutputStream()
        try:
            write(sink)
            files.append((name, sink.getvalue().to_pybytes()))
        except Exception as exc:  # noqa: BLE001 - the measurement is kept; the caller says what is missing
            missing.append(_why(name, exc))
    return Encoded(tuple(files), tuple(missing))


def _typed(result: RunRecord | dict) -> RunRecord:
    """The run's record, or its dict (the CLI's, with `find_peak` added) checked against the schema."""
    return result if isinstance(result, RunRecord) else from_dict(result, "the run's result")


def _why(name: str, exc: Exception) -> str:
    return f"{name} ({type(exc).__name__}: {exc})"


def write_run(path: Path, result: RunRecord | dict, records: Records | Encoded) -> Path:
    """Write the run (its records, or its files already encoded) into `path` in one atomic step
    (see the module docstring); NotWritten, once the directory is in place, names the files
    that could not be written and why."""
    if isinstance(records, Encoded):
        missing = list(records.missing)
        files = [(name, lambda sink, data=data: sink.write(data)) for name, data in records.files]
    else:
        missing, files = [], _writers(_typed(result), records)
    path = target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-{os.getpid()}-", dir=path.parent))
    try:
        with deferred_interrupt():
            missing += _fill(tmp, files)
            _place(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if missing:
        raise NotWritten(path, missing)
    return path


Writer = Callable[[Any], None]   # writes one file's bytes into a binary sink


def _writers(record: RunRecord, records: Records) -> list[tuple[str, Writer]]:
    stored, table = series.detach(record)  # chart series go beside result.json, not in it
    files: list[tuple[str, Writer]] = [("result.json", lambda f: f.write(to_json(stored).encode("utf-8")))]
    if table is not None:
        files.append((series.DRAM_FILE, lambda f: series.write(f, table)))
    files.append(("queries.parquet", lambda f: write_queries(f, records)))
    if records.sample_completions:
        files.append(("sample_completions.parquet", lambda f: write_sample_completions(f, records)))
    files += [("mlperf_log_summary.txt", lambda f: f.write(mlperf_log.summary(record).encode("utf-8"))),
              ("mlperf_log_detail.txt", lambda f: f.write(mlperf_log.detail(record).encode("utf-8")))]
    return files


def _fill(tmp: Path, files: list[tuple[str, Writer]]) -> list[str]:
    """Every file of the run into `tmp`; one that fails (to encode or to write) is left out,
    never the others."""
    missing = []
    for name, write in files:
        try:
            with open(tmp / name, "wb") as f:
                write(f)
        except Exception as exc:  # noqa: BLE001 - the measurement is kept; the caller says what is missing
            (tmp / name).unlink(missing_ok=True)
            missing.append(_why(name, exc))
    return missing


def write_file(path: Path, data: str | bytes, flag: str = "") -> Path:
    """Replace one file atomically: a reader sees the old file or the new one, never a part;
    a kill leaves at most a hidden temporary beside it. A folder that cannot be written is a
    one-line error naming `flag` (--out, --json, ...) and the path."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise config_error(flag or str(path), "", str(path) if flag else NO_VALUE,
                           f"cannot write there: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@contextmanager
def deferred_interrupt():
    """Ctrl-C (SIGINT) inside waits for the block to finish, then interrupts as usual."""
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler or \
            not _main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def _main_thread() -> bool:
    import threading
    return threading.current_thread() is threading.main_thread()


def _place(tmp: Path, path: Path) -> None:
    os.chmod(tmp, 0o755)
    if path == Path.cwd() and not any(path.iterdir()):
        _move_in(tmp, path)
    elif path.is_dir() and not any(path.iterdir()):
        os.rename(tmp, path)          # onto the empty claim (or an empty folder): atomic
    elif path.exists():
        _exchange(tmp, path)          # tmp now holds the old result
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        os.rename(tmp, path)


def _move_in(tmp: Path, path: Path) -> None:
    """Move the run's files into the (empty) folder `path`, result.json last."""
    for entry in sorted(tmp.iterdir(), key=lambda e: e.name == "result.json"):
        os.rename(entry, path / entry.name)
    tmp.rmdir()


def _exchange(a: Path, b: Path) -> None:
    """Swap two directories atomically where the kernel can; else two renames."""
    if _renameat2(a, b):
        return
    aside = b.with_name(f".{b.name}.old-{os.getpid()}-{secrets.token_hex(3)}")
    os.rename(b, aside)
    os.rename(a, b)
    os.rename(aside, a)


def _renameat2(a: Path, b: Path) -> bool:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    done = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return done == 0


def clean_stale(path: Path) -> None:
    """Remove hidden siblings of `path` left by runs that are gone; put back a result a kill
    left aside between two renames."""
    if not path.parent.is_dir():
        return
    for entry in path.parent.iterdir():
        found = _TMP.match(entry.name)
        if not found or found["name"] != path.name or _alive(int(found["pid"])):
            continue
        if ".old-" in entry.name and not path.exists():
            os.rename(entry, path)
        else:
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

