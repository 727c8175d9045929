"""Where the Training window keeps runs and prepared music: the user's data folder.

``$MAHLERNET_DATA`` when set (tests, portable installs), else ``MahlerNet Studio`` in Qt's standard
data location (``QStandardPaths.GenericDataLocation``). :func:`core.model.checkpoints.user_data_folder`
follows the same rule on every platform, so the models trained here are the ones ``mahlernet models``
lists and the pickers find; a test checks that the two agree.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QStandardPaths

from app.settings import APPLICATION

ENVIRONMENT = "MAHLERNET_DATA"


def data_folder() -> Path:
    """The user's data folder (see the module docstring); not created here."""
    if os.environ.get(ENVIRONMENT):
        return Path(os.environ[ENVIRONMENT])
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    return Path(base) / APPLICATION
