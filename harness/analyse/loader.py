"""Find and load results under the paths a user gives: our result directories (anything holding
`result.json`) and MLPerf submission trees, at the tree root or any depth below it."""

from __future__ import annotations

from pathlib import Path

from harness.errors import NO_VALUE, config_error
from harness.analyse.bench_result import RESULT_FILE, load_result_dir
from harness.analyse.model import Result
from harness.analyse.endpoints import find_endpoint_runs, is_endpoints_dir, load_endpoint_run
from harness.analyse.mlperf_tree import find_runs, load_run


def visible(found: Path, root: Path) -> bool:
    """Not inside a hidden folder below root: a run being written (or left by a kill) lives
    in `.NAME.tmp-...` and is never a result (harness.record.rundir)."""
    try:
        parts = found.resolve().relative_to(root.resolve()).parts
    except ValueError:
        return True
    return not any(part.startswith(".") for part in parts)


def find(path: Path) -> tuple[list[Path], list[Path]]:
    """(our result directories, MLPerf run directories) at or below path."""
    if not path.exists():
        raise config_error(str(path), "", NO_VALUE, "no such file or directory")
    if path.is_file():
        if path.name == RESULT_FILE:
            return [path.parent], []
        raise config_error(str(path), "", NO_VALUE, "expected a result directory, not a file")
    ours = sorted({p.parent for p in path.rglob(RESULT_FILE) if visible(p.parent, path)})
    if (path / RESULT_FILE).is_file():
        ours = sorted(set(ours) | {path})
    runs = [r for r in find_runs(path) + find_endpoint_runs(path)
            if not (r / RESULT_FILE).is_file() and visible(r, path)]
    if not ours and not runs:
        raise config_error(str(path), "", NO_VALUE,
                           "no result found: expected result.json or an MLPerf run "
                           "(results/<system>/<benchmark>/<scenario>/performance/run_1/) or an "
                           "MLPerf Endpoints result (.../performance/result_summary.json)")
    return ours, runs


def load(path: Path) -> list[Result]:
    ours, runs = find(Path(path))
    return [load_result_dir(d) for d in ours] + [load_endpoint_run(r) if is_endpoints_dir(r) else load_run(r)
                                                 for r in runs]


def load_all(paths: list[Path] | tuple[Path, ...]) -> list[Result]:
    """Results under all paths; a run reached through two of them is read once."""
    results: dict[Path, Result] = {}
    for path in paths:
        for r in load(Path(path)):
            results.setdefault(r.path.resolve(), r)
    return list(results.values())


def load_one(path: Path, role: str) -> Result:
    """Exactly one result (gate sides name one run per directory)."""
    found = load(Path(path))
    if len(found) != 1:
        raise config_error(str(path), "", NO_VALUE,
                           f"{role} must be one run, found {len(found)} results below it")
    return found[0]
