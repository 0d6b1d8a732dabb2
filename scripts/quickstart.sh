#!/usr/bin/env bash
# README command (a), the main job, end to end on a fresh machine with no data and
# no GPU: install, build, generate synthetic Places365 and ADE20K datasets (real
# on-disk layouts, scenes hard enough to mean something: data/synth.h), train a
# scene CNN, the two-branch Semantic-Aware network (on two seeds) and a parsing
# network on CPU, evaluate them, write and score a Places365 challenge submission,
# and print the Semantic-Aware paper's table (kept in <out>/summary.md).
#
#   bash scripts/quickstart.sh              # the full demo (about 10 minutes on 2 cores after the build)
#   bash scripts/quickstart.sh --reduced    # smaller, what CI runs (ctest Quickstart.*): the
#                                           # two-branch table on two seeds still holds
#
# The script fails (exit 1) if RGB + semantic is not above RGB only on every seed.
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
inspect_tool="$bin/inspect/scenery-inspect"

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
  # Places365: tiny, one epoch (every step runs; too small to expect learning).
  places_classes=5 places_per_class=4 places_eval=2 places_epochs=1
  # The two-branch table needs learning even here: 144 training and 180 val images.
  ade_classes=6 ade_per_class=24 ade_eval=30 ade_epochs=6
  # Parsing only has to run end to end here: 64 px crops, evaluated at half size (a
  # quarter of the full-size evaluation's time).
  parse_epochs=1 parse_size=(--data.image_size 64 --data.resize 72) parse_eval=(--eval.scales 0.5)
else
  places_classes=10 places_per_class=40 places_eval=30 places_epochs=8
  ade_classes=6 ade_per_class=40 ade_eval=30 ade_epochs=12
  parse_epochs=3 parse_size=() parse_eval=()
fi
seeds="2 3"  # the two-branch network runs on each; the table shows the first
first_seed=${seeds%% *}
# SCENERY_THREADS: CPU threads per training run (ctest sets 1: two tests share 2 cores).
threads=${SCENERY_THREADS:-$(nproc)}

# Each step reports how long the previous one took, so a slow step shows in CI logs.
step_name="" step_start=$SECONDS
step_done() { [ -z "$step_name" ] || echo "-- step ${step_name%% *} took $((SECONDS - step_start)) s"; }
step() { step_done; step_name="$*" step_start=$SECONDS; echo; echo "== $* =="; }
metric() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

step "1/9 synthetic Places365-Standard ($places_classes classes, medium) and ADE20K ($ade_classes scene classes, hard)"
"$data_tool" synth --layout places365 --out "$out/places365" --classes "$places_classes" \
  --per-class "$places_per_class" --eval-per-class "$places_eval" --size 80 --seed 1 \
  --difficulty medium
for seed in $seeds; do
  "$data_tool" synth --layout ade20k --out "$out/ade20k_seed$seed" --classes "$ade_classes" \
    --per-class "$ade_per_class" --eval-per-class "$ade_eval" --size 176 --seed "$seed" \
    --difficulty hard --semantic-maps
done
"$data_tool" check --data.dataset places365 --data.root "$out/places365" --data.split val

step "2/9 train ResNet-18 on Places365 (64 px crops, $places_epochs epochs)"
"$train_tool" --config configs/quickstart.cfg \
  --data.root "$out/places365" --model.num_classes "$places_classes" \
  --train.run_dir "$out/runs/places365_resnet18" --train.epochs "$places_epochs" \
  --train.threads "$threads"

step "3/9 evaluate it on the val split (centre crop) and write its report"
"$eval_tool" run --data.dataset places365 --data.root "$out/places365" --data.split val \
  --data.resize 72 --eval.checkpoint "$out/runs/places365_resnet18/best.ckpt" \
  --eval.out "$out/eval/places365_val" --eval.submission "$out/eval/places365_val_top5.txt" \
  | tee "$out/eval/places365_val.txt"

step "4/9 Places365 challenge submission for the test split, and the val file scored like the devkit"
"$eval_tool" run --data.dataset places365 --data.root "$out/places365" --data.split test \
  --data.resize 72 --eval.crop ten --eval.checkpoint "$out/runs/places365_resnet18/best.ckpt" \
  --eval.out "$out/eval/places365_test" --eval.submission "$out/submission_places365_test.txt"
head -n 3 "$out/submission_places365_test.txt"
"$eval_tool" score --num-classes "$places_classes" --places "$out/eval/places365_val_top5.txt" \
  --ground-truth "$out/places365/places365_val.txt" --json "$out/eval/places365_val_score.json"

step "5/9 look inside the Places365 model: top-5 and class activation maps of the val images"
"$inspect_tool" predict --inspect.checkpoint "$out/runs/places365_resnet18/best.ckpt" \
  --data.dataset places365 --data.root "$out/places365" --data.split val \
  --inspect.input_size 160 --inspect.out "$out/inspect/places365_val" --cam.top 1 \
  | tee "$out/eval/places365_inspect.txt"
head -n 1 "$out/inspect/places365_val/predictions.jsonl"

