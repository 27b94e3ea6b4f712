"""Hardware files of the accelerator model: strict loading into frozen dataclasses.

A system file with ``adapter = "accelerator"``. Keys fixed by DESIGN.md are required; every
other key has the default shown here (all units are in the key names)::

    name = "npu_v1"
    adapter = "accelerator"
    [compute]
    array_rows = 32                # PE rows of one engine's systolic array
    array_cols = 32                # PE columns
    dataflow = "ws"                # "ws" | "os" | "is" (weight/output/input stationary) | "auto" (fastest per layer)
    clock_hz = 1.0e9
    engines = 1                    # engines (own array + SRAM each)
    schedule = "independent"       # how a batch uses the engines (schedules.py): "independent"
                                   # (one batch per engine) | "pipeline" (layer groups, one per
                                   # engine) | "split_batch" | "split_spatial" (every engine a
                                   # slice of every layer)
    pipeline_cuts = []             # pipeline: the first layer of stages 2..engines (names);
                                   # [] = the cuts that balance the stages (schedules.py)
    fused_overlap = true           # fused layers overlap tile by tile (fusion.py); false: in turn
    precision = "int8"             # int4 | int8 | int16 | fp8_e4m3 | fp8_e5m2 | bf16 | fp16 | tf32 | fp32
    sparsity = "1:1"               # N:M structured weight sparsity ("2:4": 2 of every 4 kept)
    vector_lanes = array_cols      # element ops per cycle of the vector unit (pool, add, norm)
    depthwise = "array"            # "array": one GEMM per channel, as SCALE-Sim | "vector": on
                                   # the vector unit, vector_lanes MACs per cycle (compute.py)
    macs_per_pe_cycle = {}         # per precision, merged over the defaults below
    bytes_per_element = {}         # per precision, merged over the defaults below
    [memory]
    sram_bytes = 4194304           # on-chip SRAM per engine
    dram_bytes_per_s = 25.6e9      # peak DRAM bandwidth (shared by all engines and masters)
    dram_efficiency = 1.0          # usable fraction of dram_bytes_per_s
    sram_bytes_per_s = inf         # SRAM <-> array bandwidth per engine (inf: never the limit)
    double_buffering = true        # DMA overlaps compute: layer time = max(compute, memory)
    fusion = true                  # honour the workload's fused layers (intermediate on chip)
    weights_resident = true        # keep all weights in SRAM across batches when they fit
    dram_share_per_engine = 1.0    # cap: the largest fraction of what the realtime masters
                                   # leave that one engine's DMA may take (1.0: no cap). The
                                   # engines moving data at an instant and the best-effort
                                   # masters share that leftover max-min fairly (contention.py)
    mixed_efficiency = 0.92 x dram_efficiency  # the NPU's efficiency when half its DRAM bytes
                                   # are writes (read/write turnarounds); interpolated by each
                                   # layer's write fraction (dram_cost.py)
    write_cost = 1.1               # DRAM time of one byte a bus master writes, in bytes read
    read_cost = 1.0                # ... and of one byte it reads (bank-group/row collisions)
    npu_burst_bytes = 256          # one NPU DMA burst, not pre-emptible: a realtime request can
                                   # wait behind one per engine (realtime.py)
    [[memory.masters]]             # zero or more other bus masters sharing the DRAM
    name = "camera"
    bytes_per_s = 1.2e9            # average
    period_s = 0.0333
    duty = 0.9                     # active for the first duty*period_s, at bytes_per_s/duty
    priority = "realtime"          # "realtime" (served first) | "best_effort" (shares the rest)
    direction = "read"             # "read" (a display scans out) | "write" (a camera captures)
    fifo_bytes = 0                 # realtime only: its FIFO, drained (read) or filled (write)
                                   # at the active rate; 0 = none declared, no margin reported
    [energy]
    pj_per_mac = { int8 = 0.2 }    # must name the compute precision
    sram_pj_per_byte = 1.0
    dram_pj_per_byte = 20.0
    static_w = 0.5                 # whole chip, leakage + DRAM background
    [batching]                     # server serving keys, shared with the synthetic adapter
    max_batch = 1
    timeout_s = 0.0

Precision defaults (assumptions, relative to one int8 MAC per PE per cycle):
``macs_per_pe_cycle`` int4 2 (two 4-bit products per 8-bit multiplier, as NVIDIA's dense INT4
tensor rate is 2x INT8), int8 1, bf16/fp16 0.5 (Arm Ethos-U55 runs 16x8 at half rate; A100 dense
FP16 312 vs INT8 624 TOPS), fp32 0.25 (A100 TF32 156 TOPS = INT8/4). ``bytes_per_element`` int4
0.5, int8 1, bf16/fp16 2, fp32 4. Energy per MAC has no default: it is the file's to state.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from harness.spec import (MISSING, batching, NO_VALUE, Problems, Reader, apply_overrides, fraction,
                          non_negative, within,
                          one_of, positive, read_toml)

DATAFLOWS = ("ws", "os", "is")
PRECISIONS = ("int4", "int8", "int16", "fp8_e4m3", "fp8_e5m2", "bf16", "fp16", "tf32", "fp32")
PRIORITIES = ("realtime", "best_effort")
DIRECTIONS = ("read", "write")
WAKEUP_S = 20e-6  # default wake-up cost of a gated engine: 20 us of its static power
MIXED_EFFICIENCY = 0.92  # 50/50 over all-read efficiency: 0.869 / 0.946 on LPDDR4 (dram-contention.md)
DEPTHWISE = ("array", "vector")
SCHEDULES = ("independent", "pipeline", "split_batch", "split_spatial")
# A PE does one 8-bit MAC a cycle; narrower operands pack, wider ones take longer (fp8 runs at
# the int8 rate and tf32 at half the fp16 rate, as on NVIDIA Hopper's tensor cores). tf32 is
# stored in 32-bit words. Energy per MAC has no default: the system file names its precision's.
MACS_PER_PE_CYCLE = {"int4": 2.0, "int8": 1.0, "int16": 0.5, "fp8_e4m3": 1.0, "fp8_e5m2": 1.0,
                     "bf16": 0.5, "fp16": 0.5, "tf32": 0.25, "fp32": 0.25}
BYTES_PER_ELEMENT = {"int4": 0.5, "int8": 1.0, "int16": 2.0, "fp8_e4m3": 1.0, "fp8_e5m2": 1.0,
                     "bf16": 2.0, "fp16": 2.0, "tf32": 4.0, "fp32": 4.0}
TABLES = ("compute", "memory", "energy", "batching", "llm")


@dataclass(frozen=True)
class Master:
    name: str
    bytes_per_s: float
    period_s: float
    duty: float
    priority: str
    direction: str = "read"
    fifo_bytes: float = 0.0

    @property
    def peak_bytes_per_s(self) -> float:
        return self.bytes_per_s / self.duty


@dataclass(frozen=True)
class Compute:
    array_rows: int
    array_cols: int
    dataflow: str
    clock_hz: float
    engines: int
    precision: str
    sparsity: tuple[int, int]
    vector_lanes: int
    depthwise: str
    macs_per_pe_cycle: Mapping[str, float]
    bytes_per_element: Mapping[str, float]
    voltage_v: float = math.nan          # operating voltage (nan: not stated, no scaling)
    vf_table: tuple[tuple[float, float], ...] = ()  # (clock_hz, volts) points, interpolated
    weight_density: float = 1.0          # unstructured sparsity: the fraction of weights kept
    sparse_index_bits: float = math.nan  # ... each kept weight's index (stated when density < 1)
    sparse_skip_efficiency: float = math.nan  # ... share of the zero MACs the array skips
    schedule: str = "independent"        # SCHEDULES: how one batch uses the engines
    fused_overlap: bool = True           # fused layers overlap tile by tile (fusion.py)
    pipeline_cuts: tuple[str, ...] = ()  # pipeline: first layer of stages 2.. (() = balanced)

    @property
    def unstructured(self) -> bool:
        return self.weight_density < 1.0

    @property
    def volts(self) -> float:
        """The operating voltage: voltage_v, or the V-f table at clock_hz (nan: not stated)."""
        if self.vf_table:
            hz, volts = zip(*self.vf_table)
            return float(np.interp(self.clock_hz, hz, volts))
        return self.voltage_v

    @property
    def rate(self) -> float:
        """MACs per PE per cycle at the configured precision."""
        return self.macs_per_pe_cycle[self.precision]

    @property
    def element_bytes(self) -> float:
        return self.bytes_per_element[self.precision]

    @property
    def peak_macs_per_s(self) -> float:
        """One engine's peak."""
        return self.array_rows * self.array_cols * self.rate * self.clock_hz


