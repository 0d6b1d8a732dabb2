#!/usr/bin/env bash
# The GPU check: builds Scenery against the GPU machine's own CUDA PyTorch (LibTorch 2.x, pip
# layout) and checks what only a GPU can: the CudaOnly tests, a training run on the GPU (bf16,
# channels-last) whose checkpoint loads with torch.load(weights_only=True) and strict into
# torchvision, TensorBoard's own loader on the run's event file, and ResNet-50 bf16
# channels-last images/s: scenery-train end to end vs its step alone vs a PyTorch step.
#
# For a bare machine with CUDA PyTorch, torchvision, TensorBoard, nvcc, CMake and Ninja but none
# of Scenery's other dependencies and no network: first, on a Debian 12 machine with the
# project built, `bash scripts/gpu-check-pack.sh` packs them into .gpu-check/ (about 52 MB);
# carry that folder along. Never in CI.
# Usage (on the GPU machine): scripts/gpu-check.sh [out dir]   (default: $OUT or ./gpu-check-out)
# Environment: GPU_CHECK_JOBS (build jobs, default nproc), GPU_CHECK_BATCH (default 128).
# Writes gpu-check.log and summary.txt into the out dir; exits non-zero if any check failed.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-${OUT:-$repo/gpu-check-out}}
mkdir -p "$out"
exec > >(tee "$out/gpu-check.log") 2>&1
cd "$repo"
failures=0
result() { # name status detail...
  local name=$1 status=$2
  shift 2
  [ "$status" = ok ] || failures=$((failures + 1))
  printf '%-34s %-5s %s\n' "$name" "$status" "$*" | tee -a "$out/summary.txt"
}
check() { # name command...: runs it, records ok/FAIL with its exit status
  local name=$1
  shift
  echo "== $name: $*"
  local t0=$SECONDS
  if "$@"; then result "$name" ok "$((SECONDS - t0)) s"; else result "$name" FAIL "exit $?"; fi
}
py=python3
batch=${GPU_CHECK_BATCH:-128}
jobs=${GPU_CHECK_JOBS:-$(nproc)}

echo "== machine"
nvidia-smi -L
nvcc --version | tail -2
g++ --version | head -1
cmake --version | head -1
$py -c 'import torch, torchvision; print("torch", torch.__version__, "cuda", torch.version.cuda,
  "cxx11 abi", torch._C._GLIBCXX_USE_CXX11_ABI, "torchvision", torchvision.__version__,
  "gpu", torch.cuda.get_device_name(0))'

# --- TensorBoard's own loader on a CPU run's files (made by gpu-check-pack.sh) -----------------
tensorboard_reads() { # folder: every scalar of metrics.jsonl is in the event file, images decode
  $py - "$1" <<'EOF'
import io, json, sys
from PIL import Image
from tensorboard.backend.event_processing import event_accumulator as ea
folder = sys.argv[1]
acc = ea.EventAccumulator(folder, size_guidance={ea.SCALARS: 0, ea.IMAGES: 0, ea.TENSORS: 0})
acc.Reload()  # TensorBoard's reader checks both CRCs of every record
tags = acc.Tags()
compared = 0
for line in open(f"{folder}/metrics.jsonl"):
    record = json.loads(line)
    for key, value in record.items():
        if key in ("step", "epoch", "time"):
            continue
        shown = [e.value for e in acc.Scalars(key) if e.step == record["step"]]
        assert len(shown) == 1, (key, record["step"], shown)
        assert abs(shown[0] - value) <= 1e-6 * max(1.0, abs(value)), (key, shown[0], value)
        compared += 1
images = 0
for tag in tags["images"]:
    for e in acc.Images(tag):
        picture = Image.open(io.BytesIO(e.encoded_image_string))
        assert picture.size == (e.width, e.height), (tag, picture.size, e.width, e.height)
        images += 1
texts = [t for t in tags["tensors"] if t == "config"]
assert texts, tags
print(f"TensorBoard read {compared} scalars equal to metrics.jsonl, {images} PNG images, "
      f"the config text; tags: {len(tags['scalars'])} scalar, {len(tags['images'])} image")
EOF
}
check tensorboard-loader-cpu-run tensorboard_reads .gpu-check/fixture

