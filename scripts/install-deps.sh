#!/usr/bin/env bash
# Installs every build, test and parity dependency from Debian's registry.
# Idempotent and non-interactive: CI and a newcomer run the same script.
# Debian 12 (bookworm: CI, LibTorch 1.13) and Debian 13 (trixie: scripts/test-debian13.sh,
# LibTorch 2.6). On trixie, `--cuda` installs the CUDA build of LibTorch (contrib, with NCCL;
# CUDA 12.4 is in non-free) in place of the CPU one; the two conflict, so one root has one.
set -euo pipefail

cuda=0
fuzz=0
for arg in "$@"; do
  case "$arg" in
    --cuda) cuda=1 ;;
    --fuzz) fuzz=1 ;;  # clang and libFuzzer for scripts/fuzz.sh
    *) echo "install-deps: unknown argument '$arg' (usage: install-deps.sh [--cuda] [--fuzz])" >&2; exit 2 ;;
  esac
done

codename=""
# shellcheck source=/dev/null
if [ -r /etc/os-release ]; then codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}"); fi

# Every name here exists on both bookworm and trixie (checked with apt-cache on each).
packages=(
  build-essential cmake pkg-config ninja-build
  libtorch-dev libdnnl-dev libgloo-dev
  libopencv-dev libjpeg62-turbo-dev
  libtbb-dev
  libboost-program-options-dev
  libprotobuf-dev protobuf-compiler
  libfmt-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev googletest
  libbenchmark-dev
  python3-torch python3-torchvision python3-numpy python3-pil
  python3-opencv python3-h5py libhdf5-dev libopencv-contrib-dev
)

# The cuDNN stand-in's version: above the real nvidia-cudnn 9.0.0.312~cuda12, so apt never
# swaps the real one (whose install step downloads cuDNN from NVIDIA) back in.
cudnn_standin_version=9.0.0.312~cuda12+scenery1

if [ "$cuda" = 1 ]; then
  if [ "$codename" != trixie ]; then
    echo "install-deps: --cuda needs Debian 13 (trixie), whose contrib has the CUDA LibTorch;" \
      "this is '${codename:-unknown}'" >&2
    exit 2
  fi
  # The CUDA builds replace (Conflicts/Replaces) their CPU namesakes.
  for i in "${!packages[@]}"; do
    case "${packages[$i]}" in
      libtorch-dev) packages[i]=libtorch-cuda-dev ;;
      libgloo-dev) packages[i]=libgloo-cuda-dev ;;
      python3-torch) packages[i]=python3-torch-cuda ;;
    esac
  done
  # Configuring against the CUDA LibTorch finds CUDA (nvcc, headers: nvidia-cuda-toolkit) and
  # NCCL (nccl.h: libnccl-dev). nvcc 12.4 rejects trixie's default g++ 14:
  # nvidia-cuda-toolkit-gcc points it at g++-13.
  packages+=(nvidia-cuda-toolkit nvidia-cuda-toolkit-gcc libnccl-dev)
fi

if [ "$fuzz" = 1 ]; then
  # Debian's default clang and its libFuzzer: 14 on bookworm, 19 on trixie.
  llvm=14
  if [ "$codename" = trixie ]; then llvm=19; fi
  packages+=("clang-$llvm" "libfuzzer-$llvm-dev")
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

need_cudnn_standin=0
if [ "$cuda" = 1 ] &&
  [ "$(dpkg-query -W -f='${Version}' nvidia-cudnn 2>/dev/null)" != "$cudnn_standin_version" ]; then
  need_cudnn_standin=1
fi
cudnn_stub=/usr/local/lib/scenery-cudnn-stub/libcudnn.so.9
# The cuDNN symbols the installed CUDA LibTorch imports: libtorch_cuda's and libtorch_python's
# (python3-torch-cuda), read from the libraries so the list follows their version.
cudnn_symbols() {
  objdump -T /usr/lib/x86_64-linux-gnu/libtorch*.so.*.* 2>/dev/null |
    awk '/\*UND\*/ && /libcudnn\.so\.9/ { print $NF }' | sort -u
}
need_cudnn_stub=0
if [ "$cuda" = 1 ] && { [ ! -e "$cudnn_stub" ] ||
  [ "$(cudnn_symbols)" != "$(cat "$cudnn_stub.symbols" 2>/dev/null)" ]; }; then
  need_cudnn_stub=1