@dataclass(frozen=True)
class Memory:
    sram_bytes: int
    dram_bytes_per_s: float
    dram_efficiency: float
    sram_bytes_per_s: float
    double_buffering: bool
    fusion: bool
    weights_resident: bool
    dram_share_per_engine: float
    masters: tuple[Master, ...]
    mixed_efficiency: float = math.nan  # set by the reader (default MIXED_EFFICIENCY x dram_efficiency)
    write_cost: float = 1.1
    read_cost: float = 1.0
    npu_burst_bytes: float = 256.0

    @property
    def usable_dram_bytes_per_s(self) -> float:
        return self.dram_bytes_per_s * self.dram_efficiency




@dataclass(frozen=True)
class Energy:
    pj_per_mac: Mapping[str, float]
    sram_pj_per_byte: float
    dram_pj_per_byte: float
    static_w: float                  # every engine powered: always_on_w + engines x engine_static_w
    always_on_w: float = math.nan    # set by the reader
    engine_static_w: float = 0.0
    gate_after_s: float = 1e-4
    wakeup_j: float = 0.0
    reference_voltage_v: float = math.nan


@dataclass(frozen=True)
class Batching:
    max_batch: int
    timeout_s: float


@dataclass(frozen=True)
class Hardware:
    name: str
    source: str
    compute: Compute
    memory: Memory
    energy: Energy
    batching: Batching
    llm: Any = None          # harness.accel.llm.LLMSettings: how a decoder LLM is served

    @property
    def engines(self) -> int:
        return self.compute.engines

    def describe(self) -> dict[str, Any]:
        """The effective configuration as plain data (JSON-safe; loads back with load_hardware)."""
        compute = {k: getattr(self.compute, k) for k in Compute.__dataclass_fields__}
        compute["sparsity"] = "{}:{}".format(*self.compute.sparsity)
        compute["pipeline_cuts"] = list(compute["pipeline_cuts"])
        for key, default in (("schedule", "independent"), ("fused_overlap", True), ("pipeline_cuts", [])):
            if compute[key] == default:
                del compute[key]  # the defaults: results of earlier versions stay alike
        for key in ("macs_per_pe_cycle", "bytes_per_element"):
            compute[key] = dict(compute[key])
        memory = {k: getattr(self.memory, k) for k in Memory.__dataclass_fields__}
        memory["masters"] = [_fields(m) for m in self.memory.masters]
        if math.isinf(self.memory.sram_bytes_per_s):
            del memory["sram_bytes_per_s"]  # the default: never the limit
        compute["vf_table"] = [list(p) for p in self.compute.vf_table]
        energy = _fields(self.energy)
        energy["pj_per_mac"] = dict(self.energy.pj_per_mac)
        return {"name": self.name, "adapter": "accelerator", "compute": _stated(compute),
                "memory": memory, "energy": _stated(energy), "batching": _fields(self.batching),
                **({"llm": self.llm.describe()} if self.llm is not None else {})}


