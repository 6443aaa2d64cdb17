"""The DEA's shapes through the whole network, for both prior sets and both decoders."""

from __future__ import annotations

import pytest
import torch

from dea_core.dea.model import DEA, DEAConfig
from dea_core.detection.model import SSD, ModelConfig

ROIS = torch.tensor([[0, 10.0, 10.0, 40.0, 40.0],      # small: the 38 x 38 map
                     [1, 20.0, 30.0, 290.0, 280.0],    # nearly the whole input: a coarse map
                     [0, 100.0, 100.0, 160.0, 190.0]])


@pytest.mark.parametrize("priors", ["ssd300", "fast"])
@pytest.mark.parametrize(("decoder", "shape"), [("fc", (1, 128, 128)), ("deconv", (3, 64, 64))])
def test_reconstructions_have_the_decoders_shape(priors, decoder, shape):
    torch.manual_seed(0)
    model = DEA(SSD(ModelConfig(("a", "b"), "light", priors)), DEAConfig(decoder=decoder)).eval()
    with torch.no_grad():
        maps = model.detector.feature_maps(torch.randn(2, 3, 300, 300))
        encoded = model.encode(maps, ROIS)
        out = model.decoder(encoded)
    assert encoded.shape == (3, 1024, 5, 5)
    assert out.shape == (3, *shape)
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_vgg_maps_are_brought_to_1024_channels():
    model = DEA(SSD(ModelConfig(("a",), "vgg16", "fast")), DEAConfig(decoder="deconv"))
    assert [a.in_channels for a in model.adapters] == [512, 1024, 512, 256, 256]
    assert all(a.out_channels == 1024 for a in model.adapters)


def test_each_box_reads_the_map_of_its_best_default_box():
    model = DEA(SSD(ModelConfig(("a",), "light", "ssd300")))
    levels = model.levels_for(ROIS[:, 1:]).tolist()
    assert levels[0] == 0  # 30 px boxes are conv4_3's (scale 0.1)
    assert levels[1] == 4  # 1x1 conv11_2 is left out: the largest boxes go to conv10_2
    assert levels[0] < levels[2] < levels[1]


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="decoder"):
        DEAConfig(decoder="mlp")
    with pytest.raises(ValueError, match="pooling"):
        DEAConfig(pooling="median")
