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
