"""Shared fixtures: the real normalised VGG-19 (loaded once), small images, a CLI runner."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from texsynth.features.network import CONV_NAMES
from texsynth.features.weights import Weights, load_weights
from texsynth.image.io import load_image, resize_and_crop

TORCHVISION_CONV_KEYS = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)
CONV_CHANNELS = (3, 64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512, 512, 512, 512, 512)


@pytest.fixture(scope="session")
def vgg_weights() -> Weights:
    return load_weights()


@pytest.fixture(scope="session")
def small_color() -> torch.Tensor:
    """A 64×64 colour texture crop (scikit-image's immunohistochemistry image)."""
    return resize_and_crop(load_image("builtin:ihc").pixels, 64)


@pytest.fixture()
def color_png(tmp_path: Path, small_color: torch.Tensor) -> Path:
    path = tmp_path / "source.png"
    arr = (small_color.numpy().transpose(1, 2, 0) * 255).round().astype(np.uint8)
    Image.fromarray(arr).save(path)
    return path


def torchvision_state_dict(seed: int = 0, scale: float = 1.0) -> dict[str, torch.Tensor]:
    """A random VGG-19 state dict in torchvision's layout (features.N.*, classifier.*)."""
    gen = torch.Generator().manual_seed(seed)
    sd: dict[str, torch.Tensor] = {}
    for i, key in enumerate(TORCHVISION_CONV_KEYS):
        c_in, c_out = CONV_CHANNELS[i], CONV_CHANNELS[i + 1]
        std = scale * (2.0 / (9 * c_in)) ** 0.5
        sd[f"features.{key}.weight"] = torch.randn(c_out, c_in, 3, 3, generator=gen) * std
        sd[f"features.{key}.bias"] = torch.randn(c_out, generator=gen) * 0.01
    sd["classifier.0.weight"] = torch.zeros(4, 4)  # present in real files, ignored
    assert len(CONV_NAMES) == len(TORCHVISION_CONV_KEYS)
    return sd


class CliResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


@pytest.fixture()
def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run ``texsynth ARGS`` in-process through the real entry point (error handling included)."""
    from texsynth.cli import main

    def run(*args: str) -> CliResult:
        monkeypatch.setattr(sys, "argv", ["texsynth", *map(str, args)])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


# ------------------------------------------------ bad input (test_fuzz*.py) ----
def tree(folder: Path) -> dict[str, str]:
    """Every path below ``folder`` with a digest of what it is and holds."""
    found = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            found[key] = "link:" + os.readlink(path)
        elif path.is_dir():
            found[key] = "dir"
        else:
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def changes(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


def assert_one_error(result, message: str) -> None:
    assert result.code not in (0, None), result.err
    assert "Traceback" not in result.err, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("texsynth: error:"), lines[0]
    assert message in lines[0], lines[0]


@pytest.fixture()
def refused(run_cli, work: Path, monkeypatch: pytest.MonkeyPatch):
    """Run a command in ``work`` (each fuzz module's own folder fixture) that must fail
    cleanly and leave every file as it was (except the paths in ``allowed``)."""
    monkeypatch.chdir(work)

    def run(args: list[str], message: str, allowed: tuple[str, ...] = ()) -> None:
        before = tree(work)
        result = run_cli(*args)
        assert_one_error(result, message)
        assert changes(before, tree(work)) <= set(allowed)

    return run
