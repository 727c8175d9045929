"""Dock panels of the window: Continue, Interpolate, and the track list."""