for seed in $seeds; do
  step "6/9 train the two-branch Semantic-Aware network on ADE20K scenes, seed $seed (RGB + annotation maps, $ade_epochs epochs)"
  "$train_tool" --config configs/quickstart_sascene.cfg \
    --data.root "$out/ade20k_seed$seed" --model.num_classes "$ade_classes" \
    --train.run_dir "$out/runs/ade20k_sascene_resnet18_seed$seed" --train.epochs "$ade_epochs" \
    --train.threads "$threads"

  step "7/9 evaluate it, seed $seed: RGB only, semantic only, both branches"
  for branches in rgb semantic both; do
    "$eval_tool" run --data.dataset ade20k --data.root "$out/ade20k_seed$seed" --data.split val \
      --data.image_size 160 --data.resize 176 --eval.semantic masks --eval.branches "$branches" \
      --eval.checkpoint "$out/runs/ade20k_sascene_resnet18_seed$seed/best.ckpt" \
      --eval.out "$out/eval/ade20k_sascene_seed${seed}_$branches" \
      | tee "$out/eval/ade20k_sascene_seed${seed}_$branches.txt"
  done
done

step "8/9 scene parsing on the ADE20K scenes of seed $first_seed (dilated ResNet-18 + PPM, $parse_epochs epochs)"
"$train_tool" --config configs/quickstart_parsing.cfg --data.root "$out/ade20k_seed$first_seed" \
  --train.run_dir "$out/runs/ade20k_parsing_resnet18" --train.epochs "$parse_epochs" \
  "${parse_size[@]}" --train.threads "$threads"
"$eval_tool" run --data.dataset ade20k --data.root "$out/ade20k_seed$first_seed" --data.split val \
  --eval.checkpoint "$out/runs/ade20k_parsing_resnet18/best.ckpt" "${parse_eval[@]}" \
  --eval.out "$out/eval/ade20k_parsing" | tee "$out/eval/ade20k_parsing.txt"

step "9/9 summary"
step_name=""
summary="$out/summary.md"
ade_val=$((ade_classes * ade_eval))
chance() { awk -v n="$1" 'BEGIN { printf "%.4f", 1 / n }'; }
verdict() {  # value, chance
  awk -v v="$1" -v c="$2" 'BEGIN { if (v >= 1) print "at the ceiling"; else if (v > 2 * c) print "clearly above chance, below 1.0"; else if (v > c) print "above chance"; else print "NOT above chance" }'
}
row() {  # label, eval output
  printf '| %-16s | %s | %s | %s | %s |\n' "$1" "$(metric "$2" top-1)" "$(metric "$2" top-2)" \
    "$(metric "$2" top-5)" "$(metric "$2" MCA)"
}
ade_file() { echo "$out/eval/ade20k_sascene_seed$1_$2.txt"; }
places_top1=$(metric "$out/eval/places365_val.txt" top-1)
{
  echo "# Scenery quickstart summary"
  echo
  echo "Synthetic data (\`scenery-data synth\`, data/synth.h); every number is measured by \`scenery-eval\`."
  if [ "$reduced" = 1 ]; then echo; echo "Reduced run (CI): Places365 is too small to learn; the two-branch table is meaningful."; fi
  echo
  echo "## Places365-style scene recognition (ResNet-18, medium difficulty, $places_classes classes)"
  echo
  echo "val: $((places_classes * places_eval)) images; top-1 $places_top1, top-5 $(metric "$out/eval/places365_val.txt" top-5), MCA $(metric "$out/eval/places365_val.txt" MCA) (chance $(chance "$places_classes"): $(verdict "$places_top1" "$(chance "$places_classes")"))"
  echo
  echo "## Semantic-Aware scene recognition (two-branch ResNet-18, ADE20K-style, hard difficulty, $ade_classes classes)"
  echo
  echo "seed $first_seed, val: $ade_val images (chance $(chance "$ade_classes")); semantic maps: the annotations"
  echo
  echo "| Branches         | Top@1 | Top@2 | Top@5 | MCA |"
  echo "|------------------|-------|-------|-------|-----|"
  row "RGB only" "$(ade_file "$first_seed" rgb)"
  row "Semantic only" "$(ade_file "$first_seed" semantic)"
  row "RGB + Semantic" "$(ade_file "$first_seed" both)"
  echo
  for seed in $seeds; do
    echo "seed $seed: Top@1 RGB only $(metric "$(ade_file "$seed" rgb)" top-1), semantic only $(metric "$(ade_file "$seed" semantic)" top-1), RGB + semantic $(metric "$(ade_file "$seed" both)" top-1)"
  done
  echo
  echo "## Scene parsing (dilated ResNet-18 + PPM, 150 classes, seed $first_seed val: $ade_val images)"
  echo
  echo "pixel accuracy $(awk '/^pixel accuracy/ { print $3 }' "$out/eval/ade20k_parsing.txt") / mean IoU (official, all 150 classes) $(awk '$1 == "mean" && $2 == "IoU" && NF == 3 { print $3 }' "$out/eval/ade20k_parsing.txt") / mean IoU over the classes present $(awk '/^mean IoU over/ { print $NF }' "$out/eval/ade20k_parsing.txt")"
} > "$summary"
cat "$summary"
echo
echo "submission: $out/submission_places365_test.txt ($(wc -l < "$out/submission_places365_test.txt") lines)"
echo "reports:    $out/eval/*/results.json, per_class.csv, confusion.png; runs: $out/runs/*/metrics.csv"
echo "inspect:    $out/inspect/places365_val/predictions.jsonl and cam/ (class activation maps)"

# The claim the table exists for, on every seed.
for seed in $seeds; do
  both=$(metric "$(ade_file "$seed" both)" top-1) rgb=$(metric "$(ade_file "$seed" rgb)" top-1)
  if ! awk -v b="$both" -v r="$rgb" 'BEGIN { exit !(b > r) }'; then
    echo "quickstart: seed $seed: RGB + semantic top-1 $both is not above RGB only $rgb" >&2
    exit 1
  fi
done
