"""How long the tests' tiny overfit takes: a small model memorising 16 bars in 160 epochs.

    .venv/bin/python benchmarks/overfit.py [--threads 2]

The same run as the ``overfit`` fixture of tests/core/training/test_training.py (which checks what the model
learnt, not how long it took); prints CPU seconds (what it costs on idle cores) and wall seconds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.core.training.test_training import overfit_tiny_set  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (the test uses 2)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        cpu, wall = time.process_time(), time.perf_counter()
        trainer, pairs = overfit_tiny_set(Path(folder) / "run")
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"overfit {len(pairs.pairs)} bars, 160 epochs, {args.threads} threads: {cpu:.1f} CPU s, {wall:.1f} s wall "
          f"(the test's old bound: 120 CPU s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
