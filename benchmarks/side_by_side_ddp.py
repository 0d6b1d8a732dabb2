#!/usr/bin/python3
"""Data-parallel training throughput: scenery-train on 2 ranks against 1 rank, and against
PyTorch's own DistributedDataParallel.

Three runs of the same training (ResNet-18 by default, RandomResizedCrop + flip, SGD 0.1,
momentum 0.9, weight decay 1e-4) on the same synthetic Places365-layout data, with the same
global batch, 2 epochs each; each reports the global images/s of its SECOND epoch:

  single      scenery-train, 1 rank x --threads torch threads, batch 2B
  scenery-ddp scenery-train, 2 ranks x (--threads / 2) threads, batch B per rank, Gloo on
              127.0.0.1 (c10d Reducer, --bucket-mb)
  pytorch-ddp a torchrun Python script: torchvision model in DistributedDataParallel, Gloo,
              DistributedSampler + DataLoader (--workers per rank), same threads and batch
  independent 2 scenery-train processes x (--threads / 2) threads, batch B each, no process
              group, started together: the sum of their images/s is what 2 ranks could
              reach with free communication and synchronisation (the ceiling of
              scenery-ddp on these cores)

It also times, apart, what the gradients' exchange costs by itself on these cores: a Gloo
all-reduce (torchrun, 2 ranks) of one float32 tensor of the model's parameter count, the bytes
the Reducer moves every step; on a 2-core VM that exchange is bound by the loopback TCP copy
rather than by Gloo, so it sets how small a batch can still reach the 0.90 target.

Prints the images/s of each and the ratios: scenery-ddp / single (the target), split into
independent / single (what running 2 processes of fewer threads costs by itself on these cores)
and scenery-ddp / independent (the cost of the gradient reduction and synchronisation), and
scenery-ddp / pytorch-ddp.

Run with Debian's /usr/bin/python3 (torch 1.13 + torchvision 0.14), usually through
benchmarks/side_by_side_ddp.sh, which also writes the dataset.
"""
import argparse
import csv
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def second_epoch_rate(run):
    with open(os.path.join(run, "metrics.csv")) as f:
        return float(list(csv.DictReader(f))[-1]["images_per_s"])


def scenery(args, world, threads, batch, independent=False):
    def command(run):
        return [args.tool, "--data.dataset", "places365", "--data.root", args.data,
                "--data.batch_size", str(batch), "--data.workers", str(args.workers),
                "--data.image_size", str(args.size), "--model.arch", args.arch,
                "--model.num_classes", str(args.classes), "--train.epochs", "2",
                "--train.val_split", "", "--train.lr", "0.1", "--train.threads", str(threads),
                "--train.run_dir", run, "--train.device", "cpu", "--log-level", "warn",
                "--dist.bucket_mb", str(args.bucket_mb)]

    def wait(processes):
        for p in processes:
            if p.wait() != 0:
                raise SystemExit(f"scenery-train failed with {p.returncode}")

    # Ranks of one run share rank 0's run directory (only rank 0 writes).
    runs = [tempfile.mkdtemp(prefix="scenery-sbs-ddp-")
            for _ in range(world if independent else 1)]
    if world == 1:
        subprocess.run(command(runs[0]), check=True)
    elif independent:
        wait([subprocess.Popen(command(run)) for run in runs])
        return sum(second_epoch_rate(run) for run in runs)
    else:
        port = free_port()
        wait([subprocess.Popen(command(runs[0]) + ["--dist.world_size", str(world),
                                                   "--dist.rank", str(r), "--dist.init",
                                                   f"tcp://127.0.0.1:{port}"])
              for r in range(world)])
    return second_epoch_rate(runs[0])


def torchrun_worker(args, world, threads, batch, probe=False):
    """Runs this script's worker under torchrun; returns what rank 0 wrote."""
    out = tempfile.mktemp(prefix="pytorch-ddp-rate-")
    log_dir = tempfile.mkdtemp(prefix="pytorch-ddp-logs-")
    cmd = ["torchrun", "--nproc_per_node", str(world), "-r", "1", "-t", "1", "--log_dir", log_dir,
           "--master_port", str(free_port()), os.path.abspath(__file__), "--worker",
           "--data", args.data, "--arch", args.arch, "--classes", str(args.classes),
           "--size", str(args.size), "--batch", str(batch), "--threads", str(threads),
           "--workers", str(args.workers), "--bucket-mb", str(args.bucket_mb), "--out", out,
           "--tool", args.tool] + (["--probe"] if probe else [])
    subprocess.run(cmd, check=True)
    with open(out) as f:
        return f.read()


def pytorch_ddp(args, world, threads, batch):
    return float(torchrun_worker(args, world, threads, batch))


def exchange_cost(args, world, threads):
    """(milliseconds, parameter count) of one Gloo all-reduce of the model's gradients."""
    ms, count = torchrun_worker(args, world, threads, args.batch, probe=True).split()
    return float(ms), int(count)


def probe_allreduce(args, dist, torch, tvm):
    """Milliseconds of one Gloo all-reduce of the model's gradients (one flat tensor)."""
    count = sum(p.numel() for p in getattr(tvm, args.arch)(num_classes=args.classes).parameters())
    grads = torch.ones(count)
    for _ in range(3):
        dist.all_reduce(grads)
    times = []
    for _ in range(10):
        dist.barrier()
        start = time.perf_counter()
        dist.all_reduce(grads)
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times), count


