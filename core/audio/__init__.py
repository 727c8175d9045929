"""Hearing the music: the built-in FluidSynth synth, live MIDI out and one player thread for both.

Modules, each with one job (import them directly; nothing heavy is imported here):

* ``soundfont``: find a General MIDI soundfont (setting, ``$MAHLERNET_SOUNDFONT``, system folders);
* ``timeline``: a Score or tick range as timed MIDI messages (shared by live play and rendering);
* ``synth``: FluidSynth as a live sink, with automatic audio-driver choice and a reason when none works;
* ``render``: offline rendering to a NumPy buffer and WAV files;
* ``midi_out``: list MIDI output ports safely, open one, panic;
* ``sinks``: the Sink protocol, a recording sink and a fan-out to several sinks;
* ``outputs``: open the outputs chosen in settings as one sink, with the reasons for what failed;
* ``clock``: the player's time source (real time, or one a test moves);
* ``player``: the player thread with hooks for position, state, end and errors.
"""
