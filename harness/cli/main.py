"""`bench` entry point: a click group whose subcommands are imported only when used."""

from __future__ import annotations

import gc
import importlib
import re
import sys

import click

from harness import __version__
from harness.errors import BenchError
from harness.render.escape import terminal_line

# A command allocates few short-lived cycles but imports hundreds of thousands of long-lived
# objects (numba's above all), which the collector would otherwise walk again and again: young
# collections every GC_YOUNG allocations instead of 700, and nothing left to walk at exit (the
# interpreter's last full collection). The main job: 1.81-1.95 -> 1.48-1.73 s.
GC_YOUNG = 50_000

# command name -> module in harness.cli defining `command`
COMMANDS = {
    "run": "run",
    "profile": "profile",
    "report": "report",
    "compare": "compare",
    "gate": "gate",
    "check": "check",
    "sweep": "sweep",
    "list": "listing",
}

# command name -> the first paragraph of its help, so that `bench --help` imports no command
# (tests/test_cli_main.py checks these against the commands themselves)
SUMMARIES = {
    "run": "Run a scenario against a system under test and write a judged result.",
    "profile": "Per-layer MACs, cycles, DRAM bytes, time, bound and energy of one batch.",
    "report": "Write an HTML report of one result, or of several overlaid with deltas against the first.",
    "compare": "Compare results: one row per (system, workload, scenario).",
    "gate": "Compare candidate runs with baseline runs, rule by rule.",
    "check": "Check results for submission: our result directories and MLPerf submission trees.",
    "sweep": "Run every point of a sweep file; write the summary table and sweep.html.",
    "list": "List the shipped systems, workloads or scenarios.",
}


def _shorten(text: str, limit: int) -> str:
    """The first sentence, cut at a word to fit `limit` characters, with "..." when cut."""
    sentence = text.split(". ")[0]
    if len(sentence) <= limit:
        return sentence
    return sentence[:max(limit - 3, 0)].rsplit(" ", 1)[0].rstrip(",;:") + "..."


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's listing, from SUMMARIES instead of each imported command's help."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, _shorten(SUMMARIES[name], limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = COMMANDS.get(name)
        if module is None:
            return None
        try:
            return importlib.import_module(f"harness.cli.{module}").command
        except ModuleNotFoundError as exc:
            if exc.name == f"harness.cli.{module}":
                return None  # a command not built yet
            raise


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bench")
def cli() -> None:
    """MLPerf-style inference benchmarking: run, profile, report, compare, gate, check, sweep."""


def fail(lines: list[str], code: int = 2) -> None:
    for line in lines:   # each problem one line, whatever names and values it quotes
        click.echo(f"bench: error: {terminal_line(line)}", err=True)
    sys.exit(code)


def _one_line(message: str) -> str:
    """click's message with its list of choices on the line ("Choose from:\\n\\ta,\\n\\tb")."""
    return re.sub(r"([:,])\n\t", r"\1 ", message)


def process(argv: list[str] | None = None) -> None:
    """The `bench` executable: `main` in a process of its own, collected as above (not `main`
    itself, which tests and other programs call inside a process that lives on)."""
    gc.set_threshold(GC_YOUNG)
    try:
        main(argv)
    finally:
        gc.freeze()


def main(argv: list[str] | None = None) -> None:
    try:
        code = cli.main(args=argv, prog_name="bench", standalone_mode=False)
    except BenchError as exc:
        fail(exc.lines(), exc.exit_code)
    except click.exceptions.Abort:
        fail(["interrupted"], 130)
    except click.ClickException as exc:
        fail([_one_line(exc.format_message())], 2)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        fail(["interrupted"], 130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    process()
