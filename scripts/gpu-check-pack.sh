#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on a bare GPU machine (CUDA PyTorch, nvcc, CMake and
# Ninja, but none of Scenery's other dependencies, and no network) into .gpu-check/:
#   deps.tar.xz  this machine's Debian 12 packages for OpenCV (core, imgproc, imgcodecs, dnn),
#                oneTBB, Boost.Program_options, fmt, libjpeg, protobuf (with protoc),
#                GoogleTest and Google Benchmark: headers, CMake configs, libraries and every
#                shared library they load (glibc, libstdc++ and libgcc_s excepted: the GPU
#                machine's newer ones serve), under usr/ as a prefix;
#   fixture/     a short CPU run's TensorBoard event file and metrics.jsonl (for TensorBoard's
#                own loader there).
# Run after a build (build/ lists the headers the project includes: ninja -t deps).
# Usage: scripts/gpu-check-pack.sh [build dir]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build}
dest=$repo/.gpu-check
arch=x86_64-linux-gnu
[ -f "$build/build.ninja" ] || { echo "gpu-check-pack: build the project into $build first" >&2; exit 2; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
prefix=$stage/usr

# Whole header trees of the libraries (small), and Boost's: only the headers the build used,
# plus its configuration headers (a newer compiler may select others there).
copy() { mkdir -p "$prefix/$(dirname "$1")" && cp -a "/usr/$1" "$prefix/$1"; }
for d in include/opencv4 include/oneapi include/tbb include/fmt include/gtest include/gmock \
  include/benchmark include/nlohmann include/google/protobuf include/boost/config include/boost/predef \
  include/jpeglib.h include/jmorecfg.h include/jerror.h include/$arch/jconfig.h; do
  copy "$d"
done
(cd "$build" && ninja -t deps) | sed -n 's|^ *\(/usr/include/boost/.*\)|\1|p' | sort -u |
  while read -r header; do copy "${header#/usr/}"; done

# CMake configs (relocatable: they find their prefix from their own location). OpenCV's is
# replaced by a minimal one: Debian's checks that the files of all 30-odd modules exist.
copy share/cmake/nlohmann_json
for d in TBB fmt GTest benchmark Boost-1.74.0 BoostDetectToolset-1.74.0.cmake boost_headers-1.74.0 \
  boost_program_options-1.74.0; do
  copy "lib/$arch/cmake/$d"
done
mkdir -p "$prefix/lib/$arch/cmake/opencv4"
cat >"$prefix/lib/$arch/cmake/opencv4/OpenCVConfig.cmake" <<'EOF'
# Minimal OpenCV config for the GPU check: the four modules Scenery links.
get_filename_component(_ocv_prefix "${CMAKE_CURRENT_LIST_DIR}/../../../.." ABSOLUTE)
set(OpenCV_INCLUDE_DIRS "${_ocv_prefix}/include/opencv4")
set(OpenCV_LIBS opencv_core opencv_imgproc opencv_imgcodecs opencv_dnn)
foreach(_m IN LISTS OpenCV_LIBS)
  if(NOT TARGET ${_m})
    add_library(${_m} SHARED IMPORTED)
    set_target_properties(${_m} PROPERTIES
      IMPORTED_LOCATION "${_ocv_prefix}/lib/x86_64-linux-gnu/lib${_m}.so.406"
      INTERFACE_INCLUDE_DIRECTORIES "${OpenCV_INCLUDE_DIRS}")
  endif()
endforeach()
set(OpenCV_FOUND TRUE)
set(OpenCV_VERSION 4.6.0)
EOF

# Libraries to link (every file and link of each, as the CMake configs name them) and every
# shared library they load.
mkdir -p "$prefix/lib/$arch" "$prefix/bin"
(cd "/usr/lib/$arch" && cp -a libopencv_core.so* libopencv_imgproc.so* libopencv_imgcodecs.so* \
  libopencv_dnn.so* libtbb*.so* libboost_program_options.* libfmt.so* libjpeg.so* \
  libprotobuf.so* libprotoc.so* libgtest*.a libgmock*.a libbenchmark* "$prefix/lib/$arch/")
cp /usr/bin/protoc "$prefix/bin/"
base='^(libc|libm|libdl|librt|libpthread|libstdc\+\+|libgcc_s|ld-linux-x86-64|linux-vdso)\.so'
for file in "$prefix/lib/$arch"/*.so.* /usr/bin/protoc; do
  [ -L "$file" ] || ldd "$file" | awk '$3 ~ /^\// { print $1, $3 }'
done | sort -u | while read -r name path; do
  [[ $name =~ $base ]] && continue
  [ -e "$prefix/lib/$arch/$name" ] && continue
  real=$(readlink -f "$path")
  cp -n "$real" "$prefix/lib/$arch/"
  [ "$(basename "$real")" = "$name" ] || ln -sf "$(basename "$real")" "$prefix/lib/$arch/$name"
done

mkdir -p "$dest"
tar -C "$stage" -cf - usr | xz -T2 -6 >"$dest/deps.tar.xz"

# A short CPU run's record, for TensorBoard's own loader on the GPU machine.
rm -rf "$dest/fixture" "$stage/data"
"$build/data/scenery-data" synth --layout places365 --out "$stage/data" --classes 4 \
  --per-class 6 --size 64 >/dev/null 2>&1
"$build/train/scenery-train" --data.dataset places365 --data.root "$stage/data" \
  --data.batch_size 8 --data.image_size 48 --data.resize 56 --model.arch resnet18 \
  --model.num_classes 4 --train.epochs 2 --train.threads 2 --train.clip_grad_norm 100 \
  --log.every 1 --train.run_dir "$stage/run" >/dev/null 2>&1
mkdir -p "$dest/fixture"
cp "$stage"/run/events.out.tfevents.* "$stage/run/metrics.jsonl" "$stage/run/metrics.csv" \
  "$dest/fixture/"
du -sh "$dest"/* | sed 's/^/gpu-check-pack: /'
