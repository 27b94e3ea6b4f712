"""What the single-result page shows, as plain rows for the templates. Figures are read from
the typed record (harness.record.schema) and formatted here; nothing is recomputed."""

from __future__ import annotations

from typing import Any

from harness.render import fmt
from harness.record.schema import Check, Energy, RunRecord, dump


def checks(record: RunRecord) -> list[Check]:
    """Every check with its reason and fix; older results carry only invalid_reasons."""
    if record.checks is not None:
        return list(record.checks)
    return [Check("check", False, r, "") for r in record.invalid_reasons]


def verdict(record: RunRecord) -> dict:
    all_checks = checks(record)
    return {"valid": record.valid, "failed": [c for c in all_checks if not c.met],
            "passed": [c.name for c in all_checks if c.met]}


def headline(record: RunRecord) -> list[tuple[str, str]]:
    """The figures beside the headline metric; energy only where the SUT has a power model
    (said so where it has none: never a zero)."""
    return [("samples per second", fmt.number(record.samples_per_second, 6)),
            ("queries", fmt.number(record.query_count)),
            ("samples", fmt.number(record.sample_count)),
            ("failed queries", fmt.number(record.failed_queries)),
            ("duration", fmt.seconds(record.duration_s)),
            *energy_headline(record.energy)]


NOT_MEASURED = "not measured: the SUT has no power model"


def energy_headline(energy: Energy | None) -> list[tuple[str, str]]:
    if energy is None:
        return [("energy", NOT_MEASURED)]
    per_sample = energy.joules_per_sample
    return [("energy per sample", fmt.seconds(None) if per_sample is None else f"{per_sample * 1e3:.4g} mJ"),
            ("average power", f"{fmt.number(energy.average_power_w)} W")]


def identity(record: RunRecord) -> list[tuple[str, str]]:
    sut, workload, effective = record.sut, record.workload, record.settings.effective
    return [("system under test", f"{sut.name} (adapter {sut.adapter})"),
            ("system file", sut.source or ""),
            *([("model served", sut.model)] if sut.model else []),
            ("workload", " — ".join(str(v) for v in (workload.name, workload.description) if v)),
            ("workload file", workload.source or ""),
            ("scenario", f"{record.scenario} ({effective.scenario if effective and effective.scenario else ''})"),
            ("time mode", record.time_mode),
            ("seed", str(record.seed)),
            ("harness version", record.harness_version or ""),
            *environment(record),
            ("created (UTC)", record.created_utc or "")]


def environment(record: RunRecord) -> list[tuple[str, str]]:
    """Where the run was measured (result.json `environment`), when it says."""
    env = record.environment
    if env is None:
        return []
    def known(v: object) -> str:
        return "?" if v is None else str(v)
    host = f"{known(env.host)}: {known(env.cpu)}, {known(env.cpu_count)} CPUs, {known(env.os)}"
    versions = ", ".join(f"{k} {v}" for k, v in env.versions().items())
    return [("measured on", host), ("versions", versions)]


def flatten(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested tables as dotted keys, in file order, each value in the unit its key names; a
    list of named tables (bus masters) as one dotted key per name, spelt as --set takes it
    (`masters.camera.bytes_per_s`, harness.measure.masters_edit)."""
    if isinstance(data, list) and data and all(isinstance(v, dict) and "name" in v for v in data):
        data = {str(v["name"]): {k: x for k, x in v.items() if k != "name"} for v in data}
        prefix = "masters" if prefix == "memory.masters" else prefix
    if not isinstance(data, dict):
        return [(prefix, data if isinstance(data, str) else fmt.setting(prefix, data))]
    rows: list[tuple[str, str]] = []
    for key, value in data.items():
        rows += flatten(value, f"{prefix}.{key}" if prefix else str(key))
    return rows


def settings(record: RunRecord) -> dict[str, list[tuple[str, str]]]:
    effective = record.settings.effective
    return {"effective": flatten(dump(effective) if effective else {}),
            "requested": flatten(record.settings.requested),
            "sut": flatten(record.sut.config or {})}


def _column(record: RunRecord) -> dict[str, str]:
    sut, metric = record.sut, record.metric
    return {"verdict": "VALID" if record.valid else "INVALID",
            "headline metric": f"{metric.name}: {fmt.metric(metric)}",
            "system under test": f"{sut.name} ({sut.adapter})",
            "workload": record.workload.name,
            "scenario": record.scenario, "seed": str(record.seed),
            "queries": fmt.number(record.query_count),
            "duration": fmt.seconds(record.duration_s),
            "harness version": record.harness_version or "",
            **dict(environment(record)),
            **{f"{k} fingerprint": str(v) for k, v in (record.fingerprints or {}).items()},
            "created (UTC)": record.created_utc or ""}


def identity_columns(records: list[RunRecord]) -> list[tuple[str, list[str]]]:
    """Identity rows with one cell per result (a key missing from a result shows as blank)."""
    columns = [_column(r) for r in records]
    keys = list(dict.fromkeys(k for c in columns for k in c))
    return [(k, [c.get(k, "") for c in columns]) for k in keys]
