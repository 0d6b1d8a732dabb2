#!/usr/bin/env bash
# "Object detectors emerge in deep scene CNNs", reproduced on data we can make:
# a ResNet-18 trained for about a minute on synthetic ADE20K scenes whose eight
# classes are one family (medium, --family-size 8: the same background and
# object layout, only the objects differ) has clearly more layer-4 object
# detectors than the same architecture at its random initialisation on the
# same images, they detect the scene-defining objects, and its minimal images
# keep those objects far more often than chance. Also runs `segment` on a plain
# folder of images, `rf` (small) and `minimal` on a folder.
# Usage: units_emerge.sh BUILD_DIR OUT_DIR
set -euo pipefail
build="$1"
out="$2"
here="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$out"
mkdir -p "$out"
# SCENERY_THREADS: threads of the training run (ctest sets 1: two script tests share 2 cores).
threads=${SCENERY_THREADS:-2}
# Prefixes each tool run and reports its time, so the slowest step shows in the log.
timed() {
  local start=$SECONDS
  "$@"
  echo "-- $(basename "$1") $2 took $((SECONDS - start)) s"
}
timed "$build/data/scenery-data" synth --layout ade20k --out "$out/ade" --classes 8 --per-class 50 \
  --eval-per-class 25 --size 128 --seed 3 --difficulty medium --family-size 8
timed "$build/train/scenery-train" --data.dataset ade20k --data.root "$out/ade" --data.batch_size 16 \
  --data.workers 2 --data.image_size 112 --data.resize 128 --model.arch resnet18 \
  --model.num_classes 8 --train.run_dir "$out/run" --train.epochs 8 --train.optimizer sgd \
  --train.lr 0.02 --train.momentum 0.9 --train.weight_decay 1e-4 --train.schedule cosine \
  --train.schedule_unit iteration --train.warmup_epochs 0.5 --train.threads "$threads"
common=(--data.dataset ade20k --data.root "$out/ade" --data.split val --inspect.input_size 112
  --units.layers layer3,layer4)
timed "$build/inspect/scenery-inspect" units --inspect.checkpoint "$out/run/best.ckpt" "${common[@]}" \
  --inspect.out "$out/trained"
# The run's own initialisation: train.seed 0, the model created right after seeding.
timed "$build/inspect/scenery-inspect" units --inspect.random_arch resnet18 --inspect.random_classes 8 \
  --inspect.seed 0 "${common[@]}" --inspect.out "$out/random"
# A folder of images without annotations: units ranked by activation; segmentation.
timed "$build/inspect/scenery-inspect" segment --inspect.checkpoint "$out/run/best.ckpt" \
  --inspect.input "$out/ade/images/validation" --inspect.input_size 112 --inspect.out "$out/segment"
test -s "$out/segment/index.html"
test "$(ls "$out/segment/units/layer4" | wc -l)" -eq 512
# Receptive fields by occlusion, small (2 units, 3 images, a stride-12 grid).
timed "$build/inspect/scenery-inspect" rf --inspect.checkpoint "$out/run/best.ckpt" "${common[@]}" \
  --rf.units 0-1 --rf.top_images 3 --rf.stride 12 --inspect.out "$out/rf"
grep -q '"theoretical_size": "435"' "$out/rf/rf.json"
test "$(ls "$out/rf/maps/layer4" | wc -l)" -eq 2
# Minimal images over the first 60 validation images (annotated object regions),
# then on a folder (SLIC superpixels, the network's own answer as the target).
timed "$build/inspect/scenery-inspect" minimal --inspect.checkpoint "$out/run/best.ckpt" \
  --data.dataset ade20k --data.root "$out/ade" --data.split val --inspect.input_size 112 \
  --minimal.max_images 60 --inspect.out "$out/minimal"
timed "$build/inspect/scenery-inspect" minimal --inspect.checkpoint "$out/run/best.ckpt" \
  --inspect.input "$out/ade/images/validation" --inspect.input_size 112 \
  --minimal.max_images 2 --minimal.superpixel_size 32 --inspect.out "$out/minimal_folder"
test "$(($(wc -l < "$out/minimal_folder/minimal.csv")))" -eq 3
/usr/bin/python3 "$here/units_emerge_check.py" "$out/ade" "$out/trained/units.csv" \
  "$out/random/units.csv" layer4 "$out/minimal/minimal.csv"
