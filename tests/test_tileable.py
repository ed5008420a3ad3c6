"""Seamless tiles: a tileable synthesis wraps around without a seam."""

import pytest
import torch

from texsynth import TextureModel, synthesize
from texsynth.core.errors import SizeError
from texsynth.evaluation.metrics import wrap_seam_ratio
from texsynth.losses.objective import gram_loss


@pytest.fixture(scope="module")
def model(vgg_weights) -> TextureModel:
    return TextureModel.from_weights(vgg_weights)


def seam_scores(model: TextureModel, image: torch.Tensor, source: torch.Tensor):
    """(loss of a crop straddling the wrap border of a 2×2 tiling / loss of the image,
    gradient energy across the wrap border / inside the image)."""
    _, h, w = image.shape
    straddle = image.repeat(1, 2, 2)[:, h // 2 : h // 2 + h, w // 2 : w // 2 + w]
    loss = gram_loss(model, model.statistics(source))
    with torch.no_grad():
        ratio = float(loss(model.features(straddle[None])).sum()) / float(
            loss(model.features(image[None])).sum()
        )
    return ratio, wrap_seam_ratio(image)


def test_tileable_output_has_no_seam(model, small_color) -> None:
    tiled = synthesize(small_color, 64, model=model, iters=60, tileable=True)
    plain = synthesize(small_color, 64, model=model, iters=60)
    loss_ratio, edge_ratio = seam_scores(model, tiled.image, small_color)
    assert loss_ratio < 2.0 and edge_ratio < 1.2
    # The same measures do see the seam of an ordinary synthesis.
    plain_loss_ratio, plain_edge_ratio = seam_scores(model, plain.image, small_color)
    assert plain_loss_ratio > 3.0 and plain_edge_ratio > 1.5
    assert tiled.recipe.tileable and tiled.model.padding == "circular"


def test_tileable_needs_sides_that_pool_exactly(model, small_color) -> None:
    with pytest.raises(SizeError, match="multiples of 16"):
        synthesize(small_color, (72, 64), model=model, iters=1, tileable=True)


def test_tileable_cli_flag(run_cli, color_png, tmp_path) -> None:
    out = tmp_path / "tile.png"
    result = run_cli(
        "synth", color_png, "-o", out, "--size", "48x32", "--iters", "2", "--tileable", "-q"
    )
    assert result.code == 0, result.err
    bad = run_cli(
        "synth", color_png, "-o", tmp_path / "b.png", "--size", "50x32", "--tileable", "-q"
    )
    assert bad.code == 1 and "multiples of 16" in bad.err


def test_every_scale_takes_the_sources_statistics_with_zero_padding(model) -> None:
    """The source does not wrap around, so its statistics come from the zero-padded model at
    every scale; only the synthesis is seen as a torus. (Coarse scales once used the
    circular model: statistics with seams the source lacks, and a shared cache missed.)"""
    from texsynth.image.io import load_image, resize_and_crop
    from texsynth.statistics.gram import StatisticsCache
    from texsynth.synthesis.scales import shrink

    source = resize_and_crop(load_image("builtin:ihc").pixels, 128)
    cache = StatisticsCache()
    result = synthesize(
        source, 128, model=model, iters=2, coarse_iters=2, scales=2, tileable=True,
        statistics_cache=cache,
    )  # fmt: skip
    flat = model.with_precision(result.model.precision)
    assert flat.network.padding == "zeros" and result.model.padding == "circular"
    assert set(cache.entries) == {
        StatisticsCache.key(flat, source),
        StatisticsCache.key(flat, shrink(source, 2)),
    }
