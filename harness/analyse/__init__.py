"""Reading results (ours and MLPerf submissions) into one row model; compare, gate and check.

The library behind `bench compare`, `bench gate` and `bench check`; it never imports the CLI.
"""
