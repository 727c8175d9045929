#!/usr/bin/env bash
# Reproduce the bundled drum model, pop-game-continuation, from the OpenMSX music (GPL-2.0):
# copy the MIDI files, preprocess them with the pop-drums instrument table (a drum-kit class for
# channel 10), train the small continuation preset, export fp16, write its card and run the drums
# benchmark.
#
#   scripts/train_drum_model.sh [CORPUS_DIR]
#
# CORPUS_DIR defaults to the files of Debian's openttd-openmsx package (apt-get install -y
# openttd-openmsx), copied to $WORK/corpus. Settings, from the environment:
#   WORK=runs/drum-model     where the corpus copy, the dataset and the run go
#   EPOCHS=20                epochs of the first schedule
#   MORE_EPOCHS=32           then resumed to this many: a warm restart (the cosine schedule is
#                            stretched to 32 epochs, so the rate rises to 40% of its peak and decays
#                            again). The shipped model: 20 then 32 (its card's "epochs"); 0 = no restart
#   BATCH_SIZE=16            bars per step: 1,800 training bars give 112 steps an epoch
#   THREADS=1                torch threads
#   DEVICE=auto              cpu, cuda, ...
# Run from the project root after `make setup`. Writes models/pop-game-continuation.{safetensors,json}.
set -euo pipefail

cd "$(dirname "$0")/.."
bin=.venv/bin
work=${WORK:-runs/drum-model}
epochs=${EPOCHS:-20}
more_epochs=${MORE_EPOCHS:-32}
batch_size=${BATCH_SIZE:-16}
threads=${THREADS:-1}
device=${DEVICE:-auto}
package_dir=/usr/share/games/openttd/baseset/openmsx

if [[ $# -ge 1 ]]; then
    corpus=$1
elif [[ -d "$package_dir" ]]; then
    corpus="$work/corpus"
    mkdir -p "$corpus"
    cp "$package_dir"/*.mid "$corpus"/
else
    echo "usage: $0 [CORPUS_DIR]  (or install the openttd-openmsx package: apt-get install -y openttd-openmsx)" >&2
    exit 2
fi
if [[ ! -d "$corpus" ]]; then
    echo "$0: $corpus is not a folder" >&2
    exit 2
fi

"$bin/mahlernet" preprocess "$corpus" "$work/dataset" --instruments pop-drums

run="$work/pop-game-continuation"
common=(--threads "$threads" --device "$device")
if [[ -f "$run/last.safetensors" ]]; then
    "$bin/mahlernet" train "$work/dataset" "$run" --resume --epochs "$epochs" "${common[@]}"  # goes on where it stopped
else
    "$bin/mahlernet" train "$work/dataset" "$run" --preset continuation --size small --batch-size "$batch_size" \
        --epochs "$epochs" "${common[@]}"
fi
if [[ "$more_epochs" -gt "$epochs" ]]; then
    "$bin/mahlernet" train "$work/dataset" "$run" --resume --epochs "$more_epochs" "${common[@]}"
fi

model=models/pop-game-continuation.safetensors
"$bin/mahlernet" export "$run" "$model"
"$bin/python" scripts/model_card.py "$model" "$work/dataset" "$corpus" --corpus-info openmsx \
    --reproduce "scripts/train_drum_model.sh (README, 'Bundled models')"
"$bin/python" benchmarks/drums.py "$corpus" --model "$model"
