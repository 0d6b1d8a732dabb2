#!/usr/bin/env bash
# README command (a), the main job: install, build, and run the demo end to end
# on data it generates itself (no download, no GPU needed).
#
# What runs today: the configuration layer on the quickstart recipe (resolved
# configuration, its round trip, and the run directory it prepares). The
# synthetic data, training, evaluation and submission steps join this script
# as their issues land.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
bin=build

echo "== [1/2] resolved quickstart configuration (configs/quickstart.cfg) =="
"$bin/train/scenery-train" --config configs/quickstart.cfg --dump-config

echo "== [2/2] the same configuration read back from its own dump =="
mkdir -p demo
"$bin/train/scenery-train" --config configs/quickstart.cfg --dump-config > demo/resolved.cfg
"$bin/train/scenery-train" --config demo/resolved.cfg --dump-config | diff <(grep -v '^#' demo/resolved.cfg) <(grep -v '^#' -) \
  && echo "round trip: identical"
echo "quickstart: done (data, training and evaluation steps are not built yet)"
