"""The paper's fine tuning as tensors in, tensors out: frozen backbone, new 10-way head, Adam, cross-entropy.

The paper (§5.3, the PyTorch "Finetuning Torchvision Models" pattern) freezes every parameter, replaces the
last linear layer and trains it for 30 epochs with Adam, evaluating accuracy and loss after each epoch.
With the backbone frozen, its outputs can be computed once and the head trained on them (`ProbeSplit`):

- BatchNorm: the paper's loop runs the model in `train()` mode, so BatchNorm's running statistics move to
  CIFAR's (frozen weights do not stop that). We set them once with a train-mode pass over training images
  (`recalibrate_bn`, cumulative average) and then use eval-mode features: the head sees running-statistics
  normalisation during training instead of per-batch statistics (a small difference, stated in the report).
- Dropout: VGG's and AlexNet's frozen `classifier[:6]` holds two Dropout layers that are active in the
  paper's training loop. We cache the classifier's longest leading part without Dropout (VGG:
  Linear + ReLU; AlexNet: nothing, its classifier starts with Dropout) and run the rest (`rest`) in train
  mode for every training batch, so dropout is exact; evaluation runs it in eval mode, once.

Images enter as uint8 `[N, 3, 32, 32]`; `prepare` scales them to [0, 1] (or leaves them at 0–255 for the
`unscaled` diagnosis), resizes them bilinearly and applies ImageNet's normalisation.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.models as tvm
from torch import Tensor, nn

from lib import repro
from lib.papers.cifar10c_pretrained import archs
from lib.papers.pixel_deflection.pretrained import IMAGENET_MEAN, IMAGENET_STD


def relative_drop(acc_clean: float | np.ndarray, acc_c: float | np.ndarray) -> float | np.ndarray:
    """Relative accuracy drop in percent, `100 · (1 − acc_c / acc_clean)` (the paper's Table 2 from its Table 3).

    Args:
        acc_clean, acc_c: accuracies on the clean and the corrupted test set, same unit (% or fraction),
            scalars or arrays of the same shape; acc_clean > 0.
    """
    acc_clean, acc_c = np.asarray(acc_clean, dtype=float), np.asarray(acc_c, dtype=float)
    if np.any(acc_clean <= 0):
        raise ValueError("relative_drop: clean accuracy must be > 0")
    out = 100.0 * (1.0 - acc_c / acc_clean)
    return float(out) if out.ndim == 0 else out


def prepare(images: Tensor, size: int, unscaled: bool = False) -> Tensor:
    """uint8 `[N, 3, H, W]` (0–255) -> float32 `[N, 3, size, size]`, ImageNet-normalised network input.

    Args:
        images: uint8 images.
        size: output side (pixels); bilinear resizing (no antialias) when it differs from H.
        unscaled: skip the division by 255 (the paper-bug emulation: values 0–255 before normalisation).
    """
    if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] != 3:
        raise TypeError(f"expected uint8 [N, 3, H, W], got {images.dtype} {tuple(images.shape)}")
    x = images.float()
    return normalise(x if unscaled else x / 255.0, size)


def normalise(x: Tensor, size: int) -> Tensor:
    """float `[N, 3, H, W]` (nominally in [0, 1]) -> `[N, 3, size, size]`, bilinearly resized, ImageNet-normalised."""
    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=False)
    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


@dataclass
class ProbeSplit:
    """A network cut for linear probing: `head(rest(prefix(trunk(x))))` equals `net(x)` in eval mode.

    trunk: conv part + pooling + flatten (`[N, D0]`); prefix: leading classifier layers without Dropout
    (cached with the trunk); rest: the remaining frozen classifier layers (hold Dropout; `[N, D]`); head:
    the trainable last `nn.Linear(D, classes)`.
    """

    trunk: nn.Module
    prefix: nn.Module
    rest: nn.Module
    head: nn.Linear


class _Trunk(nn.Module):
    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: Tensor) -> Tensor:
        n = self.net
        if isinstance(n, tvm.ResNet):
            x = n.maxpool(n.relu(n.bn1(n.conv1(x))))
            x = n.layer4(n.layer3(n.layer2(n.layer1(x))))
        else:
            x = n.features(x)
        return torch.flatten(n.avgpool(x), 1)


def split(net: nn.Module) -> ProbeSplit:
    """Cut `net` (an `archs.torchvision_arch`) into trunk, cached prefix, dropout-holding rest and head."""
    if isinstance(net, tvm.ResNet):
        return ProbeSplit(_Trunk(net), nn.Identity(), nn.Identity(), net.fc)
    layers = list(net.classifier.children())[:6]
    k = next((i for i, m in enumerate(layers) if isinstance(m, nn.Dropout)), len(layers))
    return ProbeSplit(_Trunk(net), nn.Sequential(*layers[:k]), nn.Sequential(*layers[k:]), net.classifier[6])


@torch.no_grad()
def recalibrate_bn(net: nn.Module, images: Tensor, size: int, batch: int = 256) -> int:
    """Set every BatchNorm's running statistics to the cumulative average over `images` (train-mode pass).

    Args:
        images: uint8 `[N, 3, H, W]` training images.
        size: network input side (pixels).

    Returns:
        The number of BatchNorm layers reset (0 for VGG/AlexNet); `net` ends in eval mode.
    """
    bns = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if bns:
        saved = [m.momentum for m in bns]
        for m in bns:
            m.reset_running_stats()
            m.momentum = None   # cumulative moving average: every batch weighs the same
        net.train()
        for s in range(0, len(images), batch):
            net(prepare(images[s:s + batch], size))
        for m, mom in zip(bns, saved):
            m.momentum = mom
    net.eval()
    return len(bns)


@torch.no_grad()
def features(probe: ProbeSplit, images: Tensor, size: int, through_rest: bool, unscaled: bool = False,
             batch: int = 256) -> Tensor:
    """Eval-mode features of uint8 images: `prefix(trunk(x))` (`through_rest=False`, what head training reads)
    or `rest(prefix(trunk(x)))` (`True`, the head's input at evaluation). float32 `[N, D]` on the CPU."""
    mods = [probe.trunk, probe.prefix] + ([probe.rest] if through_rest else [])
    for m in mods:
        m.eval()
    out = []
    for s in range(0, len(images), batch):
        x = prepare(images[s:s + batch], size, unscaled)
        for m in mods:
            x = m(x)
        out.append(x.float().cpu())
    return torch.cat(out) if out else torch.empty(0)


@torch.no_grad()
def evaluate_head(head: nn.Linear, feats: Tensor, labels: Tensor, batch: int = 8192) -> tuple[Tensor, Tensor]:
    """Per-image cross-entropy (float64 `[N]`, nats) and correctness (bool `[N]`) of `head` on eval features."""
    losses, correct = [], []
    for s in range(0, len(feats), batch):
        logits = head(feats[s:s + batch]).double()
        y = labels[s:s + batch]
        losses.append(F.cross_entropy(logits, y, reduction="none"))
        correct.append(logits.argmax(1) == y)
    return torch.cat(losses), torch.cat(correct)


def train_head(train_feats: Tensor, train_labels: Tensor, rest: nn.Module, head: nn.Linear,
               evals: dict[str, tuple[Tensor, Tensor]], epochs: int, lr: float, batch: int, seed: int
               ) -> list[dict[str, float]]:
    """Train `head` in place with Adam on cached features; evaluate after every epoch.

    Args:
        train_feats: float32 `[N, D0]`, `prefix(trunk(x))` of the training images; train_labels int64 `[N]`.
        rest: the frozen classifier layers between the cache and the head (Dropout active while training).
        head: `nn.Linear(D, classes)`, trained in place.
        evals: name -> (eval features `[M, D]` = rest(prefix(trunk(x))) in eval mode, labels `[M]`).
        epochs, lr, batch: Adam (PyTorch defaults besides lr), mini-batches of `batch` images, last partial kept.
        seed: batch order and dropout masks.

    Returns:
        One dict per epoch: epoch (1-based), train_loss (mean over batches), and per eval set
        `<name>_loss` (mean per-image cross-entropy, nats) and `<name>_acc` (fraction).
    """
    gen = repro.generator(seed)
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    rest.train()
    n = len(train_feats)
    rows = []
    for epoch in range(1, epochs + 1):
        perm = torch.randperm(n, generator=gen)
        total, steps = 0.0, 0
        with torch.random.fork_rng():
            torch.manual_seed(repro.derive_seed("dropout", seed, epoch))
            for s in range(0, n, batch):
                idx = perm[s:s + batch]
                with torch.no_grad():
                    z = rest(train_feats[idx])
                loss = F.cross_entropy(head(z), train_labels[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += loss.item()
                steps += 1
        row = {"epoch": epoch, "train_loss": total / max(steps, 1)}
        for name, (feats, labels) in evals.items():
            losses, correct = evaluate_head(head, feats, labels)
            row[f"{name}_loss"] = float(losses.mean())
            row[f"{name}_acc"] = float(correct.double().mean())
        rows.append(row)
    rest.eval()
    return rows


class Prepared(nn.Module):
    """`net` behind `normalise`: takes float `[N, 3, 32, 32]` in [0, 1] (what `lib.recipes.train_model` feeds)."""

    def __init__(self, net: nn.Module, size: int):
        super().__init__()
        self.net, self.size = net, size

    def forward(self, x: Tensor) -> Tensor:
        return self.net(normalise(x, self.size))


def new_head(in_features: int, classes: int, seed: int) -> nn.Linear:
    """A fresh `nn.Linear(in_features, classes)` with PyTorch's default initialisation, drawn from `seed`."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return nn.Linear(in_features, classes)


def build_random(arch: str, width: float, seed: int, classes: int = 10) -> nn.Module:
    """`archs.torchvision_arch` with torchvision's random initialisation drawn from `seed` (the paper's
    "without weights" backbone), eval mode."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return archs.torchvision_arch(arch, width, classes).eval()
