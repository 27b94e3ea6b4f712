"""Results MLPerf infers from another scenario's log (the submission checker's
`get_inferred_result`): an edge submission may file a SingleStream run in its MultiStream or
Offline folder, or a MultiStream run in its Offline folder, and the official result is derived:

- Offline from SingleStream: `result_qps_without_loadgen_overhead` (1 / mean latency);
- Offline from MultiStream: samples per query × 1000 / mean query latency in ms;
- MultiStream from SingleStream: 8 × the early-stopping p99 estimate (`early_stopping_latency_ms`),
  in ms; the plain p99 where early stopping gave none.
"""

from __future__ import annotations

from harness.analyse.mlperf_figures import _pick
from harness.record.mlperf_log_read import Detail, Summary, number
from harness.analyse.model import Metric

MULTI_STREAM_SAMPLES = 8


def _offline_from_single_stream(summary: Summary | None, detail: Detail | None) -> Metric | None:
    qps = _pick(summary, detail, "result_qps_without_loadgen_overhead", "QPS w/o loadgen overhead")
    return None if qps is None else Metric("samples per second (inferred from SingleStream)", qps, "samples/s")


def _offline_from_multi_stream(summary: Summary | None, detail: Detail | None) -> Metric | None:
    spq = _pick(summary, detail, "effective_samples_per_query", "samples_per_query")
    mean = _pick(summary, detail, "result_mean_query_latency_ns", "Mean latency (ns)")   # per query
    if not spq or not mean:
        return None
    return Metric("samples per second (inferred from MultiStream)", spq * 1000 / (mean / 1e6), "samples/s")


def _multi_stream_from_single_stream(summary: Summary | None, detail: Detail | None) -> Metric | None:
    p99 = detail.get("early_stopping_latency_ms") if detail is not None else None
    if p99 is None and summary is not None:
        p99 = summary.early_stopping_estimate_ns(99.0)
    if p99 is None:
        p99 = _pick(summary, detail, "result_99.00_percentile_latency_ns", "99.00 percentile latency (ns)")
    if p99 is None:
        return None
    return Metric("early-stopping p99 latency x 8 (inferred from SingleStream)",
                  number(p99, str(detail.path) if detail else "", "early_stopping_latency_ms")
                  * MULTI_STREAM_SAMPLES / 1e6, "ms")


RULES = {("offline", "single-stream"): _offline_from_single_stream,
         ("offline", "multi-stream"): _offline_from_multi_stream,
         ("multi-stream", "single-stream"): _multi_stream_from_single_stream}
INFERABLE = set(RULES)


def inferred_metric(folder: str, logged: str, summary: Summary | None, detail: Detail | None) -> Metric | None:
    """The official result of a `logged` run filed under `folder`, or None if none is derived."""
    rule = RULES.get((folder, logged))
    return rule(summary, detail) if rule else None
