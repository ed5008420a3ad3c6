import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from texsynth.features.network import (
    LAYER_CHANNELS,
    LAYER_NAMES,
    VGG19,
    downsampling_factor,
    estimate_memory_bytes,
)
from texsynth.features.weights import build_network
from texsynth.statistics.model import DEFAULT_LAYERS, TextureModel

from regression_input import pattern_image

DATA = Path(__file__).parent / "data"


def test_layer_names_and_channels():
    assert LAYER_NAMES[:3] == ("conv1_1", "conv1_2", "pool1")
    assert LAYER_NAMES[-1] == "pool5"
    assert len([n for n in LAYER_NAMES if n.startswith("conv")]) == 16
    assert LAYER_CHANNELS["pool4"] == 512 and LAYER_CHANNELS["conv2_1"] == 128
    assert downsampling_factor("conv1_1") == 1 and downsampling_factor("pool4") == 16


def test_network_is_truncated_after_deepest_layer():
    net = VGG19(last_layer="pool2")
    assert list(net.convs) == ["conv1_1", "conv1_2", "conv2_1", "conv2_2"]
    assert all(not p.requires_grad for p in net.parameters())


def test_feature_shapes_and_relu(vgg_weights):
    net = build_network(vgg_weights, "pool4")
    feats = net(torch.rand(2, 3, 48, 64), list(DEFAULT_LAYERS))
    assert feats["conv1_1"].shape == (2, 64, 48, 64)
    assert feats["pool1"].shape == (2, 64, 24, 32)
    assert feats["pool4"].shape == (2, 512, 3, 4)
    assert feats["conv1_1"].min() >= 0  # outputs are taken after the ReLU
    with pytest.raises(ValueError, match="not in this network"):
        net(torch.rand(1, 3, 32, 32), ["conv5_1"])


def test_average_and_max_pooling(vgg_weights):
    x = torch.rand(1, 3, 32, 32)
    avg = build_network(vgg_weights, "pool1", pool="avg")(x, ["conv1_2", "pool1"])
    mx = build_network(vgg_weights, "pool1", pool="max")(x, ["conv1_2", "pool1"])
    assert torch.allclose(avg["pool1"], F.avg_pool2d(avg["conv1_2"], 2))
    assert torch.allclose(mx["pool1"], F.max_pool2d(mx["conv1_2"], 2))


def test_zero_padding_and_preprocessing_match_reference_convolution(vgg_weights):
    # conv1_1 of the normalised VGG-19, computed by hand from the stored tensors.
    sd = vgg_weights.state_dict
    x = torch.rand(1, 3, 20, 20)
    caffe = F.conv2d(x, sd["preprocess.weight"], sd["preprocess.bias"])
    expected = F.relu(
        F.conv2d(caffe, sd["convs.conv1_1.weight"], sd["convs.conv1_1.bias"], padding=1)
    )
    got = build_network(vgg_weights, "conv1_1")(x, ["conv1_1"])["conv1_1"]
    assert torch.allclose(got, expected, atol=1e-4)
    # The 1×1 preprocessing maps RGB in [0, 1] to mean-subtracted BGR × 255.
    white = F.conv2d(torch.ones(1, 3, 1, 1), sd["preprocess.weight"], sd["preprocess.bias"])
    assert torch.allclose(
        white.flatten(), torch.tensor([255 - 103.939, 255 - 116.779, 255 - 123.68]), atol=1e-2
    )


def test_gram_statistics_match_stored_regression_values(vgg_weights):
    stored = json.loads((DATA / "regression_grams.json").read_text())["grams"]
    stats = TextureModel.from_weights(vgg_weights).statistics(pattern_image())
    for layer, ref in stored.items():
        g = stats.grams[layer]
        assert g.diagonal().mean().item() == pytest.approx(ref["mean_diagonal"], rel=1e-4)
        assert torch.allclose(g[:3, :3], torch.tensor(ref["corner"]), rtol=1e-4, atol=1e-5)


def test_memory_estimate_grows_with_area():
    small = estimate_memory_bytes(256, 256, "pool4")
    large = estimate_memory_bytes(1024, 1024, "pool4")
    assert 14 < large / small < 16.1
    assert 4 * 2**30 < large < 8 * 2**30  # ~1.3 G activations × 4 copies × 4 bytes
