"""EfficientNet-Lite0: the converted ImageNet classifier, and the texture model on it."""

import importlib.metadata
from pathlib import Path

import pytest
import torch

from texsynth import synthesize
from texsynth.core.errors import TexsynthError
from texsynth.core.registry import NETWORKS
from texsynth.features.efficientnet import LAYER_NAMES, load_state, normalize_features, weights_path
from texsynth.image.io import load_image, resize_and_crop


def foolbox_imagenet() -> list[Path]:
    """foolbox's 20 ImageNet photographs, labelled in their names (imagenet_07_609.jpg)."""
    try:
        data = Path(str(importlib.metadata.distribution("foolbox").locate_file("foolbox/data")))
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("foolbox==3.3.4 is not installed (make test installs it)")
    return sorted(data.glob("imagenet_*.jpg"))


@pytest.fixture(scope="module")
def classifier():
    try:
        return load_state(weights_path(), last_layer="logits")
    except TexsynthError as exc:
        pytest.skip(str(exc))


def test_the_converted_network_classifies_labelled_imagenet_photographs(classifier):
    files = foolbox_imagenet()
    assert len(files) == 20
    images = torch.stack([resize_and_crop(load_image(f).pixels, 224) for f in files])
    labels = torch.tensor([int(f.stem.rsplit("_", 1)[1]) for f in files])
    with torch.no_grad():
        top5 = classifier(images, ["logits"])["logits"].topk(5, dim=1).indices
    top1 = (top5[:, 0] == labels).float().mean()
    in_top5 = (top5 == labels[:, None]).any(dim=1).float().mean()
    # Measured: 17/20 top-1, 20/20 top-5. A wrong padding, input scaling or a block read
    # into the wrong place drops top-1 far below this.
    assert top1 >= 0.75 and in_top5 >= 0.95, (top1, in_top5)


def test_stage_ends_are_normalised_to_a_mean_response_of_one(classifier):
    net = load_state(weights_path(), last_layer="stage7")
    photos = [resize_and_crop(load_image(f).pixels, 128) for f in foolbox_imagenet()[:6]]
    normalize_features(net, photos)
    with torch.no_grad():
        maps = [net(p[None], LAYER_NAMES) for p in photos]
    for name in LAYER_NAMES:
        mean = torch.stack([m[name][0].abs().mean(dim=(1, 2)) for m in maps]).mean(0)
        dead = mean < 1e-6  # stem channels that never respond stay 0
        assert torch.allclose(mean[~dead], torch.ones_like(mean[~dead]), atol=1e-3), name
        assert dead.sum() <= (4 if name == "stem" else 0), name  # measured: 4 of 32
    assert [net.downsampling(n) for n in LAYER_NAMES] == [2, 2, 4, 8, 16, 16, 32, 32]
    assert [net.channels(n) for n in LAYER_NAMES] == [32, 16, 24, 40, 80, 112, 192, 320]


def test_a_texture_synthesised_on_efficientnet_lowers_its_loss(classifier):
    assert "efficientnet-lite0" in NETWORKS.names()
    result = synthesize("builtin:brick", 64, network="efficientnet-lite0", iters=8)
    (scale,) = result.scales
    assert scale.loss_history[-1] < 0.5 * scale.loss_history[0]
    assert result.model.layers == tuple(f"stage{i}" for i in range(1, 8))
    assert result.model.weights["arch"] == "efficientnet-lite0"
    with pytest.raises(TexsynthError, match="no pooling to choose"):
        synthesize("builtin:brick", 64, network="efficientnet-lite0", pool="max", iters=1)
    with pytest.raises(TexsynthError, match="unknown layer"):
        synthesize("builtin:brick", 64, network="efficientnet-lite0", layers="pool1", iters=1)


def test_a_file_that_is_not_the_weights_is_refused(tmp_path):
    fake = tmp_path / "lite0.pth"
    torch.save({}, fake)
    with pytest.raises(TexsynthError, match="sha256 differs"):
        weights_path(fake)
    with pytest.raises(TexsynthError, match="not found"):
        weights_path(tmp_path / "missing.pth")
