"""Judging a run from its records: LoadGen's statistics, early stopping, token figures and
the verdict. Pure functions of (records, effective settings)."""
