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
from typing import Any

from harness.measure import settings as settings_mod
from harness.measure.masters_edit import master_edits, master_key_rule as _master_key_rule, master_rules as _master_rules

SPECIAL = {"system": str, "workload": str, "scenario": str, "target_qps": float, "batch": int}
RUN_ONLY = ("scenario", "target_qps")


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


def point_rules(params: dict[str, Any], mode: str, find_peak: bool = False) -> list[tuple[str, Any, str]]:
    """Everything wrong with one point that needs no file: [(key, value, rule)]."""
    out = [(k, v, r) for k, v in params.items() if (r := _key_rule(k, v, mode))]
    if "system" not in params:
        out.append(("system", None, "every point needs a system"))
    if mode == "run" and "scenario" not in params:
        out.append(("scenario", None, "every point of a run sweep needs a scenario"))
    scenario = settings_mod.parse_scenario(str(params.get("scenario", "")))
    if find_peak and scenario is not None and scenario not in settings_mod.SERVER_SCENARIOS:
        out.append(("scenario", params["scenario"], "find_peak = true searches the server and "
                                                    "interactive scenarios only"))
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


# ---------------------------------------------------------------- translation


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
