"""bench's decoder on the NPU model against GenZ (genz-llm 0.0.16, tests/data/genz, regenerated
by tools/genz/regen_fixture.py): Llama 3.1 8B, int8, npu_v2's peak and DRAM bandwidth with no bus
masters.

Decode is memory-bound and both models read nearly the same bytes (every weight but the embedding
table, one table row per sequence, the KV cache): bench's step takes GenZ's time within 0.002 %
and moves its bytes within 0.25 % (bench fewer, but its KV writes cost more DRAM time than reads:
dram_cost.npu_cost). Prefill is compute-bound: GenZ assumes the peak rate (efficiency 1) and computes the LM
head for every prompt token; bench counts the systolic array's own cycles (SCALE-Sim fill and
drain, partial tiles at the edges) and the LM head for the last token only, so it is slower at
these points by the pinned ratios."""

import json
from pathlib import Path

import pytest

from harness import catalog
from harness.accel import load_hardware
from harness.accel.llm import DecoderCost
from harness.spec import read_toml
from harness.workloads import load_workload

FIXTURE = json.loads((Path(__file__).parent / "data" / "genz" / "llama3.1-8b.json").read_text())
# prefill tokens -> bench / GenZ time: the array's utilisation at that GEMM height, over GenZ's 100 %
PREFILL_RATIO = {256: 1.3442, 1024: 1.2282}


@pytest.fixture(scope="module")
def cost():
    raw = read_toml(catalog.resolve("systems", "npu_v2"))
    raw["memory"]["masters"] = []
    return DecoderCost(load_hardware(raw, "npu_v2"), load_workload("llama3.1-8b").shape)


def test_the_fixture_describes_npu_v2_without_masters(cost):
    c = cost.hw.compute
    int8_tops = 2 * c.array_rows * c.array_cols * c.clock_hz * c.engines / 1e12
    assert FIXTURE["system"]["Flops"] * 2 == pytest.approx(int8_tops)
    assert FIXTURE["system"]["Memory_BW"] * 2**30 == pytest.approx(cost.lo.rates[0])


@pytest.mark.parametrize("e", [e for e in FIXTURE["entries"] if e["kind"] == "decode"],
                         ids=lambda e: f"batch{e['batch']}-cached{e['cached']}")
def test_a_decode_step_takes_what_genz_says(cost, e):
    step = cost.decode(e["batch"], e["batch"] * e["cached"])
    assert cost.end(step, 0.0) == pytest.approx(e["latency_s"], rel=1e-3)
    assert step.dram_bytes == pytest.approx(e["dram_bytes"], rel=3e-3)


@pytest.mark.parametrize("e", [e for e in FIXTURE["entries"] if e["kind"] == "prefill"],
                         ids=lambda e: f"tokens{e['tokens']}")
def test_a_prefill_is_genz_at_the_arrays_own_utilisation(cost, e):
    seconds = cost.end(cost.prefill([e["tokens"]]), 0.0)
    assert seconds / e["latency_s"] == pytest.approx(PREFILL_RATIO[e["tokens"]], abs=1e-4)
    assert seconds > e["latency_s"]   # never faster than the peak rate GenZ assumes
