"""Evaluation of a trained model: teacher-forced and free-running metrics per property.

* **Teacher-forced**: the decoder sees the true previous events and the chain the true earlier
  properties (as in training); accuracy, NLL and distance per property, from ``z = mu`` (no sampling,
  so the figures are reproducible). The KL is the mean per bar, summed over latent dimensions.
* **Free-running** (the paper's Table 2 method, through the app's own sampler): each bar is encoded
  to ``z = mu`` and decoded by :class:`core.generation.sampler.Sampler` (what the app, ``mahlernet
  continue`` and ``reconstruct`` use) greedily, with the default controls (playable-range clamp on),
  feeding back its own outputs until the barline, as composers get it; notes held over from the
  bar before come from the data. Step ``t`` is compared with event ``t``: offset and duration over
  every event of the true bar, pitch, instrument and velocity over its notes; a step the decoding
  does not reach (it closed the bar early) counts as wrong. Distances are over the steps both have.

``NLL per event`` sums the NLL of every property over all steps and divides by the number of events.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch

from core.model.batching import PairBatch, PairSet, load_pairs
from core.errors import GenerationError
from core.generation.bars import BarPlan, Carry, carry_after
from core.generation.controls import Controls, Temperatures
from core.generation.sampler import Sampler, make_streams
from core.model.network import MahlerNet
from core.model.objective import DISTANCE_PROPERTIES, Totals, kl_divergence, losses, prior_of
from core.representation.events import EventArrays
from core.preprocess.splits import WorkSplit
from core.training.trainer import TrainingConfig


def sampled_free_running(model: MahlerNet, sampler: Sampler, pairs: PairSet, ids: np.ndarray, batch: PairBatch) -> dict[str, np.ndarray]:
    """Free-running decoding of the bars ``ids`` (collated as ``batch``) through the app's sampler:
    property -> [correct, compared, distance, distance steps] summed over the bars (see the module docstring)."""
    with torch.no_grad():
        context = model.encode_context(batch.context)
        mu, _ = model.encode_input(batch.bar, context)
        state = model.initial_state(mu, context, batch.chords)
    plans = [_plan(pairs, pair) for pair in ids]
    carry = Carry.stack([_carry_into(pairs, pair) for pair in ids])
    decoded = sampler.decode(state, plans, carry, make_streams(0, len(ids)))
    counts = {name: np.zeros(4) for name in model.config.properties}
    for pair, events in zip(ids, decoded.events):
        original = pairs.bar_events(int(pair))
        _compare(original, events, counts)
    return counts


def _plan(pairs: PairSet, pair: int) -> BarPlan:
    numerator, denominator = (int(v) for v in pairs.bar_meter[pair])
    try:
        return BarPlan.of(numerator, denominator)
    except GenerationError:
        return BarPlan.of(4, 4)  # the representation reads an unsupported meter as 4/4 too (features.bar_units)


def _carry_into(pairs: PairSet, pair: int) -> Carry:
    """The notes of the bar before ``pair`` (in its chunk) still sounding at its barline."""
    opens = pairs.start_token[pair] and pairs.context_start[pair] == pairs.bar_start[pair]
    if opens or pair == 0:
        return Carry.silent(1)
    previous = pairs.bar_events(pair - 1)
    return carry_after(previous, _plan(pairs, pair - 1))


def _compare(original: EventArrays, decoded: EventArrays, counts: dict[str, np.ndarray]) -> None:
    """Add step-by-step agreement of ``decoded`` with ``original`` to ``counts``: offset and duration
    over every original event, pitch, instrument and velocity over its notes; a step the decoding
    does not reach is wrong. Distances are over the steps both have."""
    common = min(len(original), len(decoded))
    notes = original.pitch >= 0
    for name, entry in counts.items():
        truth = getattr(original, name).astype(np.int64)
        guess = np.full(len(original), -10**6, np.int64)
        guess[:common] = getattr(decoded, name)[:common]
        over = np.ones(len(original), bool) if name in ("offset", "duration") else notes
        reached = over & (np.arange(len(original)) < common)
        entry += [np.count_nonzero((truth == guess) & over), np.count_nonzero(over),
                  np.abs(truth - guess)[reached].sum(), np.count_nonzero(reached)]  # fmt: skip


def evaluate(
    model: MahlerNet, pairs: PairSet, pair_ids: np.ndarray, batch_size: int = 128, device: str | torch.device = "cpu",
    free: bool = True, progress: Callable[[int, int], bool | None] | None = None,
) -> dict[str, object]:  # fmt: skip
    """Metrics of ``model`` on the given pairs; ``progress(done, total)`` may return True to stop early."""
    model = model.to(device).eval()
    properties = model.config.properties
    forced = Totals(properties)
    free_counts = {name: np.zeros(4) for name in properties}  # correct, compared, distance, distance steps
    sampler = Sampler(model, Controls(temperatures=Temperatures.greedy())) if free else None
    batches = pairs.batches(np.asarray(pair_ids), batch_size, seed=0, epoch=0, shuffle=False, with_context=model.config.use_context)
    kl_sum, bars = 0.0, 0
    for done, ids in enumerate(batches, start=1):
        batch = pairs.collate(ids, model.config.use_context).to(device)
        with torch.no_grad():
            outputs = model(batch, sample=False)
            _, statistics = losses(outputs.logits, outputs.mu, outputs.logvar, batch, 1.0, 0.0, prior_of(outputs))
            kl_sum += float(kl_divergence(outputs.mu, outputs.logvar, *(prior_of(outputs) or (None, None))).sum())
        forced.add(statistics)
        bars += len(ids)
        if sampler is not None:
            for name, counts in sampled_free_running(model, sampler, pairs, ids, batch).items():
                free_counts[name] += counts
        if progress is not None and progress(done, len(batches)):
            break
    metrics = forced.metrics(1.0)
    events = max(forced.events, 1)
    report: dict[str, object] = {"bars": bars, "events": forced.events, "kl": round(kl_sum / max(bars, 1), 4)}
    per_property = {}
    nll_total = 0.0
    for index, name in enumerate(properties):
        nll_total += forced.values[index * 4]
        entry = {
            "teacher_forced_accuracy": metrics[f"{name}_accuracy"],
            "nll": metrics[f"{name}_nll"],
        }
        if name in DISTANCE_PROPERTIES:
            entry["distance"] = metrics[f"{name}_distance"]
        if free:
            correct, count, distance, steps = free_counts[name]
            entry["free_running_accuracy"] = round(correct / max(count, 1), 6)
            if name in DISTANCE_PROPERTIES:
                entry["free_running_distance"] = round(distance / max(steps, 1), 6)
        per_property[name] = entry
    report["nll_per_event"] = round(nll_total / events, 6)
    report["properties"] = per_property
    return report


SPLITS = ("test", "val", "train", "all")
FLATTERING = "random-bar split: the held-out bars share their pieces with training, so these figures flatter the model"


def evaluation_ids(pairs: PairSet, card: dict, split: str) -> tuple[np.ndarray, str]:
    """The pairs of ``split`` for the model of ``card``, and a note on what they are.

    A card that records its works' split (``split`` = whole works) gives the test or validation works,
    less the bars that copy a training bar exactly or transposed. An older card (random bars) has no
    test works: ``test`` and ``val`` then both give the bars its seed and ratio held out, with a warning.
    """
    if split not in SPLITS:
        raise ValueError(f"split {split!r}: use one of {', '.join(SPLITS)}")
    if split == "all":
        return pairs.pairs, "every bar"
    if card.get("split"):
        by_split = pairs.split_by_work(WorkSplit.from_dict(card["split"]))
        if split == "train":
            return by_split["train"], "the training works"
        held = by_split["test" if split == "test" else "validation"]
        kept = pairs.without_copies(held, by_split["train"])
        name = "test" if split == "test" else "validation"
        return kept, f"the {name} works ({len(held) - len(kept)} bars copying a training bar left out)"
    known = set(TrainingConfig().to_dict())
    training = TrainingConfig.from_dict({k: v for k, v in (card.get("training") or {}).items() if k in known})
    train_ids, val_ids = pairs.split(training.validation_ratio, training.seed)
    if split == "train":
        return train_ids, "the training bars"
    return (val_ids if len(val_ids) else pairs.pairs), FLATTERING


def evaluate_model(
    model: MahlerNet, card: dict, dataset: str | Path, split: str = "test", *, batch_size: int = 128,
    device: str | torch.device = "cpu", free: bool = True, limit: int | None = None, min_events: int = 0,
) -> dict[str, object]:  # fmt: skip
    """:func:`evaluate` on a dataset folder, on a split of the model's own (:func:`evaluation_ids`).

    ``min_events`` keeps the bars with at least that many events (dense textures); ``limit`` takes that
    many bars at random (seeded), for a quick look. The report also names the model, its kind, the
    split and what it holds.
    """
    known = set(TrainingConfig().to_dict())
    training = TrainingConfig.from_dict({k: v for k, v in (card.get("training") or {}).items() if k in known})
    pairs = load_pairs(dataset, model.config.context_bars, training.max_events or None)
    ids, note = evaluation_ids(pairs, card, split)
    if min_events:
        ids = ids[pairs.input_lengths[ids] >= min_events]
    if limit:
        ids = np.random.default_rng(0).permutation(ids)[:limit]
    report = evaluate(model, pairs, ids, batch_size, device, free=free)
    return {"model": str(card.get("name") or "?"), "kind": card.get("kind"), "split": split, "split_note": note, **report}
