"""The papers' networks and access to their convolutional activations.

Every model takes images `[N, 3, H, W]`, float32 in [0, 1] (the suite's pixel convention), and
centres them inside the model, so distortions and attacks always work in [0, 1] pixel space.
Convolutional blocks are `ConvBlock`s (conv -> BatchNorm -> ReLU) named `conv1`, `conv2`, ...;
"activation maps" of a block are its post-ReLU outputs, before any pooling.
"""
from __future__ import annotations

from enum import Enum

import torch
from torch import Tensor, nn


class Arch(str, Enum):
    """Architectures by name (plain strings are accepted wherever an `Arch` is)."""

    CIFAR10_NET = "cifar10_net"      # Bianchi et al. Fig. 3 top
    ALLCONV_BN = "allconv_bn"        # Bianchi et al. Fig. 3 bottom (All-Conv Net + BN)
    RESNET20 = "resnet20"            # He et al. ResNet-20 (Prakash ch. 4 quick profile, ch. 5)
    VGG_GAP = "vgg_gap"              # VGG-style plain conv stack with a GAP head (Prakash ch. 4 quick profile)


class ConvBlock(nn.Module):
    """conv k×k (bias) -> BatchNorm2d -> ReLU. Output `[N, out_ch, H', W']`, values >= 0."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int = 3, stride: int = 1, padding: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel, stride=stride, padding=padding)
        self.bn = nn.BatchNorm2d(out_ch)
        self.relu = nn.ReLU(inplace=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(self.bn(self.conv(x)))


class Centre(nn.Module):
    """Maps [0, 1] pixels to roughly zero-mean unit-scale inputs: (x - 0.5) / 0.25."""

    def forward(self, x: Tensor) -> Tensor:
        return (x - 0.5) / 0.25


class Cifar10Net(nn.Module):
    """Bianchi et al.'s CIFAR-10 baseline (Fig. 3 top, §4.3).

    conv3×3-32-s1-p1, BN, ReLU, maxpool 2 -> conv3×3-16-s1-p1, BN, ReLU, maxpool 2 ->
    FC 128, ReLU, dropout 0.5 -> FC num_classes (logits). Input 32×32 (the FC is sized for it).
    """

    conv_names = ("conv1", "conv2")

    def __init__(self, num_classes: int = 10, widths: tuple[int, int] = (32, 16), fc: int = 128):
        super().__init__()
        self.centre = Centre()
        self.conv1 = ConvBlock(3, widths[0])
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = ConvBlock(widths[0], widths[1])
        self.pool2 = nn.MaxPool2d(2)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(widths[1] * 8 * 8, fc), nn.ReLU(), nn.Dropout(0.5), nn.Linear(fc, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        x = self.pool1(self.conv1(self.centre(x)))
        x = self.pool2(self.conv2(x))
        return self.classifier(x)


class AllConvBN(nn.Module):
    """All-Conv Net (Springenberg et al. 2015, model C) with BatchNorm after every conv (Fig. 3 bottom).

    Layer list (implementation-notes §7, DeepCorrect's CIFAR-100 baseline), w = `width` (96 in the
    paper): conv3×3 w, w, w/stride 2, 2w, 2w, 2w/stride 2, conv3×3 2w (valid), conv1×1 2w,
    conv1×1 num_classes; every conv followed by BN and ReLU (as in Springenberg's table, the class
    layer too); global average pool (6×6) gives the logits. Padding 1 on the 'same' 3×3 convs. The
    pool is a plain mean (AdaptiveAvgPool2d has no deterministic backward on CUDA).
    """

    def __init__(self, num_classes: int = 100, width: int = 96):
        super().__init__()
        w, w2 = width, 2 * width
        spec = [(3, w, 3, 1, 1), (w, w, 3, 1, 1), (w, w, 3, 2, 1), (w, w2, 3, 1, 1), (w2, w2, 3, 1, 1),
                (w2, w2, 3, 2, 1), (w2, w2, 3, 1, 0), (w2, w2, 1, 1, 0), (w2, num_classes, 1, 1, 0)]
        self.centre = Centre()
        self.conv_names = tuple(f"conv{i + 1}" for i in range(len(spec)))
        for name, args in zip(self.conv_names, spec):
            self.add_module(name, ConvBlock(*args))

    def forward(self, x: Tensor) -> Tensor:
        x = self.centre(x)
        for name in self.conv_names:
            x = getattr(self, name)(x)
        return x.mean((2, 3))


class VggGap(nn.Module):
    """VGG-style plain network with a global-average-pool head (CAM-ready), w = `width`:

    [conv3×3 w, conv3×3 w, maxpool 2] -> [2w, 2w, maxpool 2] -> [4w, 4w] -> GAP -> FC num_classes.
    Every conv is a `ConvBlock` (conv, BN, ReLU). `features(x)` gives the last block's maps
    `[N, 4w, H/4, W/4]` (after ReLU, before pooling) and `classifier` is the final `nn.Linear`, the
    protocol `lib.papers.pixel_deflection.method.robust_cam` uses.
    """

    def __init__(self, num_classes: int = 10, width: int = 32):
        super().__init__()
        w = width
        spec = [(3, w), (w, w), (w, 2 * w), (2 * w, 2 * w), (2 * w, 4 * w), (4 * w, 4 * w)]
        self.centre = Centre()
        self.conv_names = tuple(f"conv{i + 1}" for i in range(len(spec)))
        for name, (cin, cout) in zip(self.conv_names, spec):
            self.add_module(name, ConvBlock(cin, cout))
        self.pool = nn.MaxPool2d(2)
        self.classifier = nn.Linear(4 * w, num_classes)

    def features(self, x: Tensor) -> Tensor:
        x = self.centre(x)
        for i, name in enumerate(self.conv_names):
            x = getattr(self, name)(x)
            if i in (1, 3):
                x = self.pool(x)
        return x

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x).mean((2, 3)))


def build(arch: Arch | str, num_classes: int, width: int | None = None) -> nn.Module:
    """A freshly initialised network (PyTorch default init, ResNet: He-normal; seed the global RNG first).

    Args:
        arch: an `Arch` name.
        num_classes: output classes (10 for CIFAR-10, 100 for CIFAR-100).
        width: `allconv_bn`: filters of the first three convs (paper: 96); `vgg_gap`: filters of the
            first two convs (default 32). `cifar10_net` and `resnet20`: None (fixed widths).
    """
    arch = Arch(arch)
    if arch in (Arch.CIFAR10_NET, Arch.RESNET20) and width is not None:
        raise ValueError(f"{arch.value} has fixed widths; width must be None")
    if arch is Arch.CIFAR10_NET:
        return Cifar10Net(num_classes)
    if arch is Arch.RESNET20:
        return ResNetCifar(20, num_classes)
    if arch is Arch.VGG_GAP:
        return VggGap(num_classes, width or 32)
    return AllConvBN(num_classes, width or 96)


def conv_blocks(model: nn.Module) -> dict[str, ConvBlock]:
    """The model's `ConvBlock`s by name, in forward order."""
    return {name: getattr(model, name) for name in model.conv_names}


