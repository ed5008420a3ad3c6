import pytest
import torch

from texsynth.core.errors import TexsynthError
from texsynth.features.network import LAYER_CHANNELS
from texsynth.statistics.gram import (
    TextureStatistics,
    gram_matrix,
    gram_parameter_count,
    tile_gram_matrices,
)
from texsynth.statistics.model import DEFAULT_LAYERS, parameter_count


def test_gram_of_known_tensor():
    # Two maps on a 1×2 grid: F = [[1, 2], [3, 4]], M = 2 → G = F Fᵀ / 2.
    features = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])
    expected = torch.tensor([[5.0, 11.0], [11.0, 25.0]]) / 2
    assert torch.allclose(gram_matrix(features)[0], expected)
    assert torch.allclose(gram_matrix(features[0]), expected)  # unbatched input


def test_gram_is_symmetric_and_size_independent():
    torch.manual_seed(0)
    tile = torch.rand(1, 8, 5, 7)
    tiled = tile.repeat(1, 1, 3, 2)  # same statistics on a larger grid
    g = gram_matrix(tile)
    assert torch.allclose(g, g.transpose(1, 2))
    assert torch.allclose(g, gram_matrix(tiled), atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gram_of_channels_last_maps_matches_and_keeps_the_layout(dtype):
    """Channels-last maps (bfloat16 models keep them) give the same Gram matrix and
    gradient, and the gradient stays channels-last, so it adds to the convolutions' own
    without a reorder."""
    maps = torch.randn(2, 6, 5, 7, dtype=dtype, generator=torch.Generator().manual_seed(1))
    weights = torch.randn(2, 6, 6, dtype=dtype, generator=torch.Generator().manual_seed(2))
    results = []
    for layout in (torch.contiguous_format, torch.channels_last):
        x = maps.clone().to(memory_format=layout).requires_grad_(True)
        gram = gram_matrix(x)
        (grad,) = torch.autograd.grad((gram * weights).sum(), x)
        results.append((gram, grad))
        assert grad.is_contiguous(memory_format=layout)
    (gram_a, grad_a), (gram_b, grad_b) = results
    torch.testing.assert_close(gram_b, gram_a)
    torch.testing.assert_close(grad_b, grad_a)
    expected = torch.einsum("bnhw,bmhw->bnm", maps, maps) / 35
    torch.testing.assert_close(gram_a, expected)
    # d/dF Σ W∘(F Fᵀ)/M = (W + Wᵀ) F / M
    flat = maps.reshape(2, 6, 35)
    expected_grad = torch.bmm(weights + weights.transpose(1, 2), flat).reshape(maps.shape) / 35
    torch.testing.assert_close(grad_a, expected_grad)


def test_parameter_count_matches_paper():
    assert gram_parameter_count(64) == 2080
    assert parameter_count(DEFAULT_LAYERS) == 176_640  # the paper's "~177k"
    assert parameter_count(["conv1_1"]) == 2080
    assert sum(gram_parameter_count(LAYER_CHANNELS[n]) for n in DEFAULT_LAYERS) == 176_640


def test_statistics_roundtrip(tmp_path):
    grams = {"conv1_1": torch.rand(64, 64), "pool1": torch.rand(64, 64)}
    stats = TextureStatistics(
        grams, torch.zeros(3), torch.ones(3), {"source": "x", "source_size": [5, 6]}
    )
    path = tmp_path / "tex.pt"
    stats.save(path)
    loaded = TextureStatistics.load(path)
    assert loaded.layers == ["conv1_1", "pool1"]
    assert torch.equal(loaded.grams["pool1"], grams["pool1"])
    assert loaded.meta["source_size"] == [5, 6]
    assert loaded.parameter_count == 2 * 2080
    with pytest.raises(TexsynthError, match="no layer pool2"):
        loaded.subset(["pool2"])


def test_loading_a_non_statistics_file_fails(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"a": torch.zeros(1)}, path)
    with pytest.raises(TexsynthError, match="not a texsynth statistics file"):
        TextureStatistics.load(path)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    with pytest.raises(TexsynthError, match="not a texsynth statistics file"):
        TextureStatistics.load(bad)
    cut = tmp_path / "cut.pt"
    torch.save({"format": "texsynth-statistics"}, cut)
    cut.write_bytes(cut.read_bytes()[:-40])  # truncated: the zip's directory is gone
    with pytest.raises(TexsynthError, match="not a texsynth statistics file"):
        TextureStatistics.load(cut)


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_tile_gram_matrices_are_the_gram_matrices_of_the_tiles(layout):
    """Row-major tiles of H // rows × W // columns positions, those cut by the map's edge
    smaller; shares of the positions that weigh them back to the whole map's Gram matrix;
    the gradient is the tiles' Gram gradients, put back where the tiles are."""
    maps = torch.randn(2, 4, 9, 11, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    x = maps.to(memory_format=layout).requires_grad_(True)
    grams, shares = tile_gram_matrices(x, (2, 3))
    rows, cols = ((0, 4), (4, 8), (8, 9)), ((0, 3), (3, 6), (6, 9), (9, 11))
    assert grams.shape == (2, 12, 4, 4)

    def by_hand(m: torch.Tensor) -> torch.Tensor:
        return torch.stack([gram_matrix(m[..., a:b, c:d]) for a, b in rows for c, d in cols], 1)

    torch.testing.assert_close(grams, by_hand(maps))
    sizes = torch.tensor([(b - a) * (d - c) for a, b in rows for c, d in cols], dtype=torch.float64)
    torch.testing.assert_close(shares, sizes / 99)
    weighed = (grams * shares.view(1, -1, 1, 1)).sum(1)
    torch.testing.assert_close(weighed, gram_matrix(maps))
    weights = torch.randn(2, 12, 4, 4, dtype=torch.float64)
    (grad,) = torch.autograd.grad((grams * weights).sum(), x)
    ref = maps.clone().requires_grad_(True)
    (ref_grad,) = torch.autograd.grad((by_hand(ref) * weights).sum(), ref)
    torch.testing.assert_close(grad, ref_grad)
    # One tile is the whole-image Gram matrix; bfloat16 maps can be multiplied in float32.
    one, share = tile_gram_matrices(maps, (1, 1))
    torch.testing.assert_close(one[:, 0], gram_matrix(maps))
    assert share.tolist() == [1.0]
    half = maps.to(torch.bfloat16)
    assert tile_gram_matrices(half, (3, 1), torch.float32)[0].dtype == torch.float32
    with pytest.raises(ValueError, match="no room for 10x1 tiles"):
        tile_gram_matrices(maps, (10, 1))
