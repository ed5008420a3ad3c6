import warnings

import numpy as np
import pytest
import torch

from texsynth.core.errors import ImageError, SizeError, TexsynthError
from texsynth.image.io import load_image
from texsynth.statistics.gram import TextureStatistics
from texsynth.statistics.model import TextureModel
from texsynth.synthesis.run import synthesize

FAST = {"layers": ["conv1_1", "pool1", "pool2"], "iters": 15}


@pytest.fixture(scope="module")
def model(vgg_weights):
    return TextureModel.from_weights(vgg_weights, layers=FAST["layers"])


def test_loss_falls(small_color, model):
    result = synthesize(small_color, size=48, iters=30, model=model)
    assert result.final_loss < result.initial_loss / 20
    assert all(np.isfinite(result.loss_history)) and len(result.loss_history) == 31
    assert result.iterations == 30 and result.evaluations >= 30
    assert result.recipe.iters == 30 and result.task.seed == 0 and result.task.size == (48, 48)


def test_zero_iterations_returns_the_noise_start(small_color, model):
    result = synthesize(small_color, size=32, model=model, iters=0)
    assert result.iterations == 0 and len(result.loss_history) == 1
    again = synthesize(small_color, size=32, model=model, iters=0)
    assert torch.equal(result.image, again.image)


def test_seeded_run_is_bit_reproducible(small_color, model):
    a = synthesize(small_color, size=32, seed=7, model=model, iters=10)
    b = synthesize(small_color, size=32, seed=7, model=model, iters=10)
    c = synthesize(small_color, size=32, seed=8, model=model, iters=10)
    assert torch.equal(a.image, b.image) and a.loss_history == b.loss_history
    assert not torch.equal(a.image, c.image)


def test_output_size_is_width_by_height_and_independent_of_source(small_color, model):
    result = synthesize(small_color, size=(48, 32), model=model, iters=3)
    assert result.image.shape == (3, 32, 48)
    assert (result.width, result.height) == (48, 32)
    assert result.to_pil().size == (48, 32)
    default = synthesize(small_color, model=model, iters=1)
    assert default.image.shape == small_color.shape


def test_grayscale_source_gives_grayscale_output(model, tmp_path):
    brick = load_image("builtin:brick").pixels[:, :64, :64]
    result = synthesize(brick, size=32, model=model, iters=5)
    assert result.image.shape == (1, 32, 32)
    result.save(tmp_path / "gray.png")
    from PIL import Image

    assert Image.open(tmp_path / "gray.png").mode == "L"


def test_pixels_stay_within_the_source_range(model):
    torch.manual_seed(0)
    source = 0.3 + 0.4 * torch.rand(3, 40, 40)  # values only in [0.3, 0.7]
    result = synthesize(source, size=32, model=model, iters=10)
    for c in range(3):
        assert result.image[c].min() >= source[c].min() - 1e-6
        assert result.image[c].max() <= source[c].max() + 1e-6


def test_statistics_file_reproduces_the_image_run(small_color, model, vgg_weights, tmp_path):
    stats = model.statistics(small_color)
    path = tmp_path / "tex.pt"
    stats.save(path)
    # One precision for both: "auto" picks float32 for a statistics file (its numbers were
    # computed in float32), bfloat16 for an image where that is native.
    from_image = synthesize(small_color, size=32, model=model, iters=8, precision="float32")
    from_file = synthesize(str(path), size=32, model=model, iters=8, precision="float32")
    assert torch.equal(from_image.image, from_file.image)
    assert isinstance(TextureStatistics.load(path), TextureStatistics)
    max_model = TextureModel.from_weights(vgg_weights, layers=FAST["layers"], pool="max")
    # Statistics of another pooling cannot be matched: refused before any work.
    with pytest.raises(TexsynthError, match="computed with pooling 'avg', this recipe uses 'max'"):
        synthesize(path, size=32, model=max_model, iters=1)
    bare = TextureStatistics(stats.grams, stats.pixel_min, stats.pixel_max, {"source_size": [8, 8]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing recorded, nothing to warn about
        synthesize(bare, size=32, model=model, iters=1)
    with pytest.raises(ImageError, match="needs a single source image"):
        synthesize(path, size=32, model=model, iters=1, hist_match=True)


def test_callback_snapshots_and_tolerance(small_color, model, tmp_path):
    seen = []

    def stop_at_four(iteration, loss, image):
        seen.append((iteration, loss, tuple(image.shape)))
        return iteration >= 4

    result = synthesize(
        small_color,
        size=32,
        model=model,
        iters=50,
        callback=stop_at_four,
        snapshot_every=2,
        snapshot_dir=tmp_path / "snaps",
    )
    assert result.iterations == 4 and result.stop_reason == "callback"
    assert [s[0] for s in seen] == [1, 2, 3, 4] and seen[0][2] == (1, 3, 32, 32)
    assert sorted(p.name for p in (tmp_path / "snaps").iterdir()) == [
        "iter_00002.png",
        "iter_00004.png",
    ]
    # A huge tolerance stops as soon as the 10-iteration window is full.
    tol = synthesize(small_color, size=32, model=model, iters=50, tol=10.0)
    assert tol.stop_reason == "tolerance" and tol.iterations == 10


def test_bad_arguments(small_color, model):
    with pytest.raises(SizeError, match="need at least 4x4"):
        synthesize(small_color, size=(2, 8), model=model, iters=1)
    with pytest.raises(SizeError, match=r"source image .* need at least"):
        synthesize(torch.rand(3, 3, 3), model=model, iters=1)
    with pytest.raises(SizeError, match="size: 0 is not WIDTHxHEIGHT"):
        synthesize(small_color, size=0, model=model, iters=1)
    with pytest.raises(TexsynthError, match="unknown layer"):
        TextureModel.from_weights(layers=["conv9_9"])
    with pytest.raises(TexsynthError, match="2 layer weights for 3 layers"):
        TextureModel(model.network, ["conv1_1", "pool1", "pool2"], [1.0, 2.0])
    with pytest.raises(TexsynthError, match="recipe: iters: -1 is below 0"):
        synthesize(small_color, model=model, iters=-1)
    with pytest.raises(TexsynthError, match="snapshots need a snapshot folder"):
        synthesize(small_color, model=model, iters=1, snapshot_every=2)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is present")
def test_cuda_without_a_gpu_is_a_clear_error(small_color, model):
    with pytest.raises(TexsynthError, match="no CUDA GPU"):
        synthesize(small_color, model=model, device="cuda")


def test_device_auto_is_the_gpu_where_torch_sees_one():
    from texsynth.core.devices import resolve_device

    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
