"""bfloat16 networks: float32 features out, reproducible syntheses, "auto" resolution."""

import pytest
import torch

from texsynth.core.errors import TexsynthError
from texsynth.features.network import MultiScaleNet, fast_bfloat16
from texsynth.losses.objective import gram_loss
from texsynth.statistics.model import TextureModel
from texsynth.synthesis.run import synthesize
from texsynth.synthesis.target import resolve_precision

SMALL = ["conv1_1", "pool1", "pool2"]


@pytest.fixture(scope="module")
def model(vgg_weights) -> TextureModel:
    return TextureModel.from_weights(vgg_weights, layers=SMALL)


def test_bfloat16_model_gives_float32_features_close_to_float32(small_color, model):
    half = model.with_precision("bfloat16")
    assert half.dtype == torch.bfloat16 and model.dtype == torch.float32
    assert half.with_precision("bfloat16") is half
    x = small_color[None]
    f32, f16 = model.features(x), half.features(x)
    for name in SMALL:
        assert f16[name].dtype == torch.float32
        rel = (f16[name] - f32[name]).norm() / f32[name].norm()
        assert rel < 0.02, name
    tileable = half.with_padding("circular")
    assert tileable.dtype == torch.bfloat16
    # bfloat16 maps run channels-last (faster with oneDNN); float32 keeps the pinned layout.
    for m in (half, tileable):
        assert m.network.memory_format == torch.channels_last
    assert model.network.memory_format == torch.contiguous_format
    half.network.to(memory_format=torch.contiguous_format)  # a copy: the layout alone
    f16_nchw = half.features(x)
    for name in SMALL:
        assert torch.allclose(f16_nchw[name], f16[name], rtol=0.02, atol=0.02), name
    assert 2 * half.estimate_memory_bytes(512, 256) == model.estimate_memory_bytes(512, 256)
    with pytest.raises(TexsynthError, match="unknown precision"):
        model.with_precision("float16")
    with pytest.raises(TexsynthError, match="does not run in bfloat16"):
        TextureModel(MultiScaleNet(sizes=(3,), channels=4), ["multiscale"]).with_precision(
            "bfloat16"
        )


def test_bfloat16_synthesis_lowers_the_float32_loss_and_is_reproducible(small_color, model):
    runs = [
        synthesize(small_color, 48, model=model, iters=25, precision="bfloat16", scales=1)
        for _ in range(2)
    ]
    assert torch.equal(runs[0].image, runs[1].image)
    assert runs[0].model.precision == "bfloat16"
    # Judged by the float32 model against float32 statistics.
    loss = gram_loss(model, model.statistics(small_color))
    with torch.no_grad():
        start = float(loss(model.features(torch.rand(1, 3, 48, 48))))
        end = float(loss(model.features(runs[0].image[None])))
    assert end < start / 20


def test_auto_precision_needs_native_bfloat16_and_source_images(model):
    cpu = torch.device("cpu")
    expected = "bfloat16" if fast_bfloat16(cpu) else "float32"
    assert resolve_precision("auto", cpu, model, image_sources=True) == expected
    assert resolve_precision("auto", cpu, model, image_sources=False) == "float32"
    assert resolve_precision("float32", cpu, model, image_sources=True) == "float32"
