"""The step benchmarks/bench_models_step.cpp measures, in Python PyTorch: forward +
cross-entropy + backward + SGD(momentum 0.9, wd 1e-4) step, torchvision model with 365
classes. Prints `<arch> <fastest ms per step> <median ms per step>`. Run with /usr/bin/python3 (Debian's torch).

  side_by_side_models.py --arch resnet18 --batch 16 --size 224 --threads 2 [--channels-last]
"""
import argparse
import time

import torch
import torchvision.models as tvm


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="resnet18")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--channels-last", action="store_true")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = getattr(tvm, a.arch)(num_classes=365)
    x = torch.randn(a.batch, 3, a.size, a.size)
    y = torch.randint(365, (a.batch,))
    if a.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    step()  # warm-up: allocations, oneDNN primitive creation
    times = []
    for _ in range(a.iters):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    print(f"{a.arch} {1000 * times[0]:.1f} {1000 * times[len(times) // 2]:.1f}")


if __name__ == "__main__":
    main()
