"""Render compare rows as a plain-text table, GitHub Markdown, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json

from harness.results.compare import UNOFFICIAL

HEADERS = ("System", "Workload", "Scenario", "Metric", "Value", "Unit", "Valid",
           "Accelerators", "Per accel.*", "Samples/J*", "mJ/sample*", "Comparable")
CSV_HEADERS = ("system", "workload", "scenario", "metric_name", "metric_value", "metric_unit",
               "valid", "comparable", "not_comparable_reason", "source", "submitter",
               "division", "time_mode", "accelerator_count", "accelerator_model",
               "per_accelerator", "per_core", "samples_per_second", "latency_ms",
               "average_power_w", "joules_per_sample", "samples_per_joule", "path")


def fmt(value: object, digits: int = 10) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return format(value, f".{digits}g")
    return str(value)


def _accelerators(row: dict) -> str:
    acc = row["accelerators"]
    if not acc or acc["count"] is None:
        return "-"
    return f"{acc['count']} x {acc['model']}" if acc["count"] else "0 (CPU only)"


def _normalised(row: dict) -> str:
    for key, suffix in (("per_accelerator", ""), ("per_core", "/core")):
        if row[key]:
            return fmt(row[key]["value"], 6) + suffix
    return "-"


def _energy(row: dict, key: str, scale: float = 1.0) -> str:
    energy = row["energy"]
    value = energy.get(key) if energy else None
    return fmt(value * scale, 4) if value is not None else "-"


def cells(row: dict) -> list[str]:
    m = row["metric"]
    return [row["system"], row["workload"], row["scenario"], m["name"], fmt(m["value"]), m["unit"],
            "VALID" if row["valid"] else "INVALID", _accelerators(row), _normalised(row),
            _energy(row, "samples_per_joule"), _energy(row, "joules_per_sample", 1e3),
            "yes" if row["comparable"] else f"NO: {row['not_comparable_reason']}"]


def footnote() -> str:
    return f"* {UNOFFICIAL}."


def table(rows: list[dict]) -> str:
    body = [list(HEADERS)] + [cells(r) for r in rows]
    widths = [max(len(line[i]) for line in body) for i in range(len(HEADERS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in body]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines + ["", footnote()]) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(_md_cell(c) for c in cells(r)) + " |" for r in rows]
    return "\n".join(lines + ["", footnote()]) + "\n"


def flat(row: dict) -> dict:
    m, acc, energy = row["metric"], row["accelerators"] or {}, row["energy"] or {}
    return {
        "system": row["system"], "workload": row["workload"], "scenario": row["scenario"],
        "metric_name": m["name"], "metric_value": m["value"], "metric_unit": m["unit"],
        "valid": row["valid"], "comparable": row["comparable"],
        "not_comparable_reason": row["not_comparable_reason"] or "", "source": row["source"],
        "submitter": row["submitter"] or "", "division": row["division"] or "",
        "time_mode": row["time_mode"] or "", "accelerator_count": acc.get("count"),
        "accelerator_model": acc.get("model") or "",
        "per_accelerator": (row["per_accelerator"] or {}).get("value"),
        "per_core": (row["per_core"] or {}).get("value"),
        "samples_per_second": row["samples_per_second"], "latency_ms": row["latency_ms"],
        "average_power_w": energy.get("average_power_w"),
        "joules_per_sample": energy.get("joules_per_sample"),
        "samples_per_joule": energy.get("samples_per_joule"), "path": row["path"],
    }


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_HEADERS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in flat(r).items()})
    return out.getvalue()


def to_json(rows: list[dict]) -> str:
    return json.dumps(rows, indent=2) + "\n"
