"""`bench --help` and `bench list` answer without the numeric stack: the commands are imported
only when run, and --help reads their summaries from source."""

import subprocess
import sys

import pytest

PROBE = """
import sys
from harness.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = sorted(m for m in ("numpy", "numba", "pyarrow", "matplotlib", "scipy") if m in sys.modules)
print("HEAVY", ",".join(heavy))
"""


@pytest.mark.parametrize("args", [["--help"], ["list", "systems"], ["list", "workloads"]])
def test_no_numeric_stack_is_imported(args):
    out = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                         check=True).stdout
    assert "HEAVY \n" in out or out.rstrip().endswith("HEAVY"), out


def test_help_lists_every_command_with_its_summary(capsys):
    from harness.cli.main import COMMANDS, main
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert f"\n  {name} " in out
    assert "Run a scenario against a system under test" in out


COMPILED_RUN = """
import dataclasses
import sys
from harness.measure.runner import RunRequest, execute, prepare
prepared = prepare(RunRequest("server", "npu_v2"))
settings = dataclasses.replace(prepared.settings.with_target_qps(50.0), min_duration_s=2.0,
                               min_query_count=100)
assert execute(prepared, settings).result["query_count"] > 0
print("LINALG", "scipy.linalg" in sys.modules)
import numba.np.arraymath, scipy.linalg
print("BLAS", numba.np.arraymath._HAVE_BLAS, "LATER", scipy.linalg.cython_blas is not None)
"""


def test_a_compiled_run_skips_numbas_blas_check_and_leaves_scipy_importable():
    """numba's BLAS check imports scipy.linalg (0.22 s); the kernels use no linear algebra
    (harness.jit), and scipy.linalg imports as usual afterwards."""
    out = subprocess.run([sys.executable, "-c", COMPILED_RUN], capture_output=True, text=True,
                         check=True).stdout
    assert "LINALG False" in out and "BLAS False LATER True" in out, out


def test_a_sweep_worker_runs_points_without_the_pages_code():
    """What a pool or Dask worker imports to run a point: no matplotlib (the page is the
    client's, drawn once at the end)."""
    probe = "import sys, harness.sweep.execute; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
