"""How well the converted EfficientNet-Lite0 classifies real ImageNet photographs: top-1 and
top-5 accuracy on ../shared/imagenet-sample (one photograph per ILSVRC-2012 class, the
sorted file names giving the class index; read from there, never copied), and on the 20
labelled photographs that foolbox 3.3.4 ships.

Each photograph is resized so its shorter side is 224 px and centre-cropped (the sample is
already 256×256).

    .venv/bin/python benchmarks/imagenet_check.py [--sample DIR]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
from pathlib import Path

import torch

from texsynth.features.efficientnet import load_state, weights_path
from texsynth.image.io import load_image, resize_and_crop

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "imagenet-sample"


def accuracy(net, files: list[Path], labels: list[int], batch: int = 50) -> tuple[float, float]:
    top1 = top5 = 0
    for start in range(0, len(files), batch):
        chunk = files[start : start + batch]
        images = torch.stack([resize_and_crop(load_image(f).pixels, 224) for f in chunk])
        truth = torch.tensor(labels[start : start + batch])
        with torch.no_grad():
            best = net(images, ["logits"])["logits"].topk(5, dim=1).indices
        top1 += int((best[:, 0] == truth).sum())
        top5 += int((best == truth[:, None]).any(dim=1).sum())
    return top1 / len(files), top5 / len(files)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=Path, default=SAMPLE)
    args = parser.parse_args()
    net = load_state(weights_path(), last_layer="logits")
    sample = sorted(args.sample.glob("*.jpg"))
    if len(sample) == 1000:
        top1, top5 = accuracy(net, sample, list(range(1000)))
        print(f"imagenet-sample (1000 photographs): top-1 {top1:.3f}, top-5 {top5:.3f}")
    else:
        print(f"no 1000-photograph sample in {args.sample}; skipped", file=sys.stderr)
    data = Path(str(importlib.metadata.distribution("foolbox").locate_file("foolbox/data")))
    labelled = sorted(data.glob("imagenet_*.jpg"))
    labels = [int(f.stem.rsplit("_", 1)[1]) for f in labelled]
    top1, top5 = accuracy(net, labelled, labels)
    print(f"foolbox ({len(labelled)} photographs): top-1 {top1:.3f}, top-5 {top5:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
