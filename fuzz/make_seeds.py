"""Seed inputs for the fuzz harnesses, made by independent writers: Python's
tarfile (pax, GNU, ustar), Pillow (every image format the header reader knows),
and an encoder of the shard index format written from its description in
data/shard_index.h. usage: make_seeds.py CORPUS_DIR SEEDS_DIR"""
import io
import os
import struct
import sys
import tarfile
import zlib

from PIL import Image

seeds = sys.argv[2]


def put(harness, name, data):
    d = os.path.join(seeds, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


jpeg = io.BytesIO()
Image.new("RGB", (9, 7), (200, 30, 60)).save(jpeg, "JPEG")
jpeg = jpeg.getvalue()

# tar: WebDataset shards as webdataset's writer makes them, in each format.
for fmt_name, fmt in (("pax", tarfile.PAX_FORMAT), ("gnu", tarfile.GNU_FORMAT),
                      ("ustar", tarfile.USTAR_FORMAT)):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for key, label in (("a", b"0"), ("dir/" + "long" * (30 if fmt_name != "ustar" else 1), b"12")):
            for ext, data in ((".jpg", jpeg), (".cls", label), (".json", b"{}")):
                info = tarfile.TarInfo(key + ext)
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    put("tar", fmt_name + ".tar", buf.getvalue())

# image_header: one small image per format.
for fmt, ext in (("JPEG", "jpg"), ("PNG", "png"), ("BMP", "bmp"), ("WEBP", "webp"),
                 ("TIFF", "tif"), ("PPM", "ppm")):
    b = io.BytesIO()
    Image.new("RGB", (13, 11), (1, 2, 3)).save(b, fmt)
    put("image_header", "seed." + ext, b.getvalue())
b = io.BytesIO()
Image.new("L", (5, 4)).save(b, "PNG")
put("image_header", "grey.png", b.getvalue())

# shard_pattern: what users write in data.shards.
for i, p in enumerate(["train-{000000..000127}.tar", "{a,b}-{1..3}.tar", "x-{0..9}{0..9}.tar",
                       "s-{{a,b},c}.tar", "plain.tar"]):
    put("shard_pattern", "p%d" % i, p.encode())


# shard_index: the .idx format (little-endian), for a shard of 1 MiB, mtime 0.
def text(s):
    return struct.pack("<I", len(s)) + s


body = b"SCNYIDX1" + struct.pack("<QqB", 1 << 20, 0, 1) + text(b"")
samples = [(b"a", 3, [(b"a.jpg", 512, 100), (b"", 0, 0), (b"", 0, 0), (b"", 0, 0)]),
           (b"b", 0, [(b"b.jpg", 2048, 10), (b"b.seg.png", 4096, 5), (b"", 0, 0), (b"", 0, 0)])]
body += struct.pack("<I", len(samples))
for key, label, members in samples:
    body += text(key) + struct.pack("<q", label)
    for name, off, size in members:
        body += text(name) + struct.pack("<QQ", off, size)
body += struct.pack("<I", 1) + text(b"c.jpg") + text(b"zero-byte member")
put("shard_index", "two_samples.idx", body + struct.pack("<I", zlib.crc32(body)))

# config: INI files as configs/ holds them.
put("config", "recipe.cfg", b"""# comment
[data]
dataset = ade20k   ; inline comment
batch_size = 16
hue = 0.1
crop_scale = 3/4,1
threads = 1,2,4
large = yes

[model]
arch = resnet18

[train]
resume = auto
""")
put("config", "bad_section.cfg", b"[trian]\nlr = 0.1\n")

# catalog: the first byte picks the file (fuzz_catalog.cpp's table), the rest is its content.
catalog_files = [
    b"/a/airfield 0\n/b/bar 1", b"Places365_val_00000001.jpg 1\n", b"/a/abbey 0\n/b/bar 1\n",
    b"a/abbey/gsun_0.jpg 0\n", b"/a/abbey\n", b"/a/abbey/sun_a.jpg\n", b"bar/x y.jpg",
    b"ADE_val_00000001 bar\n", b"Idx,Ratio,Train,Val,Stuff,Name\n1,0.1,1,1,0,wall\n",
    b"img/a.jpg 0\nimg/b.jpg cat\n"]
for i, content in enumerate(catalog_files):
    put("catalog", "file%d" % i, bytes([i]) + content)
