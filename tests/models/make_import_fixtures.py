"""Files shaped like the official releases, generated at test time for test_import.cpp
(run by /usr/bin/python3):

  make_import_fixtures.py places365 DIR     legacy (pre-zip, protocol 2) Places365-style
                                            checkpoints with Python 2's str opcodes, as the
                                            official files were written by Python 2:
                                            {'epoch','arch','state_dict','best_prec1'},
                                            DataParallel `module.` keys (alexnet:
                                            features.module.N), no num_batches_tracked,
                                            old densenet names; plus categories and
                                            reference logits (ARCH.io.pt)
  make_import_fixtures.py untrusted DIR     files the converter must refuse without running
                                            them: evil_{zip,legacy}.pth.tar (a state dict plus
                                            an object whose __reduce__ calls os.system to create
                                            DIR/pwned), whole_resnet18_places365.pth.tar (a
                                            pickled nn.Module), truncated.pth.tar; and
                                            resnet18_zip.pth (the state dict, zip format) and
                                            resnet18_reference.pth (as a plain dict)
  make_import_fixtures.py caffe_vgg16 DIR   a VGG16 .prototxt + .caffemodel (BGR conv1,
                                            protobuf written by hand) + reference logits
  make_import_fixtures.py caffenet DIR      the first layers of an original CaffeNet
                                            (LRN, grouped conv2)
  make_import_fixtures.py googlenet DIR     a whole BVLC GoogLeNet (Places205/365-GoogLeNet
                                            deploy.prototxt, 9 classes), random weights;
                                            the .caffemodel also holds the auxiliary heads'
                                            blobs (loss1/*, loss2/*), as the releases' do
  make_import_fixtures.py keras_vgg16 DIR   the Keras VGG16-Places365 port's .h5 weights, two
                                            ways: vgg16_tf.h5 (Keras 2 save_weights, TensorFlow,
                                            (kh,kw,in,out) kernels, fc1 over H x W x C, layers
                                            conv1_1..predictions) and vgg16_th.h5 (Keras 1
                                            save, Theano with "th" ordering: (out,in,kh,kw)
                                            kernels flipped for true convolution, fc1 over
                                            C x H x W, under model_weights, layers
                                            block1_conv1..fc8 style names); written with
                                            python3-h5py; reference logits of the
                                            torchvision vgg16 with the same weights
  make_import_fixtures.py caffenet_full DIR the whole Places-CNN AlexNet (CaffeNet order:
                                            pool before LRN, grouped conv2/4/5, fc6-fc8),
                                            random weights; also bvlc_order.prototxt, the
                                            same net with LRN before pooling
"""
import os
import pickle
import re
import struct
import sys
import types

import torch
import torch.nn as nn
import torchvision.models as tvm

PLACES_ARCHS = ["resnet18", "wideresnet18", "alexnet", "densenet161"]


def build(arch, num_classes):
    if arch == "wideresnet18":
        m = tvm.resnet18(num_classes=num_classes)
        m.maxpool = nn.Identity()
        return m
    return getattr(tvm, arch)(num_classes=num_classes)


def randomise_bn(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)


def legacy_key(arch, key):
    if arch == "alexnet":
        return key.replace("features.", "features.module.", 1)  # DataParallel(features) only
    key = "module." + key
    if arch == "densenet161":
        key = re.sub(r"(denselayer\d+\.(?:norm|relu|conv))([12])\.", r"\1.\2.", key)
    return key


class Python2StrPickler(pickle._Pickler):
    """Writes str as Python 2 did (SHORT_BINSTRING/BINSTRING of its bytes), which Python 3
    reads back only with encoding='latin1'."""
    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj):
        data = obj.encode("latin1")
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[str] = save_py2_str


PYTHON2_PICKLE = types.SimpleNamespace(
    __name__="python2_str_pickle", Pickler=Python2StrPickler,
    dump=lambda obj, f, protocol: Python2StrPickler(f, protocol).dump(obj))


