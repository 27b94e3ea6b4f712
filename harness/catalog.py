"""Find systems, workloads and scenarios by name, from a checkout or an installed wheel.

A name containing a path separator or a file suffix is a file path; anything else is looked up
in the catalog folders. In a wheel the folders live in `harness/_catalog/`; in a checkout (or an
editable install) they are the top-level `systems/`, `workloads/` and `scenarios/`.
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import config_error

KINDS = ("systems", "workloads", "scenarios")
SUFFIXES = {"systems": (".toml",), "workloads": (".toml", ".csv", ".onnx"), "scenarios": (".toml",)}
FLAGS = {"systems": "--sut", "workloads": "--workload", "scenarios": "--scenario"}


def catalog_dir(kind: str) -> Path:
    """The folder holding the shipped files of `kind`."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_catalog" / kind, package.parent / kind):
        if candidate.is_dir():
            return candidate
    return package.parent / kind


def is_path(name: str) -> bool:
    return "/" in name or "\\" in name or Path(name).suffix != ""


def names(kind: str) -> list[str]:
    folder = catalog_dir(kind)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.iterdir()
                  if p.suffix in SUFFIXES[kind] and not p.name.startswith(("_", ".")))


def _entry(kind: str, name: str) -> Path | None:
    folder = catalog_dir(kind)
    for suffix in SUFFIXES[kind]:
        path = folder / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


def resolve(kind: str, name: str) -> Path:
    """The file for `name`: a path as given, or the catalog entry of that name (a dotted name
    such as `llama3.1-8b` is a catalog entry when one exists)."""
    entry = None if "/" in name or "\\" in name else _entry(kind, name)
    if entry is not None:
        return entry
    if is_path(name):
        path = Path(name)
        if not path.is_file():
            raise config_error(FLAGS[kind], "", name, "file not found")
        return path
    known = ", ".join(names(kind)) or "(none)"
    raise config_error(FLAGS[kind], "", name, f"unknown {kind[:-1]}; known: {known}")


def label(path: Path) -> str:
    """A short, stable label for messages: catalog files as `systems/npu_v1.toml`."""
    path = Path(path)
    for kind in KINDS:
        folder = catalog_dir(kind).resolve()
        try:
            return f"{kind}/{path.resolve().relative_to(folder)}"
        except ValueError:
            continue
    return str(path)

