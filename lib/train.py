"""Training: Adam with validation-based early stopping, filter-level freezing, cached baselines.

Data stays on the compute device as uint8 tensors; each step indexes a batch and converts it to
float in [0, 1] (no DataLoader, no worker processes, no per-image Python work).

Filter-level freezing (`FilterSelection`): within a conv block only the chosen output filters
change: their conv weights `[f, :, :, :]`, conv bias `[f]` and BatchNorm weight/bias `[f]`.
Everything else is frozen. Three mechanisms make frozen values bit-identical whatever the
optimiser does: fully frozen tensors get `requires_grad=False` and stay out of the optimiser;
gradients of frozen rows are zeroed before each step; after each step frozen rows are copied back
from a snapshot (this also defeats weight decay and Adam moments). During fine-tuning BatchNorm
layers run on their stored statistics (eval mode, the usual transfer-learning practice), so
running statistics never change; dropout stays active.
"""
from __future__ import annotations

import copy
import sys
import time
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lib import cache, models, repro
from lib import data as data_module
from lib.data import Dataset, ImageSet

FilterSelection = dict[str, list[int]]   # conv block name -> output-filter indices to train


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings. Defaults: Adam as in Kingma & Ba (lr 1e-3, betas 0.9/0.999, eps 1e-8)."""

    max_epochs: int = 100        # upper bound on passes over the training set
    patience: int = 15           # stop after this many evaluations without validation-loss improvement
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    eval_every: int = 0          # steps between validation checks; 0 = once per epoch
    max_steps: int = 0           # hard cap on optimiser steps; 0 = no cap
    keep_best: bool = True       # end with the weights of the best validation loss (step 0 included)


@dataclass
class History:
    """What happened during `fit`: per evaluation (step 0 = before training, train loss None), the step,
    train loss and validation loss/accuracy; the step of the best validation loss; wall-clock seconds."""

    steps: list[int] = field(default_factory=list)
    train_loss: list[float | None] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    best_step: int = 0
    seconds: float = 0.0


def device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def evaluate(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int = 1000) -> tuple[float, float]:
    """Mean cross-entropy and accuracy (fraction in [0, 1]) in eval mode.

    Args:
        images: `[N, 3, H, W]` uint8 (0–255) or float in [0, 1], on the model's device.
        labels: `[N]` int64.
    """
    was_training = model.training
    model.eval()
    loss, correct = 0.0, 0
    for start in range(0, len(labels), batch_size):
        x = _as_float(images[start:start + batch_size])
        logits = model(x)
        y = labels[start:start + batch_size]
        loss += F.cross_entropy(logits, y, reduction="sum").item()
        correct += (logits.argmax(1) == y).sum().item()
    model.train(was_training)
    return loss / len(labels), correct / len(labels)


def accuracy(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int = 1000) -> float:
    """Top-1 accuracy (fraction in [0, 1]); images uint8 or [0, 1] float, on the model's device."""
    return evaluate(model, images, labels, batch_size)[1]


def _as_float(x: Tensor) -> Tensor:
    x = x.float().div_(255.0) if x.dtype == torch.uint8 else x
    return x.contiguous(memory_format=torch.channels_last)


def _masks(model: nn.Module, selection: FilterSelection | None) -> dict[str, Tensor | None]:
    """Per parameter name: None = fully trainable, bool mask = trainable entries (False rows frozen)."""
    if selection is None:
        return {name: None for name, _ in model.named_parameters()}
    blocks = models.conv_blocks(model)
    unknown = set(selection) - set(blocks)
    if unknown:
        raise ValueError(f"unknown conv blocks {sorted(unknown)}; valid: {list(blocks)}")
    masks: dict[str, Tensor | None] = {}
    for name, p in model.named_parameters():
        block, _, rest = name.partition(".")
        mask = torch.zeros_like(p, dtype=torch.bool)
        if block in selection and rest.split(".")[0] in ("conv", "bn"):
            mask[torch.as_tensor(selection[block], dtype=torch.long, device=p.device)] = True
        masks[name] = mask
    return masks


