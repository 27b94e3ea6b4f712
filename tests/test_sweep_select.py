"""Pareto front and best configuration on a table of known rows."""

import pandas as pd

from harness.sweep.select import best, describe, pareto_mask
from harness.sweep.spec import Best, Constraint, DEFAULT_OBJECTIVES

#        name   status    p99_s   samples/s  J/sample  W     valid
ROWS = [("a", "ok",      0.010,  1000,      0.002,    2.0,  True),   # front
        ("b", "ok",      0.020,  1000,      0.002,    2.0,  True),   # dominated by a
        ("c", "ok",      0.014,  1500,      0.003,    4.5,  True),   # front: fastest within 15 ms
        ("d", "ok",      0.030,  3000,      0.001,    3.0,  False),  # front, but INVALID
        ("e", "failed",  None,   None,      None,     None, None),
        ("f", "ok",      0.012,  1400,      0.0012,   1.7,  True),   # front: best under 2 W
        ("g", "ok",      0.012,  1400,      0.0012,   1.7,  True),   # tie with f: both on the front
        ("h", "ok",      0.009,  900,       None,     None, True)]   # no energy: on no energy front
COLUMNS = ["point", "status", "p99_s", "samples_per_s", "energy_per_sample_j", "power_w", "valid"]
FRAME = pd.DataFrame(ROWS, columns=COLUMNS)


def names(mask) -> list[str]:
    return list(FRAME.loc[mask, "point"])


def test_pareto_front_of_latency_throughput_energy():
    assert names(pareto_mask(FRAME, DEFAULT_OBJECTIVES)) == ["a", "c", "d", "f", "g"]


def test_pareto_front_of_two_objectives():
    front = pareto_mask(FRAME, (("p99_s", "min"), ("samples_per_s", "max")))
    assert names(front) == ["a", "c", "d", "f", "g", "h"]


def test_best_under_latency_and_power_constraints():
    spec = Best("samples_per_s", "max", (Constraint("p99_s", high=0.015), Constraint("power_w", high=2.0),
                                         Constraint("valid", equals=True)))
    choice = best(FRAME, spec)
    assert FRAME.loc[choice.index, "point"] == "f"          # tie with g: the earlier point
    assert (choice.feasible, choice.considered) == (3, 7)   # a, f, g of the 7 that finished
    assert describe(spec) == "highest samples_per_s with p99_s <= 0.015, power_w <= 2, valid = True"


def test_best_without_power_limit_and_minimising():
    fastest = best(FRAME, Best("samples_per_s", "max", (Constraint("p99_s", high=0.015),)))
    assert FRAME.loc[fastest.index, "point"] == "c"
    frugal = best(FRAME, Best("energy_per_sample_j", "min", (Constraint("samples_per_s", low=1000),)))
    assert FRAME.loc[frugal.index, "point"] == "d"


def test_no_feasible_point():
    choice = best(FRAME, Best("samples_per_s", "max", (Constraint("p99_s", high=0.001),)))
    assert choice.index is None and choice.feasible == 0
