"""How many BLAS threads the NumPy engine runs its products on (issue 18).

The engine's products are ``(S, d) @ (d, d)`` once or a few times per stage. Below about
``2**26`` multiply-adds a product is done in well under a millisecond, and splitting it over
threads costs more than it saves: OpenBLAS's default threads ran RandomQuadratic at
``d = 256``, ``S = 32`` 13x slower than one thread on a 2-core machine shared with other
processes (issue 18's measurement). :func:`small_product_threads` holds BLAS to one thread
around a run whose products are that small, through ``threadpoolctl`` (which finds the BLAS
NumPy loaded, OpenBLAS, MKL or BLIS, and restores its setting afterwards); larger products keep
the default.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from threadpoolctl import ThreadpoolController

__all__ = ["SMALL_PRODUCT", "small_product_threads"]

#: Multiply-adds of one ``(S, d1 + d2) @ (d1 + d2, d2)`` product below which BLAS runs on one
#: thread.
SMALL_PRODUCT = 1 << 26

_controller: ThreadpoolController | None = None


@contextlib.contextmanager
def small_product_threads(num_envs: int, d1: int, d2: int) -> Iterator[None]:
    """One BLAS thread within the block if a stage's products are small (see the module
    docstring), else BLAS's own setting."""
    d = d1 + d2
    if num_envs * d * d >= SMALL_PRODUCT:
        yield
        return
    global _controller
    if _controller is None:  # finding the loaded libraries is the costly part: once
        _controller = ThreadpoolController()
    with _controller.limit(limits=1, user_api="blas"):
        yield
