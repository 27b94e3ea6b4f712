"""Refuse to gate unlike runs, saying why: a gate compares runs of the same scenario and
workload under the same test settings; only the system under test may differ."""

from __future__ import annotations

from harness.errors import BenchError
from harness.analyse.compare import DEFINING, normalised
from harness.analyse.model import Result


def is_hint(key: str) -> bool:
    """Settings that only size the run (hints and seeds), not what is measured. The nested
    `effective` block restates the others, plus values derived from the hints."""
    return key.endswith("_rng_seed") or "expected" in key or key == "effective"


SCENARIO_PREFIXES = ("single_stream_", "multi_stream_", "server_", "offline_")
OWN_PREFIX = {"single-stream": "single_stream_", "multi-stream": "multi_stream_", "server": "server_",
              "interactive": "server_", "offline": "offline_"}


def applies(key: str, scenario: str) -> bool:
    """Whether a setting acts on a run of `scenario`: another scenario's settings (a system
    file's server target QPS in a single-stream run) do not."""
    prefix = next((p for p in SCENARIO_PREFIXES if key.startswith(p)), None)
    return prefix is None or prefix == OWN_PREFIX.get(scenario)


def defining_settings(r: Result) -> dict:
    if r.source == "mlperf":   # submitters tune target QPS etc.; compare what defines the test
        keys = DEFINING[r.scenario]
        return {k: normalised(k, r.settings[k]) for k in keys if k in r.settings}
    return {k: normalised(k, v) for k, v in r.settings.items()
            if not is_hint(k) and applies(k, r.scenario)}


def settings_diff(a: Result, b: Result) -> list[str]:
    sa, sb = defining_settings(a), defining_settings(b)
    keys = sorted(set(sa) | set(sb))
    if a.source != b.source:   # only keys both record can be compared
        keys = [k for k in keys if k in sa and k in sb]
    return [f"{k} {sa.get(k, '(unset)')} vs {sb.get(k, '(unset)')}"
            for k in keys if sa.get(k, None) != sb.get(k, None)]


def _unlike(a: Result, b: Result) -> str | None:
    if a.scenario != b.scenario:
        return f"scenario {a.scenario} vs {b.scenario}"
    if a.workload != b.workload:
        return f"workload {a.workload} vs {b.workload}"
    fa, fb = a.fingerprints.get("workload"), b.fingerprints.get("workload")
    if fa and fb and fa != fb:
        return f"workload {a.workload} differs (fingerprint {fa} vs {fb})"
    if a.metric.unit != b.metric.unit:
        return f"headline unit {a.metric.unit} vs {b.metric.unit}"
    diff = settings_diff(a, b)
    return f"settings differ: {', '.join(diff)}" if diff else None


def _same_system(runs: list[Result], role: str) -> None:
    systems = sorted({r.system for r in runs})
    suts = {r.fingerprints.get("sut") for r in runs} - {None}
    if len(systems) > 1 or len(suts) > 1:
        raise BenchError(f"{role} runs are of different systems ({', '.join(systems)}): "
                         f"the runs of one side must repeat one system")


def refuse_unlike(baseline: list[Result], candidate: list[Result]) -> None:
    if not baseline:
        raise BenchError("no baseline: give at least one --baseline DIR (a missing baseline "
                         "is an error, never a pass)")
    if not candidate:
        raise BenchError("no candidate: give at least one --candidate DIR")
    _same_system(baseline, "baseline")
    _same_system(candidate, "candidate")
    reference = baseline[0]
    for r in baseline[1:] + candidate:
        why = _unlike(reference, r)
        if why:
            raise BenchError(f"cannot gate unlike runs: {reference.path} and {r.path}: {why}")