def _stated(table: dict[str, Any]) -> dict[str, Any]:
    """Without the keys left unstated (nan, or an empty table): JSON-safe and loads back."""
    return {k: v for k, v in table.items()
            if not (isinstance(v, float) and math.isnan(v)) and v != []}


def _fields(record: Any) -> dict[str, Any]:
    return {k: getattr(record, k) for k in record.__dataclass_fields__}


# ---------------------------------------------------------------- small checks


def at_least_one(v: int) -> str | None:
    return None if v >= 1 else "must be an integer >= 1"


def sparsity_ratio(v: str) -> str | None:
    return None if parse_ratio(v) else 'must be "N:M" with 1 <= N <= M, e.g. "2:4" ("1:1" = dense)'


def parse_ratio(text: str) -> tuple[int, int] | None:
    n, sep, m = text.partition(":")
    if not (sep and n.strip().isdigit() and m.strip().isdigit()):
        return None
    n_i, m_i = int(n), int(m)
    return (n_i, m_i) if 1 <= n_i <= m_i else None


def cost_factor(v: float) -> str | None:
    return None if 0.5 <= v <= 4.0 else "must be a number from 0.5 to 4 (bytes of DRAM time per byte)"


def positive_or_inf(v: float) -> str | None:
    return None if v > 0 else "must be a number > 0 (inf allowed)"


