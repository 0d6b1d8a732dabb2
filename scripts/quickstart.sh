#!/usr/bin/env bash
# README command (a), the main job, end to end on a fresh machine with no data and
# no GPU: install, build, generate synthetic Places365 and ADE20K datasets (real
# on-disk layouts), train a small scene CNN and the two-branch Semantic-Aware
# network for a few minutes on CPU, evaluate both, write and score a Places365
# challenge submission, and print the numbers.
#
#   bash scripts/quickstart.sh              # the full demo (a few minutes after the build)
#   bash scripts/quickstart.sh --reduced    # tiny sizes, 1 epoch: what CI runs (ctest Quickstart.*)
#   options: --skip-build (use an existing build), --out DIR (default: demo)
set -euo pipefail
cd "$(dirname "$0")/.."

reduced=0
build=1
out=demo
while [ $# -gt 0 ]; do
  case "$1" in
    --reduced) reduced=1 ;;
    --skip-build) build=0 ;;
    --out) out="$2"; shift ;;
    *) echo "quickstart: unknown option '$1' (valid: --reduced --skip-build --out DIR)" >&2; exit 2 ;;
  esac
  shift
done

if [ "$build" = 1 ]; then
  bash scripts/install-deps.sh
  bash scripts/build.sh
fi
bin=${SCENERY_BUILD_DIR:-build}
data_tool="$bin/data/scenery-data"
train_tool="$bin/train/scenery-train"
eval_tool="$bin/eval/scenery-eval"

# The demo folder is ours to recreate; anything else of that name is the user's.
if [ -e "$out" ]; then
  if [ ! -f "$out/.scenery-demo" ]; then
    echo "quickstart: '$out' exists and was not made by this script; choose another --out" >&2
    exit 2
  fi
  rm -rf "$out"
fi
mkdir -p "$out"
touch "$out/.scenery-demo"
mkdir -p "$out/eval"

if [ "$reduced" = 1 ]; then
  places_classes=5 places_per_class=4 places_epochs=1  # 5: a submission lists 5 labels
  ade_classes=3 ade_per_class=6 ade_epochs=1  # 18 images: one batch of 16
else
  places_classes=6 places_per_class=40 places_epochs=6
  ade_classes=4 ade_per_class=24 ade_epochs=5
fi
threads=$(nproc)

step() { echo; echo "== $* =="; }

step "1/7 synthetic Places365-Standard ($places_classes classes) and ADE20K ($ade_classes scene classes)"
"$data_tool" synth --layout places365 --out "$out/places365" --classes "$places_classes" \
  --per-class "$places_per_class" --size 80 --seed 1
"$data_tool" synth --layout ade20k --out "$out/ade20k" --classes "$ade_classes" \
  --per-class "$ade_per_class" --size 176 --seed 2 --semantic-maps
"$data_tool" check --data.dataset places365 --data.root "$out/places365" --data.split val

step "2/7 train ResNet-18 on Places365 (64 px crops, $places_epochs epochs)"
"$train_tool" --config configs/quickstart.cfg \
  --data.root "$out/places365" --model.num_classes "$places_classes" \
  --train.run_dir "$out/runs/places365_resnet18" --train.epochs "$places_epochs" \
  --train.threads "$threads"

step "3/7 evaluate it on the val split (centre crop) and write its report"
"$eval_tool" run --data.dataset places365 --data.root "$out/places365" --data.split val \
  --data.resize 72 --eval.checkpoint "$out/runs/places365_resnet18/best.ckpt" \
  --eval.out "$out/eval/places365_val" --eval.submission "$out/eval/places365_val_top5.txt" \
  | tee "$out/eval/places365_val.txt"

step "4/7 Places365 challenge submission for the test split, and the val file scored like the devkit"
"$eval_tool" run --data.dataset places365 --data.root "$out/places365" --data.split test \
  --data.resize 72 --eval.crop ten --eval.checkpoint "$out/runs/places365_resnet18/best.ckpt" \
  --eval.out "$out/eval/places365_test" --eval.submission "$out/submission_places365_test.txt"
head -n 3 "$out/submission_places365_test.txt"
"$eval_tool" score --num-classes "$places_classes" --places "$out/eval/places365_val_top5.txt" \
  --ground-truth "$out/places365/places365_val.txt"

step "5/7 train the two-branch Semantic-Aware network on ADE20K scenes (RGB + annotation maps, $ade_epochs epochs)"
"$train_tool" --config configs/quickstart_sascene.cfg \
  --data.root "$out/ade20k" --model.num_classes "$ade_classes" \
  --train.run_dir "$out/runs/ade20k_sascene_resnet18" --train.epochs "$ade_epochs" \
  --train.threads "$threads"

step "6/7 evaluate the two-branch network: both branches, RGB only, semantic only"
for branches in both rgb semantic; do
  "$eval_tool" run --data.dataset ade20k --data.root "$out/ade20k" --data.split val \
    --data.image_size 160 --data.resize 176 --eval.semantic masks --eval.branches "$branches" \
    --eval.checkpoint "$out/runs/ade20k_sascene_resnet18/best.ckpt" \
    --eval.out "$out/eval/ade20k_sascene_$branches" | tee "$out/eval/ade20k_sascene_$branches.txt"
done

step "7/7 summary"
metric() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
verdict() {  # value, chance
  awk -v v="$1" -v c="$2" 'BEGIN { if (v > 2 * c) print "clearly above chance"; else if (v > c) print "above chance"; else print "NOT above chance" }'
}
places_top1=$(metric "$out/eval/places365_val.txt" top-1)
places_chance=$(awk -v n="$places_classes" 'BEGIN { printf "%.4f", 1 / n }')
ade_chance=$(awk -v n="$ade_classes" 'BEGIN { printf "%.4f", 1 / n }')
echo "Places365 ResNet-18   val top-1 $places_top1  top-5 $(metric "$out/eval/places365_val.txt" top-5)  MCA $(metric "$out/eval/places365_val.txt" MCA)  (chance $places_chance: $(verdict "$places_top1" "$places_chance"))"
for branches in both rgb semantic; do
  top1=$(metric "$out/eval/ade20k_sascene_$branches.txt" top-1)
  echo "ADE20K two-branch, $branches: val top-1 $top1  (chance $ade_chance: $(verdict "$top1" "$ade_chance"))"
done
echo "submission: $out/submission_places365_test.txt ($(wc -l < "$out/submission_places365_test.txt") lines)"
echo "reports:    $out/eval/*/results.json, per_class.csv, confusion.png; runs: $out/runs/*/metrics.csv"
if [ "$reduced" = 1 ]; then echo "(reduced run: sizes too small to expect learning)"; fi
