"""The minimal adversarial change of Bartschat et al. §3 (method unspecified there): two readings.

Primary — the smallest gradient-sign step (`minimal_sign_step`): per image, the direction is
d = sign(∇x CE(f(x), y)) at the clean image (foolbox-1 `FGSM`-style); the step size ε (on the [−1, 1]
scale) is the smallest for which argmax f(clip(x + ε·d, −1, 1)) ≠ y. Found by a geometric line search over
`grid` sizes from `eps_min` to `eps_max`, then `bisect` bisection steps between the last size that did not
flip and the first that did, batched over all images at once. The reported change is the mean absolute
per-pixel change mean|x' − x| × 127.5, i.e. on the 0–255 scale ("on average every pixel … has to be
modified by the given delta"); without clipping and zero gradients it equals 127.5·ε.

Second reading — DeepFool (L2, `lib.attacks`, overshoot 0.02, 50 iterations, 10 classes) on the same
images through a [0, 1] wrapper of the network; the same mean absolute change on the 0–255 scale.

Images the model already misclassifies get change 0 and `flipped_at_zero=True`; the protocol reports both
treatments (excluded, or counted as 0). Images not flipped even at `eps_max` get NaN (`found=False`).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lib import attacks


class ZeroOne(nn.Module):
    """Wraps a [−1, 1]-input network so it takes `[N, 3, H, W]` floats in [0, 1] (`lib.attacks`' convention)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x * 2.0 - 1.0)


def _wrong(net: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    with torch.no_grad():
        return net(x).argmax(1) != y


def minimal_sign_step(net: nn.Module, x: Tensor, y: Tensor, eps_min: float = 1e-4, eps_max: float = 2.0,
                      grid: int = 16, bisect: int = 10) -> dict[str, Tensor]:
    """Smallest gradient-sign step that flips each image's label (module docstring).

    Args:
        net: maps `[N, 3, H, W]` float on the [−1, 1] scale to logits; run in eval mode, not changed.
        x: `[N, 3, H, W]` float32 on the [−1, 1] scale; y: int64 `[N]` true labels.
        eps_min, eps_max: the line-search range of ε on the [−1, 1] scale (2 = the whole range).
        grid: geometric line-search sizes; bisect: bisection steps after it (relative precision
            (eps_max/eps_min)^(1/(grid−1)) / 2^bisect).

    Returns:
        eps float64 `[N]` (ε, [−1, 1] scale; 0 for already-misclassified, NaN if not found),
        change float64 `[N]` (mean |x' − x| × 127.5, 0–255 scale; same 0 / NaN rules),
        misclassified bool `[N]` (wrong at ε = 0), found bool `[N]` (flipped at some ε ≤ eps_max).
    """
    if x.ndim != 4 or len(x) != len(y):
        raise ValueError(f"x must be [N, C, H, W] with one label per image, got {tuple(x.shape)} and {len(y)} labels")
    if not 0 < eps_min < eps_max or grid < 2 or bisect < 0:
        raise ValueError(f"need 0 < eps_min < eps_max, grid ≥ 2, bisect ≥ 0; got {eps_min}, {eps_max}, {grid}, {bisect}")
    was = net.training
    net.eval()
    flags = [p.requires_grad for p in net.parameters()]
    for p in net.parameters():
        p.requires_grad_(False)
    try:
        xg = x.detach().clone().requires_grad_(True)
        with torch.enable_grad():
            loss = F.cross_entropy(net(xg), y, reduction="sum")
            d = torch.autograd.grad(loss, xg)[0].sign()
        xs = x.detach()

        def flips(eps: Tensor) -> Tensor:
            return _wrong(net, (xs + eps.view(-1, 1, 1, 1).to(xs.dtype) * d).clamp(-1.0, 1.0), y)

        n = len(x)
        mis = _wrong(net, xs, y)
        sizes = torch.logspace(torch.log10(torch.tensor(eps_min)), torch.log10(torch.tensor(eps_max)), grid,
                               dtype=torch.float64)
        hi = torch.full((n,), float("nan"), dtype=torch.float64, device=x.device)
        lo = torch.zeros(n, dtype=torch.float64, device=x.device)
        for s in sizes:
            todo = torch.isnan(hi) & ~mis
            if not todo.any():
                break
            hit = flips(torch.full((n,), float(s), dtype=torch.float64, device=x.device)) & todo
            hi[hit] = float(s)
            lo[todo & ~hit] = float(s)
        found = ~torch.isnan(hi) & ~mis
        for _ in range(bisect):
            if not found.any():
                break
            mid = torch.where(found, (lo + hi) / 2, torch.zeros_like(lo))
            hit = flips(mid) & found
            hi = torch.where(hit, mid, hi)
            lo = torch.where(found & ~hit, mid, lo)
        eps = torch.where(found, hi, torch.full_like(hi, float("nan")))
        eps = torch.where(mis, torch.zeros_like(eps), eps)
        adv = (xs + torch.nan_to_num(eps).view(-1, 1, 1, 1).to(xs.dtype) * d).clamp(-1.0, 1.0)
        change = (adv - xs).abs().flatten(1).double().mean(1) * 127.5
        change = torch.where(found | mis, change, torch.full_like(change, float("nan")))
    finally:
        for p, f in zip(net.parameters(), flags):
            p.requires_grad_(f)
        net.train(was)
    return {"eps": eps.cpu(), "change": change.cpu(), "misclassified": mis.cpu(), "found": (found | mis).cpu()}


def deepfool_change(net: nn.Module, x: Tensor, y: Tensor) -> dict[str, Tensor]:
    """DeepFool (L2, `lib.attacks` defaults) on `x` (`[N, 3, H, W]`, [−1, 1] scale), labels `y`.

    Returns change float64 `[N]` (mean |x' − x| on the 0–255 scale; 0 for already-misclassified images),
    l2 float64 `[N]` (‖x' − x‖₂ on the [0, 1] scale), success bool `[N]`.
    """
    x01 = ((x.detach() + 1.0) / 2.0).clamp(0.0, 1.0)
    res = attacks.attack(ZeroOne(net), x01, y, "deepfool")
    diff = (res.images.double() - x01.double()).flatten(1)
    return {"change": (diff.abs().mean(1) * 255.0).cpu(), "l2": diff.norm(dim=1).cpu(), "success": res.success.cpu()}
