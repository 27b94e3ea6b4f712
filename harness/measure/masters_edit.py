"""Editing a system file's bus masters by name: `masters.NAME.FIELD = VALUE`.

The same keys work in `bench run --set`, `bench profile --set` and a sweep's parameters. Besides
the file's own fields, three derived ones keep the rest consistent: `frame_rate_hz` sets the
period and keeps the bytes per frame; `bytes_per_frame` sets the rate at the master's period;
`resolution` ("WxH", with `bytes_per_pixel`) sets the bytes per frame.
"""

from __future__ import annotations

import copy
import math
import re
from typing import Any

from harness.errors import ConfigError, Problem

# masters.NAME.FIELD: the file's own fields, and three derived ones that keep the rest consistent
MASTER_FIELDS = {"bytes_per_s": float, "period_s": float, "duty": float, "priority": str,
                 "frame_rate_hz": float,     # period_s = 1/f; bytes_per_s keeps bytes per frame
                 "bytes_per_frame": float,   # bytes_per_s = bytes_per_frame / period_s
                 "resolution": str,          # "WxH": bytes_per_frame = W * H * bytes_per_pixel
                 "bytes_per_pixel": float}   # required with resolution
_RESOLUTION = re.compile(r"^\s*(\d+)\s*[xX×]\s*(\d+)\s*$")


def is_master_key(key: str) -> bool:
    return key.partition(".")[0] == "masters"


def _typed_number(value: Any, positive: bool) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "must be a number"
    if positive and not (value > 0 and math.isfinite(value)):
        return "must be > 0"
    return None


def master_key_rule(key: str, value: Any) -> str | None:
    parts = key.split(".")
    if len(parts) != 3 or parts[2] not in MASTER_FIELDS:
        return f"expected masters.NAME.FIELD with FIELD one of {', '.join(MASTER_FIELDS)}"
    field = parts[2]
    if field == "resolution":
        return None if isinstance(value, str) and _RESOLUTION.match(value) else 'must be "WxH", e.g. "3840x2160"'
    if field == "priority":
        return None if value in ("realtime", "best_effort") else "must be one of realtime, best_effort"
    return _typed_number(value, positive=field != "duty") or (
        None if field != "duty" or 0 < value <= 1 else "must be in (0, 1]")


def master_rules(fields: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    if "resolution" in fields and "bytes_per_pixel" not in fields:
        out.append(("resolution", "needs masters.NAME.bytes_per_pixel as well"))
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


def master_edits(params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{master name: {field: value}} from the point's masters.NAME.FIELD keys."""
    edits: dict[str, dict[str, Any]] = {}
    for key, value in params.items():
        parts = key.split(".")
        if is_master_key(key) and len(parts) == 3:
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




def fold(keys: dict[str, Any], raw_system: dict, label: str) -> dict[str, Any]:
    """Dotted system keys with their masters.NAME.FIELD keys folded into `memory.masters` (the
    system file's list, or a `memory.masters` given alongside, edited by name)."""
    edits = master_edits(keys)
    out = {k: v for k, v in keys.items() if not is_master_key(k)}
    if not edits:
        return out
    for key, value in keys.items():
        if is_master_key(key) and (rule := master_key_rule(key, value)):
            raise ConfigError(Problem(label, key, value, rule))
    for name, fields in edits.items():
        for field, rule in master_rules(fields):
            raise ConfigError(Problem(label, f"masters.{name}.{field}", fields.get(field), rule))
    masters = out.get("memory.masters", raw_system.get("memory", {}).get("masters", []))
    out["memory.masters"] = edit_masters(copy.deepcopy(masters), edits, label)
    return out
