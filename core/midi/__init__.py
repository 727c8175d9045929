"""Standard MIDI files in and out: :mod:`~core.midi.files` reads and writes them
(``read_midi``/``write_midi``), :mod:`~core.midi.events` walks the raw track chunks,
:mod:`~core.midi.assembling` turns their events into a Score and :mod:`~core.midi.writing` encodes one."""
