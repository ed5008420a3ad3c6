"""Every command, run as a user types it: the installed ``texsynth`` console script in a
subprocess, in a fresh folder, on small inputs, checking the files it promises. A command
that is broken on import, in its option parsing or in its main path cannot land (issue 35:
``figure readout`` was broken and no test ran it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from texsynth.features.weights import find_weights, sha256_file

from conftest import torchvision_state_dict

TEXSYNTH = str(Path(sys.executable).parent / "texsynth")
SMALL = ["--iters", "2", "--layers", "conv1_1,pool1", "--scales", "1", "-q"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """``src.png`` (48 px), ``mask.png``, ``set/`` of two images, a trained ``tex.gen``."""
    work = tmp_path_factory.mktemp("commands")
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(work / "src.png")
    mask = np.zeros((48, 48), np.uint8)
    mask[16:32, 16:32] = 255
    Image.fromarray(mask).save(work / "mask.png")
    (work / "set").mkdir()
    for i in range(2):
        Image.fromarray(np.roll(pixels, 7 * i, 0)[:32, :32]).save(work / "set" / f"{i}.png")
    ran = texsynth(work, "train", "src.png", "-o", "tex.gen", "--steps", "2", "--train-size",
                   "32", "--batch", "1", "--layers", "conv1_1,pool1", "-q")  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    return work


def texsynth(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TEXSYNTH, *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


COMMANDS = {
    "synth": (["synth", "src.png", "-o", "s.png", "--size", "32", *SMALL], ["s.png", "s.json"]),
    "morph": (["synth", "src.png", "set/0.png", "-o", "m.png", "--mix", "0,1", "--size", "32",
               *SMALL], ["m_mix0.png", "m_mix1.json"]),
    "replay": (["synth", "--recipe", "s.json", "-o", "again.png", "-q"], ["again.png"]),
    "fill": (["fill", "src.png", "--mask", "mask.png", "-o", "f.png", "-q"], ["f.png", "f.json"]),
    "extend": (["extend", "src.png", "--size", "64x48", "-o", "e.png", "-q"], ["e.png"]),
    "tile": (["tile", "src.png", "-o", "t.png", "-q"], ["t.png", "t.json"]),
    "metamer": (["metamer", "src.png", "--scaling", "1", "-o", "mm.png", "--iters", "1", "-q"],
                ["mm.png", "mm.json"]),
    "control": (["control", "src.png", "-o", "c.png", "-q"], ["c.png", "c.json"]),
    "equalize": (["equalize", "set", "-o", "eq", "--luminance", "-q"],
                 ["eq/0.png", "eq/equalize.csv"]),
    "train": (["train", "src.png", "-o", "t2.gen", "--steps", "1", "--train-size", "32",
               "--batch", "1", "--layers", "conv1_1,pool1", "-q"], ["t2.gen"]),
    "sample": (["sample", "tex.gen", "-o", "samples", "--n", "2", "--size", "32", "-q"],
               ["samples/tex_seed1.png", "samples/tex_seed1.json"]),
    "batch": (["batch", "jobs.csv", "-o", "runs", "-q"], ["runs/index.csv", "runs/index.html"]),
    "report": (["report", "runs", "--overwrite", "-q"], ["runs/index.html"]),
    "analyze": (["analyze", "src.png", "-o", "st.pt", "--layers", "conv1_1,pool1"], ["st.pt"]),
    "evaluate": (["evaluate", "src.png", "s.png", "--layers", "conv1_1,pool1", "--json", "ev.json"],
                 ["ev.json"]),
    "figure": (["figure", "readout", "-o", "figs", "--size", "32", "--per-class", "2",
                "--imagenet-sample", "none-here", "-q"], ["figs/readout/readout.png"]),
    "info": (["info"], []),
    "weights-fetch": (["weights", "fetch", "--url", "URL", "--sha256", "SHA", "-o", "w.pth"],
                      ["w.pth"]),
    "weights-normalize": (["weights", "normalize", "raw.pth", "-o", "n.pth", "--images", "set",
                           "--max-images", "2", "--crop", "32"], ["n.pth"]),
}  # fmt: skip


@pytest.mark.parametrize("name", list(COMMANDS), ids=list(COMMANDS))
def test_every_command_runs_as_typed(folder: Path, name: str) -> None:
    args, made = COMMANDS[name]
    if name == "batch":
        (folder / "jobs.csv").write_text("source,size,seed,iters,scales\nsrc.png,32,0,2,1\n")
    if name == "weights-fetch":
        weights = find_weights()
        args = [a.replace("URL", weights.as_uri()).replace("SHA", sha256_file(weights))
                for a in args]  # fmt: skip
    if name == "weights-normalize":
        torch.save(torchvision_state_dict(), folder / "raw.pth")
    if name in ("replay", "evaluate"):
        texsynth(folder, *COMMANDS["synth"][0])
    if name == "report":
        texsynth(folder, *COMMANDS["batch"][0])
    result = texsynth(folder, *args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    for path in made:
        assert (folder / path).is_file() and (folder / path).stat().st_size > 0, path
    if name == "info":
        assert "texsynth" in result.stdout
    if name == "evaluate":
        assert json.loads((folder / "ev.json").read_text())
