"""The decoder step's matrix products at 1 to 8 rows: the floor under the cost of variations.

A decoder step of the small continuation preset multiplies its rows by three weight matrices (layer
0, layer 1, the heads; ~3.3 MB of float32 in all), through :class:`core.generation.fast.lstm.Blocks`
exactly as generation does (column blocks, rows in chunks of 4; a lone row padded to 2). The
matrices are read in turn, as in the step loop, so each product finds the others' weights in the
cache. How much more four rows cost than one here bounds what 4 variations can cost against one
(benchmarks/README.md, "generate.py").

    .venv/bin/python benchmarks/products.py [--steps 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.generation.engine import evaluating  # noqa: E402
from core.generation.fast.lstm import Blocks, padded_rows  # noqa: E402
from core.generation.fast.step import fast_decoder  # noqa: E402
from core.model.network import MahlerNet  # noqa: E402
from core.training.presets import load_preset  # noqa: E402

ROUNDS = 20


def step_products(weights: list[Blocks], rows: int, steps: int) -> list[float]:
    """Microseconds per step of the three products at ``rows`` rows, one figure per step."""
    padded = padded_rows(rows)
    inputs = [np.random.default_rng(0).standard_normal((padded, w.inputs)).astype(np.float32) for w in weights]
    outputs = [w.output(padded) for w in weights]
    times = []
    for _ in range(steps):
        began = time.perf_counter()
        for x, w, out in zip(inputs, weights, outputs):
            w.product(x, out, rows)
        times.append(1e6 * (time.perf_counter() - began))
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    model = MahlerNet(load_preset("continuation", "small").network).eval()
    decoder = fast_decoder(model)
    weights = [*decoder.weights, decoder.h_weight]
    megabytes = sum(w.weights.nbytes for w in weights) / 2**20
    shapes = ", ".join(f"{w.inputs} x {w.columns} in {w.count} blocks" for w in weights)
    print(f"torch {torch.__version__}, numpy {np.__version__}; weights {shapes}: {megabytes:.1f} MB")
    exact = all(w.by_chunks for w in weights)
    print("rows in chunks of 4 (this BLAS keeps a row's sums whatever the chunk)" if exact else "rows one at a time (this BLAS's sums depend on the chunk)")
    sizes = (1, 2, 4, 8)
    times: dict[int, list[float]] = {rows: [] for rows in sizes}
    with evaluating(model):
        for rows in sizes:
            step_products(weights, rows, 100)  # warm-up
        for _ in range(ROUNDS):  # the sizes take turns, so that a drift in the machine's speed hits all
            for rows in sizes:
                times[rows] += step_products(weights, rows, args.steps // ROUNDS)
    medians = {rows: statistics.median(values) for rows, values in times.items()}
    for rows, median in medians.items():
        print(f"{rows} row{'s' if rows > 1 else ' '}: {median:6.1f} us per step ({median / medians[1]:.2f}x one row)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
