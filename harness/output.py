"""Writing a run directory atomically: everything goes to a hidden sibling first, then one
rename puts it in place, so a reader never sees a half-written run."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from harness import mlperf_log
from harness.errors import config_error
from harness.loadgen import Records
from harness.result import dumps, write_queries, write_sample_completions


def default_out_dir(sut: str, workload: str, scenario: str) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    return Path("reports") / f"{stamp}_{sut}_{workload}_{scenario}"


def check_out_dir(path: Path) -> None:
    """Refuse, before running, to replace anything but an earlier bench result."""
    if path.exists() and not path.is_dir():
        raise config_error("--out", "", str(path), "exists and is not a directory")
    if path.is_dir() and any(path.iterdir()) and not (path / "result.json").is_file():
        raise config_error("--out", "", str(path), "is a non-empty directory that holds no bench result")


def write_run(path: Path, result: dict, records: Records, report: bool = True) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        (tmp / "result.json").write_text(dumps(result), encoding="utf-8")
        write_queries(tmp / "queries.parquet", records)
        if records.sample_completions:
            write_sample_completions(tmp / "sample_completions.parquet", records)
        (tmp / "mlperf_log_summary.txt").write_text(mlperf_log.summary(result), encoding="utf-8")
        (tmp / "mlperf_log_detail.txt").write_text(mlperf_log.detail(result), encoding="utf-8")
        if report:
            _write_report(tmp)
        _replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _write_report(run_dir: Path) -> None:
    """report.html beside the result. A report that fails to render must not cost the
    measurement: the run is kept, the failure said on stderr, `bench report DIR` retries."""
    try:
        from harness.report import write_run_report
    except ImportError:
        return
    try:
        write_run_report(run_dir, run_dir / "report.html")
    except Exception as exc:  # noqa: BLE001 - reported, and the result is still written
        (run_dir / "report.html").unlink(missing_ok=True)
        print(f"bench: warning: report.html not written ({type(exc).__name__}: {exc}); "
              "the result is complete - retry with `bench report`", file=sys.stderr)


def _replace(tmp: Path, path: Path) -> None:
    os.chmod(tmp, 0o755)
    if path.exists():
        old = path.with_name(f".{path.name}.old-{os.getpid()}")
        os.rename(path, old)
        os.rename(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, path)