fi

if [ ${#missing[@]} -eq 0 ] && [ "$need_cudnn_standin" = 0 ] && [ "$need_cudnn_stub" = 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# libtorch-cuda-2.6 depends on nvidia-cudnn (>= 9.0.0.312~), a package whose maintainer script
# downloads cuDNN from NVIDIA: impossible offline. This empty package, built with equivs, takes its
# name and Provides; libcudnn.so.9 itself has to come from elsewhere (a stub) where it is loaded.
install_cudnn_standin() {
  local dir
  dpkg-query -W -f='${Status}' equivs 2>/dev/null | grep -q "install ok installed" ||
    $SUDO apt-get install -y -qq --no-install-recommends equivs
  dir=$(mktemp -d)
  cat > "$dir/nvidia-cudnn.ctl" <<EOF
Section: contrib/libs
Priority: optional
Standards-Version: 4.7.0
Package: nvidia-cudnn
Version: $cudnn_standin_version
Maintainer: Scenery <scenery@localhost>
Provides: libcudnn-dev, libcudnn.so, libcudnn.so.9
Architecture: all
Description: offline stand-in for nvidia-cudnn (Scenery's Debian 13 CUDA lane)
 Satisfies libtorch-cuda-2.6's dependency on nvidia-cudnn without downloading cuDNN.
 Ships no files: no libcudnn.so.9, no cudnn.h.
EOF
  (cd "$dir" && equivs-build nvidia-cudnn.ctl >/dev/null)
  $SUDO dpkg -i "$dir"/nvidia-cudnn_*.deb
  $SUDO apt-mark hold nvidia-cudnn >/dev/null
  rm -rf "$dir"
}

# libtorch_cuda.so (and python3-torch-cuda's libtorch_python.so) link libcudnn.so.9, which the
# stand-in does not ship: without it no program linking LibTorch loads, nor `import torch`. This
# stub exports exactly the cuDNN symbols the installed CUDA LibTorch imports (read from its
# libraries, so it follows their version), each failing with status 1
# (CUDNN_STATUS_NOT_INITIALIZED): programs load and run everything but cuDNN calls, which a
# machine without a GPU never makes. A machine with real cuDNN does not need it.
install_cudnn_stub() {
  local dir
  dir=$(mktemp -d)
  cudnn_symbols > "$dir/symbols"
  if [ ! -s "$dir/symbols" ]; then
    echo "install-deps: found no cuDNN symbols in LibTorch's libraries: no stub built" >&2
    rm -rf "$dir"
    return 1
  fi
  { echo "/* Generated by scripts/install-deps.sh: a libcudnn.so.9 that fails every call. */"
    while read -r symbol; do echo "long $symbol(void) { return 1; }"; done < "$dir/symbols"
  } > "$dir/stub.c"
  { echo "libcudnn.so.9 {"; echo "  global:"; sed 's/^/    /; s/$/;/' "$dir/symbols"
    echo "  local: *;"; echo "};"
  } > "$dir/stub.map"
  gcc -shared -fPIC -O1 -Wl,-soname,libcudnn.so.9 -Wl,--version-script,"$dir/stub.map" \
    -o "$dir/libcudnn.so.9" "$dir/stub.c"
  $SUDO install -D -m 644 "$dir/libcudnn.so.9" "$cudnn_stub"
  $SUDO install -m 644 "$dir/symbols" "$cudnn_stub.symbols"
  echo "$(dirname "$cudnn_stub")" | $SUDO tee /etc/ld.so.conf.d/scenery-cudnn-stub.conf >/dev/null
  $SUDO ldconfig
  echo "install-deps: cuDNN stub with $(wc -l < "$dir/symbols") symbols at $cudnn_stub"
  rm -rf "$dir"
}

standin_note=""
if [ "$need_cudnn_standin" = 1 ]; then standin_note=" (and the nvidia-cudnn stand-in)"; fi
echo "install-deps: installing ${missing[*]}$standin_note"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
if [ "$need_cudnn_standin" = 1 ]; then install_cudnn_standin; fi
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ "$need_cudnn_stub" = 1 ]; then install_cudnn_stub; fi
