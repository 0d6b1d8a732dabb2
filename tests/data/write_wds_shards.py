"""Writes WebDataset shards with Python's tarfile, as webdataset's TarWriter does
(one member per sample file, adjacent, KEY.EXT), in a chosen tar format, so the
C++ reader is checked against tar files it did not write.

usage: write_wds_shards.py OUT_DIR FORMAT(pax|gnu|ustar) IMAGE_DIR
Every *.jpg of IMAGE_DIR becomes a sample; the label is its index mod 3. Two
shards: even and odd samples. Keys of odd samples get a long directory part
(> 100 bytes in all) where the format allows it (pax, gnu). Prints one line per
sample: "shard key label sha-less-size" for the test to compare.
"""
import io
import os
import sys
import tarfile

out, fmt_name, image_dir = sys.argv[1], sys.argv[2], sys.argv[3]
fmt = {"pax": tarfile.PAX_FORMAT, "gnu": tarfile.GNU_FORMAT, "ustar": tarfile.USTAR_FORMAT}[fmt_name]
images = sorted(f for f in os.listdir(image_dir) if f.endswith(".jpg"))
os.makedirs(out, exist_ok=True)
writers = [tarfile.open(os.path.join(out, f"py-{k:06d}.tar"), "w", format=fmt) for k in range(2)]


def add(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 1700000000
    info.uname, info.gname = "user", "group"
    tar.addfile(info, io.BytesIO(data))


for i, name in enumerate(images):
    stem = name[: -len(".jpg")].replace(".", "_")
    long_dir = "d" * 120 + "/" if (i % 2 and fmt_name != "ustar") else ""
    key = f"{long_dir}{stem}"
    with open(os.path.join(image_dir, name), "rb") as f:
        data = f.read()
    tar = writers[i % 2]
    add(tar, key + ".cls", str(i % 3).encode())
    add(tar, key + ".jpg", data)
    add(tar, key + ".json", b'{"note": "ignored"}')
    print(f"py-{i % 2:06d}.tar {key} {i % 3} {len(data)}")
for w in writers:
    w.close()
