#!/usr/bin/python3
"""Real-size fixtures for `npm run bench` (issue 11): ImageNet-sized models and image folders.

Writes under .aaq-tmp/real/ (git-ignored), nothing downloaded:

  mobilenet_v2.onnx, resnet50.onnx, efficientnet_b0.onnx
      torchvision's architectures at 224x224 with their 1000-class ImageNet heads, exported to ONNX
      (opset 13, input 'input' [batch, 3, 224, 224] with a dynamic batch axis, output 'logits').
      Weights are random (seeded), never downloaded; the BatchNorm running statistics are
      re-estimated by running the model in train mode (no grad) over a few batches of the generated
      images, then eval(), so activations have realistic ranges for the statistics pass.
  fmnist-3000/<class>/<index>.jpg
      3,000 labelled 224x224 RGB JPEGs: the first 3,000 Fashion-MNIST t10k images, upscaled
      (bilinear), one subfolder per class (0_tshirt_top ... 9_ankle_boot).
  fmnist-300/, fmnist-600/, fmnist-1000/
      the first N of those (same file names), as hard links into fmnist-3000 (copies where links
      fail): no extra disk.
  manifest.json
      what was made (sizes, versions), for the bench's report.

The random-weight models classify at chance or below (their 1000 outputs against 10 labels): the
fixtures serve cost and memory measurements, not accuracy.

Source images: Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist), else the
repo's tests/fixtures/fmnist-2000/x.npy,y.npy (2,000 images, cycled to 3,000).

Usage: /usr/bin/python3 bench/real/make-fixtures.py [--out DIR] [--models a,b] [--sizes 300,600,1000,3000] [--force]
Needs Debian's python3-torch python3-torchvision python3-pil (use /usr/bin/python3).
"""
import argparse
import gzip
import json
import os
import shutil
import struct
import sys
import time

import numpy as np
import torch
import torchvision
from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLASSES = [
    "0_tshirt_top",
    "1_trouser",
    "2_pullover",
    "3_dress",
    "4_coat",
    "5_sandal",
    "6_shirt",
    "7_sneaker",
    "8_bag",
    "9_ankle_boot",
]
MODELS = {
    "mobilenet_v2": lambda: torchvision.models.mobilenet_v2(weights=None),
    "resnet50": lambda: torchvision.models.resnet50(weights=None),
    "efficientnet_b0": lambda: torchvision.models.efficientnet_b0(weights=None),
}
SIZE = 224
MEAN = np.array([123.675, 116.28, 103.53], dtype=np.float32)
STD = np.array([58.395, 57.12, 57.375], dtype=np.float32)
DEB_DIR = "/usr/share/datasets/fashion-mnist"


