#!/usr/bin/env python3
"""Regenerate tests/data/genz/llama3.1-8b.json: GenZ's prefill and decode times for Llama 3.1 8B.

GenZ (genz-llm 0.0.16, the analytical LLM inference model of Bambhaniya et al., "Demystifying AI
Platform Design for Distributed Inference of Next-Generation LLM models") is not a dependency of
bench, so this script runs itself inside its own virtual environment, creating it when missing::

    python tools/genz/regen_fixture.py               # creates /tmp/genz-venv if needed

The point: int8 weights, KV and compute on one device of npu_v2's peak (2 engines x 128 x 128
MACs at 1 GHz: 65.536 int8 TOPS) and the DRAM bandwidth npu_v2 leaves with no bus masters
(102.4 GB/s x 0.8 = 81.92 GB/s), efficiencies 1. GenZ's units, read from its outputs: `Flops` is
the 16-bit rate in TFLOPS (int8 runs at twice it), `Memory_BW` in GiB/s, its MB are MiB. Each
entry: prefill of `tokens` prompt tokens, or one decode step of `batch` sequences with `cached`
tokens each; GenZ's latency, DRAM bytes (weights, KV, activations) and MFLOP. Runtime: seconds.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from venv_bootstrap import rerun_in_venv  # noqa: E402

VENV = Path(os.environ.get("GENZ_VENV", "/tmp/genz-venv"))
OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "genz" / "llama3.1-8b.json"
MODEL = "meta-llama/Llama-3.1-8B"
SYSTEM = {"real_values": True, "Flops": 65.536 / 2, "Memory_BW": 81.92e9 / 2**30,
          "Memory_size": 32, "ICN": 150}
PREFILLS = [256, 1024]
DECODES = [(1, 1024), (4, 1024), (1, 4096)]   # (batch, cached tokens per sequence)


def entry(kind: str, out, **point) -> dict:
    table = out["summary_table"]
    return {"kind": kind, **point, "latency_s": out["Latency"] / 1e3,
            "dram_bytes": float(table["Total Data (MB)"].values[0]) * 2**20,
            "mflop": float(table["MACs (MFLOP)"].values[0])}


def main() -> None:
    rerun_in_venv("GenZ", VENV, ["genz-llm==0.0.16"], __file__)
    warnings.filterwarnings("ignore")
    from GenZ import decode_moddeling, prefill_moddeling

    entries = [entry("prefill", prefill_moddeling(model=MODEL, batch_size=1, input_tokens=t,
                                                  system_name=SYSTEM, bits="int8"), tokens=t)
               for t in PREFILLS]
    entries += [entry("decode", decode_moddeling(model=MODEL, batch_size=b, Bb=1, input_tokens=c,
                                                 output_tokens=1, system_name=SYSTEM, bits="int8"),
                      batch=b, cached=c) for b, c in DECODES]
    OUT.write_text(json.dumps({"tool": "genz-llm 0.0.16", "model": MODEL, "system": SYSTEM,
                               "entries": entries}, indent=1) + "\n")
    print(f"wrote {OUT}: {len(entries)} entries")


if __name__ == "__main__":
    main()
