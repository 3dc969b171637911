#!/usr/bin/env python3
"""Writes the seed corpora in Fuzz/corpus/<Target>/: small valid files and near-valid variants.

Run from anywhere: python3 Fuzz/make-seeds.py (needs Python; the JPEG and interlaced PNG seeds are
encoded with the project's own CImageIO shim, built with clang). The seeds are committed, so this
is needed only to change them.
"""
import gzip, json, os, random, shutil, struct, subprocess, zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
rng = random.Random(1)


def put(target, name, data):
    os.makedirs(os.path.join(ROOT, target), exist_ok=True)
    with open(os.path.join(ROOT, target, name), "wb") as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, mtime=0)


# MARK: - IDX

def idx_images(count, rows, cols):
    pixels = bytes(rng.randrange(256) for _ in range(count * rows * cols))
    return struct.pack(">IIII", 2051, count, rows, cols) + pixels


def idx_labels(count):
    return struct.pack(">II", 2049, count) + bytes(rng.randrange(10) for _ in range(count))


images = idx_images(2, 4, 4)
labels = idx_labels(3)
put("FuzzIDX", "images-2x4x4", images)
put("FuzzIDX", "labels-3", labels)
put("FuzzIDX", "images-2x4x4.gz", gz(images))
put("FuzzIDX", "labels-3.gz", gz(labels))
put("FuzzIDX", "images-empty-set", struct.pack(">IIII", 2051, 0, 28, 28))
put("FuzzIDX", "images-truncated", images[:-5])
put("FuzzIDX", "labels-trailing", labels + b"\x07")
put("FuzzIDX", "images-huge-count", struct.pack(">IIII", 2051, 0xFFFFFFFF, 0xFFFF, 0xFFFF) + b"\x00" * 4)
put("FuzzIDX", "labels-two-members.gz", gz(labels[:5]) + gz(labels[5:]))
put("FuzzIDX", "images-truncated.gz", gz(images)[:-6])
put("FuzzIDX", "labels-zero-padded.gz", gz(labels) + b"\x00" * 8)
put("FuzzIDX", "zlib-stream", zlib.compress(labels))

# MARK: - CSV

def csv_row(label):
    return ",".join([str(label)] + [str(rng.choice([0, 0, 0, 17, 128, 255])) for _ in range(784)])


header = ",".join(["label"] + ["%dx%d" % (r + 1, c + 1) for r in range(28) for c in range(28)])
two = csv_row(3) + "\n" + csv_row(7) + "\n"
put("FuzzCSV", "two-rows.csv", two.encode())
put("FuzzCSV", "header-crlf-bom.csv", ("\ufeff" + header + "\r\n" + csv_row(1) + "\r\n\r\n").encode())
put("FuzzCSV", "two-rows.csv.gz", gz(two.encode()))
put("FuzzCSV", "short-row.csv", (",".join(["5"] + ["0"] * 700) + "\n").encode())
put("FuzzCSV", "out-of-range.csv", (",".join(["12"] + ["256"] + ["-0"] * 783) + "\n").encode())
put("FuzzCSV", "spaces-quotes.csv", ('"label",' + ",".join(["p"] * 784) + "\n" + " 2 , " + ", ".join(["9"] * 784) + "\n").encode())
put("FuzzCSV", "cr-only.csv", (csv_row(4) + "\r" + csv_row(5) + "\r").encode())

# MARK: - Models (safetensors with the Digits architecture in the metadata)

def model(input_shape, layers, params, scale=1 / 255, extra=None):
    """params: [(name, shape)] in file order; values drawn small and finite."""
    arch = {"inputShape": input_shape, "inputTransform": {"offset": 0, "scale": scale}, "layers": layers}
    meta = {"architecture": json.dumps(arch, separators=(",", ":")), "format": "digits",
            "format_version": "1", "loss": "ce"}
    meta.update(extra or {})
    header = {"__metadata__": meta}
    body = b""
    for name, shape in params:
        n = 1
        for s in shape:
            n *= s
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(body), len(body) + 4 * n]}
        body += struct.pack("<%df" % n, *[rng.uniform(-0.5, 0.5) for _ in range(n)])
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body


