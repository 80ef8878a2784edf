"""Bartschat et al. (`training_variation`): module sizes and shapes, distortion units, the minimal-change search
on a linear model with a known answer, and determinism."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.ndimage
import torch
from torch import nn

import lib
from lib.papers.training_variation import adversarial, archs, method, paper


@pytest.mark.parametrize("kind,weights", [("resnet", 69632), ("resnext", 70144)])
def test_fig2_weight_counts_at_width_256(kind, weights):
    assert archs.module_weights(lib.variation_module(kind, 256)) == weights == paper.FIG2_WEIGHTS[kind]


def test_plain_conv_and_inception_counts():
    assert archs.module_weights(nn.Conv2d(256, 256, 3, padding=1)) == 589824 == paper.FIG2_WEIGHTS["conv3x3"]
    # ours: 4 paths of 64 channels, 16,384 + 53,248 + 118,784 + 16,384; the paper prints 192,512
    assert archs.module_weights(lib.variation_module("inception", 256)) == 204800 != paper.FIG2_WEIGHTS["inception"]


def test_resnext_cardinality_and_group_width():
    m = lib.variation_module("resnext", 256)
    grouped = [c for c in m.modules() if isinstance(c, nn.Conv2d) and c.groups > 1]
    assert len(grouped) == 1 and grouped[0].groups == 32 and grouped[0].in_channels // 32 == 4
    assert archs.resnext_cardinality(16) == 2


@pytest.mark.parametrize("kind", archs.KINDS)
@pytest.mark.parametrize("width", [8, 16, 256])
def test_module_keeps_shape(kind, width):
    x = torch.randn(2, width, 8, 8)
    assert lib.variation_module(kind, width).eval()(x).shape == x.shape


@pytest.mark.parametrize("kind", archs.KINDS)
def test_network_shape_and_layout(kind):
    net = archs.VariationNet(kind, 16).eval()
    assert net(torch.randn(3, 3, 32, 32)).shape == (3, 10)
    assert len(net.blocks) == 3 and net.fc.in_features == 16 * 4 * 4
    convs = [m for m in net.pre if isinstance(m, nn.Sequential)]
    assert len(convs) == 2 and isinstance(convs[0][1], nn.ReLU) and isinstance(convs[0][2], nn.BatchNorm2d)


def test_bad_module_arguments():
    with pytest.raises(ValueError, match="unknown module kind"):
        lib.variation_module("vgg", 64)
    with pytest.raises(ValueError, match="multiple of 8"):
        lib.variation_module("resnet", 12)


def test_noise_units_pm1_no_clip_no_quantisation():
    u8 = torch.full((64, 3, 32, 32), 255, dtype=torch.uint8)
    x = method.to_pm1(u8)
    assert float(x.max()) == 1.0 and float(x.min()) == 1.0
    g = torch.Generator().manual_seed(0)
    y = method.distort(x, "noise", 0.1, g)
    d = y - x
    assert abs(float(d.std()) - 0.1) < 0.003 and abs(float(d.mean())) < 0.003
    assert float(y.max()) > 1.2                          # not clipped to [−1, 1]
    assert not torch.allclose(y * 127.5, torch.round(y * 127.5))   # not quantised to 8-bit levels
    assert torch.equal(method.distort(x, "noise", 0.0), x)


def test_blur_units_pixels_scipy_and_identity_levels():
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.uniform(-1, 1, (2, 3, 32, 32)).astype(np.float32))
    for sigma in (0.5, 1.0, 5.0):
        ours = method.distort(x, "blur", sigma).numpy()
        ref = scipy.ndimage.gaussian_filter(x.numpy().astype(np.float64), sigma=(0, 0, sigma, sigma), mode="reflect",
                                            truncate=4.0)
        assert np.abs(ours - ref).max() < 1e-5, sigma
    for sigma in (0.01, 0.05, 0.1):
        assert method.blur_is_identity(sigma) and torch.equal(method.distort(x, "blur", sigma), x)
    assert not method.blur_is_identity(0.5)
    with pytest.raises(ValueError, match="unknown distortion"):
        method.distort(x, "jpeg", 1.0)


class _Linear(nn.Module):
    """logits = W x + b on flattened input."""

    def __init__(self, w: torch.Tensor, b: torch.Tensor):
        super().__init__()
        self.w, self.b = nn.Parameter(w), nn.Parameter(b)

    def forward(self, x):
        return x.flatten(1) @ self.w.T + self.b


def test_minimal_sign_step_matches_the_linear_answer():
    torch.manual_seed(0)
    d = 3 * 4 * 4
    w = torch.randn(2, d, dtype=torch.float64)
    model = _Linear(w, torch.zeros(2, dtype=torch.float64)).double()
    x = (torch.rand(6, 3, 4, 4, dtype=torch.float64) - 0.5) * 0.2      # well inside [−1, 1]: no clipping
    y = model(x).argmax(1)
    # along sign(∇ CE) = sign(w_other − w_y) the margin falls by ‖w_y − w_other‖₁ per unit ε
    diff = w[y] - w[1 - y]
    margin = (x.flatten(1) * diff).sum(1)
    expected = margin / diff.abs().sum(1)
    out = adversarial.minimal_sign_step(model, x, y, eps_min=1e-4, eps_max=2.0, grid=16, bisect=30)
    assert out["found"].all() and not out["misclassified"].any()
    assert torch.allclose(out["eps"], expected, rtol=1e-6)
    assert torch.allclose(out["change"], expected * 127.5, rtol=1e-6)     # every pixel moves by ε: 0–255 scale


def test_minimal_sign_step_misclassified_and_unreachable():
    model = _Linear(torch.tensor([[1.0, 0.0], [0.0, 0.0]]), torch.tensor([0.0, 0.0]))
    x = torch.tensor([[[[0.5, 0.0]]], [[[-0.5, 0.0]]]])                # [2, 1, 1, 2]
    y = torch.tensor([0, 0])                                           # image 1 is already misclassified
    out = adversarial.minimal_sign_step(model, x, y, eps_max=0.1)
    assert out["misclassified"].tolist() == [False, True]
    assert out["change"][1] == 0 and out["eps"][1] == 0
    assert not out["found"][0] and math.isnan(out["change"][0])       # needs ε = 0.5 > eps_max


def test_training_is_deterministic_under_a_seed():
    imgs = torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8)
    labels = torch.randint(0, 10, (64,))
    states = []
    for seed in (5, 5, 6):
        net = archs.build("resnext", 8, seed=1)
        method.train(net, imgs, labels, "noise", 0.1, method.Recipe(epochs=1, batch_size=32), seed=seed)
        states.append(torch.cat([p.detach().flatten() for p in net.parameters()]))
    assert torch.equal(states[0], states[1])
    assert not torch.equal(states[0], states[2])


def test_test_sets_are_seeded_and_shared():
    imgs = torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8)
    a = method.test_sets(imgs, "noise", [0.0, 0.1], seed=3)
    b = method.test_sets(imgs, "noise", [0.0, 0.1], seed=3)
    c = method.test_sets(imgs, "noise", [0.0, 0.1], seed=4)
    assert torch.equal(a[0.1], b[0.1]) and not torch.equal(a[0.1], c[0.1])
    assert torch.equal(a[0.0], method.to_pm1(imgs))
