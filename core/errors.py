"""Named exceptions of MahlerNet Studio.

Every error a user can cause (a broken MIDI file, a corrupt checkpoint, a wrong path, a folder of junk)
is one of these. Their message is one line that names the file (when there is one) and the reason, so
that the CLI can print it as is and the GUI can show it in a dialog.
"""

from __future__ import annotations

from pathlib import Path


class MahlerNetError(Exception):
    """Base class of every error that is the user's input, not a bug of ours."""


class FileError(MahlerNetError):
    """An error about one file: the message reads ``<file>: <reason>``."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class MidiFileError(FileError):
    """A MIDI file that cannot be read (or written): not MIDI, truncated, hostile or over a limit."""


class UnsupportedMeterError(MahlerNetError):
    """A time signature the representation cannot express."""


class RepresentationError(MahlerNetError):
    """Music that cannot be turned into events (or events that cannot be turned into music)."""


class DatasetError(FileError):
    """A dataset folder that is missing, empty, of another version or corrupt."""


class CheckpointError(FileError):
    """A model file that is missing, corrupt, not a checkpoint, or of another representation version."""


class ModelNotFoundError(MahlerNetError):
    """No model of the asked name (or of the asked kind) is bundled or trained by the user."""


class GenerationError(MahlerNetError):
    """A generation request that cannot be carried out (bad bar numbers, a model of the wrong kind)."""


class AudioError(MahlerNetError):
    """No soundfont, no audio driver, or a MIDI port that cannot be opened."""


class PresetError(FileError):
    """A training preset that does not exist or holds unknown or ill-typed settings."""


class TrainingError(MahlerNetError):
    """A training run that cannot start or go on (no usable bars, a run folder in the way)."""


class Cancelled(MahlerNetError):
    """Long work stopped because the user asked it to."""


class EditError(MahlerNetError):
    """An edit of the piece that cannot be made (a transposition past the MIDI range, a bar that is not there)."""
