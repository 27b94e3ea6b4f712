"""bench: an MLPerf-style inference benchmarking harness."""

__version__ = "0.1.0"
