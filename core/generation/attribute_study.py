"""Compute a model's attribute vectors from a dataset and measure what each one does.

* :func:`compute_vectors`: MusicVAE's recipe (see :mod:`core.model.attributes`): the posterior
  means of the training works' bars, the mean code of each attribute's top quartile minus that of its
  bottom quartile (quartiles by rank, ties broken at random with a fixed seed, so a share that many
  bars have at 0 or 1 still splits into quarters).
* :func:`partial_vectors` (``recipe="partial"``, an experiment): the same spread (top quarter minus
  bottom quarter of each attribute, in its standard deviations) times the code change per standard
  deviation of that attribute *with the other five held fixed* (a least-squares regression of the
  codes on all six standardised attributes), so that a vector carries less of the attributes that go
  with its own in the corpus (busy bars have short notes).
* :func:`mixed_vectors` (``recipe="mix"``, an experiment): MusicVAE's vectors, then mixed with each
  other so that, *as the decoder hears them*, each moves its own attribute and not the others: the
  table is measured on other training bars (R: row = vector, column = attribute), and the vectors are
  replaced by ``target * R^-1`` times themselves (a Newton step on the decoded attributes, which are
  close to linear in the vectors' span); repeated, keeping the step that meets the goal for most
  attributes on those training bars.
* :func:`measure`: MusicVAE's table: test bars (whole works never trained on) are encoded, decoded
  from their own code and from their code plus ``amount`` times one vector, with the same random
  streams; the mean change of every attribute, in standard deviations of that attribute over the
  real test bars, is one row of the table. Decoding uses the app's default sampling controls and no
  notes held over from the bar before.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from core.model.batching import PairSet
from core.errors import GenerationError
from core.model.attributes import ATTRIBUTES, AttributeVectors, bar_attributes, moves_alone
from core.generation.bars import BarPlan, Carry
from core.generation.controls import Controls
from core.generation.engine import evaluating
from core.generation.sampler import Sampler, make_streams
from core.model.network import MahlerNet
from core.representation.events import EventArrays

Progress = Callable[[str], None]


def bar_plan(pairs: PairSet, pair_id: int) -> BarPlan:
    """The plan of bar ``pair_id`` in its own meter, for decoding it again."""
    numerator, denominator = (int(v) for v in pairs.bar_meter[pair_id])
    return BarPlan.of(numerator, denominator)


def pair_events(pairs: PairSet, pair_id: int) -> EventArrays:
    return pairs.bar_events(int(pair_id))


def pair_attributes(pairs: PairSet, ids: np.ndarray) -> np.ndarray:
    """(bars, attributes) of the real bars ``ids``."""
    return np.stack([bar_attributes(pair_events(pairs, int(i)), int(pairs.bar_length[i])) for i in ids]) if len(ids) else np.zeros((0, len(ATTRIBUTES)))


@torch.no_grad()
def encode_pairs(model: MahlerNet, pairs: PairSet, ids: np.ndarray, batch_size: int = 256) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Posterior means (bars, Z) of the bars ``ids`` under their own contexts, and the context
    summaries (bars, 2H) (None for a model without context), in the order of ``ids``."""
    model.eval()
    means, summaries = [], []
    for begin in range(0, len(ids), batch_size):
        batch = pairs.collate(ids[begin : begin + batch_size], model.config.use_context)
        context = model.encode_context(batch.context)
        mu, _ = model.encode_input(batch.bar, context)
        means.append(mu.float())
        if context is not None:
            summaries.append(context.float())
    return torch.cat(means), (torch.cat(summaries) if summaries else None)


def quartile_vector(codes: np.ndarray, values: np.ndarray, seed: int = 0) -> np.ndarray:
    """Mean code of the top quarter of ``values`` minus that of the bottom quarter (NaN bars left out)."""
    finite = np.flatnonzero(np.isfinite(values))
    if len(finite) < 8:
        raise GenerationError(f"only {len(finite)} bars have this attribute: too few for quartiles")
    tie_break = np.random.default_rng(seed).random(len(finite))
    order = finite[np.lexsort((tie_break, values[finite]))]
    quarter = len(order) // 4
    return codes[order[-quarter:]].mean(axis=0) - codes[order[:quarter]].mean(axis=0)


