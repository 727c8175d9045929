"""Decode a latent code several times and keep the bar whose own code comes back nearest to it.

The decoder writes a bar one event at a time, so one early slip (a wrong duration, a missing chord
member) carries through the bar: decoding the code of bar A greedily gives back A with note F1 ~0.72
on the interpolation model's validation works. A search over the output would be costly; a round
trip is cheap and asks the model itself: decode each code once with the composer's controls
(greedy by default) and ``candidates - 1`` more times sampled at :data:`SEARCH_TEMPERATURE`, encode
every candidate bar, and keep the one whose posterior mean lies nearest (Euclidean) to the code it was
decoded from. A bar the encoder maps back onto its code is one the model reads as that code.

Measured on the interpolation model's validation works (36 places, both ends, note F1 against the
real bar; three seeds): greedy alone 0.715; 8 candidates 0.737-0.752; 32 candidates 0.758-0.765;
the best of 8 chosen by hand (the ceiling of the choice) 0.78-0.79. Other choices did no better:
the log density of the code under each candidate's posterior (up to 0.01 worse), the decoder's own
likelihood of each candidate given the code (0.742-0.743), and greedy decodings of codes moved within
their posterior's spread (they all decode to the same bar). Candidate 0 is the bar the controls
alone would give, so ``candidates = 1`` is plain decoding.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

from core.generation.bars import BarPlan, Carry
from core.generation.controls import Temperatures
from core.generation.engine import encode_bars
from core.generation.latent import candidate_streams
from core.generation.sampler import DecodedBars, Sampler, Streams
from core.model.network import MahlerNet

SEARCH_TEMPERATURE = 0.7  # the extra candidates' temperature when the controls decode greedily


def decode_nearest(
    model: MahlerNet,
    sampler: Sampler,
    z: torch.Tensor,
    summary: torch.Tensor | None,
    plans: Sequence[BarPlan],
    carry: Carry,
    streams: Sequence[Streams],
    candidates: int,
    cancel: Callable[[], bool] | None = None,
) -> DecodedBars:
    """One bar per row of ``z`` (B, Z) (``summary``: the rows' context summaries or None), each the
    candidate whose re-encoded code is nearest to its row's code (see the module docstring)."""
    rows = z.shape[0]
    first = sampler.decode(model.initial_state(z, summary), plans, carry, streams, cancel=cancel)
    if candidates <= 1:
        return first
    extra = candidates - 1
    repeat = np.repeat(np.arange(rows), extra)
    index = torch.as_tensor(repeat)
    many_summary = None if summary is None else summary[index]
    temperatures = sampler.controls.temperatures
    if not any(temperatures.as_tuple()):
        temperatures = Temperatures.uniform(SEARCH_TEMPERATURE)
    others = sampler.decode(
        model.initial_state(z[index], many_summary),
        [plans[r] for r in repeat],
        carry.take(repeat),
        [s for k, s in enumerate(candidate_streams(streams, candidates)) if k % candidates],
        temperatures=temperatures,
        cancel=cancel,
    )

    # Every row's candidates, row-major, the controls' own bar first.
    order = [i for r in range(rows) for i in (r, *(rows + r * extra + k for k in range(extra)))]
    candidates_of_rows = DecodedBars.join([first, others]).take(order)
    everyone = torch.as_tensor(np.repeat(np.arange(rows), candidates))
    mu, _ = encode_bars(model, candidates_of_rows.events, None if summary is None else summary[everyone])
    return candidates_of_rows.best_of(((mu - z[everyone].to(mu)) ** 2).sum(dim=1).reshape(rows, candidates))
