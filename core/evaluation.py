"""Evaluation of a trained model: teacher-forced and free-running metrics per property.

* **Teacher-forced**: the decoder sees the true previous events and the chain the true earlier
  properties (as in training); accuracy, NLL and distance per property, from ``z = mu`` (no sampling,
  so the figures are reproducible). The KL is the mean per bar, summed over latent dimensions.
* **Free-running** (the paper's Table 2 method): each bar is encoded to ``z = mu`` and decoded with
  the model's own previous outputs, greedily (argmax of each property in chain order); beats and
  sounding notes are recomputed from the decoded events (notes held over from earlier bars come from
  the data). The decoder runs for exactly as many steps as the true bar has events, and step ``t`` is
  compared with event ``t`` over the same steps as the loss (pitch, instrument, velocity on notes).

``NLL per event`` sums the NLL of every property over all steps and divides by the number of events.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch

from core.batching import PairBatch, PairSet, load_pairs
from core.features import CLASS_UNITS, beats_of, onset_times, sounding_in_bar
from core.network import MahlerNet
from core.objective import DISTANCE_PROPERTIES, Totals, kl_divergence, losses, prior_of, target_and_mask
from core.representation.events import N_INSTRUMENTS, N_PITCHES
from core.splits import WorkSplit
from core.training import TrainingConfig


@torch.no_grad()
def free_running(model: MahlerNet, batch: PairBatch) -> dict[str, torch.Tensor]:
    """Greedy decoding of every bar of ``batch`` from its encoded ``mu``: property -> (B, L) classes."""
    context = model.encode_context(batch.context)
    mu, _ = model.encode_input(batch.bar, context)
    state = model.initial_state(mu, context)
    bar = batch.bar
    size, steps = bar.offset.shape
    device = mu.device
    units = CLASS_UNITS.to(device)
    true_pitches, true_instruments = sounding_in_bar(onset_times(bar.offset), bar.duration, bar.pitch, bar.instrument)
    held_pitches = bar.active_pitches & ~true_pitches
    held_instruments = bar.active_instruments & ~true_instruments
    none = torch.full((size,), -1, dtype=torch.long, device=device)
    pitch_end = torch.zeros(size, N_PITCHES, dtype=torch.long, device=device)
    instrument_end = torch.zeros(size, N_INSTRUMENTS, dtype=torch.long, device=device)
    time = torch.zeros(size, dtype=torch.long, device=device)
    rows = torch.zeros(size, model.previous_rows(bar).shape[-1], device=device)
    previous_pitch = none
    decoded: dict[str, list[torch.Tensor]] = {name: [] for name in model.config.properties}
    for step in range(steps):
        h, state = model.decode_step(rows, state)
        offset = model.offset_logits(h).argmax(-1)
        time = time + units[offset]
        beat = beats_of(time, batch.bar_length)
        duration = model.duration_logits(h, offset, beat).argmax(-1)
        note = duration > 0
        pitch = torch.where(note, model.pitch_logits(h, offset, beat, duration, previous_pitch).argmax(-1), none)
        instrument = torch.where(note, model.instrument_logits(h, offset, beat, duration, pitch).argmax(-1), none)
        velocity = none
        if model.config.use_velocity:
            velocity = torch.where(note, model.velocity_logits(h, offset, beat, duration, pitch, instrument).argmax(-1), none)
        active_pitches = held_pitches[:, step] | (pitch_end > time.unsqueeze(1))
        active_instruments = held_instruments[:, step] | (instrument_end > time.unsqueeze(1))
        for name, value in zip(("offset", "duration", "pitch", "instrument", "velocity"), (offset, duration, pitch, instrument, velocity)):
            if name in decoded:
                decoded[name].append(value)
        end = torch.where(note, time + units[duration], torch.zeros_like(time))
        rows_index = torch.arange(size, device=device)
        pitch_end[rows_index, pitch.clamp(min=0)] = torch.maximum(pitch_end[rows_index, pitch.clamp(min=0)], end)
        instrument_end[rows_index, instrument.clamp(min=0)] = torch.maximum(instrument_end[rows_index, instrument.clamp(min=0)], end)
        previous = bar.replace(
            offset=offset, duration=duration, pitch=pitch, instrument=instrument, beat=beat, velocity=velocity,
            active_pitches=active_pitches, active_instruments=active_instruments,
        )  # fmt: skip
        rows = model.previous_rows(previous)
        previous_pitch = pitch
    return {name: torch.stack(values, dim=1) for name, values in decoded.items()}


def evaluate(
    model: MahlerNet, pairs: PairSet, pair_ids: np.ndarray, batch_size: int = 128, device: str | torch.device = "cpu",
    free: bool = True, progress: Callable[[int, int], bool | None] | None = None,
) -> dict[str, object]:  # fmt: skip
    """Metrics of ``model`` on the given pairs; ``progress(done, total)`` may return True to stop early."""
    model = model.to(device).eval()
    properties = model.config.properties
    forced = Totals(properties)
    free_counts = {name: np.zeros(3) for name in properties}  # correct, count, distance
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
        if free:
            decoded = free_running(model, batch)
            for name in properties:
                target, mask = target_and_mask(batch, name)
                predicted = decoded[name]
                free_counts[name] += [
                    float(((predicted == target) & mask).sum()),
                    float(mask.sum()),
                    float(((predicted - target).abs() * mask).sum()),
                ]
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
            correct, count, distance = free_counts[name]
            entry["free_running_accuracy"] = round(correct / max(count, 1), 6)
            if name in DISTANCE_PROPERTIES:
                entry["free_running_distance"] = round(distance / max(count, 1), 6)
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
