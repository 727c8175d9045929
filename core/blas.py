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


# OpenBLAS's AVX-512 kernels, the ones with its GEMM for small matrices (``SMALL_MATRIX_OPT``).
SMALL_MATRIX_KERNELS = ("skylakex", "cooperlake", "sapphirerapids")


@functools.cache
def has_small_matrix_kernel() -> bool:
    """Whether NumPy's BLAS is an OpenBLAS running kernels with a GEMM for small matrices (on CPUs with
    AVX-512), which reads a block of weights once for a few rows (:mod:`core.generation.fast.lstm`)."""
    return any(
        str(library.get("architecture", "")).lower() in SMALL_MATRIX_KERNELS
        for library in _controller().select(internal_api="openblas").info()
    )
