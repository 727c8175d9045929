"""Jobs run side by side give the results of running them in order."""

import threading

import torch

from core.generation.side_by_side import _pool, side_by_side
from core.network import MahlerNet, one_after_another
from tests.core.generation.helpers import TINY


def test_results_come_back_in_the_order_of_the_jobs():
    jobs = [lambda value=value: value * value for value in range(5)]
    assert side_by_side(jobs) == [0, 1, 4, 9, 16]
    assert side_by_side(jobs[:1]) == [0]
    assert side_by_side([]) == []


def test_the_first_job_runs_on_the_calling_thread_and_another_on_the_helper():
    threads: list[str] = []
    helper_started = threading.Event()

    def first():
        helper_started.wait(timeout=10)  # the second job is under way before the first ends
        threads.append(threading.current_thread().name)

    def second():
        helper_started.set()
        threads.append(threading.current_thread().name)

    side_by_side([first, second])
    assert threading.current_thread().name in threads
    assert any(name.startswith("generation-helper") for name in threads)


def test_a_job_the_helper_has_not_started_is_taken_back():
    release = threading.Event()
    ran_on: list[str] = []
    # Keep the helper busy: side_by_side must not wait for it to run the queued job.
    blocker = _pool().submit(release.wait, 10)
    try:
        results = side_by_side([lambda: 1, lambda: ran_on.append(threading.current_thread().name) or 2])
    finally:
        release.set()
        blocker.result()
    assert results == [1, 2]
    assert ran_on == [threading.current_thread().name]


def test_inference_mode_follows_the_jobs_to_the_helper():
    def mode():
        return torch.is_inference_mode_enabled()

    with torch.inference_mode():
        assert side_by_side([mode, mode]) == [True, True]
    assert side_by_side([mode, mode]) == [False, False]


def test_encoders_give_the_same_summaries_side_by_side():
    torch.manual_seed(0)
    encoder = MahlerNet(TINY).context_encoder.eval()
    rows = torch.rand(3, 7, encoder.forward_lstm.input_size)
    lengths = torch.tensor([7, 4, 1])
    with torch.inference_mode():
        expected = encoder(rows, lengths, one_after_another)
        assert torch.equal(encoder(rows, lengths, side_by_side), expected)
