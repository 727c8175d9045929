"""Training and judging models: the trainer and its recipe (presets, scheduled sampling, data-parallel
runs), run folders, and evaluation on held-out works (teacher-forced, free-running through the
generation sampler, and the musicality figures). It sits above :mod:`core.generation` because
free-running evaluation decodes with the same sampler the app uses."""
