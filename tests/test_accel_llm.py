"""Decoder LLMs on the NPU model (harness.accel.llm, harness.sut.accelerator_llm): sizes from the
published shapes, decode against the bandwidth bound, prefill against the compute bound,
continuous batching, KV admission, camera contention on TPOT, and the CLI."""

import copy
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from harness import catalog
from harness.accel.config import load_hardware
from harness.accel.llm import DecoderCost
from harness.cli.main import main
from harness.errors import ConfigError
from harness.measure.runner import RunRequest, execute, prepare
from harness.spec import read_toml
from harness.workloads import load_workload

ROOT = Path(__file__).resolve().parents[1]
NPU_V2 = tomllib.loads((ROOT / "systems" / "npu_v2.toml").read_text())

# Llama 3.1 8B, from its config.json, written out here independently of the workload file
L, HIDDEN, HEADS, KV_HEADS, HEAD_DIM, FFN, VOCAB = 32, 4096, 32, 8, 128, 14336, 128256


def hardware(masters=True, **memory):
    raw = copy.deepcopy(NPU_V2)
    raw["memory"].update(memory)
    if not masters:
        raw["memory"].pop("masters")
    return load_hardware(raw, "npu_v2")


def cost(workload="llama3.1-8b", **kw):
    return DecoderCost(hardware(**kw), load_workload(workload).shape)


# ---------------------------------------------------------------- sizes


def test_published_parameter_counts():
    assert load_workload("llama3.1-8b").shape.params == 8_030_261_248   # Meta: 8.03B
    assert load_workload("llama3.2-1b").shape.params == 1_235_814_400   # Meta: 1.23B (tied)


def test_kv_cache_size_is_exact():
    c = cost()
    assert c.kv_bytes_per_token == 2 * L * KV_HEADS * HEAD_DIM * 1      # int8: 65,536 B
    assert c.kv_bytes(2048) == 134_217_728                              # 128 MiB a sequence
    assert cost("llama3.2-1b").kv_bytes(640) == 2 * 16 * 8 * 64 * 640


def test_request_lengths_follow_the_workload_and_are_seeded():
    w = load_workload("llama3.1-8b")
    inputs, outputs = w.lengths
    assert len(inputs) == 13368 and inputs.min() >= 64 and inputs.max() <= 2048
    assert outputs.min() >= 1 and outputs.max() == 128
    assert round(float(outputs.mean()), 1) == 114.6          # published: 1264.46 / 11.07 = 114.2
    assert w.sample_lengths(13368 + 5) == w.sample_lengths(5)
    assert load_workload("llama3.2-1b").sample_lengths(7) == (512, 128)


# ---------------------------------------------------------------- shipped pairs pinned

# (decode step s, its dynamic J, prefill s, its dynamic J): one sequence, 1000 cached tokens /
# a 512-token prompt, starting at t = 0 under the system's masters
PINNED = {
    ("npu_v1", "llama3.1-8b"): (7.062543e-01, 5.622088e-01, 2.487326e+00, 1.570835e+00),
    ("npu_v1", "llama3.2-1b"): (1.168371e-01, 9.299740e-02, 3.706253e-01, 2.458930e-01),
    ("npu_v2", "llama3.1-8b"): (9.706843e-02, 3.489962e-01, 2.007519e-01, 7.001395e-01),
    ("npu_v2", "llama3.2-1b"): (1.627887e-02, 5.772946e-02, 3.172411e-02, 1.077460e-01),
}


def test_every_shipped_decoder_is_pinned_on_every_accelerator():
    decoders = {w for w in catalog.names("workloads") if "decoder" in read_toml(catalog.resolve("workloads", w))}
    accelerators = {s for s in catalog.names("systems")
                    if read_toml(catalog.resolve("systems", s)).get("adapter") == "accelerator"}
    assert {(s, w) for s in accelerators for w in decoders} == set(PINNED)


