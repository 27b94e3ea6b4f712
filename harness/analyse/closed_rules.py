"""MLPerf Inference closed-division constants that `bench check` enforces (from mlperf.conf and
the submission checker; see the reference notes on LoadGen, sections 3.3 and 5)."""

from __future__ import annotations

import re

MIN_DURATION_MS = 600_000
EARLY_STOPPING_MIN_QUERIES = {"single-stream": 64, "multi-stream": 662}   # h(1)+1 at p90 / p99
DEFAULT_OFFLINE_MIN_SAMPLES = 24_576

# (qsl_rng_seed, sample_index_rng_seed, schedule_rng_seed) per round
ROUND_SEEDS = {   # the submission checker's MODEL_CONFIG[round]["seeds"]
    "4.0": (13281865557512327830, 198141574272810017, 7575108116881280410),
    "4.1": (3066443479025735752, 10688027786191513374, 14962580496156340209),
    "5.0": (6023615788873153749, 15036839855038426416, 9933818062894767841),
    "5.1": (1780908523862526354, 14771362308971278857, 18209322760996052031),
    "6.0": (2465351861681999779, 14276810075590677512, 3936089224930324775),
    "6.1": (2085463073848966840, 2747215439041700203, 16159082839903944936),
}
SEED_KEYS = ("qsl_rng_seed", "sample_index_rng_seed", "schedule_rng_seed")

SERVER_LATENCY_NS = {
    "resnet50": 15_000_000, "resnet": 15_000_000, "retinanet": 100_000_000,
    "bert": 130_000_000, "dlrm": 60_000_000, "dlrm-v2": 60_000_000, "dlrm-v3": 80_000_000,
    "rnnt": 1_000_000_000, "gptj": 20_000_000_000, "stable-diffusion-xl": 20_000_000_000,
}
PERFORMANCE_SAMPLE_COUNT = {
    "resnet50": 1024, "resnet": 1024, "ssd-mobilenet": 256, "retinanet": 64, "bert": 10833,
    "dlrm": 204800, "dlrm-v2": 204800, "rnnt": 2513, "gptj": 13368, "mixtral-8x7b": 15000,
    "llama2-70b": 24576, "stable-diffusion-xl": 5000, "llama3.1-8b": 13368, "llama3.1-405b": 8313,
    "deepseek-r1": 4388, "gpt-oss-120b": 6396, "llama3.1-8b-edge": 5000, "rgat": 788379, "whisper": 1633,
}
OFFLINE_MIN_SAMPLES = {
    "resnet50": 24576, "resnet": 24576, "retinanet": 24576, "dlrm-v2": 24576,
    "llama2-70b": 24576, "bert": 10833, "gptj": 13368, "rnnt": 2513, "3d-unet": 43,
    "stable-diffusion-xl": 5000, "mixtral-8x7b": 15000, "rgat": 788379, "whisper": 1633,
}
SYSTEM_FIELDS = (
    "division", "submitter", "status", "system_name", "system_type", "number_of_nodes",
    "host_processor_model_name", "host_processors_per_node", "host_processor_core_count",
    "accelerators_per_node", "accelerator_model_name", "framework", "operating_system",
)
STATUSES = ("available", "preview", "rdi")


def model_family(benchmark: str) -> str:
    """'bert-99.9' -> 'bert', 'dlrm-v2-99' -> 'dlrm-v2', 'resnet50' -> 'resnet50'."""
    return re.sub(r"-99(\.9)?$", "", benchmark.strip().lower())


def seed_problem(seeds: dict, round_hint: str | None = None) -> str | None:
    """Why the seeds are not a round's official ones, or None when they are."""
    missing = [k for k in SEED_KEYS if seeds.get(k) is None]
    if missing:
        return f"seeds not recorded: {', '.join(missing)}"
    triple = tuple(int(seeds[k]) for k in SEED_KEYS)
    if round_hint in ROUND_SEEDS:
        if triple == ROUND_SEEDS[round_hint]:
            return None
        return f"seeds {triple} are not the official seeds of round {round_hint}"
    if triple in ROUND_SEEDS.values():
        return None
    return (f"seeds {triple} are not the official seeds of a known round "
            f"({', '.join(sorted(ROUND_SEEDS))})")


def round_of_seeds(settings: dict) -> str | None:
    """The round whose official seeds a run used, or None."""
    try:
        triple = tuple(int(settings[k]) for k in SEED_KEYS)
    except (KeyError, TypeError, ValueError):
        return None
    by_triple = {seeds: round_ for round_, seeds in ROUND_SEEDS.items()}
    return by_triple.get(triple)


def round_of(loadgen_version: object) -> str | None:
    """'4.1 @ 2814499631' -> '4.1'."""
    m = re.match(r"\s*(\d+\.\d+)", str(loadgen_version or ""))
    return m.group(1) if m else None


# ---------------------------------------------------------------- shared closed-division rules


def closed_settings_problems(benchmark: str, scenario: str, settings: dict,
                             offline_samples: int | None) -> list[str]:
    """Closed-division setting rules, in MLPerf's effective names."""
    family = model_family(benchmark)
    problems = []
    duration = settings.get("min_duration_ms")
    if duration is None or duration < MIN_DURATION_MS:
        problems.append(f"min_duration_ms = {duration}: closed division requires >= {MIN_DURATION_MS}")
    psc = settings.get("performance_sample_count", settings.get("performance_sample_count_override"))
    need = PERFORMANCE_SAMPLE_COUNT.get(family)
    if psc is not None and need is not None and 0 < psc < need:
        problems.append(f"performance_sample_count = {psc}: {benchmark} requires >= {need}")
    if scenario == "server" and "ttft_latency_ns" not in settings:   # LLMs: TTFT/TPOT instead
        problems += _server_bound(benchmark, family, settings)
    if scenario == "offline":
        samples = offline_samples if offline_samples is not None else settings.get("samples_per_query")
        need = OFFLINE_MIN_SAMPLES.get(family, DEFAULT_OFFLINE_MIN_SAMPLES)
        if samples is not None and samples < need:
            problems.append(f"offline samples = {samples}: {benchmark} requires >= {need}")
    return problems


def _server_bound(benchmark: str, family: str, settings: dict) -> list[str]:
    target = settings.get("server_target_latency_ns", settings.get("target_latency_ns"))
    bound = SERVER_LATENCY_NS.get(family)
    if target is None:
        return ["server_target_latency_ns not recorded"]
    if bound is not None and not 0 < target <= bound:
        return [f"server_target_latency_ns = {target}: {benchmark} requires <= {bound}"]
    return []
