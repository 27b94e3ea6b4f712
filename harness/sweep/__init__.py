"""Design-space sweeps: a grid or a list of points over systems x workloads x scenarios x
overrides, each point an ordinary run (or a profile), run locally on a process pool or on an
existing Dask cluster, summarised in a table and a page with the Pareto front and the best
configuration under stated constraints.

    sweep = load_sweep("examples/npu_sweep.toml")   # strict: every problem reported together
    check_inputs(sweep)                             # the files it names, each value checked once
    done = run_sweep(sweep, Path("reports/sweep"), workers=2)   # or scheduler="tcp://..."
    done.frame                                      # the summary table (also summary.parquet)

Modules: spec (the file format), params (parameter keys and their translation), check, inputs,
execute (one point, in a worker), pool (in-process, process pool, Dask), store (directories and
summary), select (Pareto front, best configuration), run; sweep.html is drawn by
harness.render (sweep_charts, sweep_page).
"""

from harness.sweep.check import check_inputs
from harness.sweep.run import SweepRun, default_out, run_sweep
from harness.sweep.spec import Sweep, load_sweep

__all__ = ["Sweep", "SweepRun", "check_inputs", "default_out", "load_sweep", "run_sweep"]
