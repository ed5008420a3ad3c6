"""Reduced (PCA) models, other networks, and the multi-scale random network."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from texsynth.core.errors import TexsynthError
from texsynth.features.network import MULTISCALE_LAYER, VGG, MultiScaleNet, fft_conv2d_same
from texsynth.features.weights import (
    HED_MEMBER,
    build_network,
    load_hed_weights,
    normalisation_images,
    normalize_weights,
    random_weights,
)
from texsynth.losses.objective import gram_loss
from texsynth.statistics.gram import pca_projection
from texsynth.statistics.model import (
    DEFAULT_LAYERS,
    TextureModel,
    components_for_budget,
    parameter_count,
)


@pytest.fixture(scope="module")
def vgg_model(vgg_weights) -> TextureModel:
    return TextureModel.from_weights(vgg_weights)


def test_progression_parameter_counts_are_exact() -> None:
    # Σ N(N+1)/2 over conv1_1 (64), pool1 (64), pool2 (128), pool3 (256), pool4 (512).
    counts = [parameter_count(DEFAULT_LAYERS[: i + 1]) for i in range(5)]
    assert counts == [2_080, 4_160, 12_416, 45_312, 176_640]


@pytest.mark.parametrize("budget", [1_000, 10_000, 50_000, 176_640])
def test_budget_picks_largest_k_that_fits(budget: int) -> None:
    full = dict(zip(DEFAULT_LAYERS, (64, 64, 128, 256, 512), strict=True))

    def count(k: int) -> int:
        return sum(min(k, n) * (min(k, n) + 1) // 2 for n in full.values())

    k = components_for_budget(DEFAULT_LAYERS, budget)
    assert count(k) <= budget
    assert k == 512 or count(k + 1) > budget
    assert {1_000: 19, 10_000: 62, 50_000: 193, 176_640: 512}[budget] == k


def test_reduced_model_has_the_stated_parameter_count(vgg_model, small_color) -> None:
    k = components_for_budget(DEFAULT_LAYERS, 10_000)
    reduced = vgg_model.reduced(small_color, k)
    assert reduced.channels == {
        name: min(k, vgg_model.network.channels(name)) for name in DEFAULT_LAYERS
    }
    assert reduced.parameter_count == 9_765
    # The statistics it computes hold exactly that many unique numbers.
    stats = reduced.statistics(small_color)
    assert stats.parameter_count == 9_765
    assert all(g.shape == (k, k) for g in stats.grams.values())


def test_pca_projection_is_orthonormal_and_ranked() -> None:
    gen = torch.Generator().manual_seed(0)
    # 3 strong directions plus weak noise over 8 channels and 400 positions.
    basis = torch.linalg.qr(torch.randn(8, 8, generator=gen))[0][:, :3]
    coeffs = torch.randn(3, 400, generator=gen) * torch.tensor([[5.0], [3.0], [2.0]])
    feats = (basis @ coeffs + 0.01 * torch.randn(8, 400, generator=gen)).reshape(8, 20, 20)
    p = pca_projection(feats, 3)
    assert torch.allclose(p @ p.T, torch.eye(3), atol=1e-5)
    # The leading direction is the strongest one.
    assert abs(float(p[0] @ basis[:, 0])) > 0.99


def test_pca_projection_completes_basis_beyond_the_positions() -> None:
    feats = torch.rand(16, 2, 2)  # 4 positions: at most 3 directions of variance
    p = pca_projection(feats, 10)
    assert p.shape == (10, 16)
    assert torch.allclose(p @ p.T, torch.eye(10), atol=1e-5)
    with pytest.raises(TexsynthError):
        pca_projection(feats, 17)


def test_full_rank_projection_leaves_the_loss_unchanged(vgg_model, small_color) -> None:
    # An orthonormal change of basis rotates every Gram matrix, which the Frobenius loss
    # ignores: keeping all components must give the paper's model back.
    target = resize_and_crop_noise(small_color)
    rotated = vgg_model.reduced(small_color, 512)
    x = target.unsqueeze(0)
    full_loss = gram_loss(vgg_model, vgg_model.statistics(small_color))(vgg_model.features(x))
    rot_loss = gram_loss(rotated, rotated.statistics(small_color))(rotated.features(x))
    assert torch.allclose(full_loss, rot_loss, rtol=1e-3)


def resize_and_crop_noise(like: torch.Tensor) -> torch.Tensor:
    return torch.rand(like.shape, generator=torch.Generator().manual_seed(1))


def test_fft_convolution_matches_direct_convolution() -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 21, 17, generator=gen, dtype=torch.float64)
    w = torch.randn(4, 3, 9, 9, generator=gen, dtype=torch.float64)
    assert torch.allclose(fft_conv2d_same(x, w), F.conv2d(x, w, padding=4), atol=1e-10)


def test_multiscale_network_structure_and_gradients() -> None:
    net = MultiScaleNet(sizes=(3, 7, 15), channels=8, seed=0)
    model = TextureModel(net, [MULTISCALE_LAYER])
    assert model.parameter_count == 24 * 25 // 2
    img = torch.rand(1, 3, 20, 24, requires_grad=True)
    feats = model.features(img)[MULTISCALE_LAYER]
    assert feats.shape == (1, 24, 20, 24) and feats.min() >= 0
    feats.sum().backward()
    assert img.grad is not None and img.grad.abs().sum() > 0
    # The default is the published configuration: 8 sizes × 128 maps.
    assert MultiScaleNet().channels(MULTISCALE_LAYER) == 1024
    # Each filter is zero-mean over its support, and all share one centred 15×15 bank.
    assert torch.allclose(net.filters.sum(dim=(1, 2, 3)), torch.zeros(24), atol=1e-5)
    assert net.filters.shape == (24, 3, 15, 15)
    assert net.filters[:8, :, :6].abs().sum() == 0  # 3×3 filters sit in the centre


def test_multiscale_seed_is_reproducible() -> None:
    a, b = MultiScaleNet(seed=3), MultiScaleNet(seed=3)
    assert torch.equal(a.filters, b.filters)
    assert not torch.equal(a.filters, MultiScaleNet(seed=4).filters)


def test_hed_weights_give_edges() -> None:
    """The converted HED VGG-16 plus its own read-out finds the edges of a square."""
    import h5py

    weights = load_hed_weights()
    assert weights.arch == "vgg16" and weights.path.as_posix().endswith(HED_MEMBER)
    net = build_network(weights, last_layer="conv5_3", pool="max")
    assert isinstance(net, VGG) and "conv3_4" not in net.layer_names
    img = torch.full((1, 3, 64, 64), 0.2)
    img[..., 16:48, 16:48] = 0.8
    names = ["conv1_2", "conv2_2", "conv3_3", "conv4_3", "conv5_3"]
    feats = net(img, names)
    with h5py.File(weights.path, "r") as f:
        sides = []
        for i, name in enumerate(names, start=1):
            k = torch.from_numpy(f[f"dsn{i}/vars/0"][()]).permute(3, 2, 0, 1)
            b = torch.from_numpy(f[f"dsn{i}/vars/1"][()])
            side = F.conv2d(feats[name], k, b)
            sides.append(F.interpolate(side, size=(64, 64), mode="bilinear"))
        fk = torch.from_numpy(f["fuse/vars/0"][()]).permute(3, 2, 0, 1)
        fb = torch.from_numpy(f["fuse/vars/1"][()])
    edges = torch.sigmoid(F.conv2d(torch.cat(sides, 1), fk, fb))[0, 0]
    border = torch.cat([edges[15:17, 16:48].flatten(), edges[16:48, 15:17].flatten()])
    interior = edges[24:40, 24:40]
    assert border.mean() > 0.5 > interior.mean() + 0.3


def test_missing_hed_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(TexsynthError, match="HED weights not found"):
        load_hed_weights(tmp_path / "nope.h5")


def test_normalising_random_vgg16_sets_mean_activation_to_one() -> None:
    images = normalisation_images(crop=48)[:2]
    w = normalize_weights(random_weights(0, arch="vgg16"), images, last_layer="pool2")
    assert w.arch == "vgg16" and w.provenance["normalised_up_to"] == "pool2"
    from texsynth.features.weights import mean_activations

    net = build_network(w, last_layer="pool2")
    means = mean_activations(net, images)
    for name in ("conv1_1", "conv1_2", "conv2_1", "conv2_2"):
        assert torch.allclose(means[name], torch.ones_like(means[name]), atol=1e-3)


def test_texture_model_rejects_layers_the_network_lacks() -> None:
    w = random_weights(0, arch="vgg16")
    with pytest.raises(TexsynthError, match="conv3_4"):
        TextureModel.from_weights(w, ["conv1_1", "conv3_4"])


def test_multiscale_direct_and_fft_paths_agree_with_plain_convolution() -> None:
    net = MultiScaleNet(sizes=(3, 15, 23), channels=4, seed=1).double()
    assert net.direct_sizes == (3,) and net.fft_sizes == (15, 23)
    img = torch.rand(1, 3, 30, 26, dtype=torch.float64)
    x = net.preprocess(img)
    expected = torch.cat(
        [F.conv2d(x, net.kernel(s), padding=s // 2) for s in (3, 15, 23)], dim=1
    ).relu()
    assert torch.allclose(net(img, [MULTISCALE_LAYER])[MULTISCALE_LAYER], expected, atol=1e-10)