# ---------------------------------------------------------------- tables


def _precision_table(r: Reader, key: str, defaults: dict[str, float]) -> Mapping[str, float]:
    t = r.table(key)
    merged = dict(defaults)
    for precision in t.data:
        if precision not in PRECISIONS:
            continue  # reported by done() as unknown
        value = t.get(precision, float, check=positive)
        if value is not None:
            merged[precision] = value
    t.done()
    return MappingProxyType(merged)


def _read_compute(r: Reader) -> Compute | None:
    c = r.table("compute", required=True)
    rows = c.get("array_rows", int, check=within(1, 65536))
    cols = c.get("array_cols", int, check=within(1, 65536))
    values = dict(
        array_rows=rows, array_cols=cols,
        dataflow=c.get("dataflow", str, check=one_of(*DATAFLOWS, "auto")),
        clock_hz=c.get("clock_hz", float, check=within(1e3, 1e11, " Hz")),
        engines=c.get("engines", int, check=within(1, 1024)),
        precision=c.get("precision", str, check=one_of(*PRECISIONS)),
        sparsity=parse_ratio(c.get("sparsity", str, default="1:1", check=sparsity_ratio) or "1:1"),
        vector_lanes=c.get("vector_lanes", int, default=cols or 1, check=at_least_one),
        depthwise=c.get("depthwise", str, default="array", check=one_of(*DEPTHWISE)),
        macs_per_pe_cycle=_precision_table(c, "macs_per_pe_cycle", MACS_PER_PE_CYCLE),
        bytes_per_element=_precision_table(c, "bytes_per_element", BYTES_PER_ELEMENT),
        voltage_v=c.get("voltage_v", float, default=math.nan, check=positive),
        vf_table=_vf_table(c),
        schedule=c.get("schedule", str, default="independent", check=one_of(*SCHEDULES)),
        fused_overlap=c.get("fused_overlap", bool, default=True),
        pipeline_cuts=_names(c, "pipeline_cuts"),
        **_unstructured(c),
    )
    c.done()
    return None if any(v is None for v in values.values()) else Compute(**values)


def _unstructured(c: Reader) -> dict[str, Any]:
    """Unstructured weight sparsity: the kept fraction, and - required with it, no defaults -
    the index bits per kept weight and the share of zero MACs the array skips."""
    density = c.get("weight_density", float, default=1.0, check=within(1e-3, 1.0))
    needed = density is not None and density < 1.0
    bits = c.get("sparse_index_bits", float, default=math.nan, check=within(0, 64, " bits"))
    skip = c.get("sparse_skip_efficiency", float, default=math.nan, check=within(0, 1))
    for key in ("sparse_index_bits", "sparse_skip_efficiency"):
        if needed and not c.has(key):
            c.problem(key, NO_VALUE, "required with compute.weight_density < 1 (no default: state your format's)")
    if needed and c.has("sparsity") and c.data.get("sparsity") not in ("1:1",):
        c.problem("weight_density", density, "set either N:M sparsity or weight_density, not both")
    return {"weight_density": density, "sparse_index_bits": bits, "sparse_skip_efficiency": skip}


