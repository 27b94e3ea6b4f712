"""A stand-in for a real model: 2 ms of work per sample. bench calls `infer` with one batch of
sample indices from `workers` threads and times it on the wall clock."""

import time


def infer(samples: list[int]) -> None:
    time.sleep(0.002 * len(samples))