# --- build against this machine's LibTorch -------------------------------------------------
deps=/tmp/scenery-deps
lib=$deps/usr/lib/x86_64-linux-gnu
unpack() {
  rm -rf "$deps" && mkdir -p "$deps" && tar -C "$deps" -xJf .gpu-check/deps.tar.xz &&
    printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$@"\n' "$lib" "$deps/usr/bin/protoc" \
      >"$deps/protoc" && chmod +x "$deps/protoc"
}
configure() {
  local torch_cmake nccl
  torch_cmake=$($py -c 'import torch; print(torch.utils.cmake_prefix_path)')
  nccl=$($py -c 'import nvidia, os; print(os.path.join(list(nvidia.__path__)[0], "nccl", "include"))')
  # RPATH (not RUNPATH) to the packed libraries: their own dependencies are found there too.
  local link="-Wl,--disable-new-dtags -Wl,-rpath,$lib -Wl,-rpath-link,$lib"
  TORCH_CUDA_ARCH_LIST=9.0 cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$torch_cmake;$deps/usr" -DSCENERY_WITH_ONEDNN=OFF \
    -DProtobuf_PROTOC_EXECUTABLE="$deps/protoc" \
    -DCMAKE_CXX_FLAGS="-isystem $deps/usr/include/x86_64-linux-gnu -isystem $nccl" \
    -DCMAKE_EXE_LINKER_FLAGS="$link" -DCMAKE_SHARED_LINKER_FLAGS="$link"
}
build() {
  # -k 0: every compile error of this LibTorch in one pass.
  cmake --build build-gpu --parallel "$jobs" -- -k 0 scenery-train scenery-data scenery-eval \
    test_cuda scenery-bench-train-step
}
check unpack-dependencies unpack
check configure configure
check build build

# --- on the GPU ---------------------------------------------------------------------------------
check cuda-only-tests build-gpu/tests/test_cuda
data=/tmp/scenery-gpu-data
run=/tmp/scenery-gpu-run
train_on_gpu() {
  rm -rf "$data" "$run"
  build-gpu/data/scenery-data synth --layout places365 --out "$data" --classes 8 \
    --per-class 64 --size 256 >/dev/null &&
    build-gpu/train/scenery-train --data.dataset places365 --data.root "$data" \
      --data.batch_size 32 --data.workers 8 --model.arch resnet18 --model.num_classes 8 \
      --train.epochs 2 --train.lr 0.01 --train.device cuda --train.clip_grad_norm 10 \
      --log.every 1 --train.run_dir "$run" && cat "$run/metrics.csv"
}
check train-resnet18-on-gpu train_on_gpu
check tensorboard-loader-gpu-run tensorboard_reads "$run"
weights_only_load() {
  $py - "$run/best.ckpt" <<'EOF'
import sys, torch, torchvision
checkpoint = torch.load(sys.argv[1], weights_only=True)  # PyTorch's safe loader
model = torchvision.models.resnet18(num_classes=8)
model.load_state_dict(checkpoint["state_dict"], strict=True)
model.eval()
with torch.no_grad():
    print("torchvision resnet18 strict load ok; logits", model(torch.zeros(1, 3, 224, 224))[0, :3])
EOF
}
check weights-only-load-torchvision weights_only_load

# ResNet-50 at 224 px, bf16 autocast, channels-last, batch $batch: the step alone and scenery-train
# end to end (loader included), then the same step in PyTorch.
scenery_rates() {
  SCENERY_BENCH_DEVICE=cuda SCENERY_BENCH_BATCH=$batch SCENERY_BENCH_WORKERS=12 \
    SCENERY_BENCH_ITERS=20 build-gpu/benchmarks/scenery-bench-train-step \
    --benchmark_filter='StepOnly/1/224|EndToEnd/1/224'
}
pytorch_rate() {
  $py - "$batch" <<'EOF'
import sys, time, torch, torchvision
batch = int(sys.argv[1])
torch.backends.cudnn.benchmark = True
model = torchvision.models.resnet50(num_classes=8).cuda().to(memory_format=torch.channels_last)
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
x = torch.randn(batch, 3, 224, 224, device="cuda").contiguous(memory_format=torch.channels_last)
y = torch.randint(8, (batch,), device="cuda")
def step():
    opt.zero_grad(set_to_none=True)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.item()  # as scenery-train reads it each step
    loss.backward()
    opt.step()
for _ in range(20):
    step()
torch.cuda.synchronize()
n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < 5:
    step()
    n += 1
torch.cuda.synchronize()
print(f"PyTorch step resnet50 224px bf16 channels-last batch {batch}: "
      f"{n * batch / (time.perf_counter() - t0):.0f} images/s")
EOF
}
check scenery-resnet50-rates scenery_rates
check pytorch-resnet50-step pytorch_rate

echo "== summary ($failures failed)"
cat "$out/summary.txt"
[ "$failures" -eq 0 ]
