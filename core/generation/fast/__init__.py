"""The NumPy implementation of the decoder step and the encoders that generation runs (one LSTM step
at batch 1-10 is dominated by per-call overhead in torch): :mod:`~core.generation.fast.lstm` holds the
shared layout and products, :mod:`~core.generation.fast.step` the decoder step and
:mod:`~core.generation.fast.encoder` the encoders. Tests check them against the torch network."""
