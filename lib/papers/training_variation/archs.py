"""Bartschat et al. §2.2: the common skeleton and the three residual modules of Fig. 2, parameterised by width.

A *convolution module* is, in the paper's order, a convolution, a ReLU and a batch normalisation.

Skeleton (`VariationNet(kind, width)`), input `[N, 3, 32, 32]` float on the paper's [−1, 1] scale:

    conv module 3×3 (3 → w), conv module 3×3 (w → w)                 pre-processing, 32×32
    3 × [ x + module(x), max-pool 2×2 / 2 ]                            32 → 16 → 8 → 4
    conv module 3×3 (w → w), flatten (w·4·4), dense → 10 logits        post-processing

Output: logits `[N, 10]` float32 (the paper's softmax is inside the cross-entropy).

Modules (`variation_module(kind, width)`: `width` channels in and out; the residual addition is the
skeleton's). Every convolution inside is a convolution module (conv → ReLU → BN):

    resnet     1×1 w → w/4, 3×3 w/4 → w/4, 1×1 w/4 → w                (Fig. 2 left: 256 → 64 → 64 → 256)
    resnext    1×1 w → w/2, 3×3 grouped w/2 → w/2 with C = min(32, w/8) groups of w/(2C) channels,
               1×1 w/2 → w  (= C parallel bottlenecks w → w/(2C) → w/(2C) → w, aggregated; Fig. 2 right:
               32 × (256 → 4 → 4 → 256))
    inception  four paths of w/4 channels each on the full input, concatenated: 1×1; 1×1 → 3×3;
               1×1 → 5×5; max-pool 3×3/1 → 1×1  (Fig. 2 middle; the paper gives no widths, this split is
               our choice)

Weight counts (`module_weights`: convolution weights only, no biases or BN, as the paper counts) at
w = 256: resnet 69,632 and resnext 70,144 (the paper's numbers exactly), inception 204,800 (paper: 192,512,
which no residual-compatible split with these four paths reproduces uniquely; see the inventory).
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

KINDS = ("resnet", "inception", "resnext")


def conv_module(cin: int, cout: int, k: int, groups: int = 1) -> nn.Sequential:
    """Convolution (k×k, stride 1, 'same' padding, with bias) → ReLU → BatchNorm, `[N, cin, H, W]` → `[N, cout, H, W]`."""
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=k // 2, groups=groups), nn.ReLU(inplace=True),
                         nn.BatchNorm2d(cout))


def _check_width(kind: str, width: int) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown module kind {kind!r}; valid: {', '.join(KINDS)}")
    if not isinstance(width, int) or width < 8 or width % 8:
        raise ValueError(f"width must be a positive multiple of 8 (channels), got {width!r}")


def resnext_cardinality(width: int) -> int:
    """Number of parallel paths (groups) of the ResNeXt module at `width`: min(32, width / 8); each path is
    width/(2·C) channels wide (4 at width ≤ 256)."""
    return min(32, width // 8)


class Inception(nn.Module):
    """Four parallel paths of width/4 channels (1×1; 1×1→3×3; 1×1→5×5; max-pool 3×3/1 → 1×1), concatenated.

    `[N, w, H, W]` → `[N, w, H, W]`.
    """

    def __init__(self, width: int):
        super().__init__()
        q = width // 4
        self.p1 = conv_module(width, q, 1)
        self.p3 = nn.Sequential(conv_module(width, q, 1), conv_module(q, q, 3))
        self.p5 = nn.Sequential(conv_module(width, q, 1), conv_module(q, q, 5))
        self.pool = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), conv_module(width, q, 1))

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.p1(x), self.p3(x), self.p5(x), self.pool(x)], dim=1)


def variation_module(kind: str, width: int) -> nn.Module:
    """The residual module of Fig. 2 (without its identity path): `[N, width, H, W]` → `[N, width, H, W]`.

    Args:
        kind: 'resnet' | 'inception' | 'resnext' (ValueError otherwise).
        width: input and output channels, a positive multiple of 8 (256 in Fig. 2).
    """
    _check_width(kind, width)
    if kind == "resnet":
        return nn.Sequential(conv_module(width, width // 4, 1), conv_module(width // 4, width // 4, 3),
                             conv_module(width // 4, width, 1))
    if kind == "resnext":
        mid = width // 2
        return nn.Sequential(conv_module(width, mid, 1), conv_module(mid, mid, 3, groups=resnext_cardinality(width)),
                             conv_module(mid, width, 1))
    return Inception(width)


def module_weights(module: nn.Module) -> int:
    """Convolution and dense weights of `module` (no biases, no BatchNorm parameters): the paper's count."""
    return sum(m.weight.numel() for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))


class Residual(nn.Module):
    """x + module(x), then max-pool 2×2/2: `[N, w, H, W]` → `[N, w, H/2, W/2]`."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(x + self.module(x))


class VariationNet(nn.Module):
    """The paper's skeleton with three modules of one kind (module docstring). Input `[N, 3, 32, 32]` float on
    the [−1, 1] scale; output logits `[N, 10]`."""

    def __init__(self, kind: str, width: int, num_classes: int = 10, size: int = 32):
        super().__init__()
        _check_width(kind, width)
        if size % 8:
            raise ValueError(f"input side must be a multiple of 8 (three 2× poolings), got {size}")
        self.kind, self.width = kind, width
        self.pre = nn.Sequential(conv_module(3, width, 3), conv_module(width, width, 3))
        self.blocks = nn.Sequential(*[Residual(variation_module(kind, width)) for _ in range(3)])
        self.post = conv_module(width, width, 3)
        self.fc = nn.Linear(width * (size // 8) ** 2, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"expected input [N, 3, H, W], got {tuple(x.shape)}")
        return self.fc(self.post(self.blocks(self.pre(x))).flatten(1))


def build(kind: str, width: int, seed: int) -> VariationNet:
    """A freshly initialised `VariationNet` (PyTorch's default initialisation) from `seed`."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return VariationNet(kind, width)
