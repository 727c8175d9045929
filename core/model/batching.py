"""Training pairs and length-bucketed batches from encoded pieces.

A *pair* is one bar (the input bar: what the input encoder reads and the decoder must reproduce) and
its context: the ``K`` bars before it in the same chunk (spec 2.10 has ``K = 1``). A bar that opens its
chunk has the START token as context; with ``K > 1`` a bar with fewer than ``K`` bars before it in its
chunk gets the START token followed by the bars it has, so the encoder knows the chunk began there.

:class:`PairSet` flattens all pieces into one set of event columns, so that a batch is gathered with
a few vectorised numpy indexing operations (this matters on a GPU, where a batch takes milliseconds).
Batches are length-bucketed: each epoch shuffles the pairs with a seed derived from ``(seed, epoch)``,
sorts them stably by input length, cuts batches and shuffles the batch order. The order is therefore
a pure function of the seed and the epoch, which makes resuming mid-epoch exact. The validation split
is a seeded random choice of pairs (the original split by bucket file, which was length-biased).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from core.errors import DatasetError
from core.model.features import bar_units
from core.preprocess.splits import WorkSplit
from core.representation.events import N_PITCHES, EncodedPiece, EventArrays
from core.preprocess.tables import INT_COLUMNS, BarTable, EventStore, InMemoryEvents

_GROUP_BATCHES = 16  # batches per context-length group (see PairSet.batches)


@dataclass(frozen=True)
class EventBatch:
    """A padded batch of event sequences: integer columns ``(B, L)`` with ``-1`` for none/padding."""

    offset: torch.Tensor
    duration: torch.Tensor
    pitch: torch.Tensor
    instrument: torch.Tensor
    beat: torch.Tensor
    velocity: torch.Tensor
    active_pitches: torch.Tensor  # (B, L, 96) bool
    active_instruments: torch.Tensor  # (B, L, 23) bool
    is_start: torch.Tensor  # (B, L) bool: the START token of a context
    lengths: torch.Tensor  # (B,) valid steps per sequence

    @property
    def mask(self) -> torch.Tensor:
        """(B, L) bool: the step is within the sequence's length."""
        steps = torch.arange(self.offset.shape[1], device=self.offset.device)
        return steps.unsqueeze(0) < self.lengths.unsqueeze(1)

    @property
    def events(self) -> int:
        return int(self.lengths.sum())

    def to(self, device: torch.device | str, non_blocking: bool = False) -> "EventBatch":
        return EventBatch(**{f.name: getattr(self, f.name).to(device, non_blocking=non_blocking) for f in fields(self)})

    def pin_memory(self) -> "EventBatch":
        """A copy in page-locked host memory, which a non-blocking copy to a GPU does not wait for."""
        return EventBatch(**{f.name: getattr(self, f.name).pin_memory() for f in fields(self)})

    def replace(self, **changes: torch.Tensor) -> "EventBatch":
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return EventBatch(**values)


@dataclass(frozen=True)
class PairBatch:
    """What one training step needs: contexts, input bars, decoder inputs and chain conditioning.

    ``previous`` is ``bar`` shifted right by one step (the first decoder input is the all-none row);
    ``chain_beat`` is the beat of each target event that conditions its duration/pitch/... layers (the
    bar's own beats, or beats recomputed by scheduled sampling). ``bar_length`` is in feature units.
    """

    context: EventBatch | None
    bar: EventBatch
    previous: EventBatch
    chain_beat: torch.Tensor
    bar_length: torch.Tensor
    chords: torch.Tensor | None = None  # (B, 2) chord indices of each bar's halves (chord-conditioned models)

    def to(self, device: torch.device | str, non_blocking: bool = False) -> "PairBatch":
        return self._each(lambda part: part.to(device, non_blocking=non_blocking))

    def pin_memory(self) -> "PairBatch":
        """A copy in page-locked host memory (see :meth:`EventBatch.pin_memory`)."""
        return self._each(lambda part: part.pin_memory())

    def _each(self, move: Callable[[Any], Any]) -> "PairBatch":
        """A copy with ``move`` applied to every part (tensors and event batches; None stays None), so
        that no part is left behind: the chords once were, and an arranger trained on a GPU lost them."""
        parts = {f.name: getattr(self, f.name) for f in fields(self)}
        return PairBatch(**{name: None if part is None else move(part) for name, part in parts.items()})


