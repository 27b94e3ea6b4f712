"""What the single-result page shows, as plain rows for the templates. Figures are read from
result.json and formatted here; nothing is recomputed."""

from __future__ import annotations

from typing import Any

from harness import provenance
from harness.report import fmt

def checks(result: dict) -> list[dict]:
    """Every check with its reason and fix; older results carry only invalid_reasons."""
    if "checks" in result:
        return [dict(c) for c in result["checks"]]
    return [{"name": "check", "met": False, "reason": r, "fix": ""}
            for r in result.get("invalid_reasons", [])]


def verdict(result: dict) -> dict:
    all_checks = checks(result)
    return {"valid": bool(result.get("valid")), "failed": [c for c in all_checks if not c["met"]],
            "passed": [c["name"] for c in all_checks if c["met"]]}


def headline(result: dict) -> list[tuple[str, str]]:
    """The figures beside the headline metric."""
    energy = result.get("energy") or {}
    rows = [("samples per second", fmt.number(result.get("samples_per_second"), 6)),
            ("queries", fmt.number(result.get("query_count"))),
            ("samples", fmt.number(result.get("sample_count"))),
            ("failed queries", fmt.number(result.get("failed_queries"))),
            ("duration", fmt.seconds(result.get("duration_s")))]
    if energy:
        rows += [("energy per sample", fmt.seconds(None) if energy.get("joules_per_sample") is None
                  else f"{energy['joules_per_sample'] * 1e3:.4g} mJ"),
                 ("average power", f"{fmt.number(energy.get('average_power_w'))} W")]
    return rows


def identity(result: dict) -> list[tuple[str, str]]:
    sut, workload = result.get("sut", {}), result.get("workload", {})
    effective = result.get("settings", {}).get("effective", {})
    return [("system under test", f"{sut.get('name', '?')} (adapter {sut.get('adapter', '?')})"),
            ("system file", str(sut.get("source", ""))),
            *([("model served", str(sut["model"]))] if sut.get("model") else []),
            ("workload", " — ".join(str(v) for v in (workload.get("name"), workload.get("description"))
                                    if v)),
            ("workload file", str(workload.get("source", ""))),
            ("scenario", f"{result.get('scenario', '?')} ({effective.get('scenario', '')})"),
            ("time mode", str(result.get("time_mode", ""))),
            ("seed", str(result.get("seed", ""))),
            ("harness version", str(result.get("harness_version", ""))),
            *environment(result),
            ("created (UTC)", str(result.get("created_utc", "")))]


def environment(result: dict) -> list[tuple[str, str]]:
    """Where the run was measured (result.json `environment`), when it says."""
    env = result.get("environment")
    if not isinstance(env, dict):
        return []
    host = f"{env.get('host', '?')}: {env.get('cpu', '?')}, {env.get('cpu_count', '?')} CPUs, {env.get('os', '?')}"
    versions = ", ".join(f"{k} {v}" for k, v in provenance.versions(env).items())
    return [("measured on", host), ("versions", versions)]


def flatten(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested tables as dotted keys, in file order."""
    if not isinstance(data, dict):
        return [(prefix, fmt.number(data) if not isinstance(data, (list, str)) else str(data))]
    rows: list[tuple[str, str]] = []
    for key, value in data.items():
        rows += flatten(value, f"{prefix}.{key}" if prefix else str(key))
    return rows


def settings(result: dict) -> dict[str, list[tuple[str, str]]]:
    block = dict(result.get("settings", {}))
    effective = block.pop("effective", {})
    return {"effective": flatten(effective), "requested": flatten(block),
            "sut": flatten(result.get("sut", {}).get("config", {}))}


def _column(result: dict) -> dict[str, str]:
    sut, fp, metric = result.get("sut", {}), result.get("fingerprints") or {}, result.get("metric", {})
    return {"verdict": "VALID" if result.get("valid") else "INVALID",
            "headline metric": f"{metric.get('name', '')}: {fmt.metric(metric)}",
            "system under test": f"{sut.get('name', '?')} ({sut.get('adapter', '?')})",
            "workload": str(result.get("workload", {}).get("name", "?")),
            "scenario": str(result.get("scenario", "?")), "seed": str(result.get("seed", "")),
            "queries": fmt.number(result.get("query_count")),
            "duration": fmt.seconds(result.get("duration_s")),
            "harness version": str(result.get("harness_version", "")),
            **dict(environment(result)),
            **{f"{k} fingerprint": str(v) for k, v in fp.items()},
            "created (UTC)": str(result.get("created_utc", ""))}


def identity_columns(results: list[dict]) -> list[tuple[str, list[str]]]:
    """Identity rows with one cell per result (a key missing from a result shows as blank)."""
    columns = [_column(r) for r in results]
    keys = list(dict.fromkeys(k for c in columns for k in c))
    return [(k, [c.get(k, "") for c in columns]) for k in keys]
