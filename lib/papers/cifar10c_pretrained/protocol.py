"""The experiments of Rojas-Alvarez et al.: Fig. 5 (the corruptions) and the fine-tuning study (Figs. 6–9, Tables 2–3).

`run_fig5(cfg)` corrupts one test image 19 × 5 ways. `run_study(cfg)` trains, for every architecture, a new
10-way head on a frozen backbone without pretraining (torchvision's random initialisation; a new backbone per
seed, as every run of the paper starts from new random weights) and with pretraining (ImageNet: the one
set of weights per architecture, seeds vary the head; the proxy: with `PROXY_REPLICATES` one backbone per
seed, so seeds replicate the pretraining too), 30 epochs of Adam, and
evaluates the same head after every epoch on the clean test images and on CIFAR-10-C (paired; the paper's
wording suggests separate runs for the two test sets, which adds only head-training noise).

The pretraining is `PRETRAINED`: 'imagenet' loads torchvision's checkpoints from `WEIGHTS_DIR`
(`pretrained.load_imagenet_backbone`); 'proxy' is a stand-in: the backbone trained (all layers, crop + flip,
Adam one-cycle) on `PROXY_POOL` CIFAR-10 training images disjoint from the head's training images. It is
in-domain supervised pretraining, not ImageNet transfer, and every report says so.

CIFAR-10-C: `C_DATA='generate'` builds our generator's folder (`lib.cifar10c.build_cifar10c`, RobustBench
layout, cached by spec) from the first `C_N` images of a stratified test subset; a path reads an existing
folder (ours or the released one), keeping the first `C_N` images of each (corruption, severity) block.
The paper's single CIFAR-10-C number is the pooled accuracy over all 19 × 5 cells.

Cached (`lib.cache`): the proxy-pretrained backbones, and per (architecture, arm) the small outputs of all
seeds (curves, per-cell accuracies, diagnosis), so a re-render costs seconds.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from lib import cache, cifar10c, corruptions, recipes, repro
from lib import data as data_module
from lib.config import Config
from lib.data import Dataset, ImageSet, stratified_split, stratified_subset
from lib.papers.cifar10c_pretrained import archs, method, pretrained, results
from lib.papers.cifar10c_pretrained.results import Fig5Result, StudyResult
from lib.progress import progress

CODE = [sys.modules[__name__], method, archs, pretrained, results, data_module, repro, recipes]
ARMS = ("np", "p")


@dataclass
class Memo:
    """Values computed once per notebook run: the corrupted set."""

    c_sets: dict[tuple, dict[str, Tensor]] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Data


def data(cfg: Config) -> Dataset:
    return cfg.dataset(cfg.data)


def input_size(cfg: Config, arch: str) -> int:
    """Network input side (pixels): `ALEXNET_INPUT` for AlexNet, `INPUT_SIZE` otherwise."""
    return cfg.alexnet_input if arch == "alexnet" else cfg.input_size


def splits(cfg: Config) -> tuple[ImageSet | None, ImageSet]:
    """(proxy-pretraining pool or None, head-training images), disjoint, both stratified from the training split."""
    train = data(cfg).train
    if cfg.pretrained == "proxy":
        if cfg.proxy_pool >= len(train):
            raise ValueError(f"PROXY_POOL={cfg.proxy_pool} leaves no training images for the head "
                             f"(the training split has {len(train)})")
        pool_idx, rest_idx = stratified_split(train.labels, [cfg.proxy_pool / len(train)], seed=repro.derive_seed(
            "proxy-pool"))
        pool, rest = train.take(pool_idx), train.take(rest_idx)
    else:
        pool, rest = None, train
    n = cfg.probe_train or len(rest)
    return pool, stratified_subset(rest, n, seed=0)


def clean_test(cfg: Config) -> ImageSet:
    """The clean test images: a stratified subset of `TEST_SIZE` (all when 0)."""
    test = data(cfg).test
    return stratified_subset(test, cfg.test_size or len(test), seed=0)


def c_set(cfg: Config) -> dict[str, Tensor]:
    """The corrupted test set, cells in (corruption, severity) order, each the same images in the same order.

    Returns:
        images uint8 `[M, 3, 32, 32]`, labels int64 `[M]`, corruption int64 `[M]` (index into
        `corruptions.CORRUPTIONS`), severity int64 `[M]` (1–5), image int64 `[M]` (position within the cell),
        and `folder` (str) / `n` (images per cell).
    """
    key = (cfg.c_data, cfg.c_n, data(cfg).fingerprint)
    memo = cfg.memo(Memo).c_sets
    if key in memo:
        return memo[key]
    if cfg.c_data == "generate":
        test = data(cfg).test
        source = stratified_subset(test, cfg.c_n or len(test), seed=0)
        folder = cifar10c.build_cifar10c(source.images.permute(0, 2, 3, 1).cpu().numpy(), source.labels.cpu().numpy())
    else:
        folder = cifar10c._resolve_folder(cfg.c_data)
        if not folder.is_dir():
            raise FileNotFoundError(f"C_DATA={cfg.c_data!r} is not a folder; use 'generate' or the path of a "
                                    "CIFAR-10-C folder (<corruption>.npy + labels.npy)")
    parts = []
    for ci, name in enumerate(corruptions.CORRUPTIONS):
        for s in corruptions.SEVERITIES:
            x, y = cifar10c.load_cifar10c(folder, name, s)
            if cfg.c_n:
                x, y = x[:cfg.c_n], y[:cfg.c_n]
            parts.append((torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(y), ci, s))
    n = len(parts[0][1])
    out = {"images": torch.cat([p[0] for p in parts]), "labels": torch.cat([p[1] for p in parts]),
           "corruption": torch.cat([torch.full((len(p[1]),), p[2]) for p in parts]),
           "severity": torch.cat([torch.full((len(p[1]),), p[3]) for p in parts]),
           "image": torch.cat([torch.arange(len(p[1])) for p in parts]), "folder": str(folder), "n": n}
    memo[key] = out
    return out


# ---------------------------------------------------------------------------------------------
# Fig. 5


def run_fig5(cfg: Config) -> Fig5Result:
    """One test image (`FIG5_IMAGE`) under every corruption and severity (seed 0, as in the generated set)."""
    ds = data(cfg)
    if cfg.fig5_image >= len(ds.test):
        raise ValueError(f"FIG5_IMAGE={cfg.fig5_image} exceeds the {len(ds.test)} test images")
    img = ds.test.images[cfg.fig5_image:cfg.fig5_image + 1].permute(0, 2, 3, 1).cpu().numpy().copy()
    grid = np.stack([np.concatenate([corruptions.corrupt(img, name, s, seed=0) for s in corruptions.SEVERITIES])
                     for name in corruptions.CORRUPTIONS])
    return Fig5Result(img[0], grid, list(corruptions.CORRUPTIONS), ds.classes[int(ds.test.labels[cfg.fig5_image])],
                      cfg.fig5_image)


# ---------------------------------------------------------------------------------------------
# Backbones


def proxy_seed(cfg: Config, seed: int) -> int:
    """The seed of the proxy backbone that replicate `seed` uses (`PROXY_REPLICATES`)."""
    return cfg.proxy_seed + (seed if cfg.proxy_replicates else 0)


def proxy_backbone(cfg: Config, arch: str, seed: int) -> tuple[torch.nn.Module, dict]:
    """The stand-in 'pretrained' backbone of replicate `seed`: `arch` trained on the proxy pool from
    `proxy_seed(cfg, seed)` (cached). Returns (net in eval, info)."""
    pseed = proxy_seed(cfg, seed)
    pool, _ = splits(cfg)
    ds = data(cfg)
    size = input_size(cfg, arch)
    family = "resnet" if arch.startswith("resnet") else "vgg" if arch.startswith("vgg") else "alexnet"
    if family not in cfg.proxy_lr:
        raise ValueError(f"PROXY_LR has no learning rate for {family!r}: {cfg.proxy_lr}")
    recipe = recipes.Recipe(optimizer="adam", schedule="onecycle", epochs=cfg.proxy_epochs, batch_size=128,
                        lr=cfg.proxy_lr[family], warmup=0.15, weight_decay=0.0, label_smoothing=0.0, augment=True)
    spec = {"arch": arch, "width": cfg.width, "size": size, "pool": cfg.proxy_pool, "recipe": recipe.__dict__,
            "seed": pseed, "data": ds.fingerprint}

    def compute() -> dict:
        net = method.build_random(arch, cfg.width, repro.derive_seed("proxy-init", arch, pseed))
        wrapped = method.Prepared(net, size).to(cfg.device)
        val = stratified_subset(ds.val, 500, seed=0)
        start = time.perf_counter()
        curve, _ = recipes.train_model(wrapped, pool, val, recipe, seed=pseed,
                                   log=lambda s: print(f"[proxy {arch}] {s}", flush=True))
        net = net.to(memory_format=torch.contiguous_format)
        return {"state_dict": {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()},
                "val_acc": curve.val_acc[-1], "seconds": time.perf_counter() - start}

    stored = cache.cached("c10c_proxy", spec, compute, enabled=cfg.use_cache, code=CODE)
    net = archs.torchvision_arch(arch, cfg.width, 10)
    net.load_state_dict(stored["state_dict"])
    return net.eval(), {"val_acc": stored["val_acc"], "seconds": stored["seconds"]}


def backbone(cfg: Config, arch: str, arm: str, seed: int) -> tuple[torch.nn.Module, dict]:
    """The frozen backbone of one run (eval mode, on `cfg.device`) and a description.

    np: torchvision's random initialisation from a seed derived from (arch, seed). p: the proxy backbone
    (`proxy_backbone`: one per seed with `PROXY_REPLICATES`) or the ImageNet one (the same for every seed).
    """
    if arm == "np":
        net = method.build_random(arch, cfg.width, repro.derive_seed("np-backbone", arch, seed))
        info = {"source": "torchvision's random initialisation (a new one per seed)", "val_acc": float("nan")}
    elif cfg.pretrained == "proxy":
        net, extra = proxy_backbone(cfg, arch, seed)
        info = {"source": f"stand-in: trained on {cfg.proxy_pool} CIFAR-10 training images for {cfg.proxy_epochs} "
                          f"epochs, {'one backbone per seed' if cfg.proxy_replicates else 'one for every seed'}, "
                          "not ImageNet",
                "val_acc": extra["val_acc"]}
    elif cfg.pretrained == "imagenet":
        if cfg.width != 1.0:
            raise ValueError(f"PRETRAINED='imagenet' needs WIDTH=1.0 (torchvision's networks), got {cfg.width}")
        net = pretrained.load_imagenet_backbone(arch, cfg.weights_dir)
        info = {"source": f"torchvision IMAGENET1K_V1 ({pretrained.CHECKPOINTS[arch]})", "val_acc": float("nan")}
    else:
        raise ValueError(f"PRETRAINED must be 'proxy' or 'imagenet', got {cfg.pretrained!r}")
    pretrained.freeze_backbone(net)
    return net.to(cfg.device).eval(), info


# ---------------------------------------------------------------------------------------------
# The study


def _features(cfg: Config, net: torch.nn.Module, arch: str, probe_train: ImageSet, test: ImageSet,
              cset: dict[str, Tensor], diag_idx: Tensor) -> tuple[method.ProbeSplit, dict[str, Tensor], int]:
    """BatchNorm recalibration, then every feature set the head needs (CPU float32)."""
    size = input_size(cfg, arch)
    dev = cfg.device
    n_bn = method.recalibrate_bn(net, probe_train.images[:cfg.bn_calib].to(dev), size)
    probe = method.split(net)
    feats = {"train": method.features(probe, probe_train.images.to(dev), size, through_rest=False),
             "clean": method.features(probe, test.images.to(dev), size, through_rest=True),
             "c": method.features(probe, cset["images"].to(dev), size, through_rest=True)}
    if len(diag_idx):
        feats["unscaled"] = method.features(probe, cset["images"][diag_idx].to(dev), size, through_rest=True,
                                            unscaled=True)
    probe.rest.cpu()
    return probe, feats, n_bn


def _arm(cfg: Config, arch: str, arm: str) -> dict:
    """Every seed of one (architecture, arm): per-epoch curves, final per-cell accuracies, the diagnosis."""
    _, probe_train = splits(cfg)
    test, cset = clean_test(cfg), c_set(cfg)
    diag_idx = torch.nonzero(cset["image"] < cfg.c_input_scale_n).flatten()
    y_train, y_test, y_c = probe_train.labels.cpu(), test.labels.cpu(), cset["labels"]
    curves, cells, diag = [], [], []
    start = time.perf_counter()
    shared, pretrain_acc = None, []
    per_seed = arm == "np" or (cfg.pretrained == "proxy" and cfg.proxy_replicates)
    for seed in cfg.seeds:
        if per_seed or shared is None:
            net, info = backbone(cfg, arch, arm, seed)
            shared = (_features(cfg, net, arch, probe_train, test, cset, diag_idx), info, net)
            pretrain_acc.append(info["val_acc"])
        (probe, feats, n_bn), info, net = shared
        head = method.new_head(probe.head.in_features, 10, repro.derive_seed("head", arch, arm, seed))
        rows = method.train_head(feats["train"], y_train, probe.rest, head,
                                 {"clean": (feats["clean"], y_test), "c": (feats["c"], y_c)},
                                 cfg.epochs, cfg.lr, cfg.batch, seed=repro.derive_seed("head-train", arch, arm, seed))
        curves += [{"arch": arch, "arm": arm, "seed": seed, **r} for r in rows]
        losses, correct = method.evaluate_head(head, feats["c"], y_c)
        frame = pd.DataFrame({"corruption": cset["corruption"].numpy(), "severity": cset["severity"].numpy(),
                              "acc": correct.double().numpy(), "loss": losses.numpy()})
        per_cell = frame.groupby(["corruption", "severity"], as_index=False).mean()
        cells += [{"arch": arch, "arm": arm, "seed": seed, "corruption": corruptions.CORRUPTIONS[int(r.corruption)],
                   "severity": int(r.severity), "acc": float(r.acc), "loss": float(r.loss)}
                  for r in per_cell.itertuples()]
        if "unscaled" in feats:
            ul, uc = method.evaluate_head(head, feats["unscaled"], y_c[diag_idx])
            diag.append({"arch": arch, "arm": arm, "seed": seed,
                         "scaled_acc": float(correct[diag_idx].double().mean()),
                         "scaled_loss": float(losses[diag_idx].mean()),
                         "unscaled_acc": float(uc.double().mean()), "unscaled_loss": float(ul.mean()),
                         "clean_acc": rows[-1]["clean_acc"], "clean_loss": rows[-1]["clean_loss"]})
    backbone_row = {"arch": arch, "arm": arm, "params": archs.parameter_count(shared[2]),
                    "head_in": shared[0][0].head.in_features, "bn_layers": shared[0][2], "source": shared[1]["source"],
                    "pretrain_val_acc": float(np.mean(pretrain_acc)), "backbones": len(pretrain_acc),
                    "seconds": time.perf_counter() - start}
    return {"curves": curves, "cells": cells, "diag": diag, "backbone": backbone_row}


def run_study(cfg: Config) -> StudyResult:
    """Figs. 6–9 and Tables 2–3: every architecture × arm × seed (module docstring). Cached per (arch, arm)."""
    ds = data(cfg)
    unknown = [a for a in cfg.archs if a not in archs.ARCHS]
    if unknown:
        raise ValueError(f"ARCHS: unknown {unknown}; expected names from {archs.ARCHS}")
    if cfg.pretrained not in ("proxy", "imagenet"):
        raise ValueError(f"PRETRAINED must be 'proxy' or 'imagenet', got {cfg.pretrained!r}")
    if cfg.pretrained == "imagenet":   # fail before any compute, naming every missing file
        missing = []
        for arch in cfg.archs:
            try:
                pretrained.checkpoint_file(arch, cfg.weights_dir)
            except pretrained.WeightsMissing as exc:
                missing.append((pretrained.CHECKPOINTS[arch], str(exc)))
        if missing:
            raise pretrained.WeightsMissing(
                f"PRETRAINED='imagenet' needs {len(missing)} checkpoint file(s) absent from "
                f"{pretrained.weights_folder(cfg.weights_dir)}: {', '.join(m[0] for m in missing)}. "
                f"First error: {missing[0][1]}")
    cset = c_set(cfg)
    sizes = {"probe_train": len(splits(cfg)[1]), "test": len(clean_test(cfg)), "c_per_cell": int(cset["n"]),
             "c_total": len(cset["labels"]), "diag_per_cell": min(cfg.c_input_scale_n, int(cset["n"])),
             "bn_calib": min(cfg.bn_calib, len(splits(cfg)[1])),
             "proxy_pool": len(splits(cfg)[0]) if cfg.pretrained == "proxy" else 0}
    c_source = "generated here (lib.cifar10c)" if cfg.c_data == "generate" else f"read from {cfg.c_data}"
    parts = []
    for arch, arm in progress([(a, m) for a in cfg.archs for m in ARMS], "architectures × arms"):
        spec = {"arch": arch, "arm": arm, "seeds": cfg.seeds, "width": cfg.width, "size": input_size(cfg, arch),
                "pretrained": cfg.pretrained if arm == "p" else None, "data": ds.fingerprint, "sizes": sizes,
                "c_data": cfg.c_data, "c_folder_key": str(cset["folder"]).rsplit("/", 1)[-1],
                "epochs": cfg.epochs, "lr": cfg.lr, "batch": cfg.batch, "weights_dir": cfg.weights_dir,
                "proxy": ({"pool": cfg.proxy_pool, "epochs": cfg.proxy_epochs, "lr": cfg.proxy_lr,
                           "seed": cfg.proxy_seed, "replicates": cfg.proxy_replicates}
                          if arm == "p" and cfg.pretrained == "proxy" else None)}
        parts.append(cache.cached("c10c_arm", spec, lambda a=arch, m=arm: _arm(cfg, a, m), enabled=cfg.use_cache,
                                  code=CODE))
    info = {"pretrained": cfg.pretrained, "sizes": sizes, "width": cfg.width, "input_size": cfg.input_size,
            "alexnet_input": cfg.alexnet_input, "c_source": c_source, "epochs": cfg.epochs}
    return StudyResult(curves=pd.DataFrame([r for p in parts for r in p["curves"]]),
                       cells=pd.DataFrame([r for p in parts for r in p["cells"]]),
                       diag=pd.DataFrame([r for p in parts for r in p["diag"]]),
                       backbones=pd.DataFrame([p["backbone"] for p in parts]), info=info)
