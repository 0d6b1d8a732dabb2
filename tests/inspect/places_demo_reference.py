"""The Places365 demo's procedure (run_placesCNN_unified.py: Resize((224,224)),
wideresnet18 with hooks on layer4 and avgpool, IO vote over the top-10, SUN
attributes from W . pooled feature, CAM with the negative classifier weights
set to 0, cv2 resizes, JET and the 0.4/0.5 blend), rewritten step for step
for test_predict.cpp, run by /usr/bin/python3 (torch, torchvision, PIL,
numpy and OpenCV's Python bindings from Debian):

  places_demo_reference.py make DIR   the demo's side files, shaped like the releases:
                                      wideresnet18_places365.pth.tar (legacy pickle,
                                      DataParallel `module.` keys), categories_places365.txt,
                                      IO_places365.txt, labels_sunattribute.txt,
                                      W_sceneattribute_wideresnet18.npy (102 x 512 float64),
                                      test.jpg (320 x 240) and weights_f32.npy (a float32
                                      array for the .npy reader)
  places_demo_reference.py run DIR    the demo on DIR/test.jpg: reference.json (every
                                      probability, top-5, IO, top-9 attributes), and per
                                      top-5 class k: cam14_k.png (the uint8 map), cam256_k.png,
                                      cam_k.png (the blended picture, lossless)

The unified demo sets the negative weights of fc to 0 *in place* (its weight_softmax
is a numpy view of the parameter) before its forward, so its probabilities, top-5 and
IO vote come from the clamped classifier and differ from run_placesCNN_basic.py's.
reference.json holds both: the demo's, and plain_probabilities / plain_top5 from the
forward before the clamp.
"""
import json
import os
import sys

import cv2
import numpy as np
import torch
import torch.nn as nn
import torchvision.models as tvm
import torchvision.transforms as trn
from PIL import Image


def wideresnet18(num_classes=365):
    # The release's wideresnet.py is torchvision's ResNet-18 without the stem max-pool.
    model = tvm.resnet18(num_classes=num_classes)
    model.maxpool = nn.Identity()
    return model


def make(out):
    torch.manual_seed(3)
    model = wideresnet18()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
        model.fc.weight.mul_(8.0)  # a peaked softmax, as a trained model has
    sd = {"module." + k: v for k, v in model.state_dict().items()
          if not k.endswith("num_batches_tracked")}
    torch.save({"epoch": 90, "arch": "wideresnet18", "state_dict": sd, "best_prec1": 54.6},
               os.path.join(out, "wideresnet18_places365.pth.tar"),
               _use_new_zipfile_serialization=False, pickle_protocol=2)
    rng = np.random.default_rng(4)
    names = [f"/{chr(97 + i % 26)}/class_{i}" + ("/indoor" if i % 7 == 0 else "") for i in range(365)]
    with open(os.path.join(out, "categories_places365.txt"), "w") as f:
        f.write("\n".join(f"{n} {i}" for i, n in enumerate(names)))
    io = rng.integers(1, 3, size=365)
    with open(os.path.join(out, "IO_places365.txt"), "w") as f:
        f.write("".join(f"{n} {v}\n" for n, v in zip(names, io)))
    with open(os.path.join(out, "labels_sunattribute.txt"), "w") as f:
        f.write("".join(f"attribute {i}\n" for i in range(102)))
    np.save(os.path.join(out, "W_sceneattribute_wideresnet18.npy"),
            rng.normal(0, 0.1, size=(102, 512)))
    np.save(os.path.join(out, "weights_f32.npy"),
            rng.normal(0, 1, size=(3, 4, 5)).astype(np.float32))
    # A photo-like test image: smooth light, a few objects, sensor noise.
    y, x = np.mgrid[0:240, 0:320]
    img = np.stack([120 + 80 * np.sin(x / 40.0), 100 + 60 * np.cos(y / 30.0),
                    90 + 0.3 * x], axis=-1)
    img[60:150, 40:130] = [200, 40, 40]
    img[120:220, 180:300] = [30, 160, 70]
    img += rng.normal(0, 12, size=img.shape)
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(
        os.path.join(out, "test.jpg"), quality=92)


