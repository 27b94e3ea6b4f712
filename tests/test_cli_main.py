"""`bench`'s entry point: the command listing comes without importing the commands."""

import importlib
import subprocess
import sys

import pytest

from harness.cli.main import COMMANDS, SUMMARIES


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_summary_is_the_first_paragraph_of_its_commands_help(name):
    command = importlib.import_module(f"harness.cli.{COMMANDS[name]}").command
    assert SUMMARIES[name] == command.help.split("\n\n")[0]


@pytest.mark.parametrize("argv", [["--help"], ["list", "systems"]])
def test_help_and_list_import_no_numeric_stack(argv):
    probe = ("import sys\nfrom harness.cli.main import main\ntry:\n    main(%r)\nexcept SystemExit:\n"
             "    pass\nprint(sorted(m for m in ('numpy', 'numba', 'pyarrow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe % argv], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_executable_collects_rarely_and_leaves_nothing_to_collect_at_exit():
    """`bench` (process) raises the young generation's threshold and freezes what is left before
    the interpreter's last collection; `main`, called inside longer-lived processes, does not."""
    probe = ("import gc\nfrom harness.cli.main import GC_YOUNG, main, process\n"
             "def call(f):\n    try:\n        f(['list', 'systems'])\n    except SystemExit:\n        pass\n"
             "    return gc.get_threshold()[0], gc.get_freeze_count() > 0\n"
             "before = gc.get_threshold()[0]\n"
             "print(call(main) == (before, False), call(process) == (GC_YOUNG, True))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "True True"


def test_a_missing_choice_is_one_line_that_lists_the_choices():
    out = subprocess.run([sys.executable, "-m", "harness.cli.main", "list"], capture_output=True,
                         text=True)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == ("bench: error: Missing argument '{systems|workloads|scenarios}'. "
                          "Choose from: systems, workloads, scenarios\n")