def load_pieces(folder: str | Path) -> list[EncodedPiece]:
    """The encoded pieces of a dataset folder, or :class:`DatasetError`.

    A folder made by ``mahlernet preprocess`` is read through its manifest
    (:func:`core.preprocess.dataset.load_dataset`); a bare folder of ``*.npz`` pieces (tests,
    experiments) is read in path order.
    """
    from core.preprocess.dataset import MANIFEST, load_dataset  # noqa: PLC0415 - the preprocessor is heavy

    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(folder, "not a dataset folder")
    if (folder / MANIFEST).is_file():
        return load_dataset(folder).pieces
    paths = sorted(folder.rglob("*.npz"))
    if not paths:
        raise DatasetError(folder, "holds no encoded pieces (*.npz); run `mahlernet preprocess` first")
    return [EncodedPiece.load(path) for path in paths]


def load_pairs(folder: str | Path, context_bars: int = 1, max_events: int | None = None) -> PairSet:
    """The training pairs of a dataset folder: a sharded dataset (``mahlernet preprocess --sharded``)
    is memory-mapped and read batch by batch; any other (one ``.npz`` per piece) is loaded whole."""
    from core.preprocess.shards import is_sharded, open_sharded  # noqa: PLC0415 - the preprocessor is heavy

    if is_sharded(folder):
        dataset = open_sharded(folder)
        pairs = PairSet.from_store(dataset.events, dataset.bars, dataset.sources, context_bars, max_events)
        pairs.bar_chords = dataset.chords  # chord-conditioned models train on them (None: a dataset from before)
        return pairs
    return PairSet(load_pieces(folder), context_bars, max_events)


def dataset_summary(folder: str | Path) -> dict:
    """The totals of a preprocessed dataset folder, sharded or not ({} for a bare folder of pieces)."""
    import json  # noqa: PLC0415

    for name in ("manifest.json", "shards.json"):
        try:
            totals = json.loads((Path(folder) / name).read_text()).get("totals", {})
            break
        except (OSError, ValueError):
            continue
    else:
        return {}
    return {key: value for key, value in totals.items() if isinstance(value, (int, float, str))}


