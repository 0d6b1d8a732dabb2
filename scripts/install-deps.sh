#!/usr/bin/env bash
# Installs every build, test and parity dependency from Debian's registry.
# Idempotent and non-interactive: CI and a newcomer run the same script.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build
  libtorch-dev libdnnl-dev libgloo-dev
  libopencv-dev libjpeg62-turbo-dev
  libtbb-dev
  libboost-program-options-dev
  libfmt-dev
  libgtest-dev libgmock-dev googletest
  libbenchmark-dev
  python3-torch python3-torchvision python3-numpy python3-pil
  python3-opencv python3-h5py libhdf5-dev libopencv-contrib-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