mlp = model([4], [
    {"dense": {"inputs": 4, "outputs": 3, "bias": True, "activation": {"relu": {}}}},
    {"dense": {"inputs": 3, "outputs": 2, "bias": True}},
    {"softmax": {}},
], [("layers.0.weight", [4, 3]), ("layers.0.bias", [3]), ("layers.1.weight", [3, 2]), ("layers.1.bias", [2])])
put("FuzzModel", "mlp-4-3-2", mlp)

quirks = model([6], [
    {"dense": {"inputs": 6, "outputs": 5, "bias": False, "activation": {"sigmoid": {}}}},
    {"activation": {"_0": {"tanh": {}}}},
    {"dense": {"inputs": 5, "outputs": 3, "bias": True, "activation": {"leakyReLU": {"alpha": 0.2}}, "biasGradient": "scalar_mean"}},
    {"dense": {"inputs": 3, "outputs": 2, "bias": True}},
    {"softmax": {"gradient": "diagonal"}},
], [("layers.0.weight", [6, 5]), ("layers.2.weight", [5, 3]), ("layers.2.bias", [3]),
    ("layers.3.weight", [3, 2]), ("layers.3.bias", [2])], scale=1.0, extra={"loss": "bce"})
put("FuzzModel", "dense-quirks", quirks)

cnn = model([1, 6, 6], [
    {"conv2d": {"inChannels": 1, "outChannels": 2, "kernelSize": 3, "stride": 1, "padding": 1, "bias": True,
                "activation": {"relu": {}}}},
    {"batchNorm": {"channels": 2, "momentum": 0.1, "epsilon": 1e-5}},
    {"activation": {"_0": {"leakyReLU": {"alpha": 0.1}}}},
    {"maxPool2d": {"kernelSize": 2, "stride": 2}},
    {"dropout": {"rate": 0.25}},
    {"flatten": {}},
    {"dense": {"inputs": 18, "outputs": 2, "bias": True}},
], [("layers.0.weight", [2, 1, 3, 3]), ("layers.0.bias", [2]), ("layers.1.weight", [2]), ("layers.1.bias", [2]),
    ("layers.1.running_mean", [2]), ("layers.1.running_var", [2]), ("layers.6.weight", [18, 2]),
    ("layers.6.bias", [2])])
put("FuzzModel", "cnn-1x6x6", cnn)

gap = model([2, 5, 5], [
    {"conv2d": {"inChannels": 2, "outChannels": 3, "kernelSize": 3, "stride": 2, "padding": 0, "bias": False}},
    {"globalAveragePool": {}},
    {"dense": {"inputs": 3, "outputs": 2, "bias": False}},
], [("layers.0.weight", [3, 2, 3, 3]), ("layers.2.weight", [3, 2])])
put("FuzzModel", "conv-gap-2x5x5", gap)
put("FuzzModel", "mlp-truncated", mlp[:-9])
# Architecture JSON alone (FuzzModel wraps an input starting with "{" in a header itself).
for name, data in (("mlp-4-3-2", mlp), ("dense-quirks", quirks), ("cnn-1x6x6", cnn), ("conv-gap-2x5x5", gap)):
    n = struct.unpack("<Q", data[:8])[0]
    put("FuzzModel", "arch-" + name + ".json", json.loads(data[8:8 + n])["__metadata__"]["architecture"].encode())
put("FuzzModel", "header-only", struct.pack("<Q", 2) + b"{}")

# MARK: - Images

