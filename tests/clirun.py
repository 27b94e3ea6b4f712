"""Running the bench CLI in-process from tests: bench(capsys, *args) -> (exit code, stdout, stderr)."""

from harness.cli.main import main


def bench(capsys, *args):
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = 0 if exc.code is None else exc.code
    out, err = capsys.readouterr()
    return code, out, err
