"""Run a benchmark or the CLI with weights staged for a machine that has none installed.

The GPU machine of this project takes at most 64 MiB per command, and the normalised
VGG-19 alone is 80 MB. Every layer that texsynth's models use ends at pool4, so the staged
files keep the convolutions up to conv4_x only: the normalised VGG-19 (42 MB) and
EfficientNet-Lite0 (19 MB) in one folder, which fits; the original VGG-19 and HED's VGG-16
(42 MB and 31 MB) go in folders of their own, for runs that carry one of them. Only where
the weights are read from is patched; the code that builds and runs the models is
texsynth's own, and the staged weights give the same results as the installed ones (the
networks figure, compared row by row at 32 px).

    .venv/bin/python benchmarks/staged_weights.py stage DIR          # here, once
    python3 benchmarks/staged_weights.py DIR speed ARGS...           # benchmarks/speed.py
    python3 benchmarks/staged_weights.py DIR texsynth ARGS...        # the CLI
"""

from __future__ import annotations

import runpy
import shutil
import sys
from pathlib import Path

import torch

FILES = {
    "normalised": "vgg19_normalised.pt",
    "original": "original/vgg19_original.pt",
    "hed": "hed/hed_vgg16.pt",
    "efficientnet": "efficientnet-lite0.pth",
}


def stage(folder: Path) -> None:
    """Write the staged files from the installed weights."""
    from texsynth import efficientnet
    from texsynth.features.weights import load_hed_weights, load_original_vgg19, load_weights

    for key, weights in (("normalised", load_weights()), ("original", load_original_vgg19()),
                         ("hed", load_hed_weights())):  # fmt: skip
        path = folder / FILES[key]
        path.parent.mkdir(parents=True, exist_ok=True)
        cut = {k: v for k, v in weights.state_dict.items() if not k.startswith("convs.conv5")}
        torch.save({"state_dict": cut, "path": str(weights.path), "sha256": weights.sha256,
                    "layout": weights.layout, "normalised": weights.normalised,
                    "provenance": dict(weights.provenance, note="cut after conv4 for transport"),
                    "arch": weights.arch}, path)  # fmt: skip
    shutil.copy(efficientnet.weights_path(), folder / FILES["efficientnet"])


def staged(path: Path):
    from texsynth.features.weights import Weights

    fields = torch.load(path, weights_only=False)
    return Weights(**(fields | {"path": Path(fields["path"])}))


def patch(folder: Path) -> None:
    """Read every network's weights from ``folder`` (those not there fail when used)."""
    import texsynth
    from texsynth import efficientnet, texture_model, weights

    normalised = staged(folder / FILES["normalised"])
    for module in (texsynth, texture_model, weights):
        module.load_weights = lambda *_a, **_k: normalised
    texture_model.load_original_vgg19 = lambda *_a: staged(folder / FILES["original"])
    texture_model.load_hed_weights = lambda *_a: staged(folder / FILES["hed"])
    found = efficientnet.weights_path
    efficientnet.weights_path = lambda _p=None, verify=True: found(
        folder / FILES["efficientnet"], verify
    )


def main() -> int:
    if sys.argv[1] == "stage":
        stage(Path(sys.argv[2]))
        return 0
    folder, what, args = Path(sys.argv[1]).resolve(), sys.argv[2], sys.argv[3:]
    patch(folder)
    if what == "speed":
        here = Path(__file__).resolve().parent
        sys.argv = [str(here / "speed.py"), *args]
        sys.path.insert(0, str(here))
        speed = runpy.run_path(str(here / "speed.py"), run_name="speed")
        # A fresh process finds no weights here: its start-up reads the staged file instead.
        staged_file = str(folder / FILES["normalised"])
        load = f"import torch; torch.load({staged_file!r}, weights_only=False)"
        timed = speed["start_up"]
        speed["main"].__globals__["start_up"] = lambda device: timed(device, load)
        return speed["main"]()
    from texsynth.cli import main as cli

    sys.argv = ["texsynth", *args]
    cli()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