def shim_encode(target, name, kind, width, height, channels, pixels, progressive_or_interlaced):
    """Encodes with the project's own CImageIO shim (libjpeg/libpng), compiled on the fly with clang."""
    if shutil.which("clang") is None:
        return
    src = os.path.join(os.path.dirname(ROOT), "..", "Sources", "CImageIO")
    build = os.path.join(os.path.dirname(ROOT), ".build", "seed-encoder")
    os.makedirs(build, exist_ok=True)
    tool = os.path.join(build, "encode")
    if not os.path.exists(tool):
        with open(os.path.join(build, "encode.c"), "w") as f:
            f.write(ENCODER)
        subprocess.run(["clang", "-O1", "-I", os.path.join(src, "include"), os.path.join(build, "encode.c"),
                        *[os.path.join(src, c) for c in os.listdir(src) if c.endswith(".c")],
                        "-lpng", "-ljpeg", "-lz", "-o", tool], check=True)
    out = os.path.join(ROOT, target, name)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    subprocess.run([tool, kind, str(width), str(height), str(channels), str(progressive_or_interlaced), out],
                   input=bytes(pixels), check=True)


ENCODER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "CImageIO.h"
int main(int argc, char **argv) {
    unsigned w = atoi(argv[2]), h = atoi(argv[3]), c = atoi(argv[4]); int flag = atoi(argv[5]);
    size_t n = (size_t)w * h * c; unsigned char *px = malloc(n);
    if (fread(px, 1, n, stdin) != n) return 1;
    uint8_t *out = NULL; size_t size = 0; char msg[256];
    int status;
    if (strcmp(argv[1], "jpeg") == 0) {
        status = cimageio_jpeg_encode(px, w, h, c, 80, flag, &out, &size, msg, sizeof msg);
    } else {
        cimageio_png_spec spec = {w, h, c == 1 ? 0 : c == 2 ? 4 : c == 3 ? 2 : 6, 8, NULL, 0, NULL, 0, flag, 9};
        status = cimageio_png_encode(&spec, px, &out, &size, msg, sizeof msg);
    }
    if (status != 0) { fprintf(stderr, "%s\n", msg); return 1; }
    FILE *f = fopen(argv[6], "wb"); fwrite(out, 1, size, f); fclose(f);
    return 0;
}
"""


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width, height, color_type, bit_depth, rows, palette=None, trns=None, interlace=0):
    """A PNG written by hand (no encoder's timestamps): rows are bytes per row, filter 0 added."""
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, interlace))
    if palette:
        out += png_chunk(b"PLTE", palette)
    if trns:
        out += png_chunk(b"tRNS", trns)
    raw = b"".join(b"\x00" + r for r in rows)
    return out + png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b"")


