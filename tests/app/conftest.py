"""Qt tests run offscreen, with settings in a temporary ini file (never the user's own)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture
def settings_path(tmp_path):
    """A fresh settings file for one test."""
    return tmp_path / "settings.ini"