def _read_master(m: Reader) -> Master | None:
    values = dict(
        name=m.get("name", str),
        bytes_per_s=m.get("bytes_per_s", float, check=within(1, 1e14, " B/s")),
        period_s=m.get("period_s", float, check=within(1e-6, 3600, " s")),
        duty=m.get("duty", float, default=1.0, check=fraction),
        priority=m.get("priority", str, default="realtime", check=one_of(*PRIORITIES)),
        direction=m.get("direction", str, default="read", check=one_of(*DIRECTIONS)),
        fifo_bytes=m.get("fifo_bytes", float, default=0.0, check=non_negative),
    )
    m.done()
    return None if any(v is None for v in values.values()) else Master(**values)


def _read_memory(r: Reader) -> Memory | None:
    m = r.table("memory", required=True)
    masters = [_read_master(t) for t in m.tables("masters")]
    values = dict(
        sram_bytes=m.get("sram_bytes", int, check=within(1, 2**40, " B")),
        dram_bytes_per_s=m.get("dram_bytes_per_s", float, check=within(1e3, 1e14, " B/s")),
        dram_efficiency=m.get("dram_efficiency", float, check=fraction),
        sram_bytes_per_s=m.get("sram_bytes_per_s", float, default=math.inf, check=positive_or_inf),
        double_buffering=m.get("double_buffering", bool, default=True),
        fusion=m.get("fusion", bool, default=True),
        weights_resident=m.get("weights_resident", bool, default=True),
        mixed_efficiency=m.get("mixed_efficiency", float, default=math.nan, check=fraction),
        write_cost=m.get("write_cost", float, default=1.1, check=cost_factor),
        read_cost=m.get("read_cost", float, default=1.0, check=cost_factor),
        npu_burst_bytes=m.get("npu_burst_bytes", float, default=256.0, check=positive),
        dram_share_per_engine=m.get("dram_share_per_engine", float, default=1.0, check=fraction),
    )
    m.done()
    if any(v is None for v in values.values()) or any(x is None for x in masters):
        return None
    if math.isnan(values["mixed_efficiency"]):
        values["mixed_efficiency"] = MIXED_EFFICIENCY * values["dram_efficiency"]
    return Memory(**values, masters=tuple(masters))


def _names(c: Reader, key: str) -> tuple[str, ...] | None:
    raw = c.get(key, list, default=[])
    if raw is None:
        return None
    if not all(isinstance(v, str) and v for v in raw):
        c.problem(key, raw, "must be a list of layer names")
        return None
    return tuple(raw)


def _vf_table(c: Reader) -> tuple[tuple[float, float], ...]:
    raw = c.get("vf_table", list, default=[])
    points = []
    for i, point in enumerate(raw or []):
        ok = (isinstance(point, list) and len(point) == 2
              and all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
                      and math.isfinite(v) for v in point))
        if not ok:
            c.problem(f"vf_table[{i}]", point, "must be [clock_hz, volts], both numbers > 0")
            return ()
        points.append((float(point[0]), float(point[1])))
    if [p[0] for p in points] != sorted({p[0] for p in points}):
        c.problem("vf_table", raw, "clock_hz must rise strictly from point to point")
        return ()
    return tuple(points)


def _static_split(e: Reader, engines: int) -> dict[str, float] | None:
    """static_w alone: all of it always on (no gating). always_on_w and engine_static_w: the
    per-engine part is gated while an engine idles; static_w, if also given, must be their sum
    with every engine powered."""
    total = e.get("static_w", float, default=math.nan, check=non_negative)
    on = e.get("always_on_w", float, default=math.nan, check=non_negative)
    per = e.get("engine_static_w", float, default=math.nan, check=non_negative)
    if None in (total, on, per):
        return None
    if math.isnan(on) and math.isnan(per):
        if math.isnan(total):
            if not e.has("static_w"):  # else its bad value is reported already
                e.problem("static_w", NO_VALUE, "required key is missing (or always_on_w and "
                          "engine_static_w)")
            return None
        return {"static_w": total, "always_on_w": total, "engine_static_w": 0.0}
    on = total - engines * per if math.isnan(on) else on
    per = (total - on) / engines if math.isnan(per) else per
    whole = on + engines * per
    if math.isnan(whole) or on < 0 or per < 0 or (not math.isnan(total) and
                                                  not math.isclose(total, whole, rel_tol=1e-9)):
        e.problem("static_w", total, f"must equal always_on_w + engines x engine_static_w "
                  f"(= {whole:.6g} W); give two of the three")
        return None
    return {"static_w": whole, "always_on_w": on, "engine_static_w": per}


