"""Table rows for the percentile and accelerator sections (figures from the typed record)."""

from __future__ import annotations

from harness.render import fmt
from harness.record.schema import (Accelerator, EarlyStopping, Energy, Layer, RealtimeMaster,
                                   RunRecord, Tokens)
from harness.measure.settings import SERVER_SCENARIOS

PERCENTILES = ("p50", "p90", "p95", "p97", "p99", "p99.9")


def _target_key(record: RunRecord) -> str | None:
    effective = record.settings.effective
    p = effective.target_latency_percentile if effective else None
    return f"p{p * 100:g}" if p else None


def percentile_rows(record: RunRecord) -> list[dict]:
    lat, target = record.latency_s, _target_key(record)
    rows = [{"name": key, "value": fmt.ms(lat.at(key)), "note": "target percentile" if key == target else ""}
            for key in PERCENTILES]
    rows += [{"name": "max", "value": fmt.ms(lat.max), "note": ""},
             {"name": "mean", "value": fmt.ms(lat.mean), "note": ""}]
    return rows + early_stopping_rows(record.early_stopping) + bound_rows(record) + token_rows(record.tokens)


def token_rows(tokens: Tokens | None) -> list[dict]:
    """A token run: output tokens and rate, TTFT/TPOT percentiles against their limits, and
    early stopping on each."""
    if tokens is None:
        return []
    rows = [{"name": "output tokens", "value": fmt.number(tokens.output_tokens),
             "note": f"{tokens.tokens_per_second or 0:.2f} tokens/s"}]
    if tokens.joules_per_token is not None:
        rows.append({"name": "energy per token", "value": f"{tokens.joules_per_token * 1e3:.3f} mJ",
                     "note": "NPU energy of the run / output tokens"})
    for key, label in (("ttft_s", "TTFT"), ("tpot_s", "TPOT")):
        rows += _token_latency_rows(tokens, key, label)
    for name, es in (tokens.early_stopping or {}).items():
        rows.append({"name": f"{name.upper()} early stopping", "value": "met" if es.met else "not met",
                     "note": f"{fmt.number(es.overlatency_queries)} of {fmt.number(es.queries)} "
                             f"over the limit; {fmt.number(es.queries_needed)} needed"})
    return rows


def _token_latency_rows(tokens: Tokens, key: str, label: str) -> list[dict]:
    figures = getattr(tokens, key)
    limit = getattr(tokens.limits, key) if tokens.limits else None
    if figures is None:
        return []
    return [{"name": f"{label} {p}", "value": fmt.ms(getattr(figures, p)),
             "note": f"limit {fmt.ms(limit)}" if p == "p99" and limit is not None else ""}
            for p in ("p50", "p90", "p99", "max") if getattr(figures, p) is not None]


def early_stopping_rows(es: EarlyStopping | None) -> list[dict]:
    if es is None:
        return []
    rows = []
    if es.given("estimate_s"):
        note = f"{fmt.number(es.discarded)} highest of {fmt.number(es.queries)} discarded" \
            if es.met else f"needs {fmt.number(es.queries_needed)} queries"
        rows.append({"name": f"early-stopping p{es.percentile * 100:g} estimate", "value": fmt.ms(es.estimate_s),
                     "note": note})
    if es.given("p99_estimate_s"):
        rows.append({"name": "early-stopping p99 estimate", "value": fmt.ms(es.p99_estimate_s), "note": ""})
    if es.overlatency_queries is not None:
        rows.append({"name": "early stopping", "value": "met" if es.met else "not met",
                     "note": f"{fmt.number(es.overlatency_queries)} of {fmt.number(es.queries)} "
                             f"queries over the bound; {fmt.number(es.queries_needed)} needed"})
    return rows


def bound_rows(record: RunRecord) -> list[dict]:
    if record.scenario not in SERVER_SCENARIOS or record.tokens:   # tokens: TTFT/TPOT limits
        return []
    target = _target_key(record) or "target percentile"
    return [{"name": "latency bound", "value": fmt.ms(record.settings.bound_s),
             "note": f"{target} must not exceed it"}]


LAYER_COLUMNS = ("layer", "MACs", "compute cycles", "DRAM bytes", "time", "bound", "utilization",
                 "energy")
LAYER_NUMERIC = (False, True, True, True, True, False, True, True)


