"""Tests of core/audio: synth, rendering, MIDI out, player (with private PulseAudio and JACK servers)."""