def worker(args):
    """One PyTorch DDP rank (run by torchrun)."""
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F
    import torchvision.models as tvm

    # The same dataset class (transforms, file layout) as the single-process comparison.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from side_by_side_train import Places

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    if args.probe:
        ms, count = probe_allreduce(args, dist, torch, tvm)
        if rank == 0:
            with open(args.out, "w") as f:
                f.write(f"{ms} {count}")
        return dist.destroy_process_group()
    data = Places(args.data, args.size)
    sampler = torch.utils.data.distributed.DistributedSampler(data, shuffle=True, drop_last=True)
    loader = torch.utils.data.DataLoader(data, batch_size=args.batch, sampler=sampler,
                                         num_workers=args.workers, drop_last=True,
                                         persistent_workers=args.workers > 0)
    model = torch.nn.parallel.DistributedDataParallel(
        getattr(tvm, args.arch)(num_classes=args.classes), bucket_cap_mb=args.bucket_mb)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    model.train()
    rate = 0.0
    for epoch in range(2):
        sampler.set_epoch(epoch)
        dist.barrier()
        n, start = 0, time.perf_counter()
        for image, label in loader:
            loss = F.cross_entropy(model(image), label)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss.item()
            n += image.shape[0]
        dist.barrier()
        rate = n * world / (time.perf_counter() - start)
    if rank == 0:
        with open(args.out, "w") as f:
            f.write(str(rate))
    dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tool", required=True, help="path of scenery-train")
    p.add_argument("--data", required=True, help="places365-layout dataset root")
    p.add_argument("--arch", default="resnet18")
    p.add_argument("--classes", type=int, required=True)
    p.add_argument("--size", type=int, default=112)
    p.add_argument("--batch", type=int, default=16, help="per rank (the single run takes 2x)")
    p.add_argument("--threads", type=int, default=2, help="torch threads of the single run; "
                   "each of the 2 ranks gets half")
    p.add_argument("--workers", type=int, default=1, help="loader workers per process")
    p.add_argument("--bucket-mb", type=float, default=25)
    p.add_argument("--repeat", type=int, default=1, help="alternating rounds; medians compared")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args)
    world, half = 2, max(1, args.threads // 2)
    runs = {"single": [], "scenery-ddp": [], "pytorch-ddp": [], "independent": []}
    for _ in range(args.repeat):
        runs["scenery-ddp"].append(scenery(args, world, half, args.batch))
        runs["single"].append(scenery(args, 1, args.threads, world * args.batch))
        runs["pytorch-ddp"].append(pytorch_ddp(args, world, half, args.batch))
        runs["independent"].append(scenery(args, world, half, args.batch, independent=True))
    exchange_ms, count = exchange_cost(args, world, half)
    med = {k: statistics.median(v) for k, v in runs.items()}
    # Ratios of runs made next to each other: the VM's speed drifts between rounds.
    per_round = [d / s for d, s in zip(runs["scenery-ddp"], runs["single"])]
    print(f"{args.arch} {args.size}px, global batch {world * args.batch}, {args.workers} loader "
          f"worker(s) per process, bucket {args.bucket_mb:g} MiB, 2nd epoch"
          f"{f', median of {args.repeat} rounds' if args.repeat > 1 else ''}:")
    print(f"  single       1 rank  x {args.threads} threads  {med['single']:8.1f} images/s  "
          f"({', '.join(f'{r:.1f}' for r in runs['single'])})")
    print(f"  scenery-ddp  {world} ranks x {half} thread   {med['scenery-ddp']:8.1f} images/s  "
          f"({', '.join(f'{r:.1f}' for r in runs['scenery-ddp'])})")
    print(f"  pytorch-ddp  {world} ranks x {half} thread   {med['pytorch-ddp']:8.1f} images/s  "
          f"({', '.join(f'{r:.1f}' for r in runs['pytorch-ddp'])})")
    print(f"  independent  {world} x 1 rank x {half} thread {med['independent']:6.1f} images/s  "
          f"({', '.join(f'{r:.1f}' for r in runs['independent'])})")
    print(f"  scenery-ddp / single       {med['scenery-ddp'] / med['single']:6.2f}  "
          f"(target >= 0.90; per round {', '.join(f'{r:.2f}' for r in per_round)})")
    print(f"    independent / single     {med['independent'] / med['single']:6.2f}  "
          f"(fewer threads per process, no communication)")
    print(f"    scenery-ddp / independent {med['scenery-ddp'] / med['independent']:5.2f}  "
          f"(reduction and synchronisation)")
    print(f"  scenery-ddp / pytorch-ddp  {med['scenery-ddp'] / med['pytorch-ddp']:6.2f}x "
          f"(target >= 1.5x)")
    step_ms = 1e3 * world * args.batch / med["single"]
    print(f"  Gloo all-reduce of the {count / 1e6:.1f} M gradients ({4 * count / 2**20:.1f} MiB) "
          f"alone: {exchange_ms:.1f} ms, {100 * exchange_ms / step_ms:.0f} % of a single-process "
          f"step ({step_ms:.0f} ms)")


if __name__ == "__main__":
    sys.exit(main())
