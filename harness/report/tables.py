"""Table rows for the percentile and accelerator sections (figures from result.json)."""

from __future__ import annotations

from harness.report import fmt
from harness.settings import SERVER_SCENARIOS

PERCENTILES = ("p50", "p90", "p95", "p97", "p99", "p99.9")


def _target_key(result: dict) -> str | None:
    p = result.get("settings", {}).get("effective", {}).get("target_latency_percentile")
    return f"p{p * 100:g}" if p else None


def percentile_rows(result: dict) -> list[dict]:
    lat, target = result.get("latency_s", {}), _target_key(result)
    rows = [{"name": key, "value": fmt.ms(lat.get(key)), "note": "target percentile" if key == target else ""}
            for key in PERCENTILES]
    rows += [{"name": "max", "value": fmt.ms(lat.get("max")), "note": ""},
             {"name": "mean", "value": fmt.ms(lat.get("mean")), "note": ""}]
    return rows + early_stopping_rows(result) + bound_rows(result) + token_rows(result.get("tokens") or {})


def token_rows(tokens: dict) -> list[dict]:
    """A token run: output tokens and rate, TTFT/TPOT percentiles against their limits, and
    early stopping on each."""
    if not tokens:
        return []
    rows = [{"name": "output tokens", "value": fmt.number(tokens.get("output_tokens")),
             "note": f"{tokens.get('tokens_per_second', 0):.2f} tokens/s"}]
    if tokens.get("joules_per_token") is not None:
        rows.append({"name": "energy per token", "value": f"{tokens['joules_per_token'] * 1e3:.3f} mJ",
                     "note": "NPU energy of the run / output tokens"})
    limits = tokens.get("limits") or {}
    for key, label in (("ttft_s", "TTFT"), ("tpot_s", "TPOT")):
        figures = tokens.get(key) or {}
        for p in ("p50", "p90", "p99", "max"):
            if p in figures:
                note = f"limit {fmt.ms(limits[key])}" if p == "p99" and key in limits else ""
                rows.append({"name": f"{label} {p}", "value": fmt.ms(figures[p]), "note": note})
    for name, es in (tokens.get("early_stopping") or {}).items():
        rows.append({"name": f"{name.upper()} early stopping", "value": "met" if es.get("met") else "not met",
                     "note": f"{fmt.number(es.get('overlatency_queries'))} of {fmt.number(es.get('queries'))} "
                             f"over the limit; {fmt.number(es.get('queries_needed'))} needed"})
    return rows


def early_stopping_rows(result: dict) -> list[dict]:
    es = result.get("early_stopping") or {}
    p = es.get("percentile")
    rows = []
    if "estimate_s" in es:
        note = f"{fmt.number(es.get('discarded'))} highest of {fmt.number(es.get('queries'))} discarded" \
            if es.get("met") else f"needs {fmt.number(es.get('queries_needed'))} queries"
        rows.append({"name": f"early-stopping p{p * 100:g} estimate", "value": fmt.ms(es["estimate_s"]),
                     "note": note})
    if "p99_estimate_s" in es:
        rows.append({"name": "early-stopping p99 estimate", "value": fmt.ms(es["p99_estimate_s"]), "note": ""})
    if "overlatency_queries" in es:
        rows.append({"name": "early stopping", "value": "met" if es.get("met") else "not met",
                     "note": f"{fmt.number(es['overlatency_queries'])} of {fmt.number(es.get('queries'))} "
                             f"queries over the bound; {fmt.number(es.get('queries_needed'))} needed"})
    return rows


def bound_rows(result: dict) -> list[dict]:
    if result.get("scenario") not in SERVER_SCENARIOS or result.get("tokens"):   # tokens: TTFT/TPOT limits
        return []
    ns = result.get("settings", {}).get("effective", {}).get("target_latency_ns")
    target = _target_key(result) or "target percentile"
    return [{"name": "latency bound", "value": fmt.ms(ns / 1e9 if ns else None),
             "note": f"{target} must not exceed it"}]


LAYER_COLUMNS = ("layer", "MACs", "compute cycles", "DRAM bytes", "time", "bound", "utilization",
                 "energy")
LAYER_NUMERIC = (False, True, True, True, True, False, True, True)


