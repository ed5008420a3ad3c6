"""Colour control: luminance synthesis coloured by the source, and histogram matching."""

import pytest
import torch

from texsynth import TextureModel, synthesize
from texsynth.image.color import colorize, luminance


@pytest.fixture(scope="module")
def model(vgg_weights) -> TextureModel:
    return TextureModel.from_weights(vgg_weights, layers=["conv1_1", "pool1", "pool2"])


def test_colorize_follows_the_sources_colour_for_each_brightness() -> None:
    # Dark pixels are blue, bright ones yellow: colour is a function of luminance.
    t = torch.linspace(0, 1, 64).view(1, 1, 64).expand(1, 16, 64)
    blue, yellow = torch.tensor([0.1, 0.1, 0.5]), torch.tensor([0.9, 0.8, 0.1])
    source = (1 - t) * blue.view(3, 1, 1) + t * yellow.view(3, 1, 1)
    shuffled = source.flatten(1)[:, torch.randperm(64 * 16)].reshape(3, 16, 64)
    recoloured = colorize(luminance(shuffled), source)
    assert torch.allclose(recoloured, shuffled, atol=0.03)
    grey = torch.rand(1, 8, 8)
    assert colorize(grey, grey).shape == (1, 8, 8)


def off_palette(image: torch.Tensor, source: torch.Tensor) -> float:
    """Mean RGB distance from each pixel to the nearest colour the source contains."""
    return float(torch.cdist(image.flatten(1).T, source.flatten(1).T).min(1).values.mean())


def test_preserve_colors_keeps_the_source_palette(model, small_color) -> None:
    kept = synthesize(small_color, 48, model=model, iters=30, preserve_colors=True)
    free = synthesize(small_color, 48, model=model, iters=30)
    assert kept.image.shape == (3, 48, 48) and kept.recipe.preserve_colors
    # Free Gram synthesis invents colour combinations; the luminance-only one does not.
    assert off_palette(kept.image, small_color) < 0.7 * off_palette(free.image, small_color)
    with pytest.raises(Exception, match="colour preservation needs a single source image"):
        synthesize(model.statistics(small_color), 32, model=model, iters=1, preserve_colors=True)


def test_histogram_matching_matches_each_channel(small_color, model):
    matched = synthesize(small_color, size=64, model=model, iters=5, hist_match=True)
    plain = synthesize(small_color, size=64, model=model, iters=5)
    # Deciles above the minimum (pixels tied at the lower bound all map to one value).
    q = torch.linspace(0.1, 1, 10)
    for c in range(3):
        source_q = torch.quantile(small_color[c].flatten(), q)
        assert torch.allclose(torch.quantile(matched.image[c].flatten(), q), source_q, atol=0.01)
        assert not torch.allclose(torch.quantile(plain.image[c].flatten(), q), source_q, atol=0.01)
