"""Harmony: chord labels, chord templates and a chord recogniser over a Score.

``labels`` names chords (``C:maj``, ``F#:min7``, ``N``) and parses what a user types
(``C G Am F``); ``templates`` holds the pitch-class templates of the ten qualities; ``recogniser``
finds the chord of each bar (or half bar, or beat) of a Score from weighted pitch-class profiles,
smoothed by a Viterbi pass so that a passing note does not flip the chord.
"""
