"""The output chain, defined once: its order, and the places that run it (training, scheduled sampling)."""

import dataclasses

import torch

from core.model.output_chain import CONDITIONS, NetworkHeads, run_chain, silence_pauses
from core.representation.events import PROPERTIES
from core.training.scheduled_sampling import sample_events
from tests.core.training.test_scheduled_sampling import setup_mix


class RecordingHeads:
    """Heads that log what the chain asks and tells them; each head's logits favour class 2."""

    def __init__(self):
        self.log: list[tuple[str, str]] = []
        self.taken: dict[str, int] = {}

    def logits(self, name):
        assert set(self.taken) == set(CONDITIONS[name]), name  # exactly the values this head reads
        self.log.append(("logits", name))
        return torch.tensor([0.0, 1.0, 5.0])

    def take(self, name, value):
        self.log.append(("take", name))
        self.taken[name] = value


def test_the_chain_runs_in_order_with_the_beat_after_the_offset():
    heads = RecordingHeads()
    seen = []

    def pick(name, logits, values):
        seen.append((name, sorted(values)))
        return int(logits.argmax())

    values = run_chain(heads, pick, lambda offset: offset + 10)
    assert values == {"offset": 2, "beat": 12, "duration": 2, "pitch": 2, "instrument": 2, "velocity": 2}
    expected = [("logits", "offset"), ("take", "offset"), ("take", "beat")]
    for name in PROPERTIES[1:]:
        expected += [("logits", name), ("take", name)]
    assert heads.log == expected
    assert seen[2] == ("pitch", ["beat", "duration", "offset"])  # pick sees the values before it


def test_without_velocity_the_chain_stops_at_the_instrument():
    values = run_chain(RecordingHeads(), lambda name, logits, values: 1, lambda offset: 0, PROPERTIES[:4])
    assert "velocity" not in values and values["instrument"] == 1


def test_teacher_forcing_is_the_chain_picking_the_truth():
    model, top, batch = setup_mix()
    bar = batch.bar
    logits = model.chain_logits(top, bar.offset, batch.chain_beat, bar.duration, bar.pitch, bar.instrument)
    heads = NetworkHeads(model, top)
    truth = {"offset": bar.offset, "duration": bar.duration, "pitch": bar.pitch, "instrument": bar.instrument, "velocity": bar.velocity}
    recorded = {}

    def teacher(name, head, values):
        recorded[name] = head
        return truth[name]

    run_chain(heads, teacher, lambda _: batch.chain_beat)
    assert set(logits) == set(PROPERTIES)
    for name in PROPERTIES:
        assert torch.equal(logits[name], recorded[name]), name


def test_pauses_lose_their_pitch_instrument_and_velocity():
    values = {name: torch.tensor([3, 4]) for name in PROPERTIES}
    values["duration"] = torch.tensor([0, 5])
    silent = silence_pauses(values)
    assert silent["pitch"].tolist() == [-1, 4] and silent["instrument"].tolist() == [-1, 4] and silent["velocity"].tolist() == [-1, 4]
    assert silent["offset"].tolist() == [3, 4] and silent["duration"].tolist() == [0, 5]


def _chord_members(same_step_mask: bool):
    """Events sampled by scheduled sampling from heads far from uniform and leaning to offset 0."""
    model, top, batch = setup_mix()
    model.config = dataclasses.replace(model.config, same_step_mask=same_step_mask)
    with torch.no_grad():
        for parameter in model.heads.parameters():
            parameter.normal_(0.0, 0.5, generator=torch.Generator().manual_seed(parameter.numel()))
        model.heads["offset"].bias[0] += 6.0
    torch.manual_seed(1)
    sampled = sample_events(model, top, batch)
    previous = batch.previous.pitch
    chord = (sampled["offset"] == 0) & (sampled["pitch"] >= 0) & (previous >= 0) & batch.bar.mask
    return sampled, previous, chord


def test_scheduled_sampling_obeys_the_same_step_mask_of_the_teacher_forced_pass():
    sampled, previous, chord = _chord_members(same_step_mask=True)
    assert chord.sum() > 20
    assert (sampled["pitch"][chord] >= previous[chord]).all()
    pause = sampled["duration"] == 0
    assert (sampled["pitch"][pause] == -1).all() and (sampled["velocity"][pause] == -1).all()
    unmasked, previous, chord = _chord_members(same_step_mask=False)
    assert (unmasked["pitch"][chord] < previous[chord]).any()  # without the mask, chords go down too