class PairSet:
    """All (context, input bar) pairs of a list of pieces, flattened for fast batching."""

    def __init__(self, pieces: Sequence[EncodedPiece], context_bars: int = 1, max_events: int | None = None):
        events = EventArrays.concatenate([piece.events for piece in pieces])
        self._setup(InMemoryEvents(events), BarTable.of_pieces(pieces), tuple(p.source for p in pieces), context_bars, max_events)
        if pieces and all(piece.bar_chords is not None for piece in pieces):  # chord-conditioned models need them
            self.bar_chords = np.concatenate([piece.bar_chords for piece in pieces]).astype(np.int64)

    @classmethod
    def from_store(
        cls, store: EventStore, bars: BarTable, sources: Sequence[str], context_bars: int = 1, max_events: int | None = None
    ) -> "PairSet":
        """The pairs of a dataset whose events stay in ``store`` (memory-mapped shards, say): only
        the per-bar table is held in memory; a batch reads its events when it is collated."""
        pairs = cls.__new__(cls)
        pairs._setup(store, bars, tuple(sources), context_bars, max_events)
        return pairs

    def _setup(self, store: EventStore, bars: BarTable, sources: tuple[str, ...], context_bars: int, max_events: int | None) -> None:
        if context_bars < 1:
            raise ValueError("context_bars must be at least 1")
        self.context_bars = context_bars
        self.store = store
        self.sources = sources
        count = len(bars.start)
        index = np.arange(count)
        # The context of a bar is up to K bars before it in its chunk; fewer than K: START first.
        chunk_first = np.maximum.accumulate(np.where(bars.opens, index, 0)) if count else index
        before = np.minimum(index - chunk_first, context_bars)
        self.bar_start = bars.start
        self.bar_stop = bars.stop
        self.context_start = bars.start[index - before]
        self.start_token = before < context_bars
        self.bar_length = _bar_lengths(bars.numerator, bars.denominator)
        self.piece_of = bars.piece  # per bar: the index of its piece in ``sources``
        self.bar_meter = np.stack([bars.numerator, bars.denominator], axis=1).astype(np.int64)  # per bar: (numerator, denominator)
        self.input_lengths = self.bar_stop - self.bar_start
        self.context_lengths = self.bar_start - self.context_start + self.start_token
        usable = np.ones(count, bool) if max_events is None else self.input_lengths <= max_events
        self.pairs = np.flatnonzero(usable)
        self.pieces = len(sources)
        self.bar_chords: np.ndarray | None = None  # per bar: the chords of its halves (see __init__)

    def __len__(self) -> int:
        return len(self.pairs)

    def bar_events(self, pair: int) -> EventArrays:
        """The events of bar ``pair``, read from the store (evaluation compares decoded bars with them)."""
        columns = self.store.take(np.arange(self.bar_start[pair], self.bar_stop[pair]))
        return EventArrays(**columns, is_pause=columns["pitch"] < 0)

    def summary(self) -> dict[str, float | int]:
        """Counts for model cards and logs."""
        lengths = self.input_lengths[self.pairs]
        return {
            "pieces": self.pieces,
            "bars": int(len(self.bar_start)),
            "pairs": int(len(self.pairs)),
            "events": int(lengths.sum()),
            "mean_events_per_bar": round(float(lengths.mean()), 2) if len(lengths) else 0.0,
            "max_events_per_bar": int(lengths.max()) if len(lengths) else 0,
        }

    # ------------------------------------------------------------------------------ splitting
    def split(self, ratio: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Seeded random (train, validation) split of the pairs; validation gets ceil(ratio * n)."""
        count = len(self.pairs)
        n_val = min(math.ceil(count * ratio), count - 1) if ratio > 0 and count > 1 else 0
        order = np.random.default_rng(seed).permutation(count)
        return np.sort(self.pairs[order[n_val:]]), np.sort(self.pairs[order[:n_val]])

    def split_by_work(self, split: "WorkSplit") -> dict[str, np.ndarray]:
        """The pairs of each split of ``split`` (train, validation, test), by the work of their piece."""
        names = np.array([split.split_of(source) or "" for source in self.sources] or [""], dtype=object)
        of_pair = names[self.piece_of[self.pairs]] if len(self.pairs) else np.array([], dtype=object)
        return {name: self.pairs[of_pair == name] for name in ("train", "validation", "test")}

    def bar_key(self, pair_id: int) -> bytes:
        """What a bar is up to transposition: its event columns with pitches counted from the bar's
        lowest pitch. Two bars with the same key are copies, exact or transposed."""
        taken = self.store.take(np.arange(self.bar_start[pair_id], self.bar_stop[pair_id]))
        pitch = taken["pitch"].astype(np.int64)
        sounding = pitch >= 0
        relative = np.where(sounding, pitch - (pitch[sounding].min() if sounding.any() else 0), -1)
        columns = [taken[name] for name in ("offset", "duration", "instrument")]
        return np.stack([*columns, relative]).astype(np.int16).tobytes()

    def without_copies(self, held: np.ndarray, train: np.ndarray) -> np.ndarray:
        """``held`` (validation or test pairs) less the bars that copy a training bar, exactly or
        transposed: a repeated bar would be scored as if it were new music."""
        seen = {self.bar_key(int(i)) for i in train}
        return np.asarray([i for i in held if self.bar_key(int(i)) not in seen], dtype=self.pairs.dtype)

    def batches(
        self, pair_ids: np.ndarray, batch_size: int, seed: int, epoch: int, shuffle: bool = True, with_context: bool = True,
        min_rows: int = 2,
    ) -> list[np.ndarray]:
        """Length-bucketed batches of ``pair_ids``; the order depends only on (seed, epoch).

        A last batch of fewer than ``min_rows`` rows joins the one before it: batch norm needs two
        rows to train on, and data-parallel training one row per process.

        With contexts, pairs are first sorted by context length and cut into groups of 16 batches,
        then sorted by input length within each group: on random-length data this pads inputs by
        ~20% and contexts by ~15%, where sorting by input length alone padded contexts by ~290%.
        """
        rng = np.random.default_rng([seed, epoch])
        order = rng.permutation(len(pair_ids)) if shuffle else np.arange(len(pair_ids))
        inputs = self.input_lengths[pair_ids]
        if with_context:
            order = order[np.argsort(self.context_lengths[pair_ids[order]], kind="stable")]
            group = batch_size * _GROUP_BATCHES
            order = np.concatenate(
                [part[np.argsort(inputs[part], kind="stable")] for part in np.split(order, range(group, len(order), group))]
            )
        else:
            order = order[np.argsort(inputs[order], kind="stable")]
        chunks = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        if len(chunks) > 1 and len(chunks[-1]) < min_rows:
            chunks[-2:] = [np.concatenate(chunks[-2:])]
        if shuffle:
            chunks = [chunks[i] for i in rng.permutation(len(chunks))]
        return [pair_ids[chunk] for chunk in chunks]

    # ------------------------------------------------------------------------------ collating
    def collate(self, pair_ids: np.ndarray, with_context: bool = True, transpose: np.ndarray | None = None) -> PairBatch:
        """The padded tensors of the given pairs (on the CPU).

        ``transpose``: semitones to move each pair by (bar and context alike: pitches and sounding
        notes), a training augmentation. A pair that would leave the 96-pitch range moves as far as
        it can in the asked direction."""
        pair_ids = np.asarray(pair_ids, np.int64)
        starts, stops = self.bar_start[pair_ids], self.bar_stop[pair_ids]
        no_token = np.zeros(len(pair_ids), bool)
        bar = self._gather(starts, stops - starts, no_token)
        context = None
        if with_context:
            context_starts = self.context_start[pair_ids]
            context = self._gather(context_starts, starts - context_starts, self.start_token[pair_ids])
        chords = self.bar_chords[pair_ids] if self.bar_chords is not None else None
        if transpose is not None:
            shifts = _feasible_shifts(np.asarray(transpose, np.int64), [b for b in (bar, context) if b is not None])
            bar = _transposed(bar, shifts)
            context = _transposed(context, shifts) if context is not None else None
            if chords is not None:  # the chords move with the notes
                from core.harmony.conditioning import transposed_indices  # noqa: PLC0415

                chords = transposed_indices(chords, shifts)
        return PairBatch(
            context=context,
            bar=bar,
            previous=shift_right(bar),
            chain_beat=bar.beat,
            bar_length=torch.from_numpy(self.bar_length[pair_ids]),
            chords=None if chords is None else torch.from_numpy(np.asarray(chords, np.int64)),
        )

    def _gather(self, starts: np.ndarray, lengths: np.ndarray, start_token: np.ndarray) -> EventBatch:
        token = start_token.astype(np.int64)
        width = int((lengths + token).max())
        step = np.arange(width)[None, :]
        position = step - token[:, None]
        valid = (position >= 0) & (position < lengths[:, None])
        index = np.where(valid, starts[:, None] + position, 0)
        taken = self.store.take(index)
        columns = {name: torch.from_numpy(np.where(valid, taken[name].astype(np.int64), -1)) for name in INT_COLUMNS}
        return EventBatch(
            **columns,
            active_pitches=torch.from_numpy(taken["active_pitches"] & valid[..., None]),
            active_instruments=torch.from_numpy(taken["active_instruments"] & valid[..., None]),
            is_start=torch.from_numpy((step == 0) & start_token[:, None]),
            lengths=torch.from_numpy(lengths + token),
        )


def _bar_lengths(numerators: np.ndarray, denominators: np.ndarray) -> np.ndarray:
    """Per bar, its length in feature units (:func:`core.model.features.bar_units`), once per meter."""
    meters, inverse = np.unique(np.stack([numerators, denominators], axis=1), axis=0, return_inverse=True)
    units = np.asarray([bar_units(int(n), int(d)) for n, d in meters], np.int64)
    return units[inverse.reshape(-1)] if len(units) else np.zeros(0, np.int64)


def _feasible_shifts(asked: np.ndarray, parts: list[EventBatch]) -> np.ndarray:
    """``asked`` clipped per row so that every pitch and sounding note of ``parts`` stays in range."""
    low = np.full(len(asked), N_PITCHES - 1, np.int64)
    high = np.zeros(len(asked), np.int64)
    for part in parts:
        pitch = part.pitch.numpy()
        notes = pitch >= 0
        low = np.minimum(low, np.where(notes, pitch, N_PITCHES - 1).min(axis=1, initial=N_PITCHES - 1))
        high = np.maximum(high, np.where(notes, pitch, 0).max(axis=1, initial=0))
        sounding = part.active_pitches.numpy().any(axis=1)  # (rows, 96)
        has = sounding.any(axis=1)
        low = np.where(has, np.minimum(low, sounding.argmax(axis=1)), low)
        high = np.where(has, np.maximum(high, N_PITCHES - 1 - sounding[:, ::-1].argmax(axis=1)), high)
    return np.clip(asked, -np.minimum(low, high), N_PITCHES - 1 - np.maximum(high, low))


def _transposed(batch: EventBatch, shifts: np.ndarray) -> EventBatch:
    """``batch`` with row ``i`` moved by ``shifts[i]`` semitones (pauses and padding untouched)."""
    if not shifts.any():
        return batch
    shift = torch.from_numpy(shifts)
    pitch = torch.where(batch.pitch >= 0, batch.pitch + shift[:, None], batch.pitch)
    source = torch.arange(N_PITCHES)[None, :] - shift[:, None]  # (rows, 96): the pitch each comes from
    inside = (source >= 0) & (source < N_PITCHES)
    index = source.clamp(0, N_PITCHES - 1)[:, None, :].expand(-1, batch.active_pitches.shape[1], -1)
    active = torch.gather(batch.active_pitches, 2, index) & inside[:, None, :]
    return batch.replace(pitch=pitch, active_pitches=active)


def shift_right(batch: EventBatch) -> EventBatch:
    """Decoder inputs: step t sees event t - 1; step 0 sees the all-none row (spec 2.12)."""

    def shift(tensor: torch.Tensor, fill: int | bool) -> torch.Tensor:
        first = torch.full_like(tensor[:, :1], fill)
        return torch.cat([first, tensor[:, :-1]], dim=1)

    values = {name: shift(getattr(batch, name), -1) for name in INT_COLUMNS}
    return batch.replace(
        **values,
        active_pitches=shift(batch.active_pitches, False),
        active_instruments=shift(batch.active_instruments, False),
        is_start=shift(batch.is_start, False),
    )
