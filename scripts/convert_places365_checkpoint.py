#!/usr/bin/python3
"""Convert an official Places365 PyTorch checkpoint into a Scenery checkpoint.

Run with Debian's python (it has torch): /usr/bin/python3 scripts/convert_places365_checkpoint.py

    convert_places365_checkpoint.py IN OUT [--arch ARCH] [--categories categories_places365.txt]

IN may be
  - an official release (resnet18_places365.pth.tar, resnet50_, densenet161_, wideresnet18_,
    alexnet_): legacy (pre-zip) pickles written by Python 2, holding
    {'epoch', 'arch', 'state_dict', 'best_prec1'}, keys with DataParallel's `module.`
    (`module.conv1.weight`; alexnet: `features.module.0.weight`), BN layers without
    `num_batches_tracked` (PyTorch < 0.4.1), densenet keys in the old `norm.1` style;
  - any torch.save of a state dict (OrderedDict) or a {'state_dict': ...} wrapper, in the zip
    or the legacy format.
IN is read by safe_torch_load.py, never by torch.load: nothing in the file is run. A file that
asks for anything but tensors and plain containers is refused, naming the global; a whole
pickled network (whole_*_places365.pth.tar) is refused with a pointer to the state-dict release.
OUT is written in the format of models/checkpoint.h (a zip-format torch pickle of a plain
dict) that the C++ loader reads and `torch.load` gives back; the state dict loads with
strict=True into the torchvision model of the same arch.
"""
import argparse
import os
import re
import sys

import torch

import safe_torch_load

KNOWN_ARCHS = ["resnet18", "resnet34", "resnet50", "resnet101", "wideresnet18", "alexnet",
               "vgg16", "densenet161"]
HEAD_KEYS = {"fc.weight", "classifier.6.weight", "classifier.weight"}
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
# torchvision's own remapping of pre-0.3 densenet names (norm.1 -> norm1, conv.2 -> conv2).
OLD_DENSENET = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$")


def strip_module(key):
    return ".".join(part for part in key.split(".") if part != "module")


def normalise(state_dict):
    out = {}
    for key, value in state_dict.items():
        key = strip_module(key)
        m = OLD_DENSENET.match(key)
        if m:
            key = m.group(1) + m.group(2)
        out[key] = value.detach().clone().contiguous()
    # BN batch counters, absent from files older than PyTorch 0.4.1.
    for key in list(out):
        if key.endswith(".running_mean"):
            counter = key[: -len("running_mean")] + "num_batches_tracked"
            out.setdefault(counter, torch.tensor(0, dtype=torch.long))
    return out


def guess_arch(state_dict):
    if "features.denseblock1.denselayer1.conv1.weight" in state_dict:
        return "densenet161"
    if "features.28.weight" in state_dict:
        return "vgg16"
    if "features.10.weight" in state_dict:
        return "alexnet"
    if "layer1.0.conv3.weight" in state_dict:
        return "resnet101" if "layer3.22.conv1.weight" in state_dict else "resnet50"
    if "layer1.0.conv1.weight" in state_dict:
        return "resnet34" if "layer1.2.conv1.weight" in state_dict else "resnet18"
    return None


def read_categories(path):
    # `/a/airfield 0` -> `airfield`; `/a/apartment_building/outdoor 8` -> `apartment_building/outdoor`.
    names = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                names.append(line.rsplit(" ", 1)[0][3:])
    return names


def convert(src, dst, arch=None, categories=None):
    try:
        obj = safe_torch_load.load(src)
    except safe_torch_load.CheckpointError as e:
        raise SystemExit(str(e)) from None
    meta_arch = None
    if isinstance(obj, dict) and "state_dict" in obj:
        state_dict = obj["state_dict"]
        meta_arch = obj.get("arch")
        if isinstance(meta_arch, bytes):
            meta_arch = meta_arch.decode("latin1")
    elif isinstance(obj, dict) and all(torch.is_tensor(v) for v in obj.values()):
        state_dict = obj
    else:
        raise SystemExit(f"{src}: not a state dict or a {{'state_dict': ...}} wrapper")
    if not (isinstance(state_dict, dict)
            and all(isinstance(k, str) and torch.is_tensor(v) for k, v in state_dict.items())):
        raise SystemExit(f"{src}: its state_dict is not a mapping of names to tensors")
    state_dict = normalise(state_dict)
    arch = arch or meta_arch or guess_arch(state_dict)
    if arch not in KNOWN_ARCHS:
        raise SystemExit(f"{src}: unknown arch {arch!r} (known: {', '.join(KNOWN_ARCHS)}); "
                         "pass --arch")
    heads = [k for k in HEAD_KEYS if k in state_dict]
    if len(heads) != 1:
        raise SystemExit(f"{src}: cannot find the classifier weight among {sorted(HEAD_KEYS)}")
    num_classes = int(state_dict[heads[0]].shape[0])
    class_names = read_categories(categories) if categories else []
    if class_names and len(class_names) != num_classes:
        raise SystemExit(f"{categories}: {len(class_names)} names for {num_classes} classes")
    ckpt = {
        "format": "scenery-checkpoint", "version": 1,
        "arch": arch, "num_classes": num_classes, "class_names": class_names,
        "input_mean": IMAGENET_MEAN, "input_std": IMAGENET_STD, "input_size": 224,
        "state_dict": state_dict,
    }
    # Temp file + rename: an interrupted conversion never leaves a torn OUT.
    tmp = dst + ".tmp"
    torch.save(ckpt, tmp)
    os.replace(tmp, dst)
    return arch, num_classes, len(state_dict)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--arch", choices=KNOWN_ARCHS, help="override the arch recorded in the file")
    p.add_argument("--categories", help="categories_places365.txt, to store class names")
    a = p.parse_args()
    arch, num_classes, keys = convert(a.input, a.output, a.arch, a.categories)
    print(f"{a.output}: {arch}, {num_classes} classes, {keys} tensors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
