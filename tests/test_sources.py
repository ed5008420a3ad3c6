"""Several sources: pooled examples of one texture, or one texture per region of a guide."""

import pytest
import torch

from texsynth import TextureModel, synthesize
from texsynth.core.errors import TexsynthError
from texsynth.evaluation.metrics import relative_gram_error
from texsynth.image.io import load_image, resize_and_crop
from texsynth.statistics.gram import pool_statistics


@pytest.fixture(scope="module")
def model(vgg_weights) -> TextureModel:
    return TextureModel.from_weights(vgg_weights)


def test_several_examples_pool_their_statistics(model, small_color) -> None:
    left, right = small_color[:, :, :32], small_color[:, :, 32:]
    pooled = pool_statistics([model.statistics(left), model.statistics(right)])
    for name in model.layers:
        expected = (model.statistics(left).grams[name] + model.statistics(right).grams[name]) / 2
        assert torch.allclose(pooled.grams[name], expected)
    result = synthesize([left, right], 32, model=model, iters=5)
    assert len(result.task.sources) == 2 and result.final_loss < result.initial_loss
    # Grey and colour examples together give colour.
    grey = small_color.mean(0, keepdim=True)
    mixed = synthesize([grey, small_color], 32, model=model, iters=2)
    assert mixed.image.shape[0] == 3


def test_label_map_puts_each_texture_in_its_region(model, small_color) -> None:
    brick = resize_and_crop(load_image("builtin:brick").pixels, 64).expand(3, -1, -1)
    labels = torch.zeros(64, 96, dtype=torch.long)
    labels[:, 48:] = 7  # right half: the second source
    result = synthesize([brick, small_color], model=model, iters=60, guide=labels)
    assert result.image.shape == (3, 64, 96) and result.task.guide == "<Tensor>"
    assert result.model.loss == "GuidedGramLoss"
    left, right = result.image[:, :, 8:40], result.image[:, :, 56:88]
    s_brick, s_ihc = model.statistics(brick), model.statistics(small_color)
    assert relative_gram_error(model, left, s_brick) < relative_gram_error(model, left, s_ihc)
    assert relative_gram_error(model, right, s_ihc) < relative_gram_error(model, right, s_brick)


def test_guide_needs_one_source_per_region(model, small_color, run_cli, tmp_path) -> None:
    from PIL import Image

    labels = torch.zeros(32, 32, dtype=torch.long)
    labels[16:] = 1
    with pytest.raises(TexsynthError, match="2 regions but 1 sources"):
        synthesize(small_color, model=model, iters=1, guide=labels)
    with pytest.raises(TexsynthError, match="guidance works with the Gram loss only"):
        synthesize([small_color, small_color], model=model, iters=1, guide=labels, loss="swd")
    guide = tmp_path / "guide.png"
    Image.fromarray((labels.numpy() * 255).astype("uint8")).save(guide)
    out = tmp_path / "out.png"
    ok = run_cli(
        "synth", "builtin:brick", "builtin:ihc", "-o", out, "--guide", guide, "--iters", "2", "-q"
    )
    assert ok.code == 0, ok.err
    with Image.open(out) as img:
        assert img.size == (32, 32) and img.mode == "RGB"
    bad = run_cli("synth", "builtin:brick", "-o", tmp_path / "b.png", "--guide", guide, "-q")
    assert bad.code == 1 and "regions" in bad.err