@pytest.mark.parametrize("system,workload", sorted(PINNED))
def test_pinned_figures(system, workload):
    c = DecoderCost(load_hardware(catalog.resolve("systems", system), system), load_workload(workload).shape)
    d, p = c.decode(1, 1000), c.prefill([512])
    got = (c.end(d, 0.0), c.dynamic(d).total, c.end(p, 0.0), c.dynamic(p).total)
    assert got == pytest.approx(PINNED[(system, workload)], rel=1e-6)


# ---------------------------------------------------------------- decode and prefill bounds


def decode_bytes(cached: int, batch: int = 1) -> tuple[int, int]:
    """(reads, writes) of one decode step, from the shapes: every weight but the embedding
    table, one table row per sequence, the cached K and V; the new tokens' K and V written."""
    block = HIDDEN * (HEADS * HEAD_DIM + 2 * KV_HEADS * HEAD_DIM) + HEADS * HEAD_DIM * HIDDEN \
        + 3 * HIDDEN * FFN + 2 * HIDDEN
    weights = L * block + VOCAB * HIDDEN + HIDDEN
    kv = 2 * L * KV_HEADS * HEAD_DIM
    return weights + batch * HIDDEN + kv * cached, kv * batch


def test_decode_step_is_the_bandwidth_bound_without_masters():
    c = cost(masters=False, mixed_efficiency=0.8)   # reads and writes at the same efficiency
    reads, writes = decode_bytes(1000)
    p = c.decode(1, 1000)
    assert p.dram_bytes == reads + writes
    bound = (reads + writes) / (102.4e9 * 0.8)
    assert c.end(p, 3.0) - 3.0 == pytest.approx(bound, rel=1e-12)


def test_decode_step_under_masters_is_the_bound_at_their_mean_leftover():
    c = cost()
    reads, writes = decode_bytes(1000)
    p = c.decode(1, 1000)
    mean = c.lo.mean_bytes_per_s   # 81.92 GB/s less the camera (at its write cost) and display
    assert mean == pytest.approx(81.92e9 - 1.7e9 * 1.1 - 1.99e9)
    for start in (0.0, 0.01, 0.0251, 123.4567):
        step = c.end(p, start) - start
        assert step == pytest.approx((reads + writes) / mean, rel=2e-3)
        assert step >= (reads + writes) / (81.92e9 * 1.0)   # never faster than the DRAM


def test_continuous_batching_reads_the_weights_once_per_step():
    c = cost()
    one, eight = c.decode(1, 8000), c.decode(8, 8000)
    kv_token, row = 2 * L * KV_HEADS * HEAD_DIM, HIDDEN
    assert eight.dram_bytes - one.dram_bytes == 7 * (kv_token + row)


def prefill_macs(t: int) -> int:
    block = HIDDEN * (HEADS * HEAD_DIM + 2 * KV_HEADS * HEAD_DIM) + HEADS * HEAD_DIM * HIDDEN \
        + 3 * HIDDEN * FFN
    attention = 2 * HEADS * t * t * HEAD_DIM        # scores and context, full T x T
    return L * (t * block + attention) + HIDDEN * VOCAB


@pytest.mark.parametrize("tokens", [1024, 2048])
def test_prefill_is_compute_bound(tokens):
    c = cost(masters=False)
    p = c.prefill([tokens])
    assert p.macs == prefill_macs(tokens)
    bound = p.macs / (2 * 128 * 128 * 1e9)             # 2 engines of 128x128 int8 at 1 GHz
    ratio = (c.end(p, 0.0)) / bound
    # a weight-stationary fold streams M = T rows after a 2R + C - 2 cycle fill: T / (T + 382);
    # on top: the LM head's 525 MB read (memory-bound, ~6.4 ms) and softmax on the vector unit
    fill = (tokens + 382) / tokens
    assert fill < ratio <= fill * 1.04


# ---------------------------------------------------------------- runs


def write_system(tmp_path, name="npu_llm", camera=None, capacity=None, slots=None):
    text = (ROOT / "systems" / "npu_v2.toml").read_text()
    if camera is not None:
        text = text.replace("bytes_per_s = 1.7e9", f"bytes_per_s = {camera}")
    if capacity is not None:
        text = re.sub(r"dram_capacity_bytes = \d+", f"dram_capacity_bytes = {capacity}", text)
    if slots is not None:
        text = text.replace("decode_slots = 16", f"decode_slots = {slots}")
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return str(path)


