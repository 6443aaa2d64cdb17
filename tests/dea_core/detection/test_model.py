"""The network's shapes and loading a user's VGG-16 weights."""

import pickle

import pytest
import torch

from dea_core.detection.errors import DetectionOptionsError
from dea_core.detection.model import SSD, ModelConfig, vgg16_features
from dea_core.detection.vgg_weights import load_vgg16_weights


@pytest.mark.parametrize(("backbone", "channels"), [("vgg16", [512, 1024, 512, 256, 256, 256]),
                                                    ("light", [128, 256, 256, 128, 128, 128])])
def test_feature_maps_have_the_ssd300_sizes(backbone, channels):
    model = SSD(ModelConfig(("a", "b"), backbone, "ssd300")).eval()
    with torch.no_grad():
        maps = model.feature_maps(torch.zeros(1, 3, 300, 300))
        offsets, scores = model(torch.zeros(1, 3, 300, 300))
    assert [tuple(m.shape[1:]) for m in maps] == [(c, s, s) for c, s in zip(channels, (38, 19, 10, 5, 3, 1))]
    assert offsets.shape == (1, 8732, 4) and scores.shape == (1, 8732, 3)


def test_fast_priors_give_1940_outputs():
    model = SSD(ModelConfig(("a",), "light", "fast")).eval()
    with torch.no_grad():
        offsets, scores = model(torch.zeros(2, 3, 300, 300))
    assert offsets.shape == (2, 1940, 4) and scores.shape == (2, 1940, 2)


def test_conv4_3_is_l2_normalised_with_scale_20():
    model = SSD(ModelConfig(("a",), "vgg16", "fast")).eval()
    with torch.no_grad():
        first = model.backbone(torch.rand(1, 3, 300, 300))[0]
    norms = first.norm(dim=1)
    assert torch.allclose(norms[norms > 0], torch.tensor(20.0), rtol=1e-4)


def test_vgg16_weights_load_in_both_layouts(tmp_path):
    features = {f"features.{k}": torch.randn_like(v) for k, v in vgg16_features().state_dict().items()}
    torchvision_file = tmp_path / "vgg16.pth"
    torch.save(features, torchvision_file)
    model = SSD(ModelConfig(("a",), "vgg16", "fast"))
    assert load_vgg16_weights(model, torchvision_file) == 26
    assert torch.equal(model.backbone.features[0].weight, features["features.0.weight"])

    reduced = {k.removeprefix("features."): v for k, v in features.items()}
    reduced |= {"31.weight": torch.randn(1024, 512, 3, 3), "31.bias": torch.randn(1024),
                "33.weight": torch.randn(1024, 1024, 1, 1), "33.bias": torch.randn(1024)}
    reduced_file = tmp_path / "vgg16_reducedfc.pth"
    torch.save(reduced, reduced_file)
    assert load_vgg16_weights(model, reduced_file) == 30
    assert torch.equal(model.backbone.conv6.weight, reduced["31.weight"])


def test_wrong_or_unsafe_weights_are_refused(tmp_path):
    model = SSD(ModelConfig(("a",), "vgg16", "fast"))
    wrong = tmp_path / "resnet.pth"
    torch.save({"features.0.weight": torch.zeros(8, 3, 7, 7)}, wrong)
    with pytest.raises(DetectionOptionsError, match="VGG-16"):
        load_vgg16_weights(model, wrong)
    unsafe = tmp_path / "unsafe.pth"
    unsafe.write_bytes(pickle.dumps({"x": object()}, protocol=2))
    with pytest.raises(DetectionOptionsError, match="refused"):
        load_vgg16_weights(model, unsafe)
    with pytest.raises(DetectionOptionsError, match="light"):
        load_vgg16_weights(SSD(ModelConfig(("a",), "light", "fast")), wrong)
