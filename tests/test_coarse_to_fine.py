"""Coarse-to-fine: the scale plan, its budgets, and the hooks that see every scale."""

import pytest
import torch

from texsynth.core.errors import SizeError, TexsynthError
from texsynth.image.io import load_image, resize_and_crop
from texsynth.statistics.model import TextureModel
from texsynth.synthesis.run import synthesize
from texsynth.synthesis.scales import auto_scales, full_size_iterations, plan_scales


@pytest.fixture(scope="module")
def model(vgg_weights) -> TextureModel:
    return TextureModel.from_weights(vgg_weights)


@pytest.fixture(scope="module")
def brick() -> torch.Tensor:
    return resize_and_crop(load_image("builtin:brick").pixels, 128)


def test_auto_scales_keep_the_coarsest_image_and_source_at_64_px():
    assert auto_scales(256, 256, [512, 512]) == 3
    assert auto_scales(512, 384, [512, 512]) == 3
    assert auto_scales(1024, 1024, [1024, 1024]) == 4  # capped
    assert auto_scales(96, 96, [512, 512]) == 1
    assert auto_scales(256, 256, [100, 100]) == 1  # the source is the limit
    assert auto_scales(256, 256, None) == 1
    # Tileable: every scale must keep sides that are multiples of the model's 16 px.
    assert auto_scales(256, 256, [512, 512], multiple=16) == 3
    assert auto_scales(272, 272, [512, 512], multiple=16) == 1  # 136 is not a multiple
    assert auto_scales(288, 288, [512, 512], multiple=16) == 2  # 144 is, 72 is not


def test_plan_lists_sizes_coarsest_first_with_their_budgets():
    plan = plan_scales(256, 192, 3, 300, 100, (512, 512), 16, tileable=False)
    assert [(s.size, s.halvings, s.iters) for s in plan] == [
        ((64, 48), 2, 100),
        ((128, 96), 1, 100),
        ((256, 192), 0, 300),
    ]
    assert [s.iters for s in plan_scales(64, 64, 2, 7, None, (64, 64), 16, False)] == [7, 7]
    with pytest.raises(TexsynthError, match="needs a single source image"):
        plan_scales(64, 64, 2, 5, 5, None, 16, False)
    with pytest.raises(SizeError, match=r"multiples of 32 px .*, not 80x80"):
        plan_scales(80, 80, 2, 5, 5, (80, 80), 16, tileable=True)  # 40 px is not


def test_large_outputs_run_fewer_full_size_iterations():
    assert full_size_iterations(300, 100, 512 * 512, 512) == 300
    assert full_size_iterations(300, 100, 724 * 724, 512) == 150
    assert full_size_iterations(300, 100, 1024 * 1024, 512) == 100  # never below coarse
    assert full_size_iterations(300, 100, 4096 * 4096, None) == 300
    assert full_size_iterations(50, 100, 1024 * 1024, 512) == 50  # never above iters
    plan = plan_scales(1024, 1024, 3, 300, 100, (256, 256), 16, False, iters_side=512)
    assert [s.iters for s in plan] == [100, 100, 100]
    one_scale = plan_scales(1024, 1024, 1, 300, 100, (256, 256), 16, False, iters_side=512)
    assert [s.iters for s in one_scale] == [300]  # from white noise: the whole budget


def test_coarse_iterations_are_separate_from_the_full_scale_budget(small_color, model):
    result = synthesize(small_color, 64, model=model, iters=6, scales=2, coarse_iters=4)
    assert [s.iterations for s in result.scales] == [4, 6]
    assert [s.size for s in result.scales] == [(32, 32), (64, 64)]
    assert result.iterations == 6 and result.recipe.coarse_iters == 4


def test_coarse_to_fine_runs_every_scale_and_ends_lower(model, brick) -> None:
    single = synthesize(brick, 64, model=model, iters=20, scales=1)
    ctf = synthesize(brick, 64, model=model, iters=20, scales=2)
    assert ctf.image.shape == (1, 64, 64)
    # The full-scale loss is the same objective; refined from the upsampled coarse result,
    # it ends lower than a synthesis from noise with the same iterations at full size.
    assert ctf.final_loss < 0.6 * single.final_loss
    assert ctf.wall_time > ctf.scales[0].wall_time


def test_callback_snapshots_and_progress_see_every_scale(model, brick, tmp_path, capsys):
    seen = []

    def watch(iteration, loss, image):
        seen.append((iteration, tuple(image.shape[-2:])))
        return image.shape[-1] == 32 and iteration == 3  # end the coarse scale early

    result = synthesize(
        brick, 64, model=model, iters=4, coarse_iters=6, scales=2, callback=watch,
        snapshot_every=2, snapshot_dir=tmp_path, progress=True,
    )  # fmt: skip
    assert seen == [(1, (32, 32)), (2, (32, 32)), (3, (32, 32))] + [
        (i, (64, 64)) for i in range(1, 5)
    ]
    assert [s.stop_reason for s in result.scales] == ["callback", "max_iter"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "scale1_iter_00002.png",
        "scale2_iter_00002.png",
        "scale2_iter_00004.png",
    ]
    bar = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert "10/10" in bar and "64x64" in bar  # one bar over both scales' budgets


def test_coarse_to_fine_refuses_scales_below_the_network(model, small_color) -> None:
    with pytest.raises(SizeError, match="3 scales shrink 48x48 to 12x12"):
        synthesize(small_color, 48, model=model, iters=1, scales=3)


def test_init_image_is_the_start(model, small_color) -> None:
    start = torch.full((3, 10, 10), 0.5)
    result = synthesize(small_color, 32, model=model, iters=0, init=start)
    lo = small_color.flatten(1).min(1).values.view(3, 1, 1)
    hi = small_color.flatten(1).max(1).values.view(3, 1, 1)
    assert torch.allclose(result.image, start.mean().clamp(lo, hi).expand(3, 32, 32))
