"""Engines that share one DRAM at every instant: an exact fluid simulation of a whole run.

Each busy engine runs its batch as phases, one per layer (compute seconds c, DRAM bytes D;
timeline.py). An engine *requests* DRAM while its current phase still has bytes to move. While
n engines request, each moves data at `contention.engine_bandwidth(memory, n)`: what the
realtime masters leave, shared max-min fairly by the n engines (each capped at
`dram_share_per_engine` of it) and the active best-effort masters. An idle or computing
engine's share therefore goes to the busy ones, and the NPU's total never exceeds the leftover.
With double buffering a phase ends at max(compute done, transfer done); without, its compute
starts when its transfer is done.

Between two events - a transfer done, a phase's end (the next phase's transfer starts), a
batch's start or end - n is constant and every requester moves the same bytes: the exact
integral of its periodic piecewise-constant bandwidth, in which the masters' switches are
folded (they are no events). The smallest remaining transfer ends first. So the simulation
steps from event to event with no time step; it is exact up to float rounding
(tests/test_accel_joint.py checks it against the single-engine ServiceTable and hand-computed
cases). The stepping is compiled (harness.accel.fluid, numba): one call per batch start or end.

The serving pool drives it (harness.sut.pool, `shared`): `begin` and `end` commit the state to
the pool's instant, then speculate - step the state on until the first batch ends, then put it
back - and return that end, which the pool schedules and drops when a later start changes the rates. The speculation
keeps its steps, and the next commit replays those that end by its instant instead of stepping
them again (the same arithmetic, so the same records and state, bit for bit).

Records: the NPU's and each best-effort master's bytes in BIN_S bins over the whole run, and
every instant at which the number of requesting engines changes, up to the end of the zoom
window (`timeline` turns them into the DRAM timeline of result.json).
"""

from __future__ import annotations

import math

import numpy as np

from harness.accel import energy as en
from harness.accel import fluid
from harness.accel.contention import best_effort_grants, engine_bandwidths
from harness.accel.model import AcceleratorModel, BatchPlan

BIN_S = 0.01            # whole-run bins: bytes per 10 ms, regrouped for result.json
ZOOM_AFTER_S = 1.0      # the zoom window starts at the first hyperperiod boundary after this
ZOOM_PERIODS = 3        # ... and spans this many periods of the slowest master
ZOOM_RECORDS = 400_000  # at most this many changes of n are kept
SPECULATED_STEPS = 4096  # a speculation keeps this many steps for the commit to replay


def _cumulative(period: float, edges: np.ndarray, rates: np.ndarray) -> tuple[np.ndarray, float]:
    cum = np.concatenate([[0.0], np.cumsum(rates * np.diff(edges))])
    return cum, float(cum[-1])


def fluid_phases(phases) -> list[tuple[float, float, float]]:
    """(compute_s, dram_bytes, moved_per_byte) of a batch's phases as the fluid steps them.
    Layers that move no DRAM bytes in a row are one phase of their summed compute: between them
    nothing changes that another engine sees (neither requests DRAM), so only the instants'
    float rounding differs, and every step costs the same (a warm resnet50 batch on npu_v2:
    72 layers, 10 phases)."""
    out: list[tuple[float, float, float]] = []
    for ph in phases:
        if ph.dram_bytes <= 0 and out and out[-1][1] <= 0:
            out[-1] = (out[-1][0] + ph.compute_s, out[-1][1], out[-1][2])
        else:
            out.append((ph.compute_s, ph.dram_bytes, ph.moved_per_byte))
    return out


