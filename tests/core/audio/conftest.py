"""Fixtures that start what the audio tests need: a PulseAudio null sink and a JACK dummy server.

Each server is started once per test session in temporary folders under a unique name and stopped at
the end. A test that needs one is skipped only when the server program is not installed at all;
a server that is installed but does not come up is an error.
"""

from __future__ import annotations

import shutil

import pytest

from tests.core.audio.servers import ServerUnavailable, start_jack, start_pulseaudio


def _start(binary: str, start):
    if shutil.which(binary) is None:
        pytest.skip(f"{binary} is not installed (scripts/install_system_packages.sh installs it)")
    try:
        server = start()
    except ServerUnavailable as error:
        pytest.fail(f"{binary} is installed but could not be started: {error}")
    return server


@pytest.fixture(scope="session")
def pulse_server():
    server = _start("pulseaudio", start_pulseaudio)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def jack_server():
    server = _start("jackd", start_jack)
    yield server
    server.stop()


@pytest.fixture
def pulse_env(pulse_server, monkeypatch):
    """This process talks to the private PulseAudio server."""
    for name, value in pulse_server.env.items():
        monkeypatch.setenv(name, value)
    return pulse_server


@pytest.fixture
def jack_env(jack_server, monkeypatch):
    """This process talks to the private JACK server."""
    for name, value in jack_server.env.items():
        monkeypatch.setenv(name, value)
    return jack_server

