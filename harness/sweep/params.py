"""A point's parameters: what each key means, the rules a point obeys, and its translation into
the inputs of one ordinary run (a `RunRequest`) or one profile (hardware and workload overrides).

Parameter keys (DESIGN: units in the names):

    system, workload, scenario     names from the catalogs or files (relative to the sweep file)
    target_qps                     as `bench run --target-qps`
    batch                          profile mode: samples per batch (default 1)
    <MLPerf TestSettings name>     server_target_latency_ns, min_query_count, ... (run mode)
    workload.KEY                   a workload key, as `--set workload.KEY=...`
    masters.NAME.FIELD             one bus master of the system file, by name (see MASTER_FIELDS)
    TABLE.KEY...                   any other dotted key: a system key (compute.array_rows, ...)
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from harness import settings as settings_mod
from harness.errors import ConfigError, Problem

SPECIAL = {"system": str, "workload": str, "scenario": str, "target_qps": float, "batch": int}
RUN_ONLY = ("scenario", "target_qps")
# masters.NAME.FIELD: the file's own fields, and three derived ones that keep the rest consistent
MASTER_FIELDS = {"bytes_per_s": float, "period_s": float, "duty": float, "priority": str,
                 "frame_rate_hz": float,     # period_s = 1/f; bytes_per_s keeps bytes per frame
                 "bytes_per_frame": float,   # bytes_per_s = bytes_per_frame / period_s
                 "resolution": str,          # "WxH": bytes_per_frame = W * H * bytes_per_pixel
                 "bytes_per_pixel": float}   # required with resolution
_RESOLUTION = re.compile(r"^\s*(\d+)\s*[xX×]\s*(\d+)\s*$")


def kind(key: str) -> str:
    """special | setting | workload | master | sut | unknown."""
    if key in SPECIAL:
        return "special"
    if key in settings_mod.FIELDS:
        return "setting"
    head, _, rest = key.partition(".")
    if head == "workload" and rest:
        return "workload"
    if head == "masters":
        return "master"
    return "sut" if rest else "unknown"


# ---------------------------------------------------------------- rules for one point


def point_rules(params: dict[str, Any], mode: str) -> list[tuple[str, Any, str]]:
    """Everything wrong with one point that needs no file: [(key, value, rule)]."""
    out = [(k, v, r) for k, v in params.items() if (r := _key_rule(k, v, mode))]
    if "system" not in params:
        out.append(("system", None, "every point needs a system"))
    if mode == "run" and "scenario" not in params:
        out.append(("scenario", None, "every point of a run sweep needs a scenario"))
    for name, fields in master_edits(params).items():
        out += [(f"masters.{name}.{k}", fields.get(k), r) for k, r in _master_rules(fields)]
    return out


def _key_rule(key: str, value: Any, mode: str) -> str | None:
    k = kind(key)
    if k == "unknown":
        return ("unknown parameter: use system, workload, scenario, target_qps, batch, an MLPerf "
                "test setting, workload.KEY, masters.NAME.FIELD or a dotted system key such as "
                "compute.array_rows")
    if mode == "profile" and (key in RUN_ONLY or k == "setting"):
        return "applies to mode = \"run\" only (a profile generates no load)"
    if mode == "run" and key == "batch":
        return "applies to mode = \"profile\" only (a run batches by batching.max_batch)"
    if k == "special":
        return _typed(value, SPECIAL[key], positive=key in ("target_qps", "batch"))
    if k == "setting":
        kind_, check = settings_mod.FIELDS[key]
        return _typed(value, kind_) or check(value)
    return _master_key_rule(key, value) if k == "master" else None


def _typed(value: Any, kind_: type, positive: bool = False) -> str | None:
    if kind_ is str:
        return None if isinstance(value, str) and value else "must be a non-empty string"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "must be an integer" if kind_ is int else "must be a number"
    if kind_ is int and not float(value).is_integer():
        return "must be an integer"
    if positive and not (value > 0 and math.isfinite(value)):
        return "must be > 0"
    return None


def _master_key_rule(key: str, value: Any) -> str | None:
    parts = key.split(".")
    if len(parts) != 3 or parts[2] not in MASTER_FIELDS:
        return f"expected masters.NAME.FIELD with FIELD one of {', '.join(MASTER_FIELDS)}"
    field = parts[2]
    if field == "resolution":
        return None if isinstance(value, str) and _RESOLUTION.match(value) else 'must be "WxH", e.g. "3840x2160"'
    if field == "priority":
        return None if value in ("realtime", "best_effort") else "must be one of realtime, best_effort"
    return _typed(value, float, positive=field != "duty") or (
        None if field != "duty" or 0 < value <= 1 else "must be in (0, 1]")


def _master_rules(fields: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    if "resolution" in fields and "bytes_per_pixel" not in fields:
        out.append(("resolution", "needs masters.NAME.bytes_per_pixel in the same point"))
    if "bytes_per_pixel" in fields and "resolution" not in fields:
        out.append(("bytes_per_pixel", "applies only with masters.NAME.resolution"))
    if "resolution" in fields and "bytes_per_frame" in fields:
        out.append(("bytes_per_frame", "set either resolution or bytes_per_frame, not both"))
    derived = {"frame_rate_hz", "bytes_per_frame", "resolution"} & set(fields)
    if "bytes_per_s" in fields and derived:
        out.append(("bytes_per_s", f"conflicts with {', '.join(sorted(derived))}, which set it"))
    if "period_s" in fields and "frame_rate_hz" in fields:
        out.append(("period_s", "set either period_s or frame_rate_hz, not both"))
    return out


# ---------------------------------------------------------------- translation


def master_edits(params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{master name: {field: value}} from the point's masters.NAME.FIELD keys."""
    edits: dict[str, dict[str, Any]] = {}
    for key, value in params.items():
        parts = key.split(".")
        if kind(key) == "master" and len(parts) == 3:
            edits.setdefault(parts[1], {})[parts[2]] = value
    return edits