def run(out):
    torch.set_num_threads(2)
    checkpoint = torch.load(os.path.join(out, "wideresnet18_places365.pth.tar"),
                            map_location=lambda storage, loc: storage)
    state_dict = {k.replace("module.", ""): v for k, v in checkpoint["state_dict"].items()}
    model = wideresnet18()
    model.load_state_dict(state_dict)
    model.avgpool = nn.AvgPool2d(kernel_size=14, stride=1, padding=0)
    model.eval()
    blobs = []
    for name in ["layer4", "avgpool"]:
        model._modules.get(name).register_forward_hook(
            lambda module, inp, output: blobs.append(np.squeeze(output.data.cpu().numpy())))

    classes = []
    with open(os.path.join(out, "categories_places365.txt")) as f:
        for line in f:
            classes.append(line.strip().split(" ")[0][3:])
    labels_io = []
    with open(os.path.join(out, "IO_places365.txt")) as f:
        for line in f:
            labels_io.append(int(line.rstrip().split()[-1]) - 1)
    labels_io = np.array(labels_io)
    with open(os.path.join(out, "labels_sunattribute.txt")) as f:
        labels_attribute = [item.rstrip() for item in f.readlines()]
    w_attribute = np.load(os.path.join(out, "W_sceneattribute_wideresnet18.npy"))

    tf = trn.Compose([trn.Resize((224, 224)), trn.ToTensor(),
                      trn.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    img = Image.open(os.path.join(out, "test.jpg")).convert("RGB")
    with torch.no_grad():  # the basic script's numbers: the classifier as trained
        plain = torch.nn.functional.softmax(model.forward(tf(img).unsqueeze(0)), 1).squeeze()
    blobs.clear()

    weight_softmax = list(model.parameters())[-2].data.numpy()
    weight_softmax[weight_softmax < 0] = 0  # also changes model.fc.weight

    logit = model.forward(tf(img).unsqueeze(0))
    h_x = torch.nn.functional.softmax(logit, 1).data.squeeze()
    probs, idx = h_x.sort(0, True)
    idx = idx.numpy()

    io_image = np.mean(labels_io[idx[:10]])
    responses_attribute = w_attribute.dot(blobs[1])
    idx_a = np.argsort(responses_attribute)
    result = {
        "plain_probabilities": plain.numpy().astype(float).tolist(),
        "plain_top5": plain.sort(0, True)[1][:5].numpy().tolist(),
        "probabilities": h_x.numpy().astype(float).tolist(),
        "top5": idx[:5].tolist(),
        "top5_names": [classes[i] for i in idx[:5]],
        "io_score": float(io_image),
        "environment": "indoor" if io_image < 0.5 else "outdoor",
        "attributes": [labels_attribute[idx_a[i]] for i in range(-1, -10, -1)],
    }
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(result, f)

    # CAM for each of the top-5 (the demo's returnCAM indexes the weights with
    # the whole class list; a map per class needs the one row).
    feature_conv = blobs[0]
    nc, h, w = feature_conv.shape
    bgr = cv2.imread(os.path.join(out, "test.jpg"))
    height, width, _ = bgr.shape
    for k, c in enumerate(idx[:5]):
        cam = weight_softmax[c].dot(feature_conv.reshape((nc, h * w))).reshape(h, w)
        cam = cam - np.min(cam)
        cam_img = np.uint8(255 * (cam / np.max(cam)))
        cam256 = cv2.resize(cam_img, (256, 256))
        cv2.imwrite(os.path.join(out, f"cam14_{k}.png"), cam_img)
        cv2.imwrite(os.path.join(out, f"cam256_{k}.png"), cam256)
        heatmap = cv2.applyColorMap(cv2.resize(cam256, (width, height)), cv2.COLORMAP_JET)
        cv2.imwrite(os.path.join(out, f"cam_{k}.png"), heatmap * 0.4 + bgr * 0.5)


if __name__ == "__main__":
    {"make": make, "run": run}[sys.argv[1]](sys.argv[2])
