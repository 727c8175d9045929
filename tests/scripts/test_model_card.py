"""scripts/model_card.py: the generation checks and the quality bar written into bundled cards."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from core.generation import PLAYABLE_RANGES, Controls
from core.representation.events import LOWEST_PITCH, N_INSTRUMENTS, N_PITCHES, EventArrays
from core.representation.instruments import POP_DRUMS
from core.music.score import Note
from tests.core.generation.helpers import piece, random_model

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "model_card.py"


@pytest.fixture(scope="module")
def model_card():
    spec = importlib.util.spec_from_file_location("model_card", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def events(pitches: list[int], instruments: list[int], pauses: list[bool]) -> EventArrays:
    n = len(pitches)
    zeros = np.zeros(n, np.int16)
    return EventArrays(zeros, zeros, np.array(pitches) - LOWEST_PITCH, np.array(instruments), zeros, zeros,
                       np.array(pauses), np.zeros((n, N_PITCHES), bool), np.zeros((n, N_INSTRUMENTS), bool))  # fmt: skip


def test_notes_are_counted_against_their_instruments_range_and_pauses_are_not(model_card):
    low, high = PLAYABLE_RANGES[5]
    bar = events([low, high, high + 1, low - 1, 60], [5, 5, 5, 5, 5], [False, False, False, False, True])
    assert model_card.in_range_counts(bar, Controls().range_table()) == (2, 4)


def test_a_drum_models_drum_notes_are_counted_against_the_percussion_keys(model_card):
    bar = events([35, 40, 82, 34], [17, 17, 17, 17], [False] * 4)  # class 17: the drum kit of pop-drums
    assert model_card.in_range_counts(bar, Controls().for_table(POP_DRUMS).range_table()) == (2, 4)
    assert model_card.in_range_counts(bar, Controls().range_table()) == (1, 4)  # as English horn (52-93): 82 only


def test_a_bar_is_filled_exactly_only_with_its_length_and_no_note_outside(model_card):
    score = piece(bars=2)  # 4/4 at 480 ticks per quarter: bars of 1920 ticks
    assert model_card.bars_filled_exactly(score, [1920, 1920])
    assert not model_card.bars_filled_exactly(score, [1920, 960])
    violin = score.tracks[0]
    late = dataclasses.replace(violin, notes=violin.notes + (Note(3840, 240, 70, 80),))  # in a third bar
    moved = score.replace(tracks=(late,) + score.tracks[1:])
    assert not model_card.bars_filled_exactly(moved, [1920, 1920])


@pytest.mark.parametrize("use_context", [True, False])
def test_generation_checks_run_the_models_task_on_real_pieces(model_card, use_context, tmp_path):
    model = random_model(use_context=use_context)
    pieces = [(tmp_path / f"{i}.mid", piece(bars=14)) for i in range(2)]
    report = model_card.generation_checks(model, pieces)
    assert report["pieces"] == ["0.mid", "1.mid"]
    assert report["bars"] == (16 if use_context else 10)  # 8 new bars, or 5 steps, per piece
    assert report["in_playable_range"] == 1.0  # the default controls clamp the ranges
    assert 0.0 <= report["in_playable_range_without_clamp"] <= 1.0 and report["notes"] > 0
    assert report["bars_filled_exactly"] == 1.0


def test_the_quality_bar_names_each_goal_and_whether_all_are_met(model_card):
    generation = {"in_playable_range": 1.0, "bars_filled_exactly": 1.0}
    good = {"properties": {"pitch": {"teacher_forced_accuracy": 0.93, "free_running_accuracy": 0.65}}}
    interpolating = {"interpolation": {"endpoint_note_f1": 0.85}}
    assert model_card.quality_bar("interpolation", good, generation, interpolating)["met"]
    weak = {"properties": {"pitch": {"teacher_forced_accuracy": 0.93, "free_running_accuracy": 0.4}}}
    bar = model_card.quality_bar("interpolation", weak, generation, interpolating)
    assert not bar["met"] and not bar["goals"]["free_running_pitch_accuracy"]["met"]
    assert bar["goals"]["free_running_pitch_original"]["value"] == 0.4587
    musical = {"in_key": 0.9, "overlap_real": 0.7, "leaps": 0.01, "foreign": 0.0, "density": 1.0}
    continuing = {"continuation": {"model": musical}}
    assert model_card.quality_bar("continuation", good, generation, continuing)["met"]
    off_key = {"continuation": {"model": {**musical, "in_key": 0.7}}}
    bar = model_card.quality_bar("continuation", good, generation, off_key)
    assert not bar["met"] and not bar["goals"]["in_key"]["met"] and bar["goals"]["density"]["met"]
    assert not model_card.quality_bar("continuation", good, {**generation, "bars_filled_exactly": 0.9}, continuing)["met"]


def test_a_drum_model_is_held_to_keeping_drums_in_90_percent_of_new_bars(model_card):
    generation = {"in_playable_range": 1.0, "bars_filled_exactly": 1.0}
    good = {"properties": {"pitch": {"teacher_forced_accuracy": 0.93, "free_running_accuracy": 0.65}}}
    kept = model_card.quality_bar("continuation", good, generation, None, {"total": {"new_bars_with_drums": 0.95}})
    assert kept["met"] and kept["goals"]["new_bars_with_drums"] == {"value": 0.95, "goal": ">= 0.9", "met": True}
    assert "in_key" not in kept["goals"]  # no musicality figures for a drum model
    lost = model_card.quality_bar("continuation", good, generation, None, {"total": {"new_bars_with_drums": 0.5}})
    assert not lost["met"] and not lost["goals"]["new_bars_with_drums"]["met"]