def edit_masters(masters: list[dict], edits: dict[str, dict[str, Any]], source: str) -> list[dict]:
    """The system file's [[memory.masters]] with the edits applied (a new list)."""
    by_name = {m.get("name"): dict(m) for m in masters}
    for name, fields in edits.items():
        if name not in by_name:
            known = ", ".join(str(n) for n in by_name) or "(none)"
            raise ConfigError(Problem(source, f"masters.{name}", fields, f"no such master; known: {known}"))
        _edit_master(by_name[name], fields)
    return list(by_name.values())


def _edit_master(master: dict, fields: dict[str, Any]) -> None:
    bytes_per_frame = master.get("bytes_per_s", 0.0) * master.get("period_s", 0.0)
    master.update({k: v for k, v in fields.items() if k in ("bytes_per_s", "period_s", "duty", "priority")})
    if "frame_rate_hz" in fields:
        master["period_s"] = 1.0 / fields["frame_rate_hz"]
        master["bytes_per_s"] = bytes_per_frame * fields["frame_rate_hz"]
    if "resolution" in fields:
        w, h = (int(x) for x in _RESOLUTION.match(fields["resolution"]).groups())
        fields = {**fields, "bytes_per_frame": w * h * fields["bytes_per_pixel"]}
    if "bytes_per_frame" in fields:
        master["bytes_per_s"] = fields["bytes_per_frame"] / master["period_s"]


def split(params: dict[str, Any]) -> tuple[dict, dict, dict]:
    """(test settings, system keys, workload keys) of a point; masters.* are left out."""
    test = {k: v for k, v in params.items() if kind(k) == "setting"}
    system = {k: v for k, v in params.items() if kind(k) == "sut"}
    workload = {k.partition(".")[2]: v for k, v in params.items() if kind(k) == "workload"}
    return test, system, workload


def literal(value: Any) -> str:
    """A value as TOML text, so that `--set KEY=<literal>` parses back to the same value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, int) or math.isfinite(value) else \
            ("nan" if math.isnan(value) else ("inf" if value > 0 else "-inf"))
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no TOML literal for {value!r}")
