#!/usr/bin/env bash
# Reproduce the bundled models from a corpus folder: preprocess, train both, export fp16, write cards.
#
#   scripts/train_default_models.sh CORPUS_DIR
#
# CORPUS_DIR is the classical corpus (README, "Bundled models", says how to build it). Settings, from
# the environment:
#   SIZE=small|full          preset size (small: the shipped CPU models)
#   WORK=runs/default-models where the dataset and the two training runs go
#   CONTINUATION_EPOCHS, INTERPOLATION_EPOCHS   the epochs the shipped models were trained for
#   THREADS=1                torch threads per run; the two runs train side by side
#   DEVICE=auto              cpu, cuda, ...
# Run from the project root after `make setup`. Writes models/classical-{continuation,interpolation}.*
set -euo pipefail

if [[ $# -ne 1 || ! -d "$1" ]]; then
    echo "usage: $0 CORPUS_DIR  (a folder of the corpus's .mid files)" >&2
    exit 2
fi
corpus=$1
cd "$(dirname "$0")/.."
bin=.venv/bin
size=${SIZE:-small}
work=${WORK:-runs/default-models}
threads=${THREADS:-1}
device=${DEVICE:-auto}
declare -A epochs=([continuation]=${CONTINUATION_EPOCHS:-40} [interpolation]=${INTERPOLATION_EPOCHS:-60})

"$bin/mahlernet" preprocess "$corpus" "$work/dataset"

pids=()
for kind in continuation interpolation; do
    run="$work/classical-$kind"
    flags=(--epochs "${epochs[$kind]}" --threads "$threads" --device "$device")
    if [[ -f "$run/last.safetensors" ]]; then
        flags+=(--resume)  # an interrupted run goes on where it stopped
    else
        flags+=(--preset "$kind" --size "$size")
    fi
    "$bin/mahlernet" train "$work/dataset" "$run" "${flags[@]}" > "$work/$kind.log" 2>&1 &
    pids+=($!)
    echo "training classical-$kind ($size, ${epochs[$kind]} epochs): log in $work/$kind.log"
done
for pid in "${pids[@]}"; do
    wait "$pid"
done

for kind in continuation interpolation; do
    model="models/classical-$kind.safetensors"
    "$bin/mahlernet" export "$work/classical-$kind" "$model"
    "$bin/python" scripts/model_card.py "$model" "$work/dataset" "$corpus"
    "$bin/python" scripts/attribute_vectors.py "$model" "$work/dataset" --recipe mix  # the attribute sliders' vectors
done
"$bin/mahlernet" models
