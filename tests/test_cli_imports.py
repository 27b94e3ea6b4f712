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