def _read_energy(r: Reader, engines: int = 1) -> Energy | None:
    e = r.table("energy", required=True)
    t = e.table("pj_per_mac", required=True)
    pj = {}
    for precision in t.data:
        if precision in PRECISIONS:
            pj[precision] = t.get(precision, float, check=non_negative)
    t.done()
    values = dict(
        sram_pj_per_byte=e.get("sram_pj_per_byte", float, check=non_negative),
        dram_pj_per_byte=e.get("dram_pj_per_byte", float, check=non_negative),
        gate_after_s=e.get("gate_after_s", float, default=1e-4, check=non_negative),
        wakeup_j=e.get("wakeup_j", float, default=math.nan, check=non_negative),
        reference_voltage_v=e.get("reference_voltage_v", float, default=math.nan, check=positive),
    )
    static = _static_split(e, engines)
    e.done()
    if static is None or any(v is None for v in [*values.values(), *pj.values()]):
        return None
    if math.isnan(values["wakeup_j"]):  # refilling the gated rails: WAKEUP_S of its leakage
        values["wakeup_j"] = WAKEUP_S * static["engine_static_w"]
    return Energy(pj_per_mac=MappingProxyType(pj), **values, **static)


def _read_batching(r: Reader) -> Batching | None:
    b = r.table("batching")
    max_batch, timeout_s = batching(b)
    b.done()
    return None if max_batch is None or timeout_s is None else Batching(max_batch, timeout_s)


def period_fraction(period_s: float) -> Fraction:
    """A master's period as a fraction (denominator <= 1e6) so hyperperiods are exact."""
    return Fraction(period_s).limit_denominator(1_000_000)


# ---------------------------------------------------------------- entry points


def read_hardware(r: Reader, name: str) -> Hardware | None:
    """The adapter's tables from a system file already being read; problems go to r.problems."""
    compute = _read_compute(r)
    memory = _read_memory(r)
    energy = _read_energy(r, compute.engines if compute else 1)
    batching = _read_batching(r)
    from harness.accel.llm import read_llm

    llm = read_llm(r)
    if None in (compute, memory, energy, batching):
        return None
    hw = Hardware(name=name, source=r.source, compute=compute, memory=memory, energy=energy,
                  batching=batching, llm=llm)
    from harness.accel.rules import CROSS_FIELD_RULES

    before = len(r.problems.items)
    for rule in CROSS_FIELD_RULES:
        rule(hw, r)
    return hw if len(r.problems.items) == before else None


def load_hardware(path_or_dict: str | Path | dict, source: str | None = None,
                  overrides: dict[str, Any] | None = None) -> Hardware:
    """A whole system file (path or parsed dict) → Hardware; one ConfigError lists all problems."""
    if isinstance(path_or_dict, dict):
        raw, label = copy.deepcopy(path_or_dict), source or "<dict>"
    else:
        label = source or str(path_or_dict)
        raw = read_toml(Path(path_or_dict), label)
    origins = apply_overrides(raw, overrides or {})
    problems = Problems()
    r = Reader(raw, label, problems, origins=origins)
    name = r.get("name", str, default=MISSING)
    r.get("adapter", str, check=one_of("accelerator"))
    r.ignore("description", "settings")  # identity and test settings belong to harness.measure.systems
    hw = read_hardware(r, name or "")
    r.done()
    problems.raise_if_any()
    assert hw is not None
    return hw
