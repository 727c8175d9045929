"""The Training window: train or fine-tune a model on a folder of the composer's own MIDI files.

Modules, one job each: :mod:`~app.training.window` (the window), :mod:`~app.training.form` (the
music and the choices), :mod:`~app.training.controller` (preparing, starting, stopping, resuming in
the background), :mod:`~app.training.worker` (the training thread and its signals),
:mod:`~app.training.curves` (live pyqtgraph curves), :mod:`~app.training.run_list` (the composer's
runs: resume, rename, delete), :mod:`~app.training.paths` (the data folder) and
:mod:`~app.training.launcher` (the main window's handle: open, refresh the pickers, close cleanly).
The work itself is ``core``'s: :mod:`core.preprocess`, :mod:`core.training.runs` and :mod:`core.training.trainer`.
"""