def log(msg):
    print(f"[make-fixtures] {msg}", file=sys.stderr, flush=True)


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def source_images(n):
    """(images [n, 28, 28] uint8, labels [n]) and where they came from."""
    for suffix in (".gz", ""):
        xi = os.path.join(DEB_DIR, "t10k-images-idx3-ubyte" + suffix)
        yi = os.path.join(DEB_DIR, "t10k-labels-idx1-ubyte" + suffix)
        if os.path.exists(xi) and os.path.exists(yi):
            x, y = read_idx(xi), read_idx(yi)
            if len(x) >= n:
                return x[:n], y[:n].astype(np.int64), f"Debian dataset-fashion-mnist ({xi}), images 0..{n - 1}"
    xf = os.path.join(ROOT, "tests/fixtures/fmnist-2000/x.npy")
    yf = os.path.join(ROOT, "tests/fixtures/fmnist-2000/y.npy")
    if not os.path.exists(xf):
        sys.exit("no Fashion-MNIST source: apt-get install dataset-fashion-mnist (or restore tests/fixtures/fmnist-2000)")
    x = np.load(xf)
    y = np.load(yf).astype(np.int64)
    x = x.reshape(len(x), 28, 28)
    if x.dtype != np.uint8:
        # stored as floats in 0..255 (or 0..1)
        x = np.clip(np.rint(x * (255.0 if x.max() <= 1.0 else 1.0)), 0, 255).astype(np.uint8)
    reps = -(-n // len(x))
    log(f"dataset-fashion-mnist not installed: using {xf} ({len(x)} images, cycled to {n})")
    return np.tile(x, (reps, 1, 1))[:n], np.tile(y, reps)[:n], f"{xf} (cycled to {n})"


def upscale(img28):
    """28x28 gray -> 224x224 RGB (the gray value in all three channels), bilinear."""
    return Image.fromarray(img28, mode="L").resize((SIZE, SIZE), Image.BILINEAR).convert("RGB")


def image_name(i):
    return f"{i:05d}.jpg"


def make_images(out, n_max, sizes, force):
    full = os.path.join(out, f"fmnist-{n_max}")
    x, y, src = source_images(n_max)
    stamp = os.path.join(full, ".complete")
    if force or not os.path.exists(stamp):
        shutil.rmtree(full, ignore_errors=True)
        for c in CLASSES:
            os.makedirs(os.path.join(full, c), exist_ok=True)
        t0 = time.time()
        for i in range(n_max):
            upscale(x[i]).save(os.path.join(full, CLASSES[y[i]], image_name(i)), quality=90)
        open(stamp, "w").close()
        log(f"{n_max} JPEGs in {full} ({time.time() - t0:.1f} s)")
    for n in sizes:
        if n == n_max:
            continue
        sub = os.path.join(out, f"fmnist-{n}")
        sub_stamp = os.path.join(sub, ".complete")
        if not force and os.path.exists(sub_stamp):
            continue
        shutil.rmtree(sub, ignore_errors=True)
        for c in CLASSES:
            os.makedirs(os.path.join(sub, c), exist_ok=True)
        for i in range(n):
            rel = os.path.join(CLASSES[y[i]], image_name(i))
            try:
                os.link(os.path.join(full, rel), os.path.join(sub, rel))
            except OSError:
                shutil.copyfile(os.path.join(full, rel), os.path.join(sub, rel))
        open(sub_stamp, "w").close()
        log(f"first {n} images in {sub} (hard links)")
    counts = {n: np.bincount(y[:n], minlength=10).tolist() for n in sizes}
    return x, src, counts


def calibration_batches(x, batches, batch):
    """Normalised NCHW float tensors of the first batches*batch generated images (as the configs
    preprocess them: RGB 0..255, ImageNet mean/std)."""
    out = []
    for b in range(batches):
        imgs = [np.asarray(upscale(x[(b * batch + k) % len(x)]), dtype=np.float32) for k in range(batch)]
        a = (np.stack(imgs) - MEAN) / STD
        out.append(torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2))))
    return out


def make_model(name, path, calib):
    torch.manual_seed({"mobilenet_v2": 1, "resnet50": 2, "efficientnet_b0": 3}[name])
    model = MODELS[name]()
    # BatchNorm running statistics of random weights are meaningless (mean 0, var 1 whatever the
    # layer computes): re-estimate them on the images, as a cumulative average (momentum None).
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    t0 = time.time()
    with torch.no_grad():
        for xb in calib:
            model(xb)
    model.eval()
    log(f"{name}: BatchNorm statistics of {len(bns)} layers re-estimated on {sum(len(b) for b in calib)} images ({time.time() - t0:.1f} s)")
    dummy = torch.zeros(1, 3, SIZE, SIZE)
    with torch.no_grad():
        torch.onnx.export(
            model,
            dummy,
            path,
            opset_version=13,
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            do_constant_folding=True,
        )
    with torch.no_grad():
        logits = model(calib[0][:8])
    log(f"{name}: {path} ({os.path.getsize(path) / 2**20:.1f} MiB); logits std {logits.std().item():.3g}")
    return {"file": os.path.basename(path), "bytes": os.path.getsize(path), "params": sum(p.numel() for p in model.parameters())}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, ".aaq-tmp/real"))
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--sizes", default="300,600,1000,3000")
    ap.add_argument("--calib-batches", type=int, default=8, help="BatchNorm re-estimation: batches of 32 images")
    ap.add_argument("--force", action="store_true", help="remake what exists")
    a = ap.parse_args()
    sizes = sorted({int(s) for s in a.sizes.split(",") if s})
    models = [m for m in a.models.split(",") if m]
    for m in models:
        if m not in MODELS:
            sys.exit(f"unknown model {m!r} (expected one of {', '.join(MODELS)})")
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    x, src, counts = make_images(a.out, max(sizes), sizes, a.force)
    manifest_path = os.path.join(a.out, "manifest.json")
    manifest = {}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f)
    manifest.update(
        {
            "images": {"source": src, "size": SIZE, "sizes": sizes, "classes": CLASSES, "per_class": counts},
            "versions": {"torch": torch.__version__, "torchvision": torchvision.__version__, "python": sys.version.split()[0]},
        }
    )
    manifest.setdefault("models", {})
    calib = None
    for m in models:
        path = os.path.join(a.out, f"{m}.onnx")
        if os.path.exists(path) and not a.force and m in manifest["models"]:
            continue
        calib = calib or calibration_batches(x, a.calib_batches, 32)
        manifest["models"][m] = make_model(m, path, calib)
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1)
    log(f"fixtures ready in {a.out}")


if __name__ == "__main__":
    main()