def partial_vectors(codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(attributes, Z): the quartile spread of each attribute times its partial regression slope
    (see the module docstring); bars missing any attribute are left out."""
    finite = np.isfinite(values).all(axis=1)
    if finite.sum() < 4 * values.shape[1]:
        raise GenerationError(f"only {int(finite.sum())} bars have every attribute: too few for a regression")
    standard = (values[finite] - values[finite].mean(0)) / np.maximum(values[finite].std(0), 1e-9)
    design = np.c_[np.ones(len(standard)), standard]
    slopes = np.linalg.lstsq(design, codes[finite], rcond=None)[0][1:]
    quarter = len(standard) // 4
    ordered = np.sort(standard, axis=0)
    spread = ordered[-quarter:].mean(0) - ordered[:quarter].mean(0)
    return slopes * spread[:, None]


RECIPES = ("quartile", "partial", "mix")
MIX_TARGET = 1.2  # SD of its own attribute that a mixed vector aims at, at amount +1.5 (the goal is 1)
MIX_CONDITION = 50.0  # above this condition number the response is inverted with a ridge
MIX_RIDGE = 0.02
MIX_MAX_GROWTH = 3.0  # a mixed vector is at most this many times its MusicVAE vector's length


def mixing_matrix(response: np.ndarray, target: float = MIX_TARGET) -> np.ndarray:
    """(vectors, vectors) ``A`` with ``A @ response`` = ``target`` times the identity (a ridge
    least-squares version of it when ``response`` is near singular; NaN cells count as 0)."""
    response = np.nan_to_num(np.asarray(response, np.float64))
    size = response.shape[0]
    if np.isfinite(np.linalg.cond(response)) and np.linalg.cond(response) <= MIX_CONDITION:
        return target * np.linalg.inv(response)
    return target * np.linalg.solve(response.T @ response + MIX_RIDGE * np.eye(size), response.T)


def mixed_vectors(
    model: MahlerNet,
    pairs: PairSet,
    base: AttributeVectors,
    ids: np.ndarray,
    steps: int = 3,
    amount: float = 1.5,
    progress: Progress | None = None,
) -> AttributeVectors:
    """``base`` mixed by :func:`mixing_matrix` of its table on the training bars ``ids``, ``steps``
    times; the set (``base`` included) that meets the goal for most attributes on ``ids`` wins."""
    vectors = base.vectors.astype(np.float64)
    longest = MIX_MAX_GROWTH * np.linalg.norm(vectors, axis=1)
    best, best_met = vectors, -1
    for step in range(steps + 1):
        study = measure(model, AttributeVectors(base.names, vectors), pairs, ids, amount=amount)
        met = sum(bool(verdict["met"]) for verdict in study.goal().values())
        if progress:
            progress(f"mix step {step}: the goal met for {met} attributes on {len(ids)} training bars")
        if met > best_met:
            best, best_met = vectors, met
        if step == steps:
            break
        vectors = mixing_matrix(study.change) @ vectors
        lengths = np.maximum(np.linalg.norm(vectors, axis=1), 1e-12)
        vectors = vectors * np.minimum(1.0, longest / lengths)[:, None]
    return AttributeVectors(base.names, best)


def compute_vectors(
    model: MahlerNet,
    pairs: PairSet,
    ids: np.ndarray,
    progress: Progress | None = None,
    recipe: str = "quartile",
    mix_ids: np.ndarray | None = None,
) -> AttributeVectors:
    """The attribute vectors of ``model`` from the bars ``ids`` (the training works' bars);
    ``recipe="mix"`` also decodes the training bars ``mix_ids`` (others than ``ids``)."""
    if recipe not in RECIPES:
        raise GenerationError(f"recipe {recipe!r}: use {', '.join(RECIPES)}")
    if recipe == "mix" and (mix_ids is None or not len(mix_ids)):
        raise GenerationError("the mix recipe needs training bars to measure the vectors on (mix_ids)")
    if progress:
        progress(f"encoding {len(ids)} bars")
    codes = encode_pairs(model, pairs, ids)[0].numpy()
    if progress:
        progress("measuring their attributes")
    values = pair_attributes(pairs, ids)
    if recipe == "partial":
        return AttributeVectors(ATTRIBUTES, partial_vectors(codes, values))
    vectors = AttributeVectors(ATTRIBUTES, np.stack([quartile_vector(codes, values[:, a], seed=a) for a in range(len(ATTRIBUTES))]))
    if recipe == "mix":
        return mixed_vectors(model, pairs, vectors, np.asarray(mix_ids), progress=progress)
    return vectors


@dataclass(frozen=True)
class Study:
    """What adding each vector does to test bars (see the module docstring)."""

    amount: float
    bars: int
    std: np.ndarray  # (attributes,) of the real test bars
    change: np.ndarray  # (vectors, attributes): mean change, in standard deviations (NaN where the std is 0)
    raw_change: np.ndarray  # (vectors, attributes): mean change in the attributes' own units
    reconstruction: np.ndarray  # (attributes,) mean of the bars decoded without a shift

    def goal(self) -> dict[str, dict[str, object]]:
        """Per vector: its own change, the largest other change, and whether it moves its attribute
        alone (:func:`core.model.attributes.moves_alone`)."""
        report = {}
        for index, name in enumerate(ATTRIBUTES):
            row = self.change[index]
            others = np.delete(row, index)
            report[name] = {
                "own_sd": round(float(row[index]), 3),
                "largest_other_sd": round(float(np.max(np.abs(others))), 3),
                "met": moves_alone(float(row[index]), others),
            }
        return report

    def table(self) -> list[str]:
        """Markdown rows: one per vector, the change of every attribute in standard deviations."""
        lines = ["| vector (+%g) | %s |" % (self.amount, " | ".join(ATTRIBUTES)), "| --- |" + " --- |" * len(ATTRIBUTES)]
        for index, name in enumerate(ATTRIBUTES):
            cells = [("**%+.2f**" if j == index else "%+.2f") % v for j, v in enumerate(self.change[index])]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        return lines

    def to_dict(self) -> dict[str, object]:
        return {
            "amount": self.amount,
            "test_bars": self.bars,
            "std_of_test_bars": {n: round(float(s), 4) for n, s in zip(ATTRIBUTES, self.std)},
            "change_sd": {
                name: {other: round(float(v), 3) for other, v in zip(ATTRIBUTES, self.change[index])}
                for index, name in enumerate(ATTRIBUTES)
            },
            "goal": self.goal(),
        }


def bar_chords(model: MahlerNet, pairs: PairSet, ids: np.ndarray) -> torch.Tensor | None:
    """The chords of the bars ``ids`` for a chord-conditioned model (an arranger decodes each bar
    over its own chords), None for any other model."""
    if not model.config.chords:
        return None
    if pairs.bar_chords is None:
        raise GenerationError("this model hears chords, but the dataset holds none (made before chords were stored): preprocess it again")
    return torch.from_numpy(pairs.bar_chords[np.asarray(ids, np.int64)])


def decoded_attributes(
    model: MahlerNet, codes: torch.Tensor, summaries: torch.Tensor | None, plans: Sequence[BarPlan], controls: Controls,
    chords: torch.Tensor | None = None,
) -> np.ndarray:  # fmt: skip
    """(bars, attributes) of the bars decoded from ``codes`` (one per plan, over ``chords`` for an
    arranger), seeds 0..bars-1."""
    sampler = Sampler(model, controls)
    with evaluating(model):
        state = model.initial_state(codes, summaries, chords)
        decoded = sampler.decode(state, plans, Carry.silent(len(plans)), make_streams(controls.seed, len(plans)))
    return np.stack([bar_attributes(events, plan.units) for events, plan in zip(decoded.events, plans)])


def measure(
    model: MahlerNet,
    vectors: AttributeVectors,
    pairs: PairSet,
    ids: np.ndarray,
    amount: float = 1.5,
    controls: Controls = Controls(),
    progress: Progress | None = None,
) -> Study:
    """MusicVAE's table for ``vectors`` on the test bars ``ids`` (see the module docstring)."""
    plans = [bar_plan(pairs, int(i)) for i in ids]
    real = pair_attributes(pairs, ids)
    std = np.nanstd(real, axis=0)
    codes, summaries = encode_pairs(model, pairs, ids)
    chords = bar_chords(model, pairs, ids)
    if progress:
        progress("decoding the test bars from their own codes")
    base = decoded_attributes(model, codes, summaries, plans, controls, chords)
    raw = np.zeros((len(vectors.names), len(ATTRIBUTES)))
    for index, name in enumerate(vectors.names):
        if progress:
            progress(f"decoding with {name} {amount:+g}")
        shifted = codes + amount * torch.from_numpy(vectors.vector(name))
        moved = decoded_attributes(model, shifted, summaries, plans, controls, chords)
        with warnings.catch_warnings():  # an attribute no decoded bar has (all silent) stays NaN, unsaid
            warnings.simplefilter("ignore", RuntimeWarning)
            raw[index] = np.nanmean(moved - base, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(std > 0, raw / np.where(std > 0, std, 1.0), np.nan)
    return Study(amount, len(ids), std, change, raw, np.nanmean(base, axis=0))


def usable_ids(pairs: PairSet, ids: np.ndarray) -> np.ndarray:
    """The bars of ``ids`` whose meter the sampler can decode."""
    keep = []
    for i in ids:
        try:
            bar_plan(pairs, int(i))
        except GenerationError:
            continue
        keep.append(int(i))
    return np.asarray(keep, np.int64)