class JointDram:
    """The DRAM shared by the engines of one AcceleratorModel, stepped with the serving pool."""

    def __init__(self, model: AcceleratorModel):
        self.model = model
        memory, engines = model.hardware.memory, model.engines
        bands = engine_bandwidths(memory, engines)
        self.period, self.edges = bands[0].period_s, bands[0].edges
        rate = np.ones((engines + 1, len(self.edges) - 1))
        for n, lo in enumerate(bands, 1):
            rate[n] = lo.rates
        self.band = self._band(rate)
        self.plans: list[BatchPlan] = []
        self._packed: tuple | None = None
        self.phases = self._phases()
        self.grants = best_effort_grants(memory, engines)[2]
        self.span = ZOOM_PERIODS * max((m.period_s for m in memory.masters), default=0.1 / ZOOM_PERIODS)
        self.zoom_start = math.ceil(ZOOM_AFTER_S / self.period) * self.period
        self.rec = self._records(memory.double_buffering)
        self.eng = np.zeros((engines, 5))
        self.eng[:, fluid.PLAN] = -1.0
        self.clock = self.rec[6][fluid.CLOCK:fluid.CLOCK + 1]
        self.seg = np.zeros((SPECULATED_STEPS + 1, fluid.STATE + self.eng.size))
        self.warm: set[int] = set()
        self.resident = [plan.placement.resident for plan in self.plans]
        self.costs = [self._row(plan) for plan in range(2 * len(self.plans))]
        self.meta = self.rec[6]
        self._grow_at = (self.rec[0].shape[0] - 2) * BIN_S

    @property
    def phases(self) -> tuple:
        """(c, d, first, a): see harness.accel.fluid; settable (tests write their own)."""
        return self._phases_now

    @phases.setter
    def phases(self, value: tuple) -> None:
        self._phases_now = value
        self._packed = None

    def _pack(self) -> tuple:
        """band, phases and the grants as fluid.step takes them: one flat array and its layout."""
        edges, cum, rate, per, period = self.band
        c, d, first, a = self.phases
        _, gcum, grate, gper = self.rec[:4]
        parts = [edges, cum, rate, per, np.array([period]), c, d, a, gcum, grate, gper]
        assert len(parts) == fluid.PARTS
        layout, offset = [], 0
        for part in parts:
            rows, cols = (part.shape[0], part.shape[1]) if part.ndim == 2 else (1, part.size)
            layout += [offset, rows, cols]
            offset += part.size
        const = np.concatenate([np.asarray(p, dtype=float).ravel() for p in parts])
        return const, np.array(layout + list(first), dtype=np.int64)

    def _band(self, rate: np.ndarray) -> tuple:
        cum = np.zeros((rate.shape[0], rate.shape[1] + 1))
        per = np.ones(rate.shape[0])
        for n in range(rate.shape[0]):
            cum[n], per[n] = _cumulative(self.period, self.edges, rate[n])
        return self.edges, cum, rate, per, float(self.period)

    def _phases(self) -> tuple:
        """Flat phase arrays (fluid_phases of each plan): plan 2 i is model.run_plans()[i] warm
        (a batch of i + 1 but in a pipeline), plan 2 i + 1 cold."""
        c, d, first, a = [], [], [0], []
        for plan in self.model.run_plans():
            self.plans.append(plan)
            for phases in (plan.warm, plan.cold):
                for compute_s, dram_bytes, moved_per_byte in fluid_phases(phases):
                    c.append(compute_s)
                    d.append(dram_bytes)
                    a.append(moved_per_byte)
                first.append(len(c))
        return np.array(c), np.array(d), np.array(first, dtype=np.int64), np.array(a)

    def _records(self, double_buffering: bool) -> tuple:
        g = self.grants
        gcum = np.zeros(g.shape[:2] + (g.shape[2] + 1,))
        gper = np.ones(g.shape[:2])
        for n in range(g.shape[0]):
            for j in range(g.shape[1]):
                gcum[n, j], gper[n, j] = _cumulative(self.period, self.edges, g[n, j])
        gper[gper == 0] = 1.0  # a master that never asks: any period, zero bytes
        rows = g.shape[0] * g.shape[1]
        width = len(self.edges)
        gcum, g, gper = gcum.reshape(rows, width), g.reshape(rows, width - 1), gper.reshape(rows)
        bins = np.zeros((1024, 1 + self.grants.shape[1]))
        meta = np.zeros(fluid.META_SIZE)
        meta[[fluid.BIN_S, fluid.ZOOM_END, fluid.LAST_N, fluid.DOUBLE_BUFFERING, fluid.LAST_W]] = (
            BIN_S, self.zoom_start + self.span, -1.0, float(double_buffering), -1.0)
        self.zoom = np.zeros((3, ZOOM_RECORDS))  # zoom_t, zoom_n, zoom_w
        return [bins, gcum, g, gper, self.zoom[0], self.zoom[1], meta, self.zoom[2]]

    # ------------------------------------------------------------------ driven by the pool

    def plan_id(self, engine: int, samples: int) -> int:
        """Which phases a batch of `samples` on `engine` runs: the first on an engine loads
        the resident weights (cold)."""
        index = self.model.plan_index(engine, samples)
        cold = self.resident[index] and engine not in self.warm
        self.warm.add(engine)
        return 2 * index + int(cold)

    def begin(self, engine: int, plan: int, now: float) -> tuple[int, float] | None:
        """Start `plan` on `engine` at `now`; the next batch end (engine, instant)."""
        return self.step(now, engine, plan, -1)

    def end(self, engine: int, now: float) -> tuple[int, float] | None:
        """`engine`'s batch ends at `now` (as the last answer said); the next batch end."""
        return self.step(now, -1, 0, engine)

    def step(self, now: float, begin: int, plan: int, end: int) -> tuple[int, float] | None:
        """`begin` and `end` in one (-1: none), for the pool's hot path."""
        if now >= self._grow_at:
            self._grow(now)
        if self._packed is None:
            self._packed = self._pack()
        const, layout = self._packed
        engine, when = fluid.step(self.eng, self.meta, self.zoom, self.rec[0], self.seg, const,
                                  layout, now, begin, plan, end)
        if engine == -2:
            raise RuntimeError(f"DRAM simulation out of step with the pool at t = {now!r} s")
        return None if engine < 0 else (engine, when)

    def _grow(self, now: float) -> None:
        """More bins before `now` could reach past them."""
        bins = self.rec[0]
        self.rec[0] = np.concatenate([bins, np.zeros((bins.shape[0] + int(now / BIN_S), bins.shape[1]))])
        self._grow_at = (self.rec[0].shape[0] - 2) * BIN_S

    def cost(self, plan: int) -> tuple[en.Dynamic, float]:
        """A batch's dynamic energy and DRAM bytes, by its plan id."""
        batch = self.plans[plan // 2]
        if plan % 2:
            return batch.cold_energy, batch.cold_dram_bytes
        return batch.warm_energy, batch.warm_dram_bytes

    def _row(self, plan: int) -> tuple[float, float, float, float]:
        """cost(plan) as the batch log's columns: mac_j, sram_j, dram_j, dram_bytes."""
        dyn, nbytes = self.cost(plan)
        return dyn.mac, dyn.sram, dyn.dram, nbytes

    def dram_bytes(self) -> float:
        """Bytes the NPU has moved so far."""
        return float(self.rec[0][:, 0].sum())