def fit(model: nn.Module, train: ImageSet, val: ImageSet, config: TrainConfig, seed: int,
        selection: FilterSelection | None = None, progress_desc: str | None = None) -> History:
    """Train `model` in place with Adam and early stopping on validation loss; keep the best weights.

    Args:
        model: on the compute device; `train`/`val` images (uint8) on the same device.
        config: optimisation settings.
        seed: fixes initial-batch order (and dropout).
        selection: None trains everything (baseline training, BatchNorm in train mode). A
            `FilterSelection` fine-tunes only those filters (module docstring).
        progress_desc: label of the progress bar; None for no bar.

    Returns:
        The `History`; the model holds the weights of the best validation loss, which may be the
        unchanged model of step 0 (or the last weights, with `keep_best=False`).
    """
    device = device_of(model)
    repro.seed_everything(seed)
    gen = repro.generator(seed, device)
    masks = _masks(model, selection)
    params = {n: p for n, p in model.named_parameters()}
    for name, p in params.items():
        p.requires_grad_(masks[name] is None or bool(masks[name].any()))
    partial = {n: m for n, m in masks.items() if m is not None and m.any()}
    snapshot = {n: params[n].detach().clone() for n in partial}
    trainable = [p for p in params.values() if p.requires_grad]
    opt = torch.optim.Adam(trainable, lr=config.lr, weight_decay=config.weight_decay)
    model.to(memory_format=torch.channels_last)

    def set_mode() -> None:
        model.train()
        if selection is not None:  # BatchNorm uses stored statistics while fine-tuning
            for m in model.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()

    n = len(train)
    steps_per_epoch = max(1, n // config.batch_size)
    eval_every = config.eval_every or steps_per_epoch
    total = steps_per_epoch * config.max_epochs
    if config.max_steps:
        total = min(total, config.max_steps)
    hist, bad = History(), 0
    running, count, step, t0 = 0.0, 0, 0, time.perf_counter()
    bar = None
    if progress_desc:
        from lib.progress import progress
        bar = progress(range(total), progress_desc, total=total)
    best_loss, acc0 = evaluate(model, val.images, val.labels)   # step 0: the unchanged model can win
    best_state = copy.deepcopy(model.state_dict())
    hist.steps.append(0)
    hist.train_loss.append(None)
    hist.val_loss.append(best_loss)
    hist.val_acc.append(acc0)
    set_mode()
    while step < total:
        perm = torch.randperm(n, generator=gen, device=device)
        for start in range(0, max(n - config.batch_size + 1, 1), config.batch_size):
            idx = perm[start:start + config.batch_size]
            x, y = _as_float(train.images[idx]), train.labels[idx]
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            for name, mask in partial.items():
                params[name].grad.mul_(mask)
            opt.step()
            with torch.no_grad():
                for name, mask in partial.items():
                    params[name].copy_(torch.where(mask, params[name], snapshot[name]))
            running += loss.item() * len(idx)
            count += len(idx)
            step += 1
            if bar is not None:
                next(bar, None)
            if step % eval_every == 0 or step == total:
                val_loss, val_acc = evaluate(model, val.images, val.labels)
                set_mode()
                hist.steps.append(step)
                hist.train_loss.append(running / max(count, 1))
                hist.val_loss.append(val_loss)
                hist.val_acc.append(val_acc)
                running, count = 0.0, 0
                if val_loss < best_loss:
                    best_loss, best_state, bad, hist.best_step = val_loss, copy.deepcopy(model.state_dict()), 0, step
                else:
                    bad += 1
                if bad >= config.patience:
                    total = step
            if step >= total:
                break
    hist.seconds = time.perf_counter() - t0
    if config.keep_best:
        model.load_state_dict(best_state)
    for p in params.values():
        p.requires_grad_(True)
    model.eval()
    return hist


def baseline(arch: str, data: Dataset, config: TrainConfig, seed: int, *, width: int | None = None,
             train_size: int = 0, device: torch.device | str = "cpu", use_cache: bool = True
             ) -> tuple[nn.Module, dict]:
    """A network trained on clean images, cached by a hash of everything that determines it.

    Args:
        arch: `lib.models.Arch` name.
        data: the dataset (its fingerprint and split sizes enter the cache key).
        config: optimisation settings.
        seed: initialisation and batch order.
        width: All-Conv width (None = the architecture's default).
        train_size: use a stratified subset of this many training images (0 = all).
        device: compute device.
        use_cache: False retrains (and stores nothing).

    Returns:
        (model in eval mode on `device`, info) where info holds the history, test accuracy and spec.
    """
    spec = {"arch": str(models.Arch(arch).value), "width": width, "classes": data.num_classes,
            "data": data.fingerprint, "data_spec": data.spec, "sizes": [len(data.train), len(data.val)],
            "train_size": train_size, "config": asdict(config), "seed": seed, "device": torch.device(device).type}

    def compute() -> dict:
        from lib.data import stratified_subset

        repro.seed_everything(seed)
        model = models.build(arch, data.num_classes, width).to(device)
        train = stratified_subset(data.train, train_size, seed) if train_size else data.train
        hist = fit(model, train, data.val, config, seed, progress_desc=f"baseline {arch}")
        test_acc = accuracy(model, data.test.images, data.test.labels)
        return {"state_dict": {k: v.cpu() for k, v in model.state_dict().items()},
                "history": asdict(hist), "test_acc": test_acc, "train_images": len(train)}

    stored = cache.cached("baseline", spec, compute, enabled=use_cache,
                          code=[data_module, models, sys.modules[__name__], repro])
    model = models.build(arch, data.num_classes, width)
    model.load_state_dict(stored["state_dict"])
    model.to(device).eval()
    info = {k: stored[k] for k in ("history", "test_acc", "train_images")} | {"spec": spec}
    return model, info


def reference_or_baseline(arch: str, data: Dataset, config: TrainConfig, seed: int, *, width: int | None = None,
                          train_size: int = 0, device: torch.device | str = "cpu", use_cache: bool = True,
                          use_zoo: bool = True) -> tuple[nn.Module, dict]:
    """The zoo's reference checkpoint for (`arch`, `width`) when one was trained on `data` (`lib.zoo`),
    else `baseline(...)` trained (and cached) here.

    Returns:
        (model in eval mode on `device`, info) with `source` ("zoo:<name>" or "trained here: <why>"),
        `test_acc` (fraction, measured now on `data.test`), `history` and `spec` as `baseline`'s, plus
        the zoo card under `card` when the zoo served the model.
    """
    reason = "zoo not requested"
    if use_zoo and not train_size:
        from lib import zoo

        model, card = zoo.lookup(arch, width, data, device)
        if model is not None:
            for p in model.parameters():
                p.requires_grad_(True)
            return model, {"source": f"zoo:{card['name']}", "card": card,
                           "test_acc": accuracy(model, data.test.images, data.test.labels),
                           "history": {"seconds": card["train_seconds"], "curve": card["curve"]},
                           "spec": {"zoo": card["name"], "sha256": card["weights"]["sha256"],
                                    "data": card["data"]["content_digest"]},
                           "train_images": card["data"]["sizes"]["train"]}
        reason = card
    elif use_zoo:
        reason = f"a subset of {train_size} training images was asked for"
    model, info = baseline(arch, data, config, seed, width=width, train_size=train_size, device=device,
                           use_cache=use_cache)
    return model, info | {"source": f"trained here ({reason})"}


def describe_source(name: str, info: dict) -> str:
    """One sentence for a report: where model `name` came from and its clean test accuracy."""
    acc = 100 * info["test_acc"]   # a fraction in [0, 1]
    if info["source"].startswith("zoo:"):
        card, recipe = info["card"], info["card"]["recipe"]
        how = (f"{recipe['optimizer']} with early stopping, epoch {card['epoch_kept']} kept of at most {recipe['epochs']}"
               if recipe["schedule"] == "early_stop" else f"{recipe['epochs']} epochs, {recipe['schedule']}")
        return (f"{name}: model zoo checkpoint {card['name']} ({how}, sha256 {card['weights']['sha256'][:12]}), "
                f"clean test accuracy {acc:.1f}%")
    return f"{name}: {info['source']}, clean test accuracy {acc:.1f}%"