def layer_row(row: dict) -> list[str]:
    return [str(row.get("name", "")), fmt.number(row.get("macs")), fmt.number(row.get("compute_cycles")),
            fmt.si(row.get("dram_bytes"), "B"), fmt.seconds(row.get("time_s")), str(row.get("bound", "")),
            fmt.percent(row.get("utilization")), f"{fmt.si(row.get('energy_j'), 'J')}"]


def layer_total(layers: list[dict]) -> list[str]:
    def total(key: str) -> float:
        return sum(float(r.get(key) or 0.0) for r in layers)
    return ["total", fmt.number(int(total("macs"))), fmt.number(int(total("compute_cycles"))),
            fmt.si(total("dram_bytes"), "B"), fmt.seconds(total("time_s")), "", "",
            fmt.si(total("energy_j"), "J")]


def energy_rows(energy: dict) -> list[tuple[str, str, str]]:
    parts = energy.get("breakdown_j") or {}
    whole = sum(parts.values()) or 1.0
    return [(name, fmt.si(j, "J"), fmt.percent(j / whole)) for name, j in parts.items()]


def power_rows(energy: dict) -> list[tuple[str, str]]:
    """Power and static energy by state, where the SUT's power model reports them."""
    rows = [(label, fmt.si(energy[key], unit)) for key, label, unit in (
        ("average_power_w", "average power", "W"), ("peak_power_w", "peak power (1 ms windows)", "W"),
        ("joules_per_sample", "energy per sample", "J"), ("tops_per_w", "TOPS/W (dense)", ""))
        if energy.get(key) is not None]
    states = energy.get("static_by_state") or {}
    labels = (("always_on_j", "static: always on"), ("engines_busy_j", "static: engines busy"),
              ("engines_idle_j", "static: engines idle, not yet gated"),
              ("wakeup_j", "static: wake-ups"))
    rows += [(label, fmt.si(states[key], "J")) for key, label in labels if key in states]
    if "gated_s" in states:
        rows.append(("engine time power-gated", f"{fmt.seconds(states['gated_s'])} "
                     f"({fmt.number(states['wakeups'])} wake-ups)"))
    return rows


def accelerator_summary(accel: dict) -> list[tuple[str, str]]:
    """The adapter's run-level figures, where it reports them."""
    shown = (("profile_batch", "layers profiled at batch", fmt.number),
             ("batches", "batches served", fmt.number),
             ("utilization", "engine utilization", fmt.percent),
             ("dram_average_bytes_per_s", "average DRAM traffic", lambda v: fmt.si(v, "B/s")),
             ("peak_macs_per_s", "peak compute", lambda v: fmt.si(v, "MAC/s")),
             ("dram_bytes_per_s", "usable DRAM bandwidth", lambda v: fmt.si(v, "B/s")),
             ("starving_masters", "starving best-effort masters",
              lambda v: ", ".join(m["name"] for m in v) or "none"))
    return [(label, text(accel[key])) for key, label, text in shown if key in accel]


REALTIME_COLUMNS = ("master", "direction", "requested", "delivered", "FIFO", "worst wait",
                    "worst-case margin", "deadline")


def realtime_rows(outcomes: list[dict]) -> list[list[str]]:
    """One row per realtime master (harness.accel.realtime): bandwidth and FIFO margin."""
    return [[o["name"], o["direction"], fmt.si(o["requested_bytes_per_s"], "B/s"),
             fmt.si(o["delivered_bytes_per_s"], "B/s"),
             fmt.si(o["fifo_bytes"], "B") if o["fifo_bytes"] else "none declared",
             f"{fmt.seconds(o['worst_wait_s'])} behind {o['busy_engines']} NPU burst(s)",
             "" if o["margin_bytes"] is None else
             f"{fmt.si(o['margin_bytes'], 'B')} ({fmt.seconds(o['margin_s'])})",
             _deadline(o)] for o in outcomes]


def _deadline(o: dict) -> str:
    if o["margin_bytes"] is None:
        return "not checked (no FIFO)"
    if not o["deadline_miss"]:
        return "met"
    what = "underflow" if o["direction"] == "read" else "overflow"
    at = "" if o["at_s"] is None else f" at t = {fmt.seconds(o['at_s'])}"
    return f"MISSED: FIFO {what}{at}"