@torch.no_grad()
def activations(model: nn.Module, images: Tensor, layers: list[str], batch_size: int = 500) -> dict[str, Tensor]:
    """Post-ReLU activation maps of the named conv blocks, in eval mode.

    Args:
        model: a network of this module.
        images: `[N, 3, H, W]` float32 in [0, 1], on the model's device.
        layers: block names, e.g. ["conv1", "conv2"].
        batch_size: images per forward pass.

    Returns:
        {name: `[N, F, h, w]` float32 >= 0} on the model's device.
    """
    out: dict[str, list[Tensor]] = {name: [] for name in layers}
    blocks = conv_blocks(model)
    hooks = [blocks[name].register_forward_hook(lambda m, i, o, name=name: out[name].append(o)) for name in layers]
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(images), batch_size):
            model(images[start:start + batch_size])
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return {name: torch.cat(maps) for name, maps in out.items()}


# ---------------------------------------------------------------------------------------------
# Thesis chapter 5 (RePr): vanilla ConvNets C^n(X) and CIFAR ResNets


def _pool_after(depth: int, pool: str) -> set[int]:
    """1-based conv indices followed by a 2×2 max-pool: 'none', 'each', or 'thirds' (three pools,
    after layers ceil(n/3), ceil(2n/3) and n; for n = 3 that is after every conv)."""
    if pool == "none":
        return set()
    if pool == "each":
        return set(range(1, depth + 1))
    if pool == "thirds":
        return {-(-depth // 3), -(-2 * depth // 3), depth}
    raise ValueError(f"pool must be 'none', 'each' or 'thirds'; got {pool!r}")


class VanillaConvNet(nn.Module):
    """The thesis's vanilla ConvNet C^n(X): `[conv3×3(X) -> ReLU]^n -> FC` (thesis §5.4).

    3×3 kernels, stride 1, 'same' padding (the thesis's parameter counts, Table 5.5, match 3×3
    exactly); conv biases; no BatchNorm, no skip connections. Pooling is not given in the thesis:
    `pool='thirds'` puts 2×2 max-pools after convs ceil(n/3), ceil(2n/3) and n (the official TF code
    pools after every conv of its 3-layer net), `'none'` keeps 32×32 maps into the FC (the PyTorch
    port). Optional dropout (p) before the FC. He-normal initialisation (std sqrt(2/fan_in)), zero
    biases. Conv layers are `conv1..convn` (nn.Conv2d); `conv_names` lists them.

    Input `[N, 3, 32, 32]` float in [0, 1]; output logits `[N, num_classes]`.
    """

    def __init__(self, depth: int = 3, width: int = 32, num_classes: int = 10, pool: str = "thirds",
                 dropout: float = 0.0, size: int = 32):
        super().__init__()
        if depth < 1 or width < 1:
            raise ValueError(f"depth and width must be >= 1; got {depth}, {width}")
        self.centre = Centre()
        self.conv_names = tuple(f"conv{i}" for i in range(1, depth + 1))
        pools = _pool_after(depth, pool)
        layers: list[nn.Module] = []
        ch = 3
        for i, name in enumerate(self.conv_names, start=1):
            conv = nn.Conv2d(ch, width, 3, padding=1)
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            nn.init.zeros_(conv.bias)
            self.add_module(name, conv)
            layers += [conv, nn.ReLU()]
            if i in pools:
                layers.append(nn.MaxPool2d(2))
                size //= 2
            ch = width
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(width * size * size, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.dropout(self.features(self.centre(x)).flatten(1)))


class _BasicBlock(nn.Module):
    """ResNet basic block: conv3×3-BN-ReLU-conv3×3-BN + shortcut, ReLU. The shortcut is the identity,
    or (when the stride or width changes) 2× subsampling with zero-padded channels (He et al. option A)."""

    def __init__(self, in_ch: int, out_ch: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.stride, self.pad = stride, out_ch - in_ch

    def forward(self, x: Tensor) -> Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        short = x[:, :, ::self.stride, ::self.stride] if self.stride > 1 else x
        if self.pad:
            short = nn.functional.pad(short, (0, 0, 0, 0, 0, self.pad))
        return torch.relu(out + short)


class ResNetCifar(nn.Module):
    """ResNet-(6n+2) for CIFAR (He et al. 2016, §4.2): conv3×3-16, three stages of n basic blocks with
    16/32/64 filters (stride 2 at the start of stages 2 and 3), global average pool, FC. ResNet-20
    (n=3): 0.27 M parameters; ResNet-32 (n=5): 0.46 M. He-normal conv initialisation.

    Input `[N, 3, 32, 32]` float in [0, 1]; output logits `[N, num_classes]`.
    """

    def __init__(self, depth: int = 20, num_classes: int = 10, dropout: float = 0.0):
        super().__init__()
        if (depth - 2) % 6:
            raise ValueError(f"ResNet depth must be 6n+2 (20, 32, 44, 56, 110, ...); got {depth}")
        n = (depth - 2) // 6
        self.centre = Centre()
        self.conv = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        blocks, ch = [], 16
        for stage, width in enumerate((16, 32, 64)):
            for i in range(n):
                blocks.append(_BasicBlock(ch, width, 2 if stage and i == 0 else 1))
                ch = width
        self.blocks = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(64, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: Tensor) -> Tensor:
        x = torch.relu(self.bn(self.conv(self.centre(x))))
        return self.fc(self.dropout(self.blocks(x).mean((2, 3))))


def prunable_convs(model: nn.Module) -> dict[str, tuple[nn.Conv2d, nn.BatchNorm2d | None]]:
    """Every conv layer whose output filters RePr may drop, in forward order, with the BatchNorm
    that normalises its output (None for the vanilla nets). Names are module paths."""
    mods = dict(model.named_modules())
    out: dict[str, tuple[nn.Conv2d, nn.BatchNorm2d | None]] = {}
    names = list(mods)
    for i, name in enumerate(names):
        m = mods[name]
        if isinstance(m, nn.Conv2d) and name not in out:
            follower = mods[names[i + 1]] if i + 1 < len(names) else None
            bn = follower if isinstance(follower, nn.BatchNorm2d) and follower.num_features == m.out_channels else None
            out[name] = (m, bn)
    return out