def digit_mask(w, h):
    """A '7' two pixels thick on a w×h page, with a margin: True where the ink is."""
    top, bottom, left, right = h // 5, h - h // 5, w // 4, w - w // 4
    def ink(x, y):
        if top <= y < top + 2 and left <= x < right:
            return True
        if top <= y < bottom:  # the diagonal, from the bar's right end down to the lower middle
            cx = right - 1 - (y - top) * (right - 1 - w // 2) / max(1, bottom - top)
            return abs(x - cx) < 1.1
        return False
    return [[ink(x, y) for x in range(w)] for y in range(h)]


W, H = 24, 24
mask = digit_mask(W, H)
grey = [bytes(30 if mask[y][x] else 230 for x in range(W)) for y in range(H)]
for target in ("FuzzImage",):
    put(target, "grey8.png", png(W, H, 0, 8, grey))
    put(target, "grey-alpha.png", png(W, H, 4, 8, [bytes(v for x in range(W) for v in ((0, 255) if mask[y][x] else (255, 0))) for y in range(H)]))
    put(target, "rgb16.png", png(W, H, 2, 16, [bytes(v for x in range(W) for v in ((0, 0, 200, 0, 0, 0) if mask[y][x] else (255, 255) * 3)) for y in range(H)]))
    put(target, "rgba.png", png(W, H, 6, 8, [bytes(v for x in range(W) for v in ((20, 20, 90, 255) if mask[y][x] else (250, 250, 240, 255))) for y in range(H)]))
    bits = [bytes(int("".join("0" if mask[y][x + i] else "1" for i in range(8)) if x + 8 <= W else "".join(("0" if mask[y][x + i] else "1") if x + i < W else "0" for i in range(8)), 2) for x in range(0, W, 8)) for y in range(H)]
    put(target, "palette1-trns.png", png(W, H, 3, 1, bits, palette=b"\x00\x00\x00\xff\xff\xff", trns=b"\xff"))
    put(target, "grey1.png", png(W, H, 0, 1, bits))
    put(target, "grey8-truncated.png", png(W, H, 0, 8, grey)[:-30])
    put(target, "grey8-huge-header.png", png(7000, 7000, 0, 8, grey))
    flat = [v for r in grey for v in r]
    rgb = [v for y in range(H) for x in range(W) for v in ((32, 32, 128) if mask[y][x] else (240, 240, 224))]
    shim_encode(target, "grey.jpg", "jpeg", W, H, 1, flat, 0)
    shim_encode(target, "rgb-progressive.jpg", "jpeg", W, H, 3, rgb, 1)
    shim_encode(target, "rgb-interlaced.png", "png", W, H, 3, rgb, 1)

# FuzzPrepare: header (width, height as 16-bit little-endian, channels byte) then samples.
def prepare_seed(width, height, channels, samples):
    return struct.pack("<HHB", width - 1, height - 1, channels - 1) + bytes(samples)


put("FuzzPrepare", "grey-24x24", prepare_seed(W, H, 1, [v for r in grey for v in r]))
put("FuzzPrepare", "rgba-24x24", prepare_seed(W, H, 4, [v for y in range(H) for x in range(W) for v in ((20, 20, 90, 255) if mask[y][x] else (250, 250, 240, 0))]))
put("FuzzPrepare", "blank", prepare_seed(8, 8, 1, [200] * 64))
put("FuzzPrepare", "wide-line", prepare_seed(1100, 3, 1, [255] * 1100 + [0] * 1100 + [255] * 1100))
put("FuzzPrepare", "one-dot", prepare_seed(30, 30, 1, [255] * 435 + [0] + [255] * 464))

# FuzzRequest: a selector byte (low two bits: 0 /api/predict, 1 /api/examples, 2 /api/models/select,
# 3 a bare name; for predict, selector // 4 picks the Content-Type: none, image/png, image/jpeg,
# application/json, application/json; charset=utf-8, text/plain), then the body.
with open(os.path.join(ROOT, "FuzzImage", "grey8.png"), "rb") as f:
    small_png = f.read()
with open(os.path.join(ROOT, "FuzzImage", "grey.jpg"), "rb") as f:
    small_jpeg = f.read()
picture = json.dumps({"width": W, "height": H, "pixels": [v for r in grey for v in r], "layers": True}, separators=(",", ":"))
put("FuzzRequest", "predict-json", bytes([0]) + picture.encode())
put("FuzzRequest", "predict-json-typed", bytes([12]) + json.dumps({"width": 3, "height": 2, "pixels": [0, 255, 0, 255, 0, 255]}).encode())
put("FuzzRequest", "predict-png", bytes([4]) + small_png)
put("FuzzRequest", "predict-jpeg", bytes([8]) + small_jpeg)
put("FuzzRequest", "predict-png-untyped", bytes([0]) + small_png)
put("FuzzRequest", "predict-bad-count", bytes([12]) + b'{"width":2,"height":2,"pixels":[1]}')
put("FuzzRequest", "predict-truncated-json", bytes([12]) + b'{"width": 3, "height":')
digit = [v for r in grey for v in r][:784] + [0] * max(0, 784 - W * H)
put("FuzzRequest", "example", bytes([1]) + json.dumps({"label": 7, "prepared": digit}, separators=(",", ":")).encode())
put("FuzzRequest", "example-bad-label", bytes([1]) + b'{"label":12,"prepared":[0,0,0]}')
put("FuzzRequest", "select", bytes([2]) + b'{"name":"my-net.v2"}')
put("FuzzRequest", "select-dotdot", bytes([2]) + b'{"name":"../etc/passwd"}')
put("FuzzRequest", "name", bytes([3]) + b"fast-2")
put("FuzzRequest", "name-hidden", bytes([3]) + b".hidden")
