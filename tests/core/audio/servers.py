"""Private audio and MIDI servers for tests and benchmarks: a PulseAudio null sink and a JACK dummy.

Each server runs as a subprocess in its own temporary folders (HOME, XDG_RUNTIME_DIR) under a unique
name, so tests never touch the user's sound setup and parallel runs never meet. ``start_*`` waits
until the server answers and raises ServerUnavailable (with the reason) when its program is missing
or does not come up; ``stop()`` ends it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path


class ServerUnavailable(RuntimeError):
    """The server program is not installed or could not be started."""


@dataclass
class Server:
    process: subprocess.Popen
    folder: Path
    env: dict[str, str] = field(default_factory=dict)  # what clients need in their environment
    log: Path | None = None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        shutil.rmtree(self.folder, ignore_errors=True)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log and self.log.exists() else ""


@dataclass
class PulseServer(Server):
    sink: str = "nullsink"

    @property
    def monitor(self) -> str:
        return f"{self.sink}.monitor"


def _die_with_parent() -> None:
    """In the child before exec: on Linux, get SIGTERM when the test process dies, so that a
    crashed test run leaves no server behind."""
    if sys.platform.startswith("linux"):
        import ctypes  # noqa: PLC0415

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _wait_until(ready, process: subprocess.Popen, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerUnavailable(f"{what} exited with status {process.returncode}: {log.read_text(errors='replace')[-500:]}")
        if ready():
            return
        time.sleep(0.05)
    process.kill()
    raise ServerUnavailable(f"{what} did not answer within {timeout:.0f} s")


def start_pulseaudio(timeout: float = 15.0) -> PulseServer:
    """A PulseAudio daemon with one null sink ("nullsink") and a native socket in a temp folder."""
    binary = shutil.which("pulseaudio")
    if binary is None:
        raise ServerUnavailable("pulseaudio is not installed (Debian: apt-get install pulseaudio)")
    folder = Path(tempfile.mkdtemp(prefix="mahlernet-pulse-"))
    home, runtime = folder / "home", folder / "run"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    socket = runtime / "native"
    log = folder / "pulseaudio.log"
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime)}
    env.pop("PULSE_SERVER", None)
    command = [
        binary, "--daemonize=no", "-n", "--exit-idle-time=-1", "--use-pid-file=no",
        "--realtime=no", "--high-priority=no", "--log-target=stderr",
        "--load=module-null-sink sink_name=nullsink rate=44100 channels=2",
        f"--load=module-native-protocol-unix socket={socket} auth-anonymous=1",
    ]
    with open(log, "wb") as log_file:
        process = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent)
    server_env = {"PULSE_SERVER": f"unix:{socket}"}
    pactl = shutil.which("pactl")

    def ready() -> bool:
        if not socket.exists():
            return False
        if pactl is None:
            return True
        probe = subprocess.run([pactl, "-s", server_env["PULSE_SERVER"], "info"], capture_output=True,
                               env={**env, **server_env}, timeout=5)
        return probe.returncode == 0

    try:
        _wait_until(ready, process, timeout, "pulseaudio", log)
    except ServerUnavailable:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return PulseServer(process, folder, server_env, log)


def start_jack(timeout: float = 15.0) -> Server:
    """A JACK server with the dummy backend (no sound card, no real-time rights needed) under a
    unique server name; clients find it through JACK_DEFAULT_SERVER."""
    binary = shutil.which("jackd")
    if binary is None:
        raise ServerUnavailable("jackd is not installed (Debian: apt-get install jackd2)")
    folder = Path(tempfile.mkdtemp(prefix="mahlernet-jack-"))
    name = f"mahlernet-test-{uuid.uuid4().hex[:8]}"
    log = folder / "jackd.log"
    env = {**os.environ, "HOME": str(folder), "JACK_NO_START_SERVER": "1"}
    command = [binary, "--no-realtime", "-n", name, "-d", "dummy", "-r", "44100", "-p", "256"]
    with open(log, "wb") as log_file:
        process = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent)
    server_env = {"JACK_DEFAULT_SERVER": name, "JACK_NO_START_SERVER": "1"}
    jack_lsp = shutil.which("jack_lsp")

    def ready() -> bool:
        if jack_lsp is None:
            return "JACK server starting" in log.read_text(errors="replace")
        probe = subprocess.run([jack_lsp, "-s", name], capture_output=True, env={**env, **server_env}, timeout=5)
        return probe.returncode == 0 and b"system:" in probe.stdout

    try:
        _wait_until(ready, process, timeout, "jackd", log)
    except ServerUnavailable:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Server(process, folder, server_env, log)


class MonitorRecorder:
    """Records what a PulseAudio sink plays (its monitor source) with parec, keeping the arrival
    time of every chunk, so tests can tell when and how fast audio reached the sink."""

    def __init__(self, server: PulseServer, rate: int = 44100, latency_ms: int = 10) -> None:
        parec = shutil.which("parec")
        if parec is None:
            raise ServerUnavailable("parec is not installed (Debian: pulseaudio-utils)")
        self.rate = rate
        self.chunks: list[tuple[float, bytes]] = []
        self._process = subprocess.Popen(
            [parec, "-s", server.env["PULSE_SERVER"], "-d", server.monitor, "--raw", "--format=s16le",
             f"--rate={rate}", "--channels=2", f"--latency-msec={latency_ms}"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, **server.env},
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        while True:
            data = self._process.stdout.read1(4096)
            if not data:
                return
            self.chunks.append((time.monotonic(), data))

    def wait_for_data(self, timeout: float = 10.0) -> bool:
        """Wait until the recording stream delivers audio."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(len(c) for _, c in self.chunks) >= self.rate:  # a second of audio arrived
                return True
            time.sleep(0.02)
        return False

    def wait_for_frames(self, frames: int, since: float, timeout: float = 30.0) -> bool:
        """Wait until ``frames`` frames of audio arrived after monotonic time ``since``: the sink's own
        clock has run that far (it plays silence when nothing sounds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(len(c) for t, c in list(self.chunks) if t >= since) // 4 >= frames:
                return True
            time.sleep(0.02)
        return False

    def stop(self):
        """Stop recording; returns (int16 samples of shape (frames, 2), chunk arrival times, chunk frame offsets)."""
        import numpy as np  # noqa: PLC0415

        self._process.send_signal(signal.SIGINT)
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
        self._reader.join(timeout=5)
        data = b"".join(c for _, c in self.chunks)
        data = data[: len(data) // 4 * 4]
        samples = np.frombuffer(data, dtype="<i2").reshape(-1, 2)
        offsets = np.cumsum([0] + [len(c) for _, c in self.chunks[:-1]]) // 4
        return samples, np.array([t for t, _ in self.chunks]), offsets
