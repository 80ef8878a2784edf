"""Training recipes for CIFAR-sized classifiers: `Recipe` (optimiser, schedule, augmentation) and `train_model`.

Used by the model zoo (`lib.zoo`) and by the papers that train their own networks this way
(quality_resilient's clean models, cifar10c_pretrained's proxy backbones). It lives apart from `lib.zoo`
so that the zoo's entries and cards can change without touching what those papers' cached results
depend on.

The loop (`train_model`): uint8 images stay in memory on the compute device; each step draws a batch,
applies the standard CIFAR augmentation (4-pixel zero-padded random crop, horizontal flip) as one
batched gather, converts to float in [0, 1], and runs channels-last. SGD with Nesterov momentum and a
one-cycle schedule (linear warm-up, cosine decay) with label smoothing, or the paper-000 protocol (Adam,
validation early stopping), depending on the recipe. On glibc CPUs it first asks the allocator to keep
freed memory (`keep_freed_memory`): PyTorch's CPU tensors come straight from malloc, and with glibc's
defaults every step's multi-megabyte activations are mapped, page-faulted and returned to the system
again. `python -m lib.bench --only zoo_train` measures each part against a plain eager loop.
`compile=True` (the zoo's setting) adds `torch.compile`.
"""
from __future__ import annotations

import ctypes
import math
import sys
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lib import repro
from lib.data import ImageSet


@dataclass(frozen=True)
class Recipe:
    """How a network is trained. Units: lr per step (peak for one-cycle), weight decay per step (L2)."""

    optimizer: str = "sgd"          # "sgd" (Nesterov, momentum 0.9) or "adam"
    schedule: str = "onecycle"      # "onecycle" (linear warm-up over `warmup` of the steps, cosine to 0)
                                    # or "early_stop" (constant lr, keep best validation loss)
    epochs: int = 30                # passes over the training images (upper bound for early_stop)
    batch_size: int = 128
    lr: float = 0.1
    warmup: float = 0.15            # share of the steps spent warming up (one-cycle)
    momentum: float = 0.9
    weight_decay: float = 5e-4      # not applied to BatchNorm parameters and biases
    label_smoothing: float = 0.1
    augment: bool = True            # random crop (pad 4, zeros) + horizontal flip
    patience: int = 15              # early_stop: epochs without validation-loss improvement


_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3   # glibc mallopt parameters (malloc.h)
_allocator_tuned = False


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to reuse freed blocks instead of returning them to the system (once per process).

    Sets the mmap threshold to its maximum (32 MiB: smaller blocks come from the heap, not from fresh
    mappings), the trim threshold to 1 GiB and the top pad to 256 MiB. A training step allocates and frees
    the same activation-sized blocks (a few MiB each) every time; with the defaults they are mapped and
    unmapped, so every step page-faults them in again. Numerics are unaffected. Returns False (and does
    nothing) where there is no glibc.
    """
    global _allocator_tuned
    if _allocator_tuned:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = all(libc.mallopt(p, v) == 1 for p, v in ((_M_MMAP_THRESHOLD, 32 << 20), (_M_TRIM_THRESHOLD, 1 << 30),
                                                        (_M_TOP_PAD, 256 << 20)))
    except (OSError, AttributeError):
        return False
    _allocator_tuned = ok
    return ok



def augment(images: Tensor, generator: torch.Generator, pad: int = 4) -> Tensor:
    """Standard CIFAR augmentation as one batched gather.

    Args:
        images: `[N, C, H, W]` uint8 (0–255).
        generator: draws the offsets (uniform in [0, 2·pad]) and flips (probability ½), on images' device.

    Returns:
        `[N, C, H, W]` uint8: each image cropped from its zero-padded copy at its own offset, then
        mirrored left-right with probability ½.
    """
    n, c, h, w = images.shape
    dev = images.device
    padded = F.pad(images, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator, device=dev)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator, device=dev)
    flip = torch.rand(n, generator=generator, device=dev) < 0.5
    cols = torch.arange(w, device=dev)
    cols = torch.where(flip[:, None], cols.flip(0), cols)[:, None, None, :] + dx[:, None, None, None]
    rows = (torch.arange(h, device=dev)[None, :] + dy[:, None])[:, None, :, None]
    return padded[torch.arange(n, device=dev)[:, None, None, None], torch.arange(c, device=dev)[None, :, None, None],
                  rows, cols]


def to_float(x: Tensor) -> Tensor:
    """`[N, C, H, W]` uint8 (0–255) -> float32 in [0, 1], channels-last memory layout."""
    return x.float().div_(255.0).contiguous(memory_format=torch.channels_last)


@torch.no_grad()
def evaluate(model: nn.Module, data: ImageSet, batch_size: int = 1000) -> tuple[float, float]:
    """(mean cross-entropy, accuracy as a fraction) of `model` in eval mode on uint8 `data`."""
    model.eval()
    loss, correct = 0.0, 0
    for s in range(0, len(data), batch_size):
        logits = model(to_float(data.images[s:s + batch_size]))
        y = data.labels[s:s + batch_size]
        loss += F.cross_entropy(logits, y, reduction="sum").item()
        correct += (logits.argmax(1) == y).sum().item()
    return loss / len(data), correct / len(data)


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Optimiser groups: weight decay on conv/linear weights (ndim > 1), none on BatchNorm and biases."""
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    rest = [p for n, p in model.named_parameters() if p.ndim <= 1]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]


