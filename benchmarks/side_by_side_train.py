#!/usr/bin/python3
"""Side-by-side training throughput: scenery-train vs the equivalent PyTorch script.

Both train the same architecture on the same synthetic dataset with the same
batch size, crop size, augmentation (RandomResizedCrop + horizontal flip +
ImageNet normalisation), optimizer (SGD 0.1, momentum 0.9, weight decay 1e-4),
torch thread count and loader worker count, for two epochs of --iters steps;
each side's images/s is that of the SECOND epoch (steady state: worker start-up
and first-touch allocation excluded on both sides). Prints both and the ratio
scenery / pytorch.

  resnet18/resnet50: torchvision model, Places365-layout data (places365_train_standard.txt)
  sascene_resnet18: a PyTorch port of models/sascene.cpp (the Semantic-Aware two-branch
                    net) on ADE20K-layout data, semantic input = one-hot of the annotation
                    (150 + 2 channels), loss = CE(fused) + CE(rgb head) + CE(semantic head)

Run with Debian's /usr/bin/python3 (torch 1.13 + torchvision 0.14), usually through
benchmarks/side_by_side_train.sh, which also writes the datasets.
"""
import argparse
import statistics
import csv
import os
import random
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as tvm
import torchvision.transforms as T
import torchvision.transforms.functional as TF
from PIL import Image

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


# ---------------------------------------------------------------- datasets
class Places(torch.utils.data.Dataset):
    def __init__(self, root, size):
        self.root = root
        with open(os.path.join(root, "places365_train_standard.txt")) as f:
            self.items = [(l.split()[0], int(l.split()[1])) for l in f if l.strip()]
        self.tf = T.Compose([T.RandomResizedCrop(size), T.RandomHorizontalFlip(), T.ToTensor(),
                             T.Normalize(MEAN, STD)])

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        path, label = self.items[i]
        with open(os.path.join(self.root, "data_256", path.lstrip("/")), "rb") as f:
            img = Image.open(f).convert("RGB")
        return self.tf(img), label


class Ade20kScenes(torch.utils.data.Dataset):
    """Image + one-hot semantic map of its annotation, cropped and flipped together."""

    def __init__(self, root, size):
        self.root, self.size = root, size
        scenes = {}
        with open(os.path.join(root, "sceneCategories.txt")) as f:
            for line in f:
                if line.strip():
                    name, scene = line.split()
                    scenes[name] = scene
        names = sorted(set(scenes.values()))
        index = {n: i for i, n in enumerate(names)}
        self.items = [(n, index[s]) for n, s in scenes.items() if n.startswith("ADE_train")]
        self.num_classes = len(names)
        self.norm = T.Normalize(MEAN, STD)

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        name, label = self.items[i]
        img = Image.open(os.path.join(self.root, "images/training", name + ".jpg")).convert("RGB")
        mask = Image.open(os.path.join(self.root, "annotations/training", name + ".png"))
        top, left, h, w = T.RandomResizedCrop.get_params(img, (0.08, 1.0), (3 / 4, 4 / 3))
        img = TF.resized_crop(img, top, left, h, w, [self.size, self.size])
        mask = TF.resized_crop(mask, top, left, h, w, [self.size, self.size],
                               interpolation=T.InterpolationMode.NEAREST)
        if random.random() < 0.5:
            img, mask = TF.hflip(img), TF.hflip(mask)
        m = torch.from_numpy(np.array(mask, dtype=np.int64))
        m[m > 150] = 151
        sem = F.one_hot(m, 152).permute(2, 0, 1).float()
        return self.norm(TF.to_tensor(img)), sem, label


# ---------------------------------------------------------------- two-branch net
def stem(cin):
    return nn.Sequential(nn.Conv2d(cin, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                         nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))


