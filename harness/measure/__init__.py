"""Measuring: test settings, the query schedule, the clock seam (virtual and real time),
the load generator, one run end to end, and the peak search."""
