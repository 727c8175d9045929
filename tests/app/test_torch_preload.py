"""Importing torch without long pauses: its native libraries are loaded without the interpreter lock,
and the collector is paused during the import and the heap frozen after it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app.main import ROOT

SCRIPT = """
import gc
from app.torch_preload import preload_torch_libraries, quiet_imports
with quiet_imports():
    paused = not gc.isenabled()
    loaded = preload_torch_libraries()
    import torch
print(loaded, float(torch.ones(3).sum()), paused, gc.isenabled(), gc.get_freeze_count() > 0)
print(preload_torch_libraries())
"""


def run(switch: str) -> list[str]:
    env = dict(os.environ, MAHLERNET_TORCH_PRELOAD=switch)
    command = [sys.executable, "-c", SCRIPT]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the preload applies to Linux builds of torch")
def test_torch_loads_and_works_after_its_libraries_were_preloaded():
    first, second = run("1")
    assert first == "['libc10.so', 'libtorch_cpu.so', 'libtorch.so'] 3.0 True True True"
    assert second == "[]"  # torch is imported: nothing left to preload


def test_the_switch_turns_both_off():
    first, _ = run("0")
    assert first == "[] 3.0 False True False"


def test_once_torch_is_there_nothing_is_paused_or_frozen():
    script = (
        "import gc, torch\nfrom app.torch_preload import quiet_imports\nbefore = gc.get_freeze_count()\n"
        "with quiet_imports():\n    paused = not gc.isenabled()\nprint(paused, gc.get_freeze_count() == before)"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]
