"""Feed-forward generators: ``texsynth train`` learns the recipe's loss, ``texsynth sample``
writes reproducible samples of any size (tileable ones wrap around), the ``.gen`` file
never runs pickled code, and the rest of texsynth takes a ``.gen`` file as a source."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from texsynth.batch import read_manifest, run_batch
from texsynth.core.errors import TexsynthError
from texsynth.features.generator import GRANULE, Generator, TextureGenerator
from texsynth.report import write_report
from texsynth.synthesis import train as training
from texsynth.synthesis.train import train_generator

QUICK = {"train_size": 32, "batch": 1, "layers": "conv1_1,pool1,pool2", "structure": "off"}


@pytest.fixture(scope="module")
def source_png(tmp_path_factory) -> Path:
    """Stripes with a little noise: a texture a few steps can learn."""
    rng = np.random.default_rng(0)
    y = np.arange(48)[:, None, None]
    stripes = 0.5 + 0.4 * np.sin(2 * np.pi * y / 8) * np.ones((48, 48, 3))
    pixels = np.clip(stripes + 0.05 * rng.standard_normal((48, 48, 3)), 0, 1)
    path = tmp_path_factory.mktemp("gen") / "stripes.png"
    Image.fromarray((pixels * 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture(scope="module")
def trained(source_png: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "stripes.gen"
    train_generator(source_png, output=out, steps=40, learning_rate=0.05, **QUICK)
    return out


def test_training_lowers_the_recipes_loss(trained: Path) -> None:
    losses = Generator.load(trained).training["losses"]
    assert len(losses) == 40
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])


def test_samples_are_reproducible_by_seed_and_differ_between_seeds(trained: Path) -> None:
    generator = Generator.load(trained)
    three = generator.sample(3, (40, 24), seed=5)
    assert three.shape == (3, 3, 24, 40)
    assert torch.equal(generator.sample(1, (40, 24), seed=6)[0], three[1])
    assert (three[0] - three[1]).abs().mean() > 1e-3


def test_the_network_is_shift_equivariant_so_tileable_samples_wrap() -> None:
    """With circular padding, shifting every noise input by one granule at full size
    shifts the output by exactly that much: the output is a torus, it wraps around."""
    torch.manual_seed(0)
    net = TextureGenerator(3).eval()
    noise = net.noise(0, 32, 48)
    shifted = [torch.roll(z, GRANULE >> (len(noise) - 1 - k), dims=3) for k, z in enumerate(noise)]
    with torch.no_grad():
        out, out_shifted = net(noise), net(shifted)
    assert torch.allclose(torch.roll(out, GRANULE, dims=3), out_shifted, atol=1e-5)


def test_a_generator_file_never_runs_pickled_code(tmp_path: Path) -> None:
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    evil = tmp_path / "evil.gen"
    torch.save({"format": "texsynth-generator", "version": 1, "x": Payload()}, evil)
    with pytest.raises(TexsynthError, match="not a texsynth generator file"):
        Generator.load(evil)
    assert not marker.exists()


def test_training_stopped_by_ctrl_c_keeps_a_checkpoint_and_resumes(
    source_png: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "stopped.gen"
    real_step, calls = training._step, []

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real_step(*args)

    monkeypatch.setattr(training, "_step", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train_generator(source_png, output=out, steps=10, **QUICK)
    assert Generator.load(out).training["step"] == 3
    monkeypatch.setattr(training, "_step", real_step)
    resumed = train_generator(source_png, output=out, steps=6, resume=True, **QUICK)
    assert resumed.training["step"] == 6 and len(resumed.training["losses"]) == 6
    with pytest.raises(TexsynthError, match="another recipe"):
        train_generator(source_png, output=out, steps=8, resume=True, **QUICK, loss="swd")
    with pytest.raises(TexsynthError, match="exists"):
        train_generator(source_png, output=out, steps=8, **QUICK)


def test_sample_writes_images_with_sidecars_that_replay(trained: Path, tmp_path, run_cli) -> None:
    made = run_cli("sample", trained, "-o", tmp_path / "a", "--n", "2", "--size", "48x32",
                   "--seed", "7", "-q")  # fmt: skip
    assert made.code == 0, made.err
    first = tmp_path / "a" / "stripes_seed7.png"
    assert Image.open(first).size == (48, 32)
    record = json.loads(first.with_suffix(".json").read_text())
    assert record["recipe"]["start"] == "generator" and record["task"]["seed"] == 7
    again = run_cli("sample", trained, "-o", tmp_path / "b", "--size", "48x32", "--seed", "7", "-q")
    assert again.code == 0, again.err
    assert (tmp_path / "b" / first.name).read_bytes() == first.read_bytes()
    plain = run_cli("sample", trained, "-o", tmp_path / "c", "-q")
    assert plain.code == 0, plain.err
    assert Image.open(tmp_path / "c" / "stripes_seed0.png").size == (48, 48)  # the source's
    replay = run_cli("synth", "--recipe", first.with_suffix(".json"), "-o", tmp_path / "r.png",
                     "-q")  # fmt: skip
    assert replay.code == 0, replay.err
    assert np.array_equal(np.asarray(Image.open(tmp_path / "r.png")), np.asarray(Image.open(first)))


def test_a_tileable_sample_tiles(trained: Path) -> None:
    """Across the wrap, neighbouring columns (rows) differ no more than inside the image."""
    image = Generator.load(trained).sample(1, (64, 32), seed=1, tileable=True)[0]
    for dim in (1, 2):
        step = (image.diff(dim=dim)).abs().mean(dim=(0, 3 - dim))  # per neighbour pair
        wrap = (image.narrow(dim, 0, 1) - image.narrow(dim, image.shape[dim] - 1, 1)).abs().mean()
        assert wrap <= step.max()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--size", "40x24", "--tileable"], "multiples of 16"),
        (["--n", "0"], "--n"),
    ],
)
def test_bad_sample_requests_end_in_one_line(trained, tmp_path, run_cli, args, says) -> None:
    result = run_cli("sample", trained, "-o", tmp_path / "out", *args)
    assert result.code != 0 and says in result.err and "Traceback" not in result.err
    assert not list(tmp_path.glob("out/*"))


def test_bad_generator_files_end_in_one_line(source_png, tmp_path, run_cli) -> None:
    (tmp_path / "junk.gen").write_bytes(b"not a generator")
    result = run_cli("sample", tmp_path / "junk.gen", "-o", tmp_path / "out")
    assert result.code != 0 and "not a texsynth generator file" in result.err
    wrong = run_cli("train", source_png, "-o", tmp_path / "model.pt")
    assert wrong.code != 0 and "ends in .gen" in wrong.err
    assert len(result.err.strip().splitlines()) == 1


def test_a_sample_refined_by_synthesis_keeps_its_start(trained: Path) -> None:
    from texsynth import synthesize

    sample = Generator.load(trained).sample(1, 48, seed=3)[0]
    same = synthesize(str(trained), 48, start="generator", iters=0, seed=3, layers=QUICK["layers"])
    assert torch.allclose(same.image, sample, atol=1 / 255)
    refined = synthesize(str(trained), 48, start="generator", iters=5, seed=3,
                         layers=QUICK["layers"])  # fmt: skip
    assert refined.final_loss < refined.initial_loss
    assert len(refined.scales) == 1


def test_a_batch_takes_a_generator_and_the_report_shows_it(trained: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "gen.yaml"
    manifest.write_text(
        f"defaults:\n  size: 32\n  start: generator\n  iters: 2\n  layers: conv1_1,pool1\n"
        f"grid:\n  sources: ['{trained}']\n  seeds: 2\n"
    )
    summary = run_batch(read_manifest(manifest), tmp_path / "out", progress=False)
    assert summary.ok and len(summary.done) == 2, summary.failed
    report = write_report(tmp_path / "out")
    assert report.counts == {"done": 2}


def test_training_progress_ignores_the_clock_until_it_is_a_step_ahead() -> None:
    """The learning rate follows the steps while they end the training well inside its
    minutes, so that one seed trains one generator (the pinned ``sample`` case trains it
    twice); once the clock is ahead by whole steps, the clock decides."""
    from texsynth.synthesis.train import _progress

    assert _progress(0, 6, 0.5, 600.0) == 0.0
    assert _progress(3, 6, 200.0, 600.0) == 0.5
    assert _progress(1, 6, 400.0, 600.0) == 4 / 6
    assert _progress(6, 6, 10.0, 600.0) == 1.0
