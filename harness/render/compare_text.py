"""Render compare rows as a plain-text table, GitHub Markdown, CSV or JSON."""

from __future__ import annotations

from harness.record.build import json_text

from harness import figures
from harness.record import provenance
from harness.render import escape

import csv
import io

from harness.analyse.compare import UNOFFICIAL

HEADERS = ("System", "Workload", "Scenario", "Metric", "Value", "Valid",
           "Accelerators", "Per accel.*", "Samples/J*", "mJ/sample*", "Comparable")
CSV_HEADERS = ("system", "workload", "scenario", "metric_name", "metric_value", "metric_unit",
               "valid", "comparable", "not_comparable_reason", "source", "submitter",
               "division", "time_mode", "accelerator_count", "accelerator_model",
               "per_accelerator", "per_core", "samples_per_second", "latency_ms",
               "average_power_w", "joules_per_sample", "samples_per_joule", "ttft_p99_ms",
               "tpot_p99_ms", "path")
TOKEN_HEADERS = ("TTFT p99 ms", "TPOT p99 ms")


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


def _p99_ms(row: dict, key: str) -> float | None:
    value = (row.get(key) or {}).get("p99")
    return None if value is None else value * 1e3


def _with_tokens(rows: list[dict]) -> bool:
    """Token columns appear when some row logged TTFT/TPOT."""
    return any(r.get("ttft_s") or r.get("tpot_s") for r in rows)


def headers(tokens: bool) -> tuple[str, ...]:
    return HEADERS[:-1] + TOKEN_HEADERS + HEADERS[-1:] if tokens else HEADERS


def cells(row: dict, tokens: bool = False) -> list[str]:
    m = row["metric"]
    out = [row["system"], row["workload"], row["scenario"], m["name"], figures.humanise(m["value"], m["unit"]),
           "VALID" if row["valid"] else "INVALID", _accelerators(row), _normalised(row),
           _energy(row, "samples_per_joule"), _energy(row, "joules_per_sample", 1e3)]
    if tokens:
        out += [fmt(_p99_ms(row, "ttft_s"), 6), fmt(_p99_ms(row, "tpot_s"), 6)]
    return out + ["yes" if row["comparable"] else f"NO: {row['not_comparable_reason']}"]


def footnote(rows: list[dict]) -> str:
    """The unofficial-figures note, and the package versions that differ between the runs."""
    lines = [f"* {UNOFFICIAL}."]
    differ = provenance.differences([r.get("environment") for r in rows])
    if differ:
        lines.append(f"Versions differ between these runs: {', '.join(differ)}.")
    return "\n".join(lines)


def table(rows: list[dict]) -> str:
    tokens = _with_tokens(rows)
    body = [list(headers(tokens))] + [[escape.terminal(c) for c in cells(r, tokens)] for r in rows]
    widths = [max(len(line[i]) for line in body) for i in range(len(body[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in body]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines + ["", footnote(rows)]) + "\n"


def markdown(rows: list[dict]) -> str:
    tokens = _with_tokens(rows)
    names = headers(tokens)
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(escape.markdown(c) for c in cells(r, tokens)) + " |" for r in rows]
    return "\n".join(lines + ["", footnote(rows)]) + "\n"


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
        "samples_per_joule": energy.get("samples_per_joule"),
        "ttft_p99_ms": _p99_ms(row, "ttft_s"), "tpot_p99_ms": _p99_ms(row, "tpot_s"), "path": row["path"],
    }


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_HEADERS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in flat(r).items()})
    return out.getvalue()


def to_json(rows: list[dict]) -> str:
    return json_text(rows) + "\n"