def places365(out):
    torch.manual_seed(5)
    for arch in PLACES_ARCHS:
        model = build(arch, 365)
        randomise_bn(model)
        model.eval()
        sd = {legacy_key(arch, k): v for k, v in model.state_dict().items()
              if not k.endswith("num_batches_tracked")}
        torch.save({"epoch": 90, "arch": arch, "state_dict": sd, "best_prec1": 53.2},
                   os.path.join(out, f"{arch}_places365.pth.tar"),
                   _use_new_zipfile_serialization=False, pickle_protocol=2,
                   pickle_module=PYTHON2_PICKLE)
        x = torch.randn(1, 3, 64, 64)
        with torch.no_grad():
            torch.save({"input": x, "logits": model(x)}, os.path.join(out, f"{arch}.io.pt"))
    names = [f"/{chr(97 + i % 26)}/class_{i}" + ("/indoor" if i % 5 == 0 else "") + f" {i}"
             for i in range(365)]
    with open(os.path.join(out, "categories_places365.txt"), "w") as f:
        f.write("\n".join(names))  # no trailing newline, as the official file


class RunsCommand:
    """Unpickling this calls os.system: what a doctored checkpoint from a mirror carries."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def untrusted(out):
    torch.manual_seed(6)
    sd = tvm.resnet18(num_classes=365).state_dict()
    evil = RunsCommand("touch " + os.path.join(out, "pwned"))
    # The doctored files carry a few real tensors: the payload sits after them, as it would
    # after a whole state dict.
    few = {k: sd[k] for k in ["conv1.weight", "bn1.running_mean", "fc.weight", "fc.bias"]}
    doctored = {"epoch": 90, "arch": "resnet18", "state_dict": few, "note": evil}
    torch.save(doctored, os.path.join(out, "evil_zip.pth.tar"))
    torch.save(doctored, os.path.join(out, "evil_legacy.pth.tar"),
               _use_new_zipfile_serialization=False, pickle_protocol=2)
    torch.save(tvm.resnet18(num_classes=365), os.path.join(out, "whole_resnet18_places365.pth.tar"),
               _use_new_zipfile_serialization=False)
    torch.save({"state_dict": sd}, os.path.join(out, "resnet18_zip.pth"))  # an OrderedDict
    torch.save(dict(sd), os.path.join(out, "resnet18_reference.pth"))  # what LibTorch reads
    legacy = os.path.join(out, "legacy.pth.tar")
    torch.save({"state_dict": few}, legacy, _use_new_zipfile_serialization=False)
    with open(legacy, "rb") as f:
        whole = f.read()
    os.remove(legacy)
    with open(os.path.join(out, "truncated.pth.tar"), "wb") as f:
        f.write(whole[: len(whole) // 2])


# --- a minimal protobuf writer for caffe.NetParameter --------------------------------------

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number, payload):  # length-delimited (wire type 2)
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def blob(tensor):
    shape = field(1, b"".join(varint(d) for d in tensor.shape))  # BlobShape.dim, packed
    data = tensor.detach().contiguous().float().numpy().astype("<f4").tobytes()
    return field(7, shape) + field(5, data)  # BlobProto.shape, BlobProto.data (packed)


def layer(name, type_, blobs):
    body = field(1, name.encode()) + field(2, type_.encode())
    return field(100, body + b"".join(field(7, blob(b)) for b in blobs))  # NetParameter.layer


def write_caffe(out, stem, text_layers, binary_layers, input_size):
    with open(os.path.join(out, stem + ".prototxt"), "w") as f:
        f.write(f'name: "{stem}"\ninput: "data"\n'
                f"input_shape {{ dim: 1 dim: 3 dim: {input_size} dim: {input_size} }}\n")
        f.write("".join(text_layers))
    with open(os.path.join(out, stem + ".caffemodel"), "wb") as f:
        f.write(field(1, stem.encode()) + b"".join(binary_layers))


def text_layer(name, type_, bottom, top, params=""):
    return (f'layer {{ name: "{name}" type: "{type_}" bottom: "{bottom}" top: "{top}" '
            f"{params} }}\n")


def caffe_vgg16(out):
    torch.manual_seed(7)
    num_classes = 5
    model = tvm.vgg16(num_classes=num_classes)
    model.eval()
    text, binary = [], []
    bottom = "data"
    block, index = 1, 1
    for i, m in enumerate(model.features):
        if isinstance(m, nn.Conv2d):
            name = f"conv{block}_{index}"
            w = m.weight
            if name == "conv1_1":
                w = w.flip(1)  # Caffe models read BGR
            text.append(text_layer(name, "Convolution", bottom, name,
                                   f"convolution_param {{ num_output: {m.out_channels} pad: 1 "
                                   "kernel_size: 3 }"))
            text.append(text_layer(f"relu{block}_{index}", "ReLU", name, name))
            binary.append(layer(name, "Convolution", [w, m.bias]))
            bottom = name
            index += 1
        elif isinstance(m, nn.MaxPool2d):
            text.append(text_layer(f"pool{block}", "Pooling", bottom, f"pool{block}",
                                   "pooling_param { pool: MAX kernel_size: 2 stride: 2 }"))
            bottom = f"pool{block}"
            block, index = block + 1, 1
    for name, fc in [("fc6", model.classifier[0]), ("fc7", model.classifier[3]),
                     ("fc8a", model.classifier[6])]:
        text.append(text_layer(name, "InnerProduct", bottom, name,
                               f"inner_product_param {{ num_output: {fc.out_features} }}"))
        binary.append(layer(name, "InnerProduct", [fc.weight, fc.bias]))
        if name != "fc8a":
            text.append(text_layer("relu" + name[2:], "ReLU", name, name))
            text.append(text_layer("drop" + name[2:], "Dropout", name, name))
        bottom = name
    text.append(text_layer("prob", "Softmax", bottom, "prob"))
    write_caffe(out, "vgg16_places", text, binary, 224)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.save({"input": x, "logits": model(x)}, os.path.join(out, "vgg16_caffe.io.pt"))


def caffenet(out):
    torch.manual_seed(9)
    conv1 = nn.Conv2d(3, 96, 11, stride=4)
    conv2 = nn.Conv2d(96, 256, 5, padding=2, groups=2)
    text = [
        text_layer("conv1", "Convolution", "data", "conv1",
                   "convolution_param { num_output: 96 kernel_size: 11 stride: 4 }"),
        text_layer("relu1", "ReLU", "conv1", "conv1"),
        text_layer("pool1", "Pooling", "conv1", "pool1",
                   "pooling_param { pool: MAX kernel_size: 3 stride: 2 }"),
        text_layer("norm1", "LRN", "pool1", "norm1",
                   "lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 }"),
        text_layer("conv2", "Convolution", "norm1", "conv2",
                   "convolution_param { num_output: 256 pad: 2 kernel_size: 5 group: 2 }"),
    ]
    binary = [layer("conv1", "Convolution", [conv1.weight, conv1.bias]),
              layer("conv2", "Convolution", [conv2.weight, conv2.bias])]
    write_caffe(out, "caffenet", text, binary, 227)


def caffenet_full(out):
    torch.manual_seed(11)
    num_classes = 7
    convs = [("conv1", nn.Conv2d(3, 96, 11, stride=4), "kernel_size: 11 stride: 4"),
             ("conv2", nn.Conv2d(96, 256, 5, padding=2, groups=2), "pad: 2 kernel_size: 5 group: 2"),
             ("conv3", nn.Conv2d(256, 384, 3, padding=1), "pad: 1 kernel_size: 3"),
             ("conv4", nn.Conv2d(384, 384, 3, padding=1, groups=2), "pad: 1 kernel_size: 3 group: 2"),
             ("conv5", nn.Conv2d(384, 256, 3, padding=1, groups=2), "pad: 1 kernel_size: 3 group: 2")]
    fcs = [("fc6", nn.Linear(9216, 4096)), ("fc7", nn.Linear(4096, 4096)),
           ("fc8", nn.Linear(4096, num_classes))]
    pool = "pooling_param { pool: MAX kernel_size: 3 stride: 2 }"
    lrn = "lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 }"

    def net(lrn_first):
        text, bottom = [], "data"
        for i, (name, conv, params) in enumerate(convs):
            text.append(text_layer(name, "Convolution", bottom, name,
                                   f"convolution_param {{ num_output: {conv.out_channels} "
                                   f"{params} }}"))
            text.append(text_layer("relu" + name[4:], "ReLU", name, name))
            bottom = name
            stages = []
            if i < 2:
                stages = [("norm", "LRN", lrn), ("pool", "Pooling", pool)]
                if not lrn_first:
                    stages.reverse()
            elif i == 4:
                stages = [("pool", "Pooling", pool)]
            for prefix, type_, params2 in stages:
                top = prefix + name[4:]
                text.append(text_layer(top, type_, bottom, top, params2))
                bottom = top
        for name, fc in fcs:
            text.append(text_layer(name, "InnerProduct", bottom, name,
                                   f"inner_product_param {{ num_output: {fc.out_features} }}"))
            if name != "fc8":
                text.append(text_layer("relu" + name[2:], "ReLU", name, name))
                text.append(text_layer("drop" + name[2:], "Dropout", name, name))
            bottom = name
        return text

    with torch.no_grad():  # Places-like magnitudes keep activations in range through 8 layers
        for _, m, _ in convs:
            m.weight.normal_(0, 0.02)
        for _, m in fcs:
            m.weight.normal_(0, 0.01)
    binary = [layer(n, "Convolution", [m.weight, m.bias]) for n, m, _ in convs] + \
             [layer(n, "InnerProduct", [m.weight, m.bias]) for n, m in fcs]
    write_caffe(out, "caffenet_places", net(False), binary, 227)
    write_caffe(out, "bvlc_order", net(True), binary, 227)


def keras_vgg16(out):
    import h5py
    import numpy as np
    torch.manual_seed(17)
    num_classes = 365
    model = tvm.vgg16(num_classes=num_classes)
    with torch.no_grad():
        # Sparse fully connected weights (1 in 50) keep the files small under gzip
        # while every spatial position of fc1's input still matters.
        for i in (0, 3, 6):
            fc = model.classifier[i]
            mask = torch.rand_like(fc.weight) < 0.02
            fc.weight.copy_(torch.randn_like(fc.weight) * mask * (50.0 / fc.in_features) ** 0.5)
            fc.bias.normal_(0, 0.1)
        for m in model.features:
            if isinstance(m, nn.Conv2d):
                m.bias.normal_(0, 0.05)
    model.eval()
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    conv_names = []
    for b, n in enumerate([2, 2, 3, 3, 3], start=1):
        conv_names += [(b, i) for i in range(1, n + 1)]
    fcs = [model.classifier[0], model.classifier[3], model.classifier[6]]

    def strings(items):
        return np.array([s.encode() for s in items])

    def dataset(group, name, array):
        group.create_dataset(name, data=np.ascontiguousarray(array, dtype="<f4"),
                             compression="gzip", compression_opts=1)

    # Keras 2, TensorFlow: what the port ships.
    with h5py.File(os.path.join(out, "vgg16_tf.h5"), "w") as f:
        layers = ["input_1"]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.1.5"
        for (b, i), conv in zip(conv_names, convs):
            name = f"conv{b}_{i}"
            g = f.create_group(name)
            g.attrs["weight_names"] = strings([f"{name}/kernel:0", f"{name}/bias:0"])
            dataset(g, f"{name}/kernel:0", conv.weight.detach().permute(2, 3, 1, 0).numpy())
            dataset(g, f"{name}/bias:0", conv.bias.detach().numpy())
            layers.append(name)
            if i == [2, 2, 3, 3, 3][b - 1]:
                f.create_group(f"pool{b}").attrs["weight_names"] = strings([])
                layers.append(f"pool{b}")
        f.create_group("flatten").attrs["weight_names"] = strings([])
        layers.append("flatten")
        for name, fc in zip(["fc1", "fc2", "predictions"], fcs):
            w = fc.weight.detach()
            if name == "fc1":  # torch's columns are C x H x W; Keras' rows H x W x C
                w = w.view(-1, 512, 7, 7).permute(0, 2, 3, 1).reshape(w.shape[0], -1)
            g = f.create_group(name)
            g.attrs["weight_names"] = strings([f"{name}/kernel:0", f"{name}/bias:0"])
            dataset(g, f"{name}/kernel:0", w.t().numpy())
            dataset(g, f"{name}/bias:0", fc.bias.detach().numpy())
            layers.append(name)
        f.attrs["layer_names"] = strings(layers)

    # Keras 1, Theano, "th" ordering, a whole-model save.
    with h5py.File(os.path.join(out, "vgg16_th.h5"), "w") as f:
        f.attrs["model_config"] = ('{"class_name": "Model", "config": {"layers": [{"class_name": '
                                   '"Convolution2D", "config": {"name": "block1_conv1", '
                                   '"dim_ordering": "th"}}]}}').encode()
        mw = f.create_group("model_weights")
        mw.attrs["backend"] = b"theano"
        layers = []
        for (b, i), conv in zip(conv_names, convs):
            name = f"block{b}_conv{i}"
            g = mw.create_group(name)
            g.attrs["weight_names"] = [f"{name}_W", f"{name}_b"]  # variable-length strings
            dataset(g, f"{name}_W", conv.weight.detach().flip(2, 3).numpy())
            dataset(g, f"{name}_b", conv.bias.detach().numpy())
            layers.append(name)
        for name, fc in zip(["fc6", "fc7", "fc8"], fcs):
            g = mw.create_group(name)
            g.attrs["weight_names"] = [f"{name}_W", f"{name}_b"]
            dataset(g, f"{name}_W", fc.weight.detach().t().numpy())
            dataset(g, f"{name}_b", fc.bias.detach().numpy())
            layers.append(name)
        mw.attrs["layer_names"] = strings(layers)

    x = torch.rand(1, 3, 224, 224) * 2 - 1
    with torch.no_grad():
        torch.save({"input": x, "logits": model(x)}, os.path.join(out, "vgg16_keras.io.pt"))


GOOGLENET_INCEPTIONS = [  # name, in, 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj
    ("3a", 192, 64, 96, 128, 16, 32, 32), ("3b", 256, 128, 128, 192, 32, 96, 64),
    ("4a", 480, 192, 96, 208, 16, 48, 64), ("4b", 512, 160, 112, 224, 24, 64, 64),
    ("4c", 512, 128, 128, 256, 24, 64, 64), ("4d", 512, 112, 144, 288, 32, 64, 64),
    ("4e", 528, 256, 160, 320, 32, 128, 128), ("5a", 832, 256, 160, 320, 32, 128, 128),
    ("5b", 832, 384, 192, 384, 48, 128, 128)]


def googlenet(out):
    torch.manual_seed(13)
    num_classes = 9
    text, binary = [], []

    def conv(name, bottom, cin, cout, k, stride=1, pad=0):
        w = torch.randn(cout, cin, k, k) * (2.0 / (cin * k * k)) ** 0.5
        b = torch.randn(cout) * 0.05
        text.append(text_layer(name, "Convolution", bottom, name,
                               f"convolution_param {{ num_output: {cout} pad: {pad} "
                               f"kernel_size: {k} stride: {stride} }}"))
        text.append(text_layer(name.replace("/", "/relu_", 1) if "/" in name else "relu_" + name,
                               "ReLU", name, name))
        binary.append(layer(name, "Convolution", [w, b]))
        return name

    pool = "pooling_param {{ pool: {} kernel_size: {} stride: {} {}}}"
    lrn = "lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 }"
    x = conv("conv1/7x7_s2", "data", 3, 64, 7, 2, 3)
    text.append(text_layer("pool1/3x3_s2", "Pooling", x, "pool1/3x3_s2",
                           pool.format("MAX", 3, 2, "")))
    text.append(text_layer("pool1/norm1", "LRN", "pool1/3x3_s2", "pool1/norm1", lrn))
    x = conv("conv2/3x3_reduce", "pool1/norm1", 64, 64, 1)
    x = conv("conv2/3x3", x, 64, 192, 3, 1, 1)
    text.append(text_layer("conv2/norm2", "LRN", x, "conv2/norm2", lrn))
    text.append(text_layer("pool2/3x3_s2", "Pooling", "conv2/norm2", "pool2/3x3_s2",
                           pool.format("MAX", 3, 2, "")))
    x = "pool2/3x3_s2"
    for name, cin, b1, b2r, b2, b3r, b3, b4 in GOOGLENET_INCEPTIONS:
        p = f"inception_{name}/"
        tops = [conv(p + "1x1", x, cin, b1, 1)]
        r = conv(p + "3x3_reduce", x, cin, b2r, 1)
        tops.append(conv(p + "3x3", r, b2r, b2, 3, 1, 1))
        r = conv(p + "5x5_reduce", x, cin, b3r, 1)
        tops.append(conv(p + "5x5", r, b3r, b3, 5, 1, 2))
        text.append(text_layer(p + "pool", "Pooling", x, p + "pool",
                               pool.format("MAX", 3, 1, "pad: 1 ")))
        tops.append(conv(p + "pool_proj", p + "pool", cin, b4, 1))
        bottoms = " ".join(f'bottom: "{t}"' for t in tops)
        text.append(f'layer {{ name: "{p}output" type: "Concat" {bottoms} top: "{p}output" }}\n')
        x = p + "output"
        if name in ("3b", "4e"):
            stage = "pool3" if name == "3b" else "pool4"
            text.append(text_layer(f"{stage}/3x3_s2", "Pooling", x, f"{stage}/3x3_s2",
                                   pool.format("MAX", 3, 2, "")))
            x = f"{stage}/3x3_s2"
        if name in ("4a", "4d"):  # the auxiliary heads' blobs, not in the deploy net
            aux = "loss1" if name == "4a" else "loss2"
            binary.append(layer(f"{aux}/conv", "Convolution",
                                [torch.randn(128, cin if name == "4a" else 528, 1, 1), torch.zeros(128)]))
            binary.append(layer(f"{aux}/fc", "InnerProduct",
                                [torch.randn(1024, 2048) * 0.01, torch.zeros(1024)]))
            binary.append(layer(f"{aux}/classifier", "InnerProduct",
                                [torch.randn(num_classes, 1024) * 0.01, torch.zeros(num_classes)]))
    text.append(text_layer("pool5/7x7_s1", "Pooling", x, "pool5/7x7_s1",
                           pool.format("AVE", 7, 1, "")))
    text.append(text_layer("pool5/drop_7x7_s1", "Dropout", "pool5/7x7_s1", "pool5/7x7_s1",
                           "dropout_param { dropout_ratio: 0.4 }"))
    text.append(text_layer("loss3/classifier", "InnerProduct", "pool5/7x7_s1", "loss3/classifier",
                           f"inner_product_param {{ num_output: {num_classes} }}"))
    binary.append(layer("loss3/classifier", "InnerProduct",
                        [torch.randn(num_classes, 1024) * 0.05, torch.randn(num_classes) * 0.1]))
    text.append(text_layer("prob", "Softmax", "loss3/classifier", "prob"))
    write_caffe(out, "googlenet_places", text, binary, 224)


if __name__ == "__main__":
    torch.set_num_threads(2)
    {"places365": places365, "untrusted": untrusted, "caffe_vgg16": caffe_vgg16, "caffenet": caffenet,
     "caffenet_full": caffenet_full, "googlenet": googlenet, "keras_vgg16": keras_vgg16}[sys.argv[1]](sys.argv[2])
