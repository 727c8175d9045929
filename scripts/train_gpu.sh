#!/usr/bin/env bash
# Train the full-size preset on one GPU in one go, and print the training speed (events/s).
#
#   scripts/train_gpu.sh DATASET [RUN_DIR]
#
# DATASET is a folder made by `mahlernet preprocess` (either format; `--sharded` for large corpora).
# RUN_DIR defaults to runs/gpu-PRESET. The run resumes when RUN_DIR already holds one, so the same
# command goes on after an interruption. Settings, from the environment:
#   PRESET=continuation|interpolation   the preset (its full size)
#   EPOCHS=                             epochs (default: the preset's)
#   DEVICE=cuda                         the GPU (cuda, cuda:1, ...)
#   NPROC=1                             processes; more than 1 trains data-parallel, one GPU each
# Mixed precision (bfloat16 where the GPU has it, else float16 with loss scaling) and progress read
# from the GPU every 50 steps come with a CUDA device (core/training/trainer.py). The speed printed is the
# mean events/s of the training passes of the epochs (records.json), validation left out.
set -euo pipefail

if [[ $# -lt 1 || ! -d "$1" ]]; then
    echo "usage: $0 DATASET [RUN_DIR]  (a folder made by mahlernet preprocess)" >&2
    exit 2
fi
dataset=$1
preset=${PRESET:-continuation}
run=${2:-runs/gpu-$preset}
device=${DEVICE:-cuda}
nproc=${NPROC:-1}
cd "$(dirname "$0")/.."
bin=.venv/bin

"$bin/python" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA GPU is visible to torch here')"

flags=(--device "$device")
[[ -n "${EPOCHS:-}" ]] && flags+=(--epochs "$EPOCHS")
[[ "$nproc" -gt 1 ]] && flags+=(--nproc "$nproc")
if [[ -f "$run/run.json" ]]; then
    flags+=(--resume)
else
    flags+=(--preset "$preset" --size full)
fi
started=$(date +%s)
"$bin/mahlernet" train "$dataset" "$run" "${flags[@]}"
echo "wall time: $(( $(date +%s) - started )) s"
"$bin/python" - "$run/records.json" <<'PY'
import json, sys
epochs = json.load(open(sys.argv[1]))["epochs"]
speeds = [e["events_per_s"] for e in epochs]
print(f"{len(epochs)} epochs; training speed {sum(speeds) / len(speeds):,.0f} events/s "
      f"(first {speeds[0]:,.0f}, last {speeds[-1]:,.0f}); train {sum(e['train_s'] for e in epochs):.0f} s, "
      f"validation {sum(e['val_s'] for e in epochs):.0f} s")
PY
