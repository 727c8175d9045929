"""Offline rendering with FluidSynth: length, sound, pitch, bar ranges, drums, WAV files."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from core.audio.render import DEFAULT_TAIL_SECONDS, render, render_bars, to_int16, write_wav
from core.audio.synth import Synth
from core.errors import AudioError, Cancelled
from core.music.score import TempoChange, TimeSignature

from tests.core.audio.helpers import make_score

RATE = 44100


def peak_frequency(samples: np.ndarray, rate: int = RATE) -> float:
    """Frequency of the strongest FFT bin, refined by parabolic interpolation."""
    windowed = samples * np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(windowed, n=1 << 20))
    k = int(np.argmax(spectrum))
    a, b, c = np.log(spectrum[k - 1 : k + 2] + 1e-12)
    shift = 0.5 * (a - c) / (a - 2 * b + c)
    return (k + shift) * rate / (1 << 20)


def test_length_is_the_range_plus_the_tail_and_it_is_not_silent():
    # two quarter notes at 120 bpm, then a half at 60 bpm: 0.5 + 0.5 + 2.0 seconds
    tempos = (TempoChange(0, 500_000), TempoChange(960, 1_000_000))
    score = make_score({("piano", 0, 0): [(0, 480, 60, 100), (480, 480, 64, 100), (960, 960, 67, 100)]}, tempos)
    audio = render(score)
    assert audio.dtype == np.float32 and audio.shape[1] == 2
    assert len(audio) == round((3.0 + DEFAULT_TAIL_SECONDS) * RATE)
    assert np.sqrt(np.mean(audio**2)) > 1e-3
    # sound where notes are, near silence well after the release tail began
    assert np.abs(audio[: RATE // 2]).max() > 0.02
    assert len(render(score, tail_seconds=0.0)) == 3 * RATE


def test_violin_a4_peaks_at_440_hz():
    score = make_score({("violin", 40, 0): [(0, 1920, 69, 100)]})  # program 41 in 1-based GM
    audio = render(score, tail_seconds=0.0)
    frequency = peak_frequency(audio[RATE // 4 : int(1.75 * RATE), 0].astype(np.float64))
    assert abs(frequency - 440.0) / 440.0 < 0.01, frequency


def test_pitch_follows_the_note():
    score = make_score({("flute", 73, 0): [(0, 1920, 81, 100)]})  # A5
    audio = render(score, tail_seconds=0.0)
    frequency = peak_frequency(audio[RATE // 4 : int(1.75 * RATE), 0].astype(np.float64))
    assert abs(frequency - 880.0) / 880.0 < 0.01, frequency


def test_bar_range_renders_only_those_bars():
    score = make_score(
        {("piano", 0, 0): [(0, 480, 60, 100), (1440, 480, 72, 100)]},
        time_signatures=(TimeSignature(0, 3, 4),),
    )
    audio = render_bars(score, 2, 2, tail_seconds=0.5)  # bar 2: ticks 1440-2880, 1.5 s
    assert len(audio) == round(2.0 * RATE)
    assert np.abs(audio[: RATE // 4]).max() > 0.02  # C5 starts the bar at once
    silent_start = render_bars(score, 1, 1, tail_seconds=0.0)
    assert len(silent_start) == round(1.5 * RATE)


def test_drums_on_channel_10_use_the_percussion_bank():
    score = make_score({("drums", 0, 9): [(0, 120, 38, 120), (480, 120, 42, 120)]})  # snare, hi-hat
    audio = render(score)
    assert np.abs(audio).max() > 0.02
    with Synth() as synth:
        synth.program_change(9, 0)
        synth.program_change(0, 40)
        assert synth.program_of(9) == (128, 0)
        assert synth.program_of(0) == (0, 40)
        synth.program_change(9, 99)  # no such kit: falls back to the standard kit
        assert synth.program_of(9) == (128, 0)


def test_progress_reaches_one_and_cancel_stops():
    score = make_score({("piano", 0, 0): [(0, 4800, 60, 100)]})
    seen: list[float] = []
    render(score, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 3
    with pytest.raises(Cancelled):
        render(score, cancel=lambda: True)


def test_wav_file_round_trip(tmp_path):
    score = make_score({("piano", 0, 0): [(0, 480, 60, 100)]})
    audio = render(score, tail_seconds=0.25)
    path = write_wav(tmp_path / "out.wav", audio)
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, RATE)
        assert wav.getnframes() == len(audio)
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    assert np.array_equal(data, to_int16(audio))
    with pytest.raises(AudioError, match="cannot write"):
        write_wav(tmp_path / "missing" / "out.wav", audio)


def test_to_int16_clips_and_scales():
    samples = np.array([[0.0, 1.0], [-1.0, 2.0], [0.5, -3.0]], dtype=np.float32)
    assert to_int16(samples).tolist() == [[0, 32767], [-32767, 32767], [16384, -32767]]


def test_broken_soundfont_is_a_clear_error(tmp_path):
    fake = tmp_path / "fake.sf2"
    fake.write_bytes(b"not a soundfont at all")
    score = make_score({("piano", 0, 0): [(0, 480, 60, 100)]})
    with pytest.raises(AudioError, match="fake.sf2"):
        render(score, soundfont=fake)
