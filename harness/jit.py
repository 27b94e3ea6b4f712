"""numba for the compiled kernels, imported from here so that its start-up fix comes first.

When numba first loads its library of numpy functions it checks for BLAS by importing
scipy.linalg: 0.22 s of every compiled run on the 2-core machine, more than loading the cached
kernels. No kernel here does linear algebra, so that check is told scipy's BLAS is absent; only
np.dot and its kin would then fail to compile. A process that imported scipy.linalg already keeps
numba's usual check.
"""

from __future__ import annotations

import sys

from numba import njit

__all__ = ["njit"]

_BLAS = "scipy.linalg.cython_blas"


def _load_numpy_library_without_blas() -> None:
    if _BLAS in sys.modules:
        import numba.np.arraymath  # noqa: F401  (BLAS already loaded: nothing to save)
        return
    sys.modules[_BLAS] = None   # an import of it raises ImportError: "no BLAS"
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        del sys.modules[_BLAS]


_load_numpy_library_without_blas()
