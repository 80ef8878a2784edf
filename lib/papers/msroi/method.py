"""Prakash thesis ch. 2 as tensors in, tensors out: composite scenes, the MS-ROI map network, its map, the
CAM and spectral-residual baselines. No Config, no I/O, no caching (protocol.py does those).

Scenes ("CIFAR composites", the suite's stand-in for Caltech-256 / Kodak / MIT, inventory B.6a, B.7)
- A *layout* fixes everything about a scene in resolution-free units (fractions of the canvas side): the
  background (a random crop of one 32×32 image, bilinearly enlarged, plus smooth colour texture) and up to
  K objects (a 32×32 image each, pasted as a square with its corners cut by the superellipse
  |u|⁴ + |v|⁴ ≤ 1, at most one per canvas quadrant, so overlaps are small). `render_scenes` draws a batch of
  layouts at any side S (bicubic for the objects), so one layout gives the 64-px network input and the
  256-px image that is compressed. The pasted pixels are known exactly: the instance map (0 = background,
  k + 1 = object slot k, later slots on top) is the oracle saliency.

The MS-ROI network (§2.3, eqs 2.4–2.6; sizes are ours, the thesis gives none)
- Trunk: blocks of [conv 3×3 → BatchNorm → ReLU]², the first `pools` of them followed by a 2×2 max-pool.
- Head: conv 3×3 → C·d channels → softplus: `d` feature maps per class, f_d^c ≥ 0 (`class_maps`, `[N, C, d, h, w]`).
  Softplus, BatchNorm and a class bias initialised at −1 are ours: with a ReLU head and no BatchNorm the short
  CPU trainings drove every head feature to exactly zero within two epochs (measured; the map was then constant),
  because ~75% of the (scene, class) targets are 0 and Z can only fall by silencing features.
- Eq 2.4: Z^c = mean_xy Σ_d f_d^c (the thesis sums; the mean differs by the constant h·w). Logit a·Z^c + b_c.
- Eq 2.6: an independent sigmoid per class (binary cross-entropy on multi-hot labels), with the sign of the
  printed formula corrected (P(c) = 1 / (1 + exp(−Z^c))).
- Eq 2.5 in its practical form: the top-`top` classes by Z^c, each class map Σ_d f_d^c min-max normalised
  to [0, 1], summed with rank weights (default: the public code's 0.5, 0.25, 0.125, 0.0625, 0.075), bilinearly
  upsampled to the image and min-max normalised again (`msroi_map`).

Baselines (Fig. 2.2): CAM (Zhou et al.: same trunk, ReLU features, global average pooling, a linear layer,
softmax, trained on the largest object's class; the top-1 class's map) and spectral-residual saliency
(Hou & Zhang 2007: log-amplitude spectrum minus its 3×3 mean, inverse FFT with the original phase, squared,
Gaussian-smoothed), which stands in for the human fixations the thesis shows (none exist for composites).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

CODE_RANK_WEIGHTS = (0.5, 0.25, 0.125, 0.0625, 0.075)   # generate_map.py's net weights, top-1 first (inventory B.4)
MAX_OBJECTS = 4                                           # one object per canvas quadrant
QUADRANTS = torch.tensor([[0.0, 0.0], [0.5, 0.0], [0.0, 0.5], [0.5, 0.5]])   # (x0, y0) of each quadrant


# ---------------------------------------------------------------------------------------------
# Scenes


def make_layouts(n: int, object_labels: Tensor, n_backgrounds: int, g: torch.Generator, *,
                 objects: Sequence[int] = (1, 4), size_frac: Sequence[float] = (0.25, 0.5), jitter: float = 0.06,
                 texture: float = 0.06, force_class: int | None = None) -> dict[str, Tensor]:
    """`n` random scene layouts (CPU tensors), everything in fractions of the canvas side.

    Args:
        n: number of scenes.
        object_labels: int64 `[M]`, the class of every image of the object pool (objects are drawn from it).
        n_backgrounds: size of the background pool (any image may serve as a background).
        g: CPU generator (fixes the layouts).
        objects: (min, max) objects per scene, 0 ≤ min ≤ max ≤ 4; (0, 0) gives texture-only scenes ('pattern').
        size_frac: (min, max) object side as a fraction of the canvas side (≤ 0.5: one quadrant).
        jitter: how far (fraction of the side) an object may leave its quadrant; > 0 allows small overlaps.
        texture: amplitude of the smooth colour texture added to the background (0–1 pixel units).
        force_class: if given, slot 0 holds an object of this class and is the largest object of the scene
            (the scene's 'dominant' class, Fig. 2.5's category).

    Returns:
        obj int64 `[n, K]` (pool index, -1 when the slot is empty), active bool `[n, K]`, cx, cy, side float
        `[n, K]`, bg int64 `[n]`, crop float `[n, 3]` (x0, y0, width of the background crop, fractions of the
        background image), noise float `[n, 3, 8, 8]` (texture field, already scaled), with K = 4.
    """
    lo, hi = int(objects[0]), int(objects[1])
    if not 0 <= lo <= hi <= MAX_OBJECTS:
        raise ValueError(f"objects must satisfy 0 <= min <= max <= {MAX_OBJECTS}, got {objects}")
    if not 0 < size_frac[0] <= size_frac[1] <= 0.5:
        raise ValueError(f"size_frac must satisfy 0 < min <= max <= 0.5, got {size_frac}")
    if len(object_labels) == 0 and hi > 0:
        raise ValueError("empty object pool")
    if n_backgrounds < 1:
        raise ValueError("empty background pool")
    K = MAX_OBJECTS
    count = torch.randint(lo, hi + 1, (n,), generator=g)
    active = torch.arange(K)[None, :] < count[:, None]
    side = size_frac[0] + (size_frac[1] - size_frac[0]) * torch.rand(n, K, generator=g)
    quad = QUADRANTS[torch.argsort(torch.rand(n, K, generator=g), dim=1)]            # [n, K, 2]
    room = (0.5 - side + 2 * jitter).clamp(min=0)                                    # centre range inside a quadrant
    centre = quad + (side / 2 - jitter)[..., None] + room[..., None] * torch.rand(n, K, 2, generator=g)
    centre = torch.minimum(torch.maximum(centre, side[..., None] / 2), 1 - side[..., None] / 2)
    obj = torch.randint(0, max(len(object_labels), 1), (n, K), generator=g)
    if force_class is not None:
        members = torch.nonzero(object_labels == force_class).flatten()
        if len(members) == 0:
            raise ValueError(f"force_class={force_class}: no object of that class in the pool")
        if lo < 1:
            raise ValueError("force_class needs at least one object per scene")
        obj[:, 0] = members[torch.randint(0, len(members), (n,), generator=g)]
        largest = torch.where(active, side, torch.zeros_like(side)).max(1).values
        side[:, 0] = largest
        room0 = (0.5 - largest + 2 * jitter).clamp(min=0)
        c0 = quad[:, 0] + (largest / 2 - jitter)[:, None] + room0[:, None] * torch.rand(n, 2, generator=g)
        centre[:, 0] = torch.minimum(torch.maximum(c0, largest[:, None] / 2), 1 - largest[:, None] / 2)
    obj = torch.where(active, obj, torch.full_like(obj, -1))
    width = (4 + 4 * torch.rand(n, generator=g)) / 32                                  # a 4–8 px crop of 32
    x0y0 = torch.rand(n, 2, generator=g) * (1 - width[:, None])
    return {"obj": obj, "active": active, "cx": centre[..., 0], "cy": centre[..., 1], "side": side,
            "bg": torch.randint(0, n_backgrounds, (n,), generator=g),
            "crop": torch.cat([x0y0, width[:, None]], 1),
            "noise": texture * torch.randn(n, 3, 8, 8, generator=g)}


def take_layouts(layouts: dict[str, Tensor], idx: Tensor | slice) -> dict[str, Tensor]:
    """The layouts at positions `idx` (every field indexed along its first dimension)."""
    return {k: v[idx] for k, v in layouts.items()}


def superellipse(u: Tensor, v: Tensor) -> Tensor:
    """Inside test of an object's shape: `|u|⁴ + |v|⁴ ≤ 1` with u, v in [-1, 1] object coordinates (bool)."""
    return u.abs().pow(4) + v.abs().pow(4) <= 1.0


