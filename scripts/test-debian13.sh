#!/usr/bin/env bash
# Debian 13 (trixie) test lane: builds and tests the working tree inside a trixie chroot, so the
# LibTorch 2.6 that trixie ships is exercised next to the host's Debian 12 LibTorch 1.13.
#
# Usage: scripts/test-debian13.sh [--cuda] [--setup-only | --build-only]
#   --cuda        trixie's CUDA LibTorch (contrib: libtorch-cuda-dev, NCCL; CUDA 12.4 is in
#                 non-free) instead of the CPU one; a separate root, since the two conflict.
#   --setup-only  create the root and install the dependencies, then stop.
#   --build-only  stop after building (no ctest).
# Environment: SCENERY_DEBIAN13_CACHE (default /var/cache/scenery) holds the roots,
#   SCENERY_DEBIAN13_MIRROR (default http://deb.debian.org/debian), SCENERY_BUILD_JOBS.
#
# Needs root and debootstrap (apt-get install -y debootstrap). The host's apt sources are never
# touched: the chroot has its own. The root is created once and reused (only packages missing
# from it are installed), /src is the working tree copied afresh on each run, and /build stays
# in the root between runs so that a rerun rebuilds incrementally.
# Ends with `debian13 times: setup N s, build N s, ctest N s`; exits non-zero on any failure.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${SCENERY_DEBIAN13_CACHE:-/var/cache/scenery}
mirror=${SCENERY_DEBIAN13_MIRROR:-http://deb.debian.org/debian}
suite=trixie

cuda=0
stop_after=ctest
usage() { sed -n '5,9p' "$0" | sed 's/^# \{0,1\}//'; }
for arg in "$@"; do
  case "$arg" in
    --cuda) cuda=1 ;;
    --setup-only) stop_after=setup ;;
    --build-only) stop_after=build ;;
    -h|--help) usage; exit 0 ;;
    *) echo "test-debian13: unknown argument '$arg'" >&2; usage >&2; exit 2 ;;
  esac
done

if [ "$cuda" = 1 ]; then
  # libtorch-cuda-dev is in contrib; the CUDA libraries, nvcc and libcuda1 it needs are in non-free.
  variant=cuda components=main,contrib,non-free deps_args=(--cuda)
else
  variant=cpu components=main deps_args=()
fi
root=$cache/debian13-$variant

log() { echo "test-debian13[$variant]: $*"; }
die() { echo "test-debian13[$variant]: $*" >&2; exit 1; }

# Runs a command inside the root with a clean environment (nothing of the host's PATH, locale,
# or compiler settings leaks in).
in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    DEBIAN_FRONTEND=noninteractive "$@"
}

check_host() {
  [ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, mount, chroot)"
  command -v debootstrap >/dev/null || die "needs debootstrap: apt-get install -y debootstrap"
  [ -f "/usr/share/debootstrap/scripts/$suite" ] || die "this debootstrap does not know $suite"
}

# One run at a time per root: two would race on apt's lock, /src and /build.
take_lock() {
  mkdir -p "$cache"
  exec 9>"$root.lock"
  flock -n 9 || die "another run holds $root.lock"
}

