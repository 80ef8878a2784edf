"""The experiments of Bartschat et al.: Fig. 2 (module sizes), Fig. 3 (a noisy image), Figs. 4–7 (the models).

`run_modules(cfg)` counts the weights of the three modules. `run_fig3(cfg)` adds noise σ = 1 to two test
images. `run_study(cfg, family)` trains, for every architecture, one model per training level of the family
('noise' or 'blur'; the σ = 0 model is shared by both families, so 13 models per architecture), evaluates each
on every level of its family's test sets (drawn once from `TEST_SEED`, the same tensors for every model:
paired), and measures the minimal adversarial change on `ADV_N` fixed clean test images (`adversarial`).

Seeds: a model is keyed by (architecture, distortion, level, seed); its initialisation, batch order and
distortion draws come from seeds derived from all four, so two models differ in every source of training
randomness. `SEEDS` trains every model; `EXTRA_SEEDS` trains further models only at the noise levels
`EXTRA_LEVELS` (seed-to-seed variation). The blur models at σ ≤ 0.1 see clean images (the blur is the
identity there) and are therefore further independent replicates of the clean model.

Cached (`lib.cache`): each trained model (state dict, by its full spec), and each model's evaluation
(per-image correctness and adversarial changes), so a re-render costs seconds.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from lib import cache, distortions, repro
from lib import data as data_module
from lib.config import Config
from lib.data import Dataset, ImageSet, stratified_subset
from lib.papers.training_variation import adversarial, archs, method, results
from lib.papers.training_variation.results import Fig3Result, ModulesResult, StudyResult
from lib.progress import progress

# what cached values depend on (method's blur is lib.distortions.blur_per_sample)
CODE_TRAIN = [archs, method, distortions, data_module]
CODE_EVAL = [sys.modules[__name__], archs, method, distortions, adversarial, data_module, results]
FAMILIES = ("noise", "blur")


@dataclass
class Memo:
    """Values computed once per notebook run: the distorted test sets per family."""

    test_sets: dict[tuple, dict[float, Tensor]] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Data


def data(cfg: Config) -> Dataset:
    return cfg.dataset(cfg.data)


def train_set(cfg: Config) -> ImageSet:
    """The training images: a stratified subset of `TRAIN_N` of the training split (all when 0)."""
    train = data(cfg).train
    return stratified_subset(train, cfg.train_n or len(train), seed=0)


def test_set(cfg: Config) -> ImageSet:
    """The clean test images: a stratified subset of `TEST_N` of the test split (all when 0), from `TEST_SEED`."""
    test = data(cfg).test
    return stratified_subset(test, cfg.test_n or len(test), seed=cfg.test_seed)


def adv_set(cfg: Config) -> ImageSet:
    """The `ADV_N` clean test images every model is attacked on: a stratified subset of `test_set`."""
    test = test_set(cfg)
    if cfg.adv_n > len(test):
        raise ValueError(f"ADV_N={cfg.adv_n} exceeds the {len(test)} test images (TEST_N)")
    return stratified_subset(test, cfg.adv_n, seed=repro.derive_seed("tv-adv", cfg.test_seed))


def family_test_sets(cfg: Config, family: str) -> dict[float, Tensor]:
    """Per level σ of `LEVELS`, the test images distorted once (`method.test_sets`, seeded by `TEST_SEED`)."""
    key = (family, tuple(cfg.levels), cfg.test_n, cfg.test_seed, data(cfg).fingerprint)
    memo = cfg.memo(Memo).test_sets
    if key not in memo:
        memo[key] = method.test_sets(test_set(cfg).images.to(cfg.device), family, list(cfg.levels),
                                     seed=repro.derive_seed("tv-test", family, cfg.test_seed) % 2**31)
    return memo[key]


def recipe(cfg: Config) -> method.Recipe:
    return method.Recipe(epochs=cfg.epochs, batch_size=cfg.batch, lr=cfg.lr, momentum=cfg.momentum,
                         weight_decay=cfg.weight_decay, flip=cfg.flip)


# ---------------------------------------------------------------------------------------------
# Fig. 2 and Fig. 3


def run_modules(cfg: Config) -> ModulesResult:
    """Weights of the three modules and of a plain 3×3 convolution at width 256 and at `WIDTH`; shapes at `WIDTH`."""
    rows, shapes = [], []
    for width in sorted({256, cfg.width}):
        for kind in archs.KINDS:
            rows.append({"module": kind, "width": width,
                         "weights": archs.module_weights(archs.variation_module(kind, width))})
        rows.append({"module": "conv3x3", "width": width,
                     "weights": archs.module_weights(torch.nn.Conv2d(width, width, 3, padding=1))})
    x = torch.zeros(2, cfg.width, 16, 16)
    for kind in archs.KINDS:
        with torch.no_grad():
            y = archs.variation_module(kind, cfg.width).eval()(x)
            out = archs.VariationNet(kind, cfg.width).eval()(torch.zeros(2, 3, 32, 32))
        shapes.append({"module": kind, "input": str(list(x.shape)), "output": str(list(y.shape)),
                       "network output": str(list(out.shape)),
                       "network parameters": sum(p.numel() for p in archs.VariationNet(kind, cfg.width).parameters())})
    return ModulesResult(pd.DataFrame(rows), pd.DataFrame(shapes), cfg.width)


def run_fig3(cfg: Config) -> Fig3Result:
    """The first test image of each class in `FIG3_CLASSES` (class indices), clean and with noise `FIG3_SIGMA`."""
    ds = data(cfg)
    labels = ds.test.labels.cpu()
    idx = []
    for c in cfg.fig3_classes:
        hits = torch.nonzero(labels == c).flatten()
        if not len(hits):
            raise ValueError(f"FIG3_CLASSES: no test image of class {c}")
        idx.append(int(hits[0]))
    imgs = ds.test.images[idx].cpu()
    g = torch.Generator().manual_seed(cfg.test_seed)
    noisy = method.distort(method.to_pm1(imgs), "noise", cfg.fig3_sigma, g)
    return Fig3Result(imgs.permute(0, 2, 3, 1).numpy().copy(), noisy.permute(0, 2, 3, 1).numpy().copy(),
                      [ds.classes[int(labels[i])] for i in idx], idx, cfg.fig3_sigma)


# ---------------------------------------------------------------------------------------------
# The models


def model_kind(family: str, sigma: float) -> str:
    """The training distortion of a model: 'none' at σ = 0 (shared by both families), else the family."""
    return "none" if sigma == 0 else family


def model_list(cfg: Config, family: str) -> list[tuple[str, float, int]]:
    """(arch, train σ, seed) of every model of `family`: all `LEVELS` × `SEEDS`, plus `EXTRA_SEEDS` at
    `EXTRA_LEVELS` (noise levels; σ = 0 counts for both families)."""
    out = [(a, float(s), seed) for a in cfg.archs for seed in cfg.seeds for s in cfg.levels]
    for a in cfg.archs:
        for seed in cfg.extra_seeds:
            for s in cfg.extra_levels:
                if (s == 0 or family == "noise") and (a, float(s), seed) not in out:
                    out.append((a, float(s), seed))
    return out


def _model_spec(cfg: Config, arch: str, kind: str, sigma: float, seed: int) -> dict:
    return {"arch": arch, "width": cfg.width, "kind": kind, "sigma": sigma, "seed": seed,
            "recipe": recipe(cfg).__dict__, "train_n": len(train_set(cfg)), "data": data(cfg).fingerprint}


def trained(cfg: Config, arch: str, kind: str, sigma: float, seed: int) -> tuple[archs.VariationNet, dict]:
    """One trained model (cached by its spec), in eval mode on `cfg.device`, and its training record."""
    spec = _model_spec(cfg, arch, kind, sigma, seed)

    def compute() -> dict:
        net = archs.build(arch, cfg.width, repro.derive_seed("tv-init", arch, kind, sigma, seed))
        net = net.to(cfg.device).to(memory_format=torch.channels_last)
        train = train_set(cfg)
        info = method.train(net, train.images.to(cfg.device), train.labels.to(cfg.device), kind if sigma else "noise",
                            sigma, recipe(cfg), seed=repro.derive_seed("tv-train", arch, kind, sigma, seed) % 2**62)
        net = net.to(memory_format=torch.contiguous_format)
        print(f"[{arch} {kind} σ={sigma:g} seed {seed}] {info['seconds']:.0f} s, {info['images_per_s']:.0f} images/s, "
              f"final loss {info['loss'][-1]:.3f}", flush=True)
        return {"state_dict": {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}, **info}

    stored = cache.cached("tv_model", spec, compute, enabled=cfg.use_cache, code=CODE_TRAIN)
    net = archs.VariationNet(arch, cfg.width)
    net.load_state_dict(stored["state_dict"])
    return net.to(cfg.device).eval(), {k: v for k, v in stored.items() if k != "state_dict"}


def _evaluate(cfg: Config, family: str, arch: str, sigma: float, seed: int) -> dict:
    """Per-image correctness on every level of `family` and the adversarial changes of one model."""
    kind = model_kind(family, sigma)
    net, info = trained(cfg, arch, kind, sigma, seed)
    y = test_set(cfg).labels.to(cfg.device)
    correct = {lvl: (method.predict(net, x) == y).cpu().numpy() for lvl, x in family_test_sets(cfg, family).items()}
    adv = adv_set(cfg)
    xa, ya = method.to_pm1(adv.images.to(cfg.device)), adv.labels.to(cfg.device)
    sign = adversarial.minimal_sign_step(net, xa, ya, eps_max=cfg.adv_eps_max, grid=cfg.adv_grid,
                                         bisect=cfg.adv_bisect)
    df = adversarial.deepfool_change(net, xa, ya) if cfg.deepfool else None
    rows = {"image": np.arange(len(ya)), "label": ya.cpu().numpy(), "misclassified": sign["misclassified"].numpy(),
            "found": sign["found"].numpy(), "sign_eps": sign["eps"].numpy(), "sign_change": sign["change"].numpy(),
            "df_change": df["change"].numpy() if df else np.full(len(ya), np.nan),
            "df_l2": df["l2"].numpy() if df else np.full(len(ya), np.nan),
            "df_success": df["success"].numpy() if df else np.zeros(len(ya), dtype=bool)}
    return {"correct": correct, "adv": rows,
            "model": {"weights": sum(p.numel() for p in net.parameters()), "train_seconds": info["seconds"],
                      "images_per_s": info["images_per_s"], "final_loss": info["loss"][-1]}}


def run_study(cfg: Config, family: str) -> StudyResult:
    """Figs. 4–5 (`family='noise'`) or Figs. 6–7 (`family='blur'`): every model of the family (module docstring)."""
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    unknown = [a for a in cfg.archs if a not in archs.KINDS]
    if unknown:
        raise ValueError(f"ARCHS: unknown {unknown}; valid: {', '.join(archs.KINDS)}")
    if 0 not in cfg.levels:
        raise ValueError(f"LEVELS must contain 0 (the clean model), got {cfg.levels}")
    ds = data(cfg)
    sizes = {"train": len(train_set(cfg)), "test": len(test_set(cfg)), "adv": len(adv_set(cfg))}
    models, acc, adv, correct = [], [], [], {}
    start = time.perf_counter()
    for arch, sigma, seed in progress(model_list(cfg, family), f"{family} models"):
        spec = {**_model_spec(cfg, arch, model_kind(family, sigma), sigma, seed), "family": family,
                "levels": list(cfg.levels), "test_n": sizes["test"], "test_seed": cfg.test_seed, "adv_n": sizes["adv"],
                "adv": [cfg.adv_eps_max, cfg.adv_grid, cfg.adv_bisect, cfg.deepfool]}
        out = cache.cached("tv_eval", spec, lambda a=arch, s=sigma, sd=seed: _evaluate(cfg, family, a, s, sd),
                           enabled=cfg.use_cache, code=CODE_EVAL)
        models.append({"arch": arch, "train_sigma": sigma, "seed": seed, **out["model"]})
        for lvl, c in out["correct"].items():
            correct[(arch, sigma, seed, float(lvl))] = np.asarray(c, dtype=bool)
            acc.append({"arch": arch, "train_sigma": sigma, "seed": seed, "test_sigma": float(lvl),
                        "acc": float(np.mean(c))})
        frame = pd.DataFrame(out["adv"])
        frame.insert(0, "seed", seed)
        frame.insert(0, "train_sigma", sigma)
        frame.insert(0, "arch", arch)
        adv.append(frame)
    identity = [s for s in cfg.levels if s > 0 and method.blur_is_identity(s)]
    info = {"family": family, "levels": [float(s) for s in cfg.levels], "sizes": sizes, "width": cfg.width,
            "epochs": cfg.epochs, "seeds": list(cfg.seeds), "extra_seeds": list(cfg.extra_seeds),
            "extra_levels": [float(s) for s in cfg.extra_levels], "identity_blur": identity,
            "data": ds.description, "seconds": time.perf_counter() - start}
    return StudyResult(family, pd.DataFrame(models), pd.DataFrame(acc), correct, pd.concat(adv, ignore_index=True),
                       info)