def layer_row(row: Layer) -> list[str]:
    return [row.name or "", fmt.number(row.macs), fmt.number(row.compute_cycles),
            fmt.si(row.dram_bytes, "B"), fmt.seconds(row.time_s), row.bound or "",
            fmt.percent(row.utilization), f"{fmt.si(row.energy_j, 'J')}"]


def layer_total(layers: list[Layer]) -> list[str]:
    def total(key: str) -> float:
        return sum(float(getattr(r, key) or 0.0) for r in layers)
    return ["total", fmt.number(int(total("macs"))), fmt.number(int(total("compute_cycles"))),
            fmt.si(total("dram_bytes"), "B"), fmt.seconds(total("time_s")), "", "",
            fmt.si(total("energy_j"), "J")]


def energy_rows(energy: Energy | None) -> list[tuple[str, str, str]]:
    parts = (energy.breakdown_j if energy else None) or {}
    whole = sum(parts.values()) or 1.0
    return [(name, fmt.si(j, "J"), fmt.percent(j / whole)) for name, j in parts.items()]


_POWER = (("average_power_w", "average power", "W"), ("peak_power_w", "peak power (1 ms windows)", "W"),
          ("joules_per_sample", "energy per sample", "J"), ("tops_per_w", "TOPS/W (dense)", ""))
_STATIC = (("always_on_j", "static: always on"), ("engines_busy_j", "static: engines busy"),
           ("engines_idle_j", "static: engines idle, not yet gated"), ("wakeup_j", "static: wake-ups"))


def power_rows(energy: Energy | None) -> list[tuple[str, str]]:
    """Power and static energy by state, where the SUT's power model reports them."""
    if energy is None:
        return []
    rows = [(label, fmt.si(getattr(energy, key), unit)) for key, label, unit in _POWER
            if getattr(energy, key) is not None]
    states = energy.static_by_state
    if states is None:
        return rows
    rows += [(label, fmt.si(getattr(states, key), "J")) for key, label in _STATIC if states.given(key)]
    if states.given("gated_s"):
        rows.append(("engine time power-gated", f"{fmt.seconds(states.gated_s)} "
                     f"({fmt.number(states.wakeups)} wake-ups)"))
    return rows


def _starving(masters) -> str:
    return ", ".join(m.name for m in masters) or "none"


_SUMMARY = (("profile_batch", "layers profiled at batch", fmt.number),
            ("batches", "batches served", fmt.number),
            ("utilization", "engine utilization", fmt.percent),
            ("dram_average_bytes_per_s", "average DRAM traffic", lambda v: fmt.si(v, "B/s")),
            ("peak_macs_per_s", "peak compute", lambda v: fmt.si(v, "MAC/s")),
            ("dram_bytes_per_s", "usable DRAM bandwidth", lambda v: fmt.si(v, "B/s")),
            ("starving_masters", "starving best-effort masters", _starving))


def accelerator_summary(accel: Accelerator) -> list[tuple[str, str]]:
    """The adapter's run-level figures, where it reports them."""
    return [(label, text(getattr(accel, key))) for key, label, text in _SUMMARY if accel.given(key)]


REALTIME_COLUMNS = ("master", "direction", "requested", "delivered", "FIFO", "worst wait",
                    "worst-case margin", "deadline")


def realtime_rows(outcomes: tuple[RealtimeMaster, ...]) -> list[list[str]]:
    """One row per realtime master (harness.accel.realtime): bandwidth and FIFO margin."""
    return [[o.name, o.direction, fmt.si(o.requested_bytes_per_s, "B/s"),
             fmt.si(o.delivered_bytes_per_s, "B/s"),
             fmt.si(o.fifo_bytes, "B") if o.fifo_bytes else "none declared",
             f"{fmt.seconds(o.worst_wait_s)} behind {o.busy_engines} NPU burst(s)",
             "" if o.margin_bytes is None else
             f"{fmt.si(o.margin_bytes, 'B')} ({fmt.seconds(o.margin_s)})",
             _deadline(o)] for o in outcomes]


def _deadline(o: RealtimeMaster) -> str:
    if o.margin_bytes is None:
        return "not checked (no FIFO)"
    if not o.deadline_miss:
        return "met"
    what = "underflow" if o.direction == "read" else "overflow"
    at = "" if o.at_s is None else f" at t = {fmt.seconds(o.at_s)}"
    return f"MISSED: FIFO {what}{at}"