# debootstrap into <root>.partial and rename only when it finished, so an interrupted first run
# leaves no half-made root that a later run would take for a good one.
create_root() {
  if [ -f "$root/etc/scenery-debian13-root" ]; then
    log "reusing $root"
    return
  fi
  local partial=$root.partial
  log "creating $root ($suite minbase, components $components)"
  umount_all "$partial"
  umount_all "$root"
  rm -rf --one-file-system "$partial" "$root"
  debootstrap --variant=minbase --components="$components" "$suite" "$partial" "$mirror"
  # The chroot's own sources (deb822): the suite, its updates and security fixes, like a real
  # trixie machine. debootstrap's one-line sources.list would miss the last two.
  rm -f "$partial/etc/apt/sources.list"
  cat > "$partial/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: ${components//,/ }
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: $suite-security
Components: ${components//,/ }
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  # Package maintainer scripts must not start daemons inside the chroot.
  printf '#!/bin/sh\nexit 101\n' > "$partial/usr/sbin/policy-rc.d"
  chmod +x "$partial/usr/sbin/policy-rc.d"
  echo "$suite $variant $(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$partial/etc/scenery-debian13-root"
  mv "$partial" "$root"
}

# /proc, /sys and /dev for the chroot; /dev brings /dev/shm (LibTorch's shared memory) and
# /dev/pts. rslave keeps unmounts inside the chroot from propagating back to the host.
# Leftovers of a killed run are unmounted first, so each run starts from the same state.
mounted=0
mount_all() {
  mounted=1
  umount_all "$root"
  cp --remove-destination -L /etc/resolv.conf "$root/etc/resolv.conf"
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  mount --make-rslave "$root/sys"
  mount --rbind /dev "$root/dev"
  mount --make-rslave "$root/dev"
}

# Unmounts, deepest first, whatever is mounted under a root (also leftovers of a killed run).
umount_all() {
  local dir=$1 target
  [ -d "$dir" ] || return 0
  awk -v d="$dir/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r |
    while IFS= read -r target; do
      umount "$target" 2>/dev/null || umount -l "$target" || true
    done
}

cleanup() {
  local status=$?
  if [ "$mounted" = 1 ]; then umount_all "$root"; fi
  exit "$status"
}

# The working tree as git sees it (tracked and untracked, not ignored: no build/, no caches),
# extracted with its mtimes so that ninja rebuilds only what changed since the last run.
# Files deleted in the working tree but still tracked are skipped.
copy_tree() {
  log "copying the working tree to $root/src"
  rm -rf --one-file-system "$root/src"
  mkdir -p "$root/src"
  git -C "$repo" ls-files -co --exclude-standard -z |
    while IFS= read -r -d '' f; do
      if [ -e "$repo/$f" ] || [ -L "$repo/$f" ]; then printf '%s\0' "$f"; fi
    done |
    tar -C "$repo" --null --no-recursion -T - -cf - | tar -C "$root/src" -xf -
}

install_deps() {
  log "installing dependencies: scripts/install-deps.sh${deps_args[*]:+ ${deps_args[*]}}"
  in_root bash /src/scripts/install-deps.sh "${deps_args[@]}"
  # Installed .debs are dead weight in a cached root (about 2 GB for the CUDA set).
  in_root apt-get clean
}

# Configures once (Release, Ninja, default options) and builds; a later run reuses /build.
build() {
  local env=()
  # The CUDA LibTorch's CMake config calls enable_language(CUDA), and trixie's nvcc 12.4 rejects
  # its default g++ 14 ("gcc versions later than 13 are not supported"): cuda-g++ (from
  # nvidia-cuda-toolkit-gcc) is g++-13. CMake reads CUDAHOSTCXX on the first configure only.
  if [ "$cuda" = 1 ]; then env=(CUDAHOSTCXX=/usr/bin/cuda-g++); fi
  if [ ! -f "$root/build/CMakeCache.txt" ]; then
    in_root "${env[@]}" cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release
  fi
  in_root cmake --build /build --parallel "${SCENERY_BUILD_JOBS:-$(nproc)}"
}

# oneDNN 3 (LibTorch 2.6's and the system libdnnl) sizes convolution blocks from the CPU's cache
# sizes; on a CPU whose cpuid leaves no cache described (some VMs: no
# /sys/devices/system/cpu/cpu0/cache) it computes wrong convolutions or divides by zero at AVX
# and above (models/cpu_kernels.h). The tools limit it to SSE4.1 there themselves; the tests
# get the same limit from here, said out loud.
onednn_env() {
  if [ -z "${ONEDNN_MAX_CPU_ISA:-}" ] && [ ! -d /sys/devices/system/cpu/cpu0/cache/index0 ]; then
    log "this CPU reports no cache sizes: tests run with ONEDNN_MAX_CPU_ISA=SSE41 (oneDNN 3" \
      "miscomputes convolutions on such CPUs at AVX and above)" >&2
    echo ONEDNN_MAX_CPU_ISA=SSE41
  elif [ -n "${ONEDNN_MAX_CPU_ISA:-}" ]; then
    echo "ONEDNN_MAX_CPU_ISA=$ONEDNN_MAX_CPU_ISA"
  fi
}

run_tests() {
  local env
  env=$(onednn_env)
  in_root ${env:+"$env"} ctest --test-dir /build -j2 --output-on-failure --timeout 1800
}

print_times() {
  printf 'debian13 times: setup %d s, build %d s, ctest %d s\n' "$1" "$2" "$3"
}

main() {
  check_host
  take_lock
  trap cleanup EXIT
  local start=$SECONDS set_up built tested status=0
  create_root
  mount_all
  copy_tree
  install_deps
  set_up=$SECONDS
  if [ "$stop_after" = setup ]; then
    print_times $((set_up - start)) 0 0
    return
  fi
  build
  built=$SECONDS
  if [ "$stop_after" = build ]; then
    print_times $((set_up - start)) $((built - set_up)) 0
    return
  fi
  run_tests || status=$?
  tested=$SECONDS
  print_times $((set_up - start)) $((built - set_up)) $((tested - built))
  return "$status"
}

main
