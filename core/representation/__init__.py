"""MahlerNet's event representation: vocabulary, meters, instruments, pitch, velocity, events, decoding.

* :mod:`vocabulary`: the 60 offset/duration classes (lengths in 1/24 q*, ties, placement rules);
* :mod:`meters`: :func:`~core.representation.meters.meter_for` ``(numerator, denominator)`` -> ``Meter``
  (q*, bar length, classes, segments of long bars) and ``bar_units``;
* :mod:`instruments`: ``InstrumentTable``, the original's ``MAHLERNET`` table and ``POP_DRUMS`` (with a drum kit);
* :mod:`pitch` and :mod:`velocity`: folding into MIDI 17-112, the 8 velocity bins;
* :mod:`events`: ``EventArrays`` and ``EncodedPiece`` (the contract, npz files);
* :mod:`decode`: ``decode_bar``, ``decode_piece``, ``notes_to_score``, ``instrument_map_for``.
"""
