#!/usr/bin/python3
"""Side-by-side throughput: Scenery's C++ loader vs PyTorch's DataLoader.

Both read the same 256x256 JPEGs (written by the C++ benchmark into --images)
with the same train transforms (decode -> RandomResizedCrop(224) -> horizontal
flip -> ToTensor + Normalize(ImageNet) -> collate, batch 32) and the same number
of workers, and this prints images/s for each and their ratio. Run it with
Debian's /usr/bin/python3 (torch 1.13 + torchvision 0.14), usually through
benchmarks/side_by_side_loader.sh.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import torch
import torchvision.transforms as T
from PIL import Image


class Files(torch.utils.data.Dataset):
    def __init__(self, paths, transform):
        self.paths, self.transform = paths, transform

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        with open(self.paths[i], "rb") as f:
            img = Image.open(f).convert("RGB")
        return self.transform(img), i % 365


def pytorch_images_per_s(paths, workers, batch, epochs, mode):
    norm = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    if mode == "train":
        tf = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(), norm])
    else:
        tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), norm])
    torch.set_num_threads(1)  # the main process only collates; workers use 1 thread each
    loader = torch.utils.data.DataLoader(Files(paths, tf), batch_size=batch, shuffle=True,
                                         num_workers=workers, persistent_workers=workers > 0)
    for _ in loader:  # warm-up epoch: worker start-up, page cache
        pass
    n, start = 0, time.perf_counter()
    for _ in range(epochs):
        for images, _ in loader:
            n += images.shape[0]
    return n / (time.perf_counter() - start)


def pytorch_cpu_us_per_image(paths, batch, mode):
    """CPU time per image of the same work done serially (num_workers=0):
    comparable even on a machine busy with other jobs."""
    norm = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    if mode == "train":
        tf = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(), norm])
    else:
        tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), norm])
    torch.set_num_threads(1)
    loader = torch.utils.data.DataLoader(Files(paths, tf), batch_size=batch, shuffle=True)
    for _ in loader:
        pass
    n, start = 0, time.process_time()
    for images, _ in loader:
        n += images.shape[0]
    return (time.process_time() - start) / n * 1e6


def ours_cpu_us_per_image(bench, name, min_time):
    out = subprocess.run([bench, f"--benchmark_filter=^{name}$", "--benchmark_format=json",
                          f"--benchmark_min_time={min_time}"],
                         check=True, capture_output=True, text=True).stdout
    r = json.loads(out)["benchmarks"][0]
    scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3}[r["time_unit"]]
    return r["cpu_time"] * scale


def ours_images_per_s(bench, name, workers, min_time):
    out = subprocess.run([bench, f"--benchmark_filter=^{name}/{workers}/", "--benchmark_format=json",
                          f"--benchmark_min_time={min_time}"],
                         check=True, capture_output=True, text=True).stdout
    runs = json.loads(out)["benchmarks"]
    return max(r["items_per_second"] for r in runs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", required=True, help="path of scenery-bench-data-pipeline")
    ap.add_argument("--images", required=True, help="folder the benchmark fills with JPEGs")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=3, help="timed PyTorch epochs")
    ap.add_argument("--min-time", type=float, default=3.0, help="C++ benchmark seconds")
    ap.add_argument("--mode", choices=["train", "eval"], default="train")
    a = ap.parse_args()

    os.environ["SCENERY_BENCH_IMAGES"] = a.images
    # Let the C++ side create the files first (any quick benchmark does).
    subprocess.run([a.bench, "--benchmark_filter=^BM_HorizontalFlip$", "--benchmark_min_time=0.01"],
                   check=True, capture_output=True)
    paths = sorted(os.path.join(a.images, f) for f in os.listdir(a.images) if f.endswith(".jpg"))
    name = "BM_LoaderTrain" if a.mode == "train" else "BM_LoaderEval"
    print(f"{len(paths)} JPEGs in {a.images}, mode {a.mode}, batch {a.batch_size}")
    print(f"{'workers':>7} {'scenery img/s':>14} {'pytorch img/s':>14} {'ratio':>6} "
          f"{'decode-only img/s':>18} {'pipeline/decode':>16}")
    for w in a.workers:
        ours = ours_images_per_s(a.bench, name, w, a.min_time)
        decode = ours_images_per_s(a.bench, "BM_DecodeOnly", w, a.min_time)
        theirs = pytorch_images_per_s(paths, w, a.batch_size, a.epochs, a.mode)
        print(f"{w:>7} {ours:>14.1f} {theirs:>14.1f} {ours / theirs:>5.2f}x "
              f"{decode:>18.1f} {100 * ours / decode:>15.1f}%", flush=True)
    if a.mode == "train":
        ours_cpu = ours_cpu_us_per_image(a.bench, "BM_SerialTrainPipeline", a.min_time)
        dec_cpu = ours_cpu_us_per_image(a.bench, "BM_SerialDecodeOnly", a.min_time)
        theirs_cpu = pytorch_cpu_us_per_image(paths, a.batch_size, a.mode)
        print(f"CPU time per image, one thread: scenery {ours_cpu:.0f} us, pytorch {theirs_cpu:.0f} us "
              f"(ratio {theirs_cpu / ours_cpu:.2f}x); decode only {dec_cpu:.0f} us "
              f"(pipeline at {100 * dec_cpu / ours_cpu:.1f}% of decode-only throughput)")


if __name__ == "__main__":
    sys.exit(main())
