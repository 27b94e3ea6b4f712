"""`bench` entry point: a click group whose subcommands are imported only when used."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import sys
from pathlib import Path

import click

from harness import __version__
from harness.errors import BenchError
from harness.results.escape import terminal_line

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


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """`bench --help` lists the commands from their docstrings, read without importing
        them (a command's imports - numpy, numba, the report - cost seconds)."""
        rows = [(name, _summary(COMMANDS[name])) for name in self.list_commands(ctx)]
        limit = formatter.width - 6 - max(len(name) for name, _ in rows)
        with formatter.section("Commands"):
            formatter.write_dl([(name, click.Command(name, help=text).get_short_help_str(limit))
                                for name, text in rows])

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


def _summary(module: str) -> str:
    """The docstring of harness.cli.<module>'s `command`, as click would show it."""
    spec = importlib.util.find_spec(f"harness.cli.{module}")
    if spec is None or spec.origin is None:
        return ""
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "command":
            return inspect.cleandoc(ast.get_docstring(node) or "")
    return ""


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bench")
def cli() -> None:
    """MLPerf-style inference benchmarking: run, profile, report, compare, gate, check, sweep."""


def fail(lines: list[str], code: int = 2) -> None:
    for line in lines:   # each problem one line, whatever names and values it quotes
        click.echo(f"bench: error: {terminal_line(line)}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    try:
        code = cli.main(args=argv, prog_name="bench", standalone_mode=False)
    except BenchError as exc:
        fail(exc.lines(), exc.exit_code)
    except click.exceptions.Abort:
        fail(["interrupted"], 130)
    except click.ClickException as exc:
        fail([exc.format_message()], 2)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        fail(["interrupted"], 130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
