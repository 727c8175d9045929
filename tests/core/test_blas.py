"""NumPy's BLAS on one thread: inside a block (its count back after), for the rest of a process, and
in every preprocessing worker."""

from threadpoolctl import threadpool_info, threadpool_limits

from core import blas
from core.preprocess.workers import run_in_workers


def blas_threads(_job: object = None) -> set[int]:
    return {library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"}


def test_one_thread_inside_a_block_and_the_count_back_after_it():
    with threadpool_limits(limits=None, user_api="blas"):  # whatever the test changes, undone after
        before = blas_threads()
        with blas.one_thread():
            assert blas_threads() == {1}
        assert blas_threads() == before
        blas.one_thread_from_now()
        assert blas_threads() == {1}


def test_every_preprocessing_worker_runs_its_blas_on_one_thread():
    assert list(run_in_workers(blas_threads, [0, 1], jobs=2)) == [{1}, {1}]
    assert list(run_in_workers(blas_threads, [0], jobs=1)) == [{1}]