def run(sut, workload="llama3.2-1b", scenario="server", qps=None, duration=60.0, queries=None):
    p = prepare(RunRequest(scenario, sut, workload, target_qps=qps, duration_s=duration,
                           min_queries=queries, seed=1))
    return execute(p).result


def test_faster_camera_raises_tpot(tmp_path):
    tpot = []
    for rate in (1.7e9, 12e9, 24e9):
        result = run(write_system(tmp_path, f"cam{int(rate)}", camera=rate), qps=2.0, queries=50)
        tpot.append(result["tokens"]["tpot_s"]["p50"])
    assert tpot[0] < tpot[1] < tpot[2]
    assert tpot[2] > 1.2 * tpot[0]


def test_sparse_requests_see_the_prefill_as_ttft(tmp_path):
    c = cost("llama3.2-1b")
    result = run("npu_v2", qps=0.01, duration=1.0, queries=3)
    t = result["tokens"]
    assert t["output_tokens"] == 3 * 128
    prefill = c.prefill([512])
    alone = [c.end(prefill, s) - s for s in (0.0, 0.01, 0.02, 0.03)]
    assert min(alone) * 0.999 <= t["ttft_s"]["min"] <= t["ttft_s"]["max"] <= max(alone) * 1.001
    assert result["llm"]["kv_bytes_per_token"] == 16384
    assert result["llm"]["weight_bytes"] == 1_235_814_400
    assert t["joules_per_token"] == pytest.approx(result["energy"]["total_j"] / 384)


def test_a_sequence_whose_kv_does_not_fit_is_refused_with_the_reason(tmp_path):
    weights = 1_235_814_400
    sut = write_system(tmp_path, capacity=weights + 5_000_000)   # < 640 tokens x 16 KiB
    result = run(sut, qps=1.0, duration=5.0, queries=4)
    assert result["failed_queries"] == result["query_count"] >= 4
    assert result["llm"]["refused_sequences"] == result["query_count"]
    assert any("KV cache of 10485760 B (512 + 128 tokens) exceeds the 5000000 B" in reason
               for reason in result["invalid_reasons"])


def test_admission_waits_for_kv_room(tmp_path):
    weights = 1_235_814_400
    sut = write_system(tmp_path, capacity=weights + 2 * 10_485_760)   # room for two sequences
    result = run(sut, qps=4.0, duration=10.0, queries=20)
    assert result["failed_queries"] == 0
    assert result["llm"]["peak_kv_bytes"] == 2 * 10_485_760
    assert result["llm"]["mean_decode_batch"] <= 2


def test_weights_larger_than_the_dram_are_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="llm.dram_capacity_bytes"):
        run(write_system(tmp_path, capacity=1_000_000_000))


# ---------------------------------------------------------------- command line


def test_bad_decoder_file_is_one_line_exit_2(tmp_path, capsys):
    text = (ROOT / "workloads" / "llama3.2-1b.toml").read_text().replace("kv_heads = 8", "kv_heads = 7")
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--scenario", "server", "--sut", "npu_v2", "--workload", str(bad),
              "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert "kv_heads" in err and "7" in err and "must divide heads" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_readme_llm_commands(tmp_path, monkeypatch, capsys):
    text = (ROOT / "README.md").read_text()
    body = text.split("<!-- llm -->", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    lines = [line for line in body.splitlines() if line.strip()]
    assert lines and all(line.startswith("bench ") for line in lines)
    monkeypatch.chdir(tmp_path)
    for line in lines:
        with pytest.raises(SystemExit) as exit_:
            main(shlex.split(line.partition("#")[0])[1:])
        out, err = capsys.readouterr()
        assert exit_.value.code == 0, f"{line}\n{out}\n{err}"
        if "offline" not in line:   # Offline has no first-token requirement
            assert re.search(r"TTFT p50 .* ms", out) and re.search(r"TPOT p50 .* ms", out), out
        assert re.search(r"output tokens, [\d.]+ tokens/s, [\d.]+ mJ/token", out), out