def render_scenes(layouts: dict[str, Tensor], objects: Tensor, backgrounds: Tensor, size: int,
                  chunk_pixels: int = 2 ** 23) -> tuple[Tensor, Tensor]:
    """Draw layouts at `size`×`size` pixels (batched; chunks of about `chunk_pixels` pixels).

    Args:
        layouts: from `make_layouts` (CPU tensors).
        objects: uint8 `[M, 3, h, w]` object pool (0–255); `layouts['obj']` indexes it.
        backgrounds: uint8 `[B, 3, h, w]` background pool; `layouts['bg']` indexes it.
        size: output side in pixels (≥ 8).

    Returns:
        images uint8 `[n, 3, size, size]` (0–255) and instances int64 `[n, size, size]` (0 = background,
        k + 1 = the visible pixels of object slot k), both on the objects' device.
    """
    if objects.dtype != torch.uint8 or backgrounds.dtype != torch.uint8:
        raise TypeError("objects and backgrounds must be uint8 images [N, 3, h, w]")
    if size < 8:
        raise ValueError(f"size must be >= 8 pixels, got {size}")
    n = len(layouts["bg"])
    dev = objects.device
    step = max(1, chunk_pixels // (size * size))
    images, instances = [], []
    t = (torch.arange(size, device=dev, dtype=torch.float32) + 0.5) / size          # pixel centres in (0, 1)
    for start in range(0, n, step):
        lay = {k: v[start:start + step].to(dev) for k, v in layouts.items()}
        b = len(lay["bg"])
        bg = backgrounds[lay["bg"]].float() / 255.0
        w, x0, y0 = lay["crop"][:, 2], lay["crop"][:, 0], lay["crop"][:, 1]
        theta = torch.zeros(b, 2, 3, device=dev)
        theta[:, 0, 0], theta[:, 1, 1] = w, w
        theta[:, 0, 2], theta[:, 1, 2] = 2 * x0 + w - 1, 2 * y0 + w - 1
        grid = F.affine_grid(theta, [b, 3, size, size], align_corners=False)
        canvas = F.grid_sample(bg, grid, mode="bilinear", padding_mode="border", align_corners=False)
        canvas = canvas + F.interpolate(lay["noise"].float(), size=(size, size), mode="bicubic", align_corners=False)
        inst = torch.zeros(b, size, size, dtype=torch.int64, device=dev)
        for k in range(lay["obj"].shape[1]):
            on = lay["active"][:, k]
            if not bool(on.any()):
                continue
            side = lay["side"][:, k]
            u = (t[None, :] - lay["cx"][:, k, None]) / side[:, None] * 2     # [b, size] in [-1, 1] inside
            v = (t[None, :] - lay["cy"][:, k, None]) / side[:, None] * 2
            grid = torch.stack(torch.broadcast_tensors(u[:, None, :], v[:, :, None]), -1)   # [b, size, size, 2]
            src = objects[lay["obj"][:, k].clamp(min=0)].float() / 255.0
            pasted = F.grid_sample(src, grid, mode="bicubic", padding_mode="border", align_corners=False)
            inside = superellipse(grid[..., 0], grid[..., 1]) & on[:, None, None]
            canvas = torch.where(inside[:, None], pasted, canvas)
            inst = torch.where(inside, torch.full_like(inst, k + 1), inst)
        images.append((canvas.clamp(0, 1) * 255).round().to(torch.uint8))
        instances.append(inst)
    return torch.cat(images), torch.cat(instances)


def multi_hot(layouts: dict[str, Tensor], object_labels: Tensor, classes: int) -> Tensor:
    """Multi-hot labels float32 `[n, classes]`: 1 for the class of every object in the scene."""
    obj, active = layouts["obj"], layouts["active"]
    lab = object_labels.cpu()[obj.clamp(min=0)]
    out = torch.zeros(len(obj), classes)
    out.scatter_add_(1, torch.where(active, lab, torch.zeros_like(lab)), active.float())   # inactive slots add 0
    return out.clamp_(max=1.0)


def largest_class(layouts: dict[str, Tensor], object_labels: Tensor) -> Tensor:
    """int64 `[n]`: the class of each scene's largest object (-1 for a scene without objects)."""
    side = torch.where(layouts["active"], layouts["side"], torch.full_like(layouts["side"], -1.0))
    slot = side.argmax(1)
    lab = object_labels.cpu()[layouts["obj"].clamp(min=0)].gather(1, slot[:, None])[:, 0]
    return torch.where(layouts["active"].any(1), lab, torch.full_like(lab, -1))


# ---------------------------------------------------------------------------------------------
# Networks


def trunk(widths: Sequence[int], pools: int, batchnorm: bool = True) -> nn.Sequential:
    """Blocks of [conv 3×3 (same padding) → (BatchNorm) → ReLU]², the first `pools` blocks followed by 2×2 max-pool.

    The thesis's stack is widths of five blocks with pools = 5 (§2.5); quick uses three blocks, two pools.
    BatchNorm is ours (the thesis does not mention it): without it the short CPU trainings of the quick profile
    drive every ReLU feature of the MS-ROI head to zero (measured: the map collapsed to a constant).
    """
    if not widths or not 0 <= pools <= len(widths):
        raise ValueError(f"need at least one block and 0 <= pools <= blocks, got widths={widths} pools={pools}")
    layers: list[nn.Module] = []
    c_in = 3

    def conv(a: int, b: int) -> list[nn.Module]:
        return [nn.Conv2d(a, b, 3, padding=1, bias=not batchnorm)] + ([nn.BatchNorm2d(b)] if batchnorm else []) + \
            [nn.ReLU(inplace=True)]

    for i, w in enumerate(widths):
        layers += conv(c_in, w) + conv(w, w)
        if i < pools:
            layers.append(nn.MaxPool2d(2))
        c_in = w
    return nn.Sequential(*layers)


def _input(x: Tensor) -> Tensor:
    """uint8 `[N, 3, H, W]` (0–255) or float in [0, 1] -> float32 centred at 0 (x − 0.5)."""
    if x.dtype == torch.uint8:
        x = x.float() / 255.0
    return x - 0.5


class MSROINet(nn.Module):
    """The multi-structure region-of-interest network: `d` non-negative feature maps per class.

    Input: uint8 `[N, 3, H, W]` or float `[N, 3, H, W]` in [0, 1]. `class_maps` -> `[N, C, d, H/2^pools, W/2^pools]`
    (≥ 0); `forward` -> logits `[N, C]` = a·Z^c + b_c with Z^c = mean_xy Σ_d f_d^c (eq 2.4).
    """

    def __init__(self, classes: int, per_class: int, widths: Sequence[int], pools: int, batchnorm: bool = True):
        super().__init__()
        self.classes, self.per_class = int(classes), int(per_class)
        self.trunk = trunk(widths, pools, batchnorm)
        self.head = nn.Conv2d(widths[-1], self.classes * self.per_class, 3, padding=1)
        with torch.no_grad():   # start with small activations (softplus(−3) ≈ 0.05): large initial Z saturates BCE
            self.head.bias.fill_(-3.0)
        self.scale = nn.Parameter(torch.ones(1))
        self.bias = nn.Parameter(torch.full((self.classes,), -1.0))   # most classes are absent from a scene

    def class_maps(self, x: Tensor) -> Tensor:
        f = F.softplus(self.head(self.trunk(_input(x))))
        return f.view(f.shape[0], self.classes, self.per_class, *f.shape[-2:])

    def scores(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(Z `[N, C]` per-class total activation (eq 2.4, spatial mean), per-class maps Σ_d f_d^c `[N, C, h, w]`)."""
        per_class = self.class_maps(x).sum(2)
        return per_class.mean((-2, -1)), per_class

    def forward(self, x: Tensor) -> Tensor:
        z, _ = self.scores(x)
        return self.scale * z + self.bias


class CAMNet(nn.Module):
    """CAM baseline (Zhou et al. 2016): the same trunk, conv 3×3 → `features` ReLU maps, global average
    pooling, a linear layer to C logits (softmax cross-entropy). Input as `MSROINet`."""

    def __init__(self, classes: int, features: int, widths: Sequence[int], pools: int, batchnorm: bool = True):
        super().__init__()
        self.trunk = trunk(widths, pools, batchnorm)
        self.features = nn.Conv2d(widths[-1], features, 3, padding=1)
        self.fc = nn.Linear(features, classes)

    def feature_maps(self, x: Tensor) -> Tensor:
        """ReLU feature maps `[N, features, h, w]`."""
        return F.relu(self.features(self.trunk(_input(x))))

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.feature_maps(x).mean((-2, -1)))


def build_msroi(classes: int, per_class: int, widths: Sequence[int], pools: int, seed: int) -> MSROINet:
    """A freshly initialised `MSROINet` (PyTorch's default init under `seed`)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MSROINet(classes, per_class, widths, pools)


def build_cam(classes: int, features: int, widths: Sequence[int], pools: int, seed: int) -> CAMNet:
    """A freshly initialised `CAMNet` under `seed`."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return CAMNet(classes, features, widths, pools)


def train(net: nn.Module, images: Tensor, targets: Tensor, loss: str, *, epochs: int, batch: int, lr: float,
          seed: int, flip: bool = True, log: Callable[[str], None] | None = None) -> list[dict]:
    """Adam training on in-memory uint8 images (random horizontal flips; no DataLoader).

    Args:
        net: `MSROINet` (loss 'bce': targets float `[N, C]` multi-hot) or `CAMNet` (loss 'ce': int64 `[N]`).
        images: uint8 `[N, 3, H, W]` on the training device.
        epochs, batch, lr: passes over the images, images per step, Adam learning rate.
        seed: batch order and flips.

    Returns:
        one dict per epoch: epoch, loss (mean training loss), seconds.
    """
    if loss not in ("bce", "ce"):
        raise ValueError(f"loss must be 'bce' or 'ce', got {loss!r}")
    import time

    dev = images.device
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    targets = targets.to(dev)
    history = []
    net.train()
    for epoch in range(1, epochs + 1):
        start, total, seen = time.perf_counter(), 0.0, 0
        order = torch.randperm(len(images), generator=g)
        for i in range(0, len(order), batch):
            idx = order[i:i + batch].to(dev)
            x = images[idx].float() / 255.0
            if flip:
                mirror = (torch.rand(len(idx), generator=g) < 0.5).to(dev)
                x = torch.where(mirror[:, None, None, None], x.flip(-1), x)
            out = net(x)
            y = targets[idx]
            value = F.binary_cross_entropy_with_logits(out, y) if loss == "bce" else F.cross_entropy(out, y)
            opt.zero_grad(set_to_none=True)
            value.backward()
            opt.step()
            total += float(value.detach()) * len(idx)
            seen += len(idx)
        history.append({"epoch": epoch, "loss": total / max(seen, 1), "seconds": time.perf_counter() - start})
        if log:
            log(f"epoch {epoch}/{epochs}: loss {history[-1]['loss']:.4f} ({history[-1]['seconds']:.1f} s)")
    net.eval()
    return history


# ---------------------------------------------------------------------------------------------
# Maps


def minmax(maps: Tensor) -> Tensor:
    """Min-max normalise each map of `[..., h, w]` to [0, 1]; a constant map becomes 0."""
    flat = maps.flatten(-2)
    lo, hi = flat.min(-1, keepdim=True).values, flat.max(-1, keepdim=True).values
    span = hi - lo
    out = torch.where(span > 0, (flat - lo) / span.clamp(min=1e-12), torch.zeros_like(flat))
    return out.view_as(maps)


def _to_size(maps: Tensor, size: tuple[int, int]) -> Tensor:
    """`[N, h, w]` -> `[N, H, W]` bilinear, then min-max to [0, 1]."""
    if tuple(maps.shape[-2:]) != tuple(size):
        maps = F.interpolate(maps[:, None], size=size, mode="bilinear", align_corners=False)[:, 0]
    return minmax(maps)


def rank_weighted(per_class: Tensor, z: Tensor, weights: Sequence[float]) -> tuple[Tensor, Tensor]:
    """Eq 2.5 in practice: combine the top-k class maps by rank.

    Args:
        per_class: `[N, C, h, w]` per-class maps Σ_d f_d^c (≥ 0).
        z: `[N, C]` per-class totals Z^c (eq 2.4); the top k = len(weights) classes by Z are used.
        weights: rank weights, top-1 first (k ≤ C).

    Returns:
        (map float32 `[N, h, w]` = Σ_i weights[i] · minmax(map of the i-th class), not yet normalised;
        top classes int64 `[N, k]`, best first).
    """
    k = len(weights)
    if not 1 <= k <= per_class.shape[1]:
        raise ValueError(f"need 1 <= len(weights) <= classes ({per_class.shape[1]}), got {k}")
    top = z.argsort(dim=1, descending=True)[:, :k]
    chosen = per_class.gather(1, top[:, :, None, None].expand(-1, -1, *per_class.shape[-2:]))
    w = torch.as_tensor(weights, dtype=chosen.dtype, device=chosen.device)
    return (w[None, :, None, None] * minmax(chosen)).sum(1), top


def resize_for_map(images: Tensor, side: int) -> Tensor:
    """uint8 `[N, 3, H, W]` -> float32 `[N, 3, side', side'']` in [0, 1], the longer side `side` (aspect kept,
    antialiased bilinear): the map network's input. Square images give `side`×`side`."""
    h, w = images.shape[-2:]
    scale = side / max(h, w)
    size = (max(8, round(h * scale)), max(8, round(w * scale)))
    x = images.float() / 255.0
    if size != (h, w):
        x = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
    return x


@torch.no_grad()
def msroi_map(net: MSROINet, images: Tensor, side: int, weights: Sequence[float] = CODE_RANK_WEIGHTS,
              batch: int = 64) -> tuple[Tensor, Tensor]:
    """The MS-ROI saliency map M̂ of each image, at the image's resolution.

    Args:
        net: trained `MSROINet` (eval mode).
        images: uint8 `[N, 3, H, W]` (0–255).
        side: the network's input side (the longer image side is resized to it; the map thesis used 224).
        weights: rank weights of the top classes (`rank_weighted`).

    Returns:
        (maps float32 `[N, H, W]` in [0, 1], top classes int64 `[N, k]`).
    """
    maps, tops = [], []
    for i in range(0, len(images), batch):
        z, per_class = net.scores(resize_for_map(images[i:i + batch], side))
        m, top = rank_weighted(per_class, z, weights)
        maps.append(_to_size(m, tuple(images.shape[-2:])))
        tops.append(top)
    return torch.cat(maps), torch.cat(tops)


@torch.no_grad()
def cam_map(net: CAMNet, images: Tensor, side: int, batch: int = 64) -> tuple[Tensor, Tensor]:
    """Top-1 class activation map (CAM) of each image: Σ_d w_d^c f_d for the predicted class c, ReLU,
    upsampled and min-max normalised. Returns (maps float32 `[N, H, W]` in [0, 1], predicted class `[N]`)."""
    maps, preds = [], []
    for i in range(0, len(images), batch):
        f = net.feature_maps(resize_for_map(images[i:i + batch], side))
        c = net.fc(f.mean((-2, -1))).argmax(1)
        m = torch.einsum("nd,ndhw->nhw", net.fc.weight[c], f).clamp(min=0)
        maps.append(_to_size(m, tuple(images.shape[-2:])))
        preds.append(c)
    return torch.cat(maps), torch.cat(preds)


def gaussian_blur(x: Tensor, sigma: float) -> Tensor:
    """Separable Gaussian blur of `[N, H, W]` (radius ⌈3σ⌉, reflect padding); sigma in pixels."""
    if sigma <= 0:
        return x
    r = max(1, math.ceil(3 * sigma))
    k = torch.exp(-0.5 * (torch.arange(-r, r + 1, dtype=x.dtype, device=x.device) / sigma) ** 2)
    k = k / k.sum()
    y = F.pad(x[:, None], (r, r, 0, 0), mode="reflect")
    y = F.conv2d(y, k.view(1, 1, 1, -1))
    y = F.pad(y, (0, 0, r, r), mode="reflect")
    return F.conv2d(y, k.view(1, 1, -1, 1))[:, 0]


def spectral_residual(images: Tensor, side: int = 64, sigma: float = 2.5) -> Tensor:
    """Spectral-residual saliency (Hou & Zhang, CVPR 2007), batched with `torch.fft`.

    Args:
        images: uint8 `[N, 3, H, W]` (0–255) or float in [0, 1].
        side: the grey image is resized (antialiased bilinear) to `side`×`side` first (the method's 64).
        sigma: Gaussian smoothing of the squared result, pixels at `side`.

    Returns:
        float32 `[N, H, W]` in [0, 1].
    """
    x = images.float() / 255.0 if images.dtype == torch.uint8 else images.float()
    grey = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2])[:, None]
    grey = F.interpolate(grey, size=(side, side), mode="bilinear", antialias=True, align_corners=False)[:, 0]
    spec = torch.fft.fft2(grey)
    log_amp = torch.log(spec.abs().clamp(min=1e-9))
    mean = F.avg_pool2d(F.pad(log_amp[:, None], (1, 1, 1, 1), mode="replicate"), 3, stride=1)[:, 0]
    residual = torch.exp(log_amp - mean) * torch.exp(1j * torch.angle(spec))
    sal = torch.fft.ifft2(residual).abs() ** 2
    sal = gaussian_blur(sal, sigma)
    return _to_size(sal, tuple(images.shape[-2:]))


# ---------------------------------------------------------------------------------------------
# How well a map covers the objects


def object_recall(maps: Tensor, instances: Tensor, threshold: float = 0.5) -> tuple[Tensor, Tensor]:
    """Per object slot: the mean map value over its visible pixels, and whether it is ≥ `threshold`.

    Args:
        maps: float `[N, H, W]` in [0, 1].
        instances: int64 `[N, H, W]` (0 = background, k + 1 = slot k).

    Returns:
        (mean float32 `[N, K]`, NaN for a slot without visible pixels; hit bool `[N, K]`, False there), K = 4.
    """
    onehot = F.one_hot(instances, MAX_OBJECTS + 1)[..., 1:].float()                   # [N, H, W, K]
    area = onehot.sum((1, 2))
    mean = torch.einsum("nhw,nhwk->nk", maps.float(), onehot) / area.clamp(min=1)
    mean = torch.where(area > 0, mean, torch.full_like(mean, float("nan")))
    return mean, (mean >= threshold) & (area > 0)


def soft_oracle(instances: Tensor, decay: float) -> Tensor:
    """The oracle saliency given to the encoders: 1 on the pasted objects, exp(−d / decay) at distance d (pixels)
    from the nearest object pixel elsewhere; all zeros for a scene without objects.

    A hard 0/1 mask would make the public code's median rule degenerate (with under half the pixels salient its
    median is 0 and every pixel lands in the top class); the decay keeps the ranking of the mask and breaks the ties.

    Args:
        instances: int or uint8 `[N, H, W]` (0 = background).
        decay: length scale in pixels (> 0).

    Returns:
        float32 `[N, H, W]` in [0, 1] (CPU).
    """
    from scipy.ndimage import distance_transform_edt

    if decay <= 0:
        raise ValueError(f"decay must be > 0 pixels, got {decay}")
    background = (instances.cpu() == 0).numpy()
    # one call for the batch: a huge spacing along the batch axis keeps every image's distances its own
    d = distance_transform_edt(background, sampling=[1e7, 1.0, 1.0])
    return torch.from_numpy(np.exp(-d / decay)).float()
