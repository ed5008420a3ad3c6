import pytest
import torch

from texsynth.losses import GramLoss, WeightedSum, gram_layer_loss
from texsynth.network import VGG19
from texsynth.statistics import gram_matrix
from texsynth.texture_model import TextureModel
from texsynth.weights import random_weights


def test_gram_loss_value_by_hand():
    target = torch.zeros(2, 2)
    gram = torch.tensor([[[1.0, 2.0], [2.0, 3.0]]])
    # Σ(Ĝ − G)² / (4 N²) = (1 + 4 + 4 + 9) / 16
    assert torch.allclose(gram_layer_loss(gram, target), torch.tensor([18.0 / 16.0]))


def test_gram_loss_gradient_matches_finite_differences():
    torch.manual_seed(0)
    features = torch.rand(1, 4, 3, 5, dtype=torch.float64, requires_grad=True)
    target = gram_matrix(torch.rand(1, 4, 6, 2, dtype=torch.float64))[0]

    def loss(f):
        return gram_layer_loss(gram_matrix(f), target)

    assert torch.autograd.gradcheck(loss, (features,), eps=1e-6, atol=1e-8)


def test_texture_loss_gradient_wrt_pixels_matches_finite_differences():
    # The whole chain image → VGG features → Gram → loss, in float64 on a tiny image.
    weights = random_weights(seed=1)
    net = VGG19(last_layer="pool2").double()
    net.load_state_dict(
        {k: v.double() for k, v in weights.state_dict.items() if k in net.state_dict()}
    )
    # Identity preprocessing keeps values O(1), so finite differences stay precise in float64.
    net.preprocess.weight.copy_(torch.eye(3, dtype=torch.float64).view(3, 3, 1, 1))
    net.preprocess.bias.zero_()
    model = TextureModel(net, ["conv1_1", "pool1", "pool2"])
    torch.manual_seed(0)
    target_img = torch.rand(1, 3, 8, 8, dtype=torch.float64)
    targets = {k: gram_matrix(f)[0] for k, f in model.features(target_img).items()}
    loss = GramLoss(targets)
    x = torch.rand(1, 3, 8, 8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda img: loss(model.features(img)), (x,), eps=1e-6, atol=1e-6
    )


def test_loss_is_zero_at_target_and_layer_weights_apply():
    torch.manual_seed(0)
    feats = {"a": torch.rand(1, 3, 4, 4), "b": torch.rand(1, 5, 2, 2)}
    targets = {k: gram_matrix(f)[0] for k, f in feats.items()}
    assert GramLoss(targets)(feats).item() == 0.0
    other = {k: torch.rand_like(f) for k, f in feats.items()}
    per_layer = GramLoss(targets).layer_losses(other)
    weighted = GramLoss(targets, {"a": 2.0, "b": 0.5})(other)
    assert torch.allclose(weighted, 2.0 * per_layer["a"] + 0.5 * per_layer["b"])
    combined = WeightedSum([GramLoss(targets), GramLoss(targets)], [1.0, 3.0])
    assert torch.allclose(combined(other), 4.0 * GramLoss(targets)(other))
    assert combined.layers == ["a", "b"]


def test_every_registered_loss_is_a_loss_with_resample(vgg_weights, small_color):
    from texsynth.losses import Loss
    from texsynth.objective import ObjectiveTarget
    from texsynth.registry import LOSSES

    model = TextureModel.from_weights(vgg_weights, layers=["conv1_1", "pool1"])
    target = ObjectiveTarget(model, model.statistics(small_color), _loaded(small_color), 0)
    for name in LOSSES.names():
        loss = LOSSES[name](target)
        assert isinstance(loss, Loss), name
        loss.resample()  # a no-op for the Gram loss, new directions for SWD


def _loaded(pixels):
    from texsynth.image_io import LoadedImage

    return LoadedImage(pixels, "<tensor>")


def test_swd_loss_gradient_matches_finite_differences() -> None:
    from texsynth.losses import SlicedWassersteinLoss

    gen = torch.Generator().manual_seed(0)
    target = torch.rand(4, 30, generator=gen, dtype=torch.float64)
    loss = SlicedWassersteinLoss({"l": target}, directions=6).double()
    x = torch.rand(1, 4, 5, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda f: loss({"l": f}), (x,))
    # Its own target is at zero loss, whatever the directions.
    assert float(loss({"l": target.view(1, 4, 5, 6)})) == pytest.approx(0.0, abs=1e-12)
    before = loss.directions_l.clone()
    loss.resample()
    assert not torch.equal(before, loss.directions_l)


@pytest.mark.parametrize("kind", ["swd", "gram+swd"])
def test_other_losses_synthesise_the_texture(vgg_weights, small_color, kind) -> None:
    from texsynth.metrics import feature_swd
    from texsynth.synthesis import synthesize

    model = TextureModel.from_weights(vgg_weights)
    result = synthesize(small_color, 48, model=model, iters=40, loss=kind)
    noise = torch.rand(3, 48, 48, generator=torch.Generator().manual_seed(0))
    swd = sum(feature_swd(model, small_color, result.image).values())
    swd_noise = sum(feature_swd(model, small_color, noise).values())
    assert swd < 0.5 * swd_noise
    assert result.model.loss in ("SlicedWassersteinLoss", "WeightedSum")


def test_swd_loss_needs_the_source_image(vgg_weights, small_color) -> None:
    from texsynth.errors import TexsynthError
    from texsynth.synthesis import synthesize

    model = TextureModel.from_weights(vgg_weights, layers=["conv1_1", "pool1"])
    stats = model.statistics(small_color)
    with pytest.raises(TexsynthError, match="needs a single source image"):
        synthesize(stats, 32, model=model, iters=1, loss="swd")
    with pytest.raises(TexsynthError, match="loss: unknown value 'l1'"):
        synthesize(small_color, 32, model=model, iters=1, loss="l1")
