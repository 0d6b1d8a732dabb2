"""Independent truth for the models tests: torchvision run by Debian's
/usr/bin/python3. Called by test_parity.cpp and test_checkpoint.cpp.

  torch_reference.py export DIR ARCH:SIZE ...     per arch DIR/ARCH.pt: torchvision weights, an
                                                  input, eval logits, and the same after one
                                                  SGD step
  torch_reference.py check CKPT IO [CKPT IO ...]  load Scenery checkpoints with torch.load,
                                                  load_state_dict(strict=True), compare logits
  torch_reference.py state_dict OUT.pt ARCH       torch.save(model.state_dict()) (OrderedDict)
"""
import pickletools
import re
import sys
import zipfile

import torch
import torch.nn as nn
import torchvision.models as tvm

NUM_CLASSES = 10
LR, MOMENTUM, WEIGHT_DECAY = 0.01, 0.9, 1e-4


def build(arch, num_classes=NUM_CLASSES):
    if arch == "wideresnet18":
        model = tvm.resnet18(num_classes=num_classes)
        model.maxpool = nn.Identity()  # the Places365 wideresnet18 has no max-pool
        return model
    return getattr(tvm, arch)(num_classes=num_classes)


def dropout_off(model):
    # Dropout masks come from different RNG call sequences in C++ and Python;
    # the step is compared with dropout disabled on both sides.
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.eval()


def export(out, arch, size):
    torch.manual_seed(0)
    model = build(arch)
    # Non-trivial BN statistics, so eval mode really exercises them.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    init = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(2, 3, size, size)
    y = torch.tensor([3, 7])
    model.eval()
    with torch.no_grad():
        logits = model(x)
    model.train()
    dropout_off(model)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    loss = nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    model.eval()
    with torch.no_grad():
        stepped_logits = model(x)
    torch.save({
        "state_dict": init, "input": x, "target": y, "logits": logits,
        "loss": loss.detach(), "lr": LR, "momentum": MOMENTUM, "weight_decay": WEIGHT_DECAY,
        # The big fully-connected matrices of AlexNet/VGG (up to 400 MB) are left
        # out to keep the test fast; the logits after the step depend on them.
        "stepped_state_dict": {k: v.clone() for k, v in model.state_dict().items()
                               if v.numel() <= 4_000_000},
        "stepped_logits": stepped_logits,
    }, out)


# What torch.load(weights_only=True) lets a file name: tensor rebuilds, storages, OrderedDict.
WEIGHTS_ONLY_GLOBALS = {"torch._utils _rebuild_tensor_v2", "collections OrderedDict"}


def pickle_globals(path):
    """Every global the checkpoint's pickle names (torch's zip layout: <archive>/data.pkl)."""
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith("/data.pkl"))
        return {arg for op, arg, _ in pickletools.genops(archive.read(name))
                if op.name == "GLOBAL"}


def load_weights_only(path):
    """torch.load as PyTorch >= 2.6 does by default: only dicts, lists, strings, numbers and
    tensors may be in the file. 1.13 has weights_only=True too, but its unpickler predates
    floats (BINFLOAT): there the globals it would meet are checked against its allow-list."""
    if int(torch.__version__.split(".")[0]) >= 2:
        return torch.load(path, weights_only=True)
    refused = {g for g in pickle_globals(path)
               if g not in WEIGHTS_ONLY_GLOBALS and not re.fullmatch(r"torch \w+Storage", g)}
    assert not refused, f"{path}: globals torch.load(weights_only=True) refuses: {sorted(refused)}"
    return torch.load(path)


def check(ckpt_path, inputs_path):
    ckpt = load_weights_only(ckpt_path)
    assert isinstance(ckpt, dict), type(ckpt)
    for key, kind in [("arch", str), ("num_classes", int), ("class_names", list),
                      ("input_mean", list), ("input_std", list), ("input_size", int)]:
        assert isinstance(ckpt[key], kind), (key, type(ckpt[key]))
    model = build(ckpt["arch"], ckpt["num_classes"])
    model.load_state_dict(ckpt["state_dict"], strict=True)
    model.eval()
    # The test's own file (torch::pickle_save of inputs and logits), not a checkpoint:
    # its TorchScript type tags are fine to run.
    ref = torch.load(inputs_path, weights_only=False)
    with torch.no_grad():
        logits = model(ref["input"])
    diff = (logits - ref["logits"]).abs().max().item()
    print(f"{ckpt['arch']}: strict load OK; max abs logit diff {diff:.3g}")
    if "training" in ckpt:
        t = ckpt["training"]
        print("training keys:", sorted(t.keys()), "epoch", t["epoch"], "iteration", t["iteration"])
    return 0 if diff <= 1e-4 else 1


def state_dict(out, arch):
    torch.manual_seed(1)
    model = build(arch)
    torch.save(model.state_dict(), out)  # an OrderedDict carrying _metadata
    torch.save(dict(model.state_dict()), out + ".plain")
    model.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.save({"input": x, "logits": model(x)}, out + ".io")


if __name__ == "__main__":
    torch.set_num_threads(2)
    cmd = sys.argv[1]
    if cmd == "export":
        for spec in sys.argv[3:]:
            arch, size = spec.split(":")
            export(f"{sys.argv[2]}/{arch}.pt", arch, int(size))
    elif cmd == "check":
        args = sys.argv[2:]
        sys.exit(max(check(args[i], args[i + 1]) for i in range(0, len(args), 2)))
    elif cmd == "state_dict":
        state_dict(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"unknown command {cmd}")
