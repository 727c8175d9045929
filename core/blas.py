"""NumPy's BLAS (OpenBLAS) on one thread.

This project's NumPy products are small (a few rows in generation, a few thousand frames times 12
pitch classes in chord recognition), where a second BLAS thread finishes no sooner and takes the
core that another job needs: the GUI, the audio, a second preprocessing worker. ``threadpoolctl``
reaches that BLAS whichever library NumPy was built with. Measured on the 2-core VM
(``benchmarks/README.md``): chord recognition of the 152,000-note test piece takes 113 ms on one
thread and 127-138 ms (twice the CPU) on two; preprocessing the corpus with 2 workers runs at 260-285
files/s with one BLAS thread per worker and 198-224 files/s with two.

The app, the command line and every preprocessing worker call :func:`one_thread_from_now`;
generation also holds :func:`one_thread` while it runs, for callers of the library itself.
"""

from __future__ import annotations

import functools
from contextlib import AbstractContextManager

import numpy  # noqa: F401  (loaded first: the controller finds the BLAS libraries already loaded)
from threadpoolctl import ThreadpoolController


@functools.cache
def _controller() -> ThreadpoolController:
    """The BLAS libraries loaded in this process (found once: the search walks the loaded libraries)."""
    return ThreadpoolController()


def one_thread() -> AbstractContextManager:
    """NumPy's BLAS on one thread inside a ``with`` block, its thread count restored after."""
    return _controller().limit(limits=1, user_api="blas")


def one_thread_from_now() -> None:
    """NumPy's BLAS on one thread for the rest of this process."""
    _controller().limit(limits=1, user_api="blas")
