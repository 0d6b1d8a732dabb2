#!/usr/bin/env python3
"""An independent reader of TensorBoard event files, for the tests.

Decodes TFRecord framing (checking both masked CRC-32C of every record) and
the Event / Summary protobuf messages by hand from the wire format (field
numbers of TensorBoard's event.proto and summary.proto), with no protobuf
library and nothing of Scenery's code. PNG images are checked chunk by chunk
(CRC-32 of each chunk) and inflated. Prints one tab-separated line per file
and per value, in file order (files in name order, as TensorBoard reads them):
  file NAME
  file_version STEP VERSION
  scalar STEP TAG VALUE                 (float32, printed with 9 digits)
  image STEP TAG WIDTH HEIGHT COLORSPACE PNG_WIDTH PNG_HEIGHT
  text STEP TAG PLUGIN TEXT             (newlines as \n)
  restart STEP                          (SessionLog START)
Exits 1 with a message on any malformed byte.
"""
import os
import struct
import sys
import zlib


def crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


TABLE = crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def records(path):
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos < len(data):
        if len(data) - pos < 12:
            raise ValueError(f"{path}: torn header at byte {pos}")
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        if header_crc != masked(header):
            raise ValueError(f"{path}: bad length CRC at byte {pos}")
        body = data[pos + 12:pos + 12 + length]
        if len(body) != length or len(data) < pos + 16 + length:
            raise ValueError(f"{path}: torn record at byte {pos}")
        (body_crc,) = struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])
        if body_crc != masked(body):
            raise ValueError(f"{path}: bad data CRC at byte {pos}")
        yield body
        pos += 16 + length


def varint(buf, pos):
    value = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def fields(buf):
    """(field number, wire type, value) of a message; value bytes for length-delimited."""
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(buf, pos)
        elif wire == 1:
            value = buf[pos:pos + 8]
            pos += 8
        elif wire == 2:
            n, pos = varint(buf, pos)
            value = buf[pos:pos + n]
            pos += n
        elif wire == 5:
            value = buf[pos:pos + 4]
            pos += 4
        else:
            raise ValueError(f"wire type {wire}")
        yield number, wire, value


def check_png(png):
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG signature")
    pos, idat, ihdr = 8, b"", None
    while pos < len(png):
        (n,) = struct.unpack(">I", png[pos:pos + 4])
        kind = png[pos + 4:pos + 8]
        body = png[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", png[pos + 8 + n:pos + 12 + n])
        if crc != zlib.crc32(kind + body) & 0xFFFFFFFF:
            raise ValueError(f"PNG chunk {kind} CRC")
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    width, height, depth, colour = ihdr[:4]
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    if len(zlib.decompress(idat)) != height * (1 + width * channels * depth // 8):
        raise ValueError("PNG pixel data size")
    return width, height


def summary_values(buf, step, wall_time):
    for number, _, value in fields(buf):
        if number != 1:
            continue
        tag, out, plugin = "", None, ""
        for n, _, v in fields(value):
            if n == 1:
                tag = v.decode()
            elif n == 2:
                out = {"kind": "scalar", "value": struct.unpack("<f", v)[0]}
            elif n == 4:
                image = dict((k, x) for k, _, x in fields(v))
                width, height = check_png(image[4])
                out = {"kind": "image", "width": image.get(2, 0), "height": image.get(1, 0),
                       "colorspace": image.get(3, 0), "png_width": width, "png_height": height}
            elif n == 8:
                strings = [x for k, _, x in fields(v) if k == 8]
                out = {"kind": "text", "text": strings[0].decode() if strings else ""}
            elif n == 9:
                for k, _, x in fields(v):
                    if k == 1:
                        plugin = dict((a, b) for a, _, b in fields(x)).get(1, b"").decode()
        if out is None:
            raise ValueError(f"summary value '{tag}' without a value")
        out.update({"tag": tag, "step": step, "wall_time": wall_time})
        if out["kind"] == "text":
            out["plugin"] = plugin
        yield out


def events(path):
    for body in records(path):
        step, wall_time, what = 0, 0.0, []
        for number, wire, value in fields(body):
            if number == 1:
                wall_time = struct.unpack("<d", value)[0]
            elif number == 2:
                step = value - (1 << 64) if value >= 1 << 63 else value
            elif number == 3:
                what.append(("file_version", value.decode()))
            elif number == 5:
                what.append(("summary", value))
            elif number == 7:
                status = dict((k, v) for k, _, v in fields(value)).get(1, 0)
                what.append(("session_log", status))
        for kind, value in what:
            if kind == "file_version":
                yield {"kind": "file_version", "version": value, "step": step}
            elif kind == "session_log":
                yield {"kind": "restart" if value == 1 else f"session_log_{value}", "step": step}
            else:
                yield from summary_values(value, step, wall_time)


def line(e):
    kind, step = e["kind"], e["step"]
    if kind == "file_version":
        return f"file_version\t{step}\t{e['version']}"
    if kind == "scalar":
        return f"scalar\t{step}\t{e['tag']}\t{e['value']:.9g}"
    if kind == "image":
        return (f"image\t{step}\t{e['tag']}\t{e['width']}\t{e['height']}\t{e['colorspace']}"
                f"\t{e['png_width']}\t{e['png_height']}")
    if kind == "text":
        return f"text\t{step}\t{e['tag']}\t{e['plugin']}\t" + e["text"].replace("\n", "\\n")
    return f"{kind}\t{step}"


def main():
    folder = sys.argv[1]
    names = sorted(n for n in os.listdir(folder) if "tfevents" in n)
    out = []
    try:
        for name in names:
            out.append(f"file\t{name}")
            out.extend(line(e) for e in events(os.path.join(folder, name)))
    except (ValueError, KeyError, IndexError, TypeError, struct.error, zlib.error) as e:
        print(f"read_events: {e}", file=sys.stderr)
        return 1
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