def cbr(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class ChannelAttention(nn.Module):
    def __init__(self, c, r=16):
        super().__init__()
        self.fc1 = nn.Conv2d(c, c // r, 1, bias=False)
        self.fc2 = nn.Conv2d(c // r, c, 1, bias=False)

    def forward(self, x):
        a = self.fc2(F.relu(self.fc1(F.adaptive_avg_pool2d(x, 1))))
        m = self.fc2(F.relu(self.fc1(F.adaptive_max_pool2d(x, 1))))
        return torch.sigmoid(a + m)


class SemanticBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.ca = ChannelAttention(cout)

    def forward(self, x):
        y = self.bn(self.conv(x))
        return (self.ca(y) * y).relu_()


class SASceneNet(nn.Module):
    """PyTorch twin of models/sascene.cpp (ResNet-18 RGB branch)."""

    def __init__(self, num_classes, sem_channels=152):
        super().__init__()
        body = tvm.resnet18()
        self.in_block = stem(3)
        self.encoder1, self.encoder2 = body.layer1, body.layer2
        self.encoder3, self.encoder4 = body.layer3, body.layer4
        self.in_block_sem = stem(sem_channels)
        self.in_block_sem_1 = SemanticBlock(64, 128)
        self.in_block_sem_2 = SemanticBlock(128, 256)
        self.in_block_sem_3 = SemanticBlock(256, 512)
        self.lastConvRGB1, self.lastConvRGB2 = cbr(512, 512), cbr(512, 1024)
        self.lastConvSEM1, self.lastConvSEM2 = cbr(512, 512), cbr(512, 1024)
        self.dropout = nn.Dropout(0.3)
        self.fc = nn.Linear(1024, num_classes)
        self.fc_RGB = nn.Linear(512, num_classes)
        self.fc_SEM = nn.Linear(512, num_classes)

    def forward(self, image, sem):
        pool = lambda x: torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        r = self.encoder4(self.encoder3(self.encoder2(self.encoder1(self.in_block(image)))))
        s = self.in_block_sem_3(self.in_block_sem_2(self.in_block_sem_1(self.in_block_sem(sem))))
        rgb_logits = self.fc_RGB(self.dropout(pool(r)))
        sem_logits = self.fc_SEM(self.dropout(pool(s)))
        r2 = self.lastConvRGB2(self.lastConvRGB1(r))
        s2 = self.lastConvSEM2(self.lastConvSEM1(s))
        return self.fc(self.dropout(pool(r2 * torch.sigmoid(s2)))), rgb_logits, sem_logits


# ---------------------------------------------------------------- runs
def pytorch_images_per_s(args):
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    two_branch = args.arch == "sascene_resnet18"
    if two_branch:
        data = Ade20kScenes(args.data, args.size)
        model = SASceneNet(data.num_classes)
    else:
        data = Places(args.data, args.size)
        model = getattr(tvm, args.arch)(num_classes=args.classes)
    # The whole training split each epoch, like scenery-train (drop_last on both sides).
    loader = torch.utils.data.DataLoader(data, batch_size=args.batch, shuffle=True,
                                         num_workers=args.workers, drop_last=True,
                                         persistent_workers=args.workers > 0)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    model.train()
    rates = []
    for _ in range(2):
        n, start = 0, time.perf_counter()
        for batch in loader:
            if args.channels_last:
                batch = [t.contiguous(memory_format=torch.channels_last) if t.dim() == 4 else t
                         for t in batch]
            if two_branch:
                image, sem, label = batch
                out, rgb, semo = model(image, sem)
                loss = F.cross_entropy(out, label) + F.cross_entropy(rgb, label) + \
                    F.cross_entropy(semo, label)
            else:
                image, label = batch
                loss = F.cross_entropy(model(image), label)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss.item()
            n += image.shape[0]
        rates.append(n / (time.perf_counter() - start))
    return rates[-1]


def scenery_images_per_s(args):
    run = tempfile.mkdtemp(prefix="scenery-sbs-")
    two_branch = args.arch == "sascene_resnet18"
    cmd = [args.tool, "--data.dataset", "ade20k" if two_branch else "places365",
           "--data.root", args.data, "--data.batch_size", str(args.batch),
           "--data.workers", str(args.workers), "--data.image_size", str(args.size),
           "--model.arch", args.arch, "--model.num_classes", str(args.classes),
           "--train.epochs", "2", "--train.val_split", "", "--train.lr", "0.1",
           "--train.threads", str(args.threads), "--train.run_dir", run,
           "--train.device", "cpu", "--log-level", "warn"]
    if two_branch:
        cmd += ["--train.semantic_source", "masks"]
    subprocess.run(cmd, check=True)
    with open(os.path.join(run, "metrics.csv")) as f:
        rows = list(csv.DictReader(f))
    return float(rows[-1]["images_per_s"])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tool", required=True, help="path of scenery-train")
    p.add_argument("--data", required=True, help="dataset root (places365 or ade20k layout)")
    p.add_argument("--arch", default="resnet18")
    p.add_argument("--classes", type=int, required=True)
    p.add_argument("--size", type=int, default=112)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--iters", type=int, default=20, help="steps per epoch (for the printout: "
                   "the dataset written by the wrapper holds iters * batch training images)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--repeat", type=int, default=1,
                   help="alternate the two sides this many times and compare medians (a shared "
                   "or virtual machine drifts by 10-20 %% between runs)")
    p.add_argument("--channels-last", action="store_true",
                   help="also give the PyTorch side channels-last model and inputs (scenery-train "
                   "uses them by default)")
    args = p.parse_args()
    runs_ours, runs_theirs = [], []
    for _ in range(args.repeat):
        runs_ours.append(scenery_images_per_s(args))
        runs_theirs.append(pytorch_images_per_s(args))
    ours, theirs = statistics.median(runs_ours), statistics.median(runs_theirs)
    if args.repeat > 1:
        print("scenery-train runs: " + ", ".join(f"{r:.1f}" for r in runs_ours))
        print("pytorch runs:       " + ", ".join(f"{r:.1f}" for r in runs_theirs))
    print(f"{args.arch} {args.size}px batch {args.batch}, {args.iters} steps/epoch, "
          f"{args.threads} torch threads, {args.workers} loader workers (2nd epoch), "
          f"pytorch {'channels-last' if args.channels_last else 'NCHW (its default)'}"
          f"{f', median of {args.repeat} alternating runs' if args.repeat > 1 else ''}:")
    print(f"  scenery-train  {ours:8.1f} images/s")
    print(f"  pytorch        {theirs:8.1f} images/s")
    print(f"  ratio          {ours / theirs:8.2f}x")


if __name__ == "__main__":
    sys.exit(main())