def onecycle_lr(step: int, total: int, peak: float, warmup: float) -> float:
    """Learning rate at `step` of `total`: linear 0→peak over `warmup`·total steps, then cosine to 0."""
    up = max(1, round(warmup * total))
    if step < up:
        return peak * (step + 1) / up
    return 0.5 * peak * (1 + math.cos(math.pi * (step - up) / max(1, total - up)))


@dataclass
class Curve:
    """Per epoch: mean training loss, validation loss and accuracy (fraction), learning rate at the end."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)


def train_model(model: nn.Module, train: ImageSet, val: ImageSet, recipe: Recipe, seed: int,
                log=print, compile: bool = False) -> tuple[Curve, int]:
    """Train `model` in place by `recipe`; returns the per-epoch curve and the epoch kept (1-based).

    One-cycle keeps the last weights; early_stop keeps those of the lowest validation loss.
    `compile` runs the training forward and backward through `torch.compile` (inductor fuses the
    elementwise passes around the convolutions; 1.01–1.09x for ResNet-20 on a 2-core CPU in
    `lib.bench`, after ~20 s of compiling, cached on disk afterwards). Same arithmetic up to float
    rounding; the zoo uses it, the papers' own training does not.
    """
    dev = next(model.parameters()).device
    if dev.type == "cpu":
        keep_freed_memory()
    repro.seed_everything(seed)
    gen = repro.generator(seed, dev)
    model.to(memory_format=torch.channels_last)
    forward = torch.compile(model) if compile else model
    groups = param_groups(model, recipe.weight_decay)
    if recipe.optimizer == "sgd":
        opt = torch.optim.SGD(groups, lr=recipe.lr, momentum=recipe.momentum, nesterov=True)
    elif recipe.optimizer == "adam":
        opt = torch.optim.Adam(groups, lr=recipe.lr)
    else:
        raise ValueError(f"unknown optimizer {recipe.optimizer!r}; valid: sgd, adam")
    n = len(train)
    steps_per_epoch = n // recipe.batch_size
    total = steps_per_epoch * recipe.epochs
    curve, best, best_state, bad, kept, step = Curve(), math.inf, None, 0, recipe.epochs, 0
    t0 = time.perf_counter()
    for epoch in range(1, recipe.epochs + 1):
        model.train()
        perm = torch.randperm(n, generator=gen, device=dev)
        running = 0.0
        for b in range(steps_per_epoch):
            idx = perm[b * recipe.batch_size:(b + 1) * recipe.batch_size]
            x = train.images[idx]
            if recipe.augment:
                x = augment(x, gen)
            if recipe.schedule == "onecycle":
                for g in opt.param_groups:
                    g["lr"] = onecycle_lr(step, total, recipe.lr, recipe.warmup)
            loss = F.cross_entropy(forward(to_float(x)), train.labels[idx], label_smoothing=recipe.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            running += loss.item()
            step += 1
        val_loss, val_acc = evaluate(model, val)
        curve.epoch.append(epoch)
        curve.train_loss.append(running / steps_per_epoch)
        curve.val_loss.append(val_loss)
        curve.val_acc.append(val_acc)
        curve.lr.append(opt.param_groups[0]["lr"])
        rate = step * recipe.batch_size / (time.perf_counter() - t0)
        log(f"epoch {epoch}/{recipe.epochs}: train loss {curve.train_loss[-1]:.4f}, val loss {val_loss:.4f}, "
            f"val acc {100 * val_acc:.2f}%, {rate:.0f} images/s")
        if recipe.schedule == "early_stop":
            if val_loss < best:
                best, bad, kept = val_loss, 0, epoch
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                bad += 1
                if bad >= recipe.patience:
                    log(f"early stop: no validation-loss improvement for {recipe.patience} epochs; "
                        f"keeping epoch {kept}")
                    break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return curve, kept
