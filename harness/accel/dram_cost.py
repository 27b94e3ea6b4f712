"""What a DRAM byte costs in DRAM time: read/write turnarounds and access patterns.

The fluid model (contention.py) counts bandwidth in bytes of streaming reads: the usable
bandwidth is dram_bytes_per_s x dram_efficiency, the NPU's all-read efficiency. Cycle-level
measurements (DRAMsim3, shared/reference/dram-contention.md) show two corrections:

* a bus master's written byte costs `write_cost` bytes of that bandwidth, a read byte
  `read_cost`: a write burst forces read/write turnarounds (k_w = 1 + t_turn / (B x t_burst),
  with t_turn = read latency + tRTRS + tWTR per batch of B writes: 1.10-1.13 on LPDDR4 and
  1.21-1.27 on bank-group-interleaved DDR4 for B = 32; two ranks hide most of it, 1.0-1.06),
  and reads that collide on a bank group or an open row cost extra (about 1.2 on DDR4);
* the NPU's own efficiency falls with the share of writes in what it moves: from
  dram_efficiency with reads only to `mixed_efficiency` at half writes (0.946 -> 0.869 on
  LPDDR4, 0.944 -> 0.656 on DDR4), linearly in between and symmetric for mostly-writes. A layer
  that moves R bytes read and W written costs (R + W) x dram_efficiency / eta(W / (R + W)).

Both are steady-state corrections: what they leave out is in the README's accelerator section.
"""

from __future__ import annotations

from harness.accel.config import Master, Memory


def master_cost(m: Master, memory: Memory) -> float:
    """Bytes of streaming-read bandwidth one byte of this master takes."""
    return memory.write_cost if m.direction == "write" else memory.read_cost


def mix_efficiency(memory: Memory, write_fraction: float) -> float:
    """The NPU's DRAM efficiency when `write_fraction` of its bytes are writes."""
    tent = 2 * min(write_fraction, 1 - write_fraction)
    return memory.dram_efficiency - (memory.dram_efficiency - memory.mixed_efficiency) * tent


def npu_cost(memory: Memory, read_bytes: float, write_bytes: float) -> float:
    """The streaming-read bytes of DRAM time the NPU spends moving these bytes."""
    total = read_bytes + write_bytes
    if total <= 0:
        return 0.0
    return total * memory.dram_efficiency / mix_efficiency(memory, write_bytes / total)
