"""Thesis chapter 4 (pixel deflection): classifiers, cached attacks, defences and one `run_*` per artefact.

Protocol (thesis §4.9-4.10; choices where it is silent are stated here and in the reports):

* Classifiers. `quick`: three CIFAR-10 networks of different families, all with a global-average-
  pool head so that CAM exists (`MODELS`: ResNet-20, a VGG-style stack, All-Conv+BN), trained by
  `lib.train.baseline` (Adam, cached). `paper`: torchvision's pretrained ResNet-50, VGG-19 and
  Inception-v3 (`lib.papers.pixel_deflection.pretrained`); VGG-19's R-CAM comes from ResNet-50 (VGG-19 has no GAP head).
* Images. `N_IMAGES` test images the classifier gets right (thesis: only correctly classified
  images, so "No defence / Clean" = 100), drawn in a fixed shuffled order (seed 0). The
  hyper-parameter search (Fig. 4.5) uses `N_SEARCH` correctly classified images of the VALIDATION
  split, never the test images.
* Attacks (`lib.attacks`): white-box on the undefended classifier, then the defence is applied
  (the thesis's "black-box" = defence-unaware setting). Each attack runs once per image set and is
  cached on disk. Budgets (normalised RMSE on [0, 1] pixels) are the thesis's Table 4.1 |L2|: FGSM and
  IGSM are run at the budget; the L2 minimal attacks (DeepFool, L-BFGS, C&W) are run unconstrained
  once, then each perturbation larger than the normal budget is scaled down onto it (as
  `lib.attacks.attack(budget=...)` does); for the large budgets of Table 4.1 every perturbation
  of those attacks is stretched (or shrunk) to exactly the large budget, our reading of
  "large perturbations" for attacks whose own size is minimal. JSMA is an L0 attack and is bounded
  as one (`ATTACK_OPTIONS["jsma"]["budget_reading"] = "l0"`): it stops before the step that would take
  its RMSE change past the budget, so the budget sets the share of features it may change; scaling
  its result down instead ("scaled", the earlier reading) mostly undoes it.
* Defences are `Defence` descriptions applied by `defend`; stochastic ones are run `RUNS` times
  (10 = Ens-10). "Single" = the mean accuracy of one run (averaged over the runs: the expected
  accuracy of a single random run, less noisy than one draw), "Ens-10" = accuracy of the
  majority vote over the runs. Every accuracy is in % of the image set; per-image outcomes are kept
  so that claims are paired tests over images.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from lib import attacks, cache, metrics, models, repro, train
from lib import data as data_module
from lib.config import Config
from lib.data import ImageSet
from lib.papers.pixel_deflection import input_defences, method, results
from lib.papers.pixel_deflection.paper import ATTACKS, LABEL, MODEL_LABEL  # noqa: F401  (ATTACKS: re-exported)
from lib.papers.pixel_deflection.results import (
    AttackTables,
    Defence,
    DefenceGrid,
    Fig4_1,
    Fig4_2,
    Fig4_3,
    Fig4_4,
    Fig4_6,
    Outcome,
    SearchResult,
    Setting,
    Sweeps,
)
from lib.progress import progress

CODE = [sys.modules[__name__], results, method, input_defences, attacks, models, data_module, repro, train]

IMAGENET_MODELS = ("resnet50", "vgg19", "inception_v3")


@dataclass
class Memo:
    """Values computed once per notebook run (`cfg.memo(Memo)`), by kind: classifiers by name; correctly
    classified image sets by (name, split, n); raw attacks by (name, split, n, kind, budget); outcomes by
    (name, attack, defence, level, split, runs); the Fig. 4.5 search; adaptive attacks by (name, defence)."""

    classifiers: dict[str, tuple[nn.Module, dict]] = field(default_factory=dict)
    images: dict[tuple, ImageBatch] = field(default_factory=dict)
    attacks: dict[tuple, dict] = field(default_factory=dict)
    outcomes: dict[tuple, Outcome] = field(default_factory=dict)
    search: dict | None = None
    adaptive: dict[tuple, dict] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Classifiers


class LinearCam(nn.Module):
    """CAM view of a network whose last layer already outputs class maps averaged into logits
    (All-Conv: conv1×1 to classes, BN, ReLU, global mean): `features` = the class maps `[N, K, h, w]`,
    `classifier` = the identity `nn.Linear(K, K)`, so `robust_cam` takes the class maps themselves."""

    def __init__(self, net: models.AllConvBN):
        super().__init__()
        self.net = net
        k = getattr(net, net.conv_names[-1]).conv.out_channels
        self.classifier = nn.Linear(k, k).to(next(net.parameters()).device)
        with torch.no_grad():
            self.classifier.weight.copy_(torch.eye(k))
            self.classifier.bias.zero_()

    def features(self, x: Tensor) -> Tensor:
        x = self.net.centre(x)
        for name in self.net.conv_names:
            x = getattr(self.net, name)(x)
        return x


def classifier(cfg: Config, name: str) -> tuple[nn.Module, dict]:
    """The classifier `name` in eval mode on the device, and info (test accuracy in %, spec).

    CIFAR names come from the model zoo when `ZOO` and a reference checkpoint of that architecture and
    width was trained on the same data (`lib.train.reference_or_baseline`); otherwise they are trained by
    `lib.train.baseline` on the `DATA` training split (cached): `TRAIN_EPOCHS` epochs of Adam (lr `LR`,
    batch 128, no early stop), width from `WIDTHS`. `info["source"]` says which.
    ImageNet names load torchvision weights (`lib.papers.pixel_deflection.pretrained`; fails clearly without them).
    """
    key, memo = name, cfg.memo(Memo).classifiers
    if key not in memo:
        if name in IMAGENET_MODELS:
            from lib.papers.pixel_deflection import pretrained

            model = pretrained.load_imagenet_model(name, weights=cfg.weights, device=cfg.device)
            test = cfg.dataset().test
            acc = 100 * train.accuracy(model, test.images, test.labels, batch_size=50)
            spec = {"model": name, "weights": cfg.weights, "data": cfg.dataset().fingerprint}
            memo[key] = (model, {"test_acc": acc, "spec": spec})
        else:
            config = train.TrainConfig(max_epochs=cfg.train_epochs, patience=cfg.train_epochs + 1,
                                       batch_size=128, lr=cfg.lr, keep_best=False)
            model, info = train.reference_or_baseline(name, cfg.dataset(), config, seed=cfg.model_seed,
                                                      width=cfg.widths.get(name), train_size=cfg.train_size,
                                                      device=cfg.device, use_cache=cfg.use_cache, use_zoo=cfg.zoo)
            for p in model.parameters():
                p.requires_grad_(False)
            cfg.note_model(train.describe_source(MODEL_LABEL.get(name, name), info))
            memo[key] = (model, {"test_acc": 100 * info["test_acc"], "spec": info["spec"],
                                 "seconds": info["history"]["seconds"], "source": info["source"]})
    return memo[key]


def cam_model(cfg: Config, name: str) -> nn.Module | method.CamParts:
    """The network whose R-CAM guides the deflections for classifier `name` (itself when it has a GAP
    head; ResNet-50 for VGG-19)."""
    source = "resnet50" if name == "vgg19" else name
    model, _ = classifier(cfg, source)
    return LinearCam(model) if isinstance(model, models.AllConvBN) else model


# ---------------------------------------------------------------------------------------------
# Image sets and attacks


@torch.no_grad()
def predict(model: nn.Module, images: Tensor, batch_size: int = 500) -> Tensor:
    """Top-1 predictions `[N]` int64 of float images `[N, 3, H, W]` in [0, 1]."""
    return torch.cat([model(x).argmax(1) for x in images.split(batch_size)])


@dataclass
class ImageBatch:
    """Correctly classified images of one split: `images` `[N, 3, H, W]` float32 in [0, 1] on the
    device, `labels` `[N]`, `index` `[N]` positions in the split (for provenance)."""

    images: Tensor
    labels: Tensor
    index: Tensor
    split: str


def correct_images(cfg: Config, name: str, split: str, n: int) -> ImageBatch:
    """The first `n` images of `split` (test | val), in a fixed shuffled order (seed 0), that classifier
    `name` classifies correctly. A dataset without validation images (ImageNet: only its val set, our
    test split) serves `val` from the END of the test split's shuffled order, disjoint from the test
    images as long as both sets fit."""
    key, memo = (name, split, n), cfg.memo(Memo).images
    if key not in memo:
        model, _ = classifier(cfg, name)
        pool: ImageSet = getattr(cfg.dataset(), split)
        order = torch.randperm(len(pool), generator=torch.Generator().manual_seed(0))
        if split == "val" and len(pool) == 0:
            pool = cfg.dataset().test
            order = torch.randperm(len(pool), generator=torch.Generator().manual_seed(0)).flip(0)
        order = order.to(pool.labels.device)
        chosen = []
        for chunk in order.split(max(4 * n, 500)):
            x = pool.images[chunk].float() / 255
            ok = predict(model, x) == pool.labels[chunk]
            chosen.append(chunk[ok])
            if sum(len(c) for c in chosen) >= n:
                break
        idx = torch.cat(chosen)[:n]
        memo[key] = ImageBatch(pool.images[idx].float() / 255, pool.labels[idx], idx.cpu(), split)
    return memo[key]


@dataclass
class Adversarial:
    """Adversarial versions of an `ImageBatch`: `images` `[N, 3, H, W]` float32 in [0, 1], `rmse` `[N]`
    (normalised RMSE on [0, 1] pixels), `budget`, `level` (normal | large), the attack's `params`."""

    images: Tensor
    rmse: Tensor
    budget: float
    level: str
    params: dict = field(default_factory=dict)


def _raw_attack(cfg: Config, name: str, batch: ImageBatch, kind: str, budget: float | None) -> dict:
    """Attack `batch` with `kind` (budget None: unconstrained minimal attack); cached on disk."""
    model, info = classifier(cfg, name)
    options = dict(cfg.attack_options.get(kind, {}))
    spec = {"model": info["spec"], "split": batch.split, "index_digest": cache.spec_key({"i": batch.index.tolist()}),
            "n": len(batch.labels), "attack": kind, "budget": budget, "options": options, "seed": cfg.attack_seed,
            "chunk": cfg.chunk, "device": cfg.device.type}

    def compute() -> dict:
        outs, params = [], None
        chunks = list(zip(batch.images.split(cfg.chunk), batch.labels.split(cfg.chunk)))
        for i, (x, y) in enumerate(progress(chunks, f"{kind} on {MODEL_LABEL.get(name, name)}", total=len(chunks))):
            res = attacks.attack(model, x, y, kind, budget, seed=cfg.attack_seed + i, **options)
            outs.append(res.images.cpu())
            params = params or {k: v for k, v in res.params.items() if not isinstance(v, list)}
        return {"images": torch.cat(outs), "params": params}

    key, memo = (name, batch.split, len(batch.labels), kind, budget), cfg.memo(Memo).attacks
    if key not in memo:
        memo[key] = cache.cached("pd_attack", spec, compute, enabled=cfg.use_cache, code=CODE)
    return memo[key]


def adversarial(cfg: Config, name: str, batch: ImageBatch, kind: str, level: str = "normal") -> Adversarial:
    """Adversarial images of `batch` for attack `kind` at the `normal` or `large` budget (module docstring)."""
    budget = float((cfg.budgets if level == "normal" else cfg.large_budgets)[kind])
    l0 = kind == "jsma" and cfg.attack_options.get("jsma", {}).get("budget_reading", "l0") == "l0"
    minimal = attacks.Attack(kind) in attacks.MINIMAL and not l0   # JSMA (L0 reading) stops at the budget itself
    raw = _raw_attack(cfg, name, batch, kind, None if minimal else budget)
    x, x_adv = batch.images, raw["images"].to(cfg.device)
    if minimal:
        found = attacks.rmse(x, x_adv) > 0
        if level == "normal":
            over = attacks.rmse(x, x_adv) > budget
            x_adv = torch.where(over[:, None, None, None], attacks.scale_to_budget(x, x_adv, budget), x_adv)
        else:
            x_adv = torch.where(found[:, None, None, None], attacks.scale_to_budget(x, x_adv, budget), x_adv)
    return Adversarial(x_adv, attacks.rmse(x, x_adv), budget, level, raw["params"])


# ---------------------------------------------------------------------------------------------
# Defences


NONE = Defence("No defence")


def _filter(name: str, x: Tensor, d: Defence, generator: torch.Generator) -> Tensor:
    if name == "wavelet":
        return method.wavelet_denoise(x, d.sigma, d.shrink)
    if name == "dct":
        return method.dct_denoise(x, d.sigma)
    if name == "jpeg":
        return method.jpeg(x)
    if name in ("bilateral", "anisotropic", "tvm", "deconv"):
        return method.DENOISERS[name](x)
    if name.startswith("bitdepth"):
        return input_defences.bit_depth(x, int(name[len("bitdepth"):]))
    if name.startswith("median"):
        return input_defences.median_smooth(x, int(name[len("median"):]))
    if name.startswith("nlm"):
        search, patch, h = (int(v) for v in name[3:].split("-"))
        return input_defences.nl_means(x, search, patch, h)
    if name == "resize_pad":
        return input_defences.random_resize_pad(x, round(x.shape[-1] * 1.1) + (x.shape[-1] < 64), generator)
    raise ValueError(f"unknown defence step {name!r}")


def defend(d: Defence, images: Tensor, generator: torch.Generator, saliency: Tensor | None = None) -> Tensor:
    """Apply `d` to `[N, 3, H, W]` images in [0, 1]; `saliency` `[N, H, W]` is the R-CAM when `d.rcam`."""
    x = images
    for name in d.pre:
        x = _filter(name, x, d, generator)
    if d.deflections:
        x = method.deflect(x, d.deflections, d.window, saliency if d.rcam else None, generator, d.mode,
                       sampler=d.sampler, replacement=d.replacement)
    for name in d.post:
        x = _filter(name, x, d, generator)
    return x


@torch.no_grad()
def saliency_of(cfg: Config, name: str, images: Tensor, top_k: int) -> Tensor:
    """R-CAM `[N, H, W]` in [0, 1] of `images` from `cam_model(name)` (computed on what the defence sees)."""
    cam = cam_model(cfg, name)
    return torch.cat([method.robust_cam(cam, x, top_k) for x in images.split(500)])


def evaluate(cfg: Config, name: str, images: Tensor, labels: Tensor, d: Defence, runs: int | None = None,
             seed: int = 0, rmse: Tensor | None = None) -> Outcome:
    """Classify `images` after defence `d`, `runs` times (default `RUNS`; 1 if `d` is deterministic)."""
    model, _ = classifier(cfg, name)
    runs = (runs or cfg.runs) if d.stochastic else 1
    saliency = saliency_of(cfg, name, images, d.top_k) if d.rcam and d.deflections else None
    preds = []
    for r in range(runs):
        g = torch.Generator(device=images.device).manual_seed(1_000_003 * seed + r)
        preds.append(predict(model, defend(d, images, g, saliency)))
    preds = torch.stack(preds)
    nodef = predict(model, images) == labels
    rmse = rmse if rmse is not None else torch.zeros(len(labels))
    return Outcome(preds == labels, metrics.majority_vote(preds.cpu()).to(labels.device) == labels, nodef, rmse)


def outcome(cfg: Config, name: str, attack: str, d: Defence, level: str = "normal", split: str = "test",
            runs: int | None = None) -> Outcome:
    """`evaluate` on the clean (`attack="clean"`) or adversarial images of `name`'s image set; memoised."""
    key, memo = (name, attack, d, level, split, runs), cfg.memo(Memo).outcomes
    if key not in memo:
        batch = correct_images(cfg, name, split, cfg.n_images if split == "test" else cfg.n_search)
        labels, index = batch.labels, batch.index
        if attack == "clean":
            x, r = batch.images, torch.zeros(len(batch.labels))
        elif attack == "bpda":
            adv = adaptive(cfg, name, d)
            x, r = adv.images, adv.rmse
            labels, index = labels[:len(x)], index[:len(x)]
        else:
            adv = adversarial(cfg, name, batch, attack, level)
            x, r = adv.images, adv.rmse
        spec = {"model": classifier(cfg, name)[1]["spec"], "attack": attack, "level": level, "split": split,
                "n": len(labels), "index_digest": cache.spec_key({"i": index.tolist()}),
                "defence": d.spec(), "runs": runs or cfg.runs, "seed": cfg.defence_seed, "device": cfg.device.type,
                "attack_spec": {"budgets": cfg.budgets, "large": cfg.large_budgets, "options": cfg.attack_options,
                                "seed": cfg.attack_seed, "chunk": cfg.chunk,
                                "adaptive": cfg.adaptive if attack == "bpda" else None}}

        def compute() -> dict:
            o = evaluate(cfg, name, x, labels, d, runs, seed=cfg.defence_seed, rmse=r.cpu())
            return {k: v.cpu() for k, v in vars(o).items()}

        stored = cache.cached("pd_outcome", spec, compute, enabled=cfg.use_cache, code=CODE)
        memo[key] = Outcome(**stored)
    return memo[key]


def thesis_defence(cfg: Config, **changes) -> Defence:
    """PD + R-CAM + WD at the tuned K, r, sigma (`tuned(cfg)`), with `changes` applied."""
    t = tuned(cfg)
    d = Defence("PD+R-CAM+WD", deflections=t["deflections"], window=t["window"], rcam=True, top_k=cfg.top_k,
                sigma=t["sigma"], post=("wavelet",))
    return replace(d, **changes)


# ---------------------------------------------------------------------------------------------
# Fig. 4.5: the linear search for K, r, sigma on held-out images


def _search_score(cfg: Config, name: str, d: Defence) -> dict[str, float]:
    """Single-run accuracy (%) of `d` on the held-out clean and attacked images, per attack, and the mean."""
    scores = {a: float(outcome(cfg, name, a, d, split="val", runs=cfg.search_runs).single.mean() * 100)
              for a in ("clean", *cfg.attacks)}
    return scores | {"mean": float(np.mean(list(scores.values())))}


def _search(cfg: Config) -> dict:
    """The thesis's linear search (Fig. 4.5), on `N_SEARCH` held-out validation images of the first classifier.

    Coordinate ascent from the thesis's values (`THESIS_*`: K=100, r=10, sigma=0.04): sigma over `SEARCH_SIGMA`,
    then r over `SEARCH_WINDOW`, then K over `SEARCH_DEFLECTIONS`, each with the others fixed at their
    current best; passes repeat until nothing changes (at most `SEARCH_PASSES`). The objective is the
    mean single-run accuracy over clean images and the six attacks (one setting for all attacks, as the
    thesis). Cached on disk (the search's own evaluations are cheap; the attacks are cached separately).

    Returns (cached as plain values): {"trace": DataFrame(pass, parameter, deflections, window, sigma,
    <attack>..., mean), "tuned": {deflections, window, sigma}, "start": the thesis values}.
    """
    name = cfg.models[0]
    start = thesis_setting(cfg)
    grids = {"sigma": cfg.search_sigma, "window": cfg.search_window, "deflections": cfg.search_deflections}

    def compute() -> dict:
        best, rows = dict(start), []
        for p in range(cfg.search_passes):
            before = dict(best)
            for param, grid in grids.items():
                scores = {}
                for v in grid:
                    trial = best | {param: v}
                    d = Defence("search", trial["deflections"], trial["window"], True, cfg.top_k,
                                sigma=trial["sigma"], post=("wavelet",))
                    scores[v] = _search_score(cfg, name, d)
                    rows.append({"pass": p + 1, "parameter": param, **trial, **scores[v]})
                best[param] = max(grid, key=lambda v: scores[v]["mean"])
            if best == before:
                break
        return {"trace": pd.DataFrame(rows), "tuned": best, "start": start}

    memo = cfg.memo(Memo)
    if memo.search is None:
        model_spec = classifier(cfg, name)[1]["spec"]
        spec = {"model": model_spec, "n": cfg.n_search, "grids": grids, "passes": cfg.search_passes,
                "runs": cfg.search_runs, "top_k": cfg.top_k, "attacks": list(cfg.attacks), "budgets": cfg.budgets,
                "attack_options": cfg.attack_options, "seeds": [cfg.attack_seed, cfg.defence_seed],
                "device": cfg.device.type}
        memo.search = cache.cached("pd_search", spec, compute, enabled=cfg.use_cache, code=CODE)
    return memo.search


def run_search(cfg: Config) -> SearchResult:
    """Fig. 4.5: the search (`_search`, cached) as a typed result."""
    res = _search(cfg)
    return SearchResult(res["trace"], Setting(**res["tuned"]), Setting(**res["start"]))


def thesis_setting(cfg: Config) -> dict:
    """The thesis's one setting (K, r, sigma) = `THESIS_DEFLECTIONS`, `THESIS_WINDOW`, `THESIS_SIGMA`."""
    return {"deflections": cfg.thesis_deflections, "window": cfg.thesis_window, "sigma": cfg.thesis_sigma}


def tuned(cfg: Config) -> dict:
    """K, r, sigma used by every table: the search's result, or the thesis's values when `TUNE` is False."""
    if not cfg.tune:
        return thesis_setting(cfg)
    return _search(cfg)["tuned"]


# ---------------------------------------------------------------------------------------------
# Tables 4.1-4.5 (+ the adaptive attack)


def adaptive(cfg: Config, name: str, d: Defence) -> Adversarial:
    """BPDA + EOT (Athalye et al. 2018) against defence `d` on the first `ADAPTIVE["n"]` test images;
    cached. Budget: the C&W budget (RMSE), PGD in the L2 ball (see `lib.attacks.bpda_eot`)."""
    model, info = classifier(cfg, name)
    batch = correct_images(cfg, name, "test", cfg.n_images)
    n = min(int(cfg.adaptive["n"]), len(batch.labels))
    x, y = batch.images[:n], batch.labels[:n]
    budget = float(cfg.adaptive["budget"])
    spec = {"model": info["spec"], "n": n, "defence": d.spec(), "adaptive": cfg.adaptive, "seed": cfg.attack_seed,
            "device": cfg.device.type, "index_digest": cache.spec_key({"i": batch.index[:n].tolist()})}

    def compute() -> dict:
        g = torch.Generator(device=x.device).manual_seed(cfg.attack_seed)

        def transform(z: Tensor) -> Tensor:
            sal = saliency_of(cfg, name, z, d.top_k) if d.rcam and d.deflections else None
            return defend(d, z, g, sal)

        adv = attacks.bpda_eot(model, x, y, transform, budget, steps=int(cfg.adaptive["steps"]),
                               eot=int(cfg.adaptive["eot"]))
        return {"images": adv.cpu()}

    key, memo = (name, d), cfg.memo(Memo).adaptive
    if key not in memo:
        memo[key] = cache.cached("pd_adaptive", spec, compute, enabled=cfg.use_cache, code=CODE)
    adv = memo[key]["images"].to(cfg.device)
    return Adversarial(adv, attacks.rmse(x, adv), budget, "adaptive")


def attack_rows(cfg: Config, levels: tuple[str, ...] = ("normal",)) -> list[tuple[str, str]]:
    """(attack, level) rows of Tables 4.1-4.5: Clean, then each attack per level (large: no C&W, as the thesis)."""
    rows = [("clean", "normal")]
    for level in levels:
        rows += [(a, level) for a in cfg.attacks if not (level == "large" and a == "cw")]
    return rows


def setting(cfg: Config) -> Setting:
    """`tuned(cfg)` as a typed `Setting` (every result carries it for the reports' scale note)."""
    return Setting(**tuned(cfg))


def run_tables4_1_4_5(cfg: Config) -> AttackTables:
    """No defence / Single / Ens-10 per attack for every classifier (normal budgets; the first classifier
    also at the large budgets, at the thesis's K/r/sigma, and under the adaptive attack).

    Returns `AttackTables`.
    """
    d = thesis_defence(cfg)
    thesis = thesis_defence(cfg, label="PD+R-CAM+WD (thesis K, r, sigma)", **thesis_setting(cfg))
    rows, outs, acc = [], {}, {}
    for i, name in enumerate(cfg.models):
        acc[name] = classifier(cfg, name)[1]["test_acc"]
        plan = [(a, lv, d) for a, lv in attack_rows(cfg, ("normal", "large") if i == 0 else ("normal",))]
        if i == 0:
            plan += [(a, lv, thesis) for a, lv in attack_rows(cfg)]
            if cfg.adaptive:
                plan += [("bpda", "adaptive", d)]
        for attack, level, defence in progress(plan, f"Tables 4.1-4.5 {MODEL_LABEL.get(name, name)}", total=len(plan)):
            o = outcome(cfg, name, attack, defence, level)
            outs[name, attack, level, defence.label] = o
            rows.append({"model": name, "attack": attack, "level": level, "defence": defence.label, **o.summary()})
    return AttackTables(pd.DataFrame(rows), outs, acc, d, setting(cfg))


# ---------------------------------------------------------------------------------------------
# Tables 4.6-4.8


def table4_6_defences(cfg: Config) -> list[Defence]:
    """Our rows of Table 4.6 (PD, PD+R-CAM, +DCT, +DWT) and the re-measured baselines (`BASELINES`)."""
    t = tuned(cfg)
    pd_ = Defence("PD", t["deflections"], t["window"], sigma=t["sigma"])
    ours = [pd_, replace(pd_, label="PD + R-CAM", rcam=True, top_k=cfg.top_k),
            replace(pd_, label="PD + R-CAM + DCT", rcam=True, top_k=cfg.top_k, post=("dct",)),
            replace(pd_, label="PD + R-CAM + DWT", rcam=True, top_k=cfg.top_k, post=("wavelet",))]
    named = {"bitdepth2": "Bit depth (2 bit)", "bitdepth5": "Bit depth (5 bit)", "median2": "Median smoothing (2x2)",
             "median3": "Median smoothing (3x3)", "nlm11-3-2": "Non-local means (11-3-2)",
             "nlm13-3-4": "Non-local means (13-3-4)", "resize_pad": "Random resizing + padding", "tvm": "TVM (TV denoising)"}
    base = [Defence(named[b], post=(b,)) if b == "resize_pad" else Defence(named[b], pre=(b,)) for b in cfg.baselines]
    return ours + base


def run_table4_6(cfg: Config) -> DefenceGrid:
    """Destruction rates of our rows and the re-measured baselines, first classifier, Table 4.6's attacks."""
    name, rows, outs = cfg.models[0], [], {}
    defences = table4_6_defences(cfg)
    plan = [(a, d) for d in defences for a in ("fgsm", "igsm", "deepfool", "cw") if a in cfg.attacks]
    for attack, d in progress(plan, "Table 4.6", total=len(plan)):
        o = outcome(cfg, name, attack, d)
        outs[attack, d.label] = o
        rows.append({"defence": d.label, "attack": attack, **o.summary()})
    return DefenceGrid(pd.DataFrame(rows), outs, [d.label for d in defences], setting(cfg))


def table4_7_defences(cfg: Config) -> list[Defence]:
    t = tuned(cfg)
    pd_ = Defence("PD", t["deflections"], t["window"], rcam=True, top_k=cfg.top_k, sigma=t["sigma"])
    return [Defence("JPEG", post=("jpeg",)), Defence("WD", sigma=t["sigma"], post=("wavelet",)), pd_,
            replace(pd_, label="PD+JPG", post=("jpeg",)), replace(pd_, label="PD+WD+JPG", post=("wavelet", "jpeg")),
            replace(pd_, label="PD+WD", post=("wavelet",))]


def _grid(cfg: Config, defences: list[Defence], title: str, runs: int | None = None) -> DefenceGrid:
    """Every defence on clean and normal-budget attacked images of the first classifier."""
    name, rows, outs = cfg.models[0], [], {}
    plan = [(a, d) for d in defences for a in ("clean", *cfg.attacks)]
    for attack, d in progress(plan, title, total=len(plan)):
        o = outcome(cfg, name, attack, d, runs=runs)
        outs[attack, d.label] = o
        rows.append({"defence": d.label, "attack": attack, **o.summary()})
    return DefenceGrid(pd.DataFrame(rows), outs, [d.label for d in defences], setting(cfg))


def run_table4_7(cfg: Config) -> DefenceGrid:
    """JPEG / WD / PD combinations (R-CAM on, as in the thesis's pipeline), Ens over `RUNS`."""
    return _grid(cfg, table4_7_defences(cfg), "Table 4.7")


def run_table4_8(cfg: Config) -> DefenceGrid:
    """PD + R-CAM followed by wavelet thresholding with hard / VisuShrink / SUREShrink / BayesShrink."""
    labels = {"hard": "Hard", "visu": "VISU", "sure": "SURE", "bayes": "Bayes"}
    return _grid(cfg, [thesis_defence(cfg, label=labels[s], shrink=s) for s in labels], "Table 4.8")


# ---------------------------------------------------------------------------------------------
# Tables 4.9-4.11


def run_tables4_9_4_11(cfg: Config) -> Sweeps:
    """Sweeps of K (Table 4.9) and r (Table 4.10), and Table 4.11's sampling / replacement / denoiser
    ablations, all on the first classifier at the tuned setting otherwise; accuracy of single runs
    (mean over `SWEEP_RUNS` runs)."""
    k = [thesis_defence(cfg, label=f"K={v}", deflections=v) for v in cfg.sweep_deflections]
    r = [thesis_defence(cfg, label=f"r={v}", window=v) for v in cfg.sweep_window]
    sampling = [thesis_defence(cfg, label=f"{s} r={v}", sampler=s, window=v)
                for s in ("uniform", "gaussian") for v in cfg.sweep_window]
    replacement = [thesis_defence(cfg, label=f"{m} r={v}", replacement=m, window=v)
                   for m in ("min", "max", "mean", "random") for v in cfg.sweep_window]
    denoisers = [thesis_defence(cfg, label=n, post=(n,)) for n in ("bilateral", "anisotropic", "tvm", "deconv", "wavelet")]
    parts = {"table4_9": k, "table4_10": r, "sampling": sampling, "replacement": replacement, "denoiser": denoisers}
    grids = {key: _grid(cfg, defences, key, runs=cfg.sweep_runs) for key, defences in parts.items()}
    return Sweeps(**grids, tuned=setting(cfg))


# ---------------------------------------------------------------------------------------------
# Figures 4.1-4.4, 4.6


def run_fig4_1(cfg: Config, count: int = 4) -> Fig4_1:
    """A few clean test images, deflected (tuned K, r, with R-CAM) and then denoised, for Fig. 4.1."""
    name = cfg.models[0]
    batch = correct_images(cfg, name, "test", cfg.n_images)
    x = batch.images[:count]
    d = thesis_defence(cfg)
    g = torch.Generator(device=x.device).manual_seed(cfg.defence_seed)
    sal = saliency_of(cfg, name, x, d.top_k)
    deflected = method.deflect(x, d.deflections, d.window, sal, g, d.mode)
    heavy = method.deflect(x, 10 * d.deflections, d.window, sal, torch.Generator(device=x.device).manual_seed(1), d.mode)
    return Fig4_1(clean=x.cpu(), deflected=deflected.cpu(), denoised=method.wavelet_denoise(deflected, d.sigma).cpu(),
                  heavy=heavy.cpu(), heavy_denoised=method.wavelet_denoise(heavy, d.sigma).cpu(), defence=d,
                  labels=batch.labels[:count].cpu(), classes=cfg.dataset().classes, tuned=setting(cfg))


def run_fig4_2(cfg: Config) -> Fig4_2:
    """Fig. 4.2 (`_fig4_2_rows`) as a typed result."""
    rows = _fig4_2_rows(cfg)
    return Fig4_2(rows, setting(cfg))


@torch.no_grad()
def _fig4_2_rows(cfg: Config) -> pd.DataFrame:
    """Mean probability of the true and the adversarial class vs the number of deflections (no denoiser,
    uniform locations), on clean and on IGSM images of the first classifier (`FIG4_2_N` images).

    Columns: images (clean | adversarial), deflections, fraction (of the C·H·W values deflected),
    p_true, p_adv (mean softmax probability), agree (% whose prediction equals the undeflected one).
    """
    name = cfg.models[0]
    model, _ = classifier(cfg, name)
    batch = correct_images(cfg, name, "test", cfg.n_images)
    n = min(cfg.fig4_2_n, len(batch.labels))
    attack = "igsm" if "igsm" in cfg.attacks else cfg.attacks[0]
    adv = adversarial(cfg, name, batch, attack).images[:n]
    x, y = batch.images[:n], batch.labels[:n]
    adv_class = predict(model, adv)
    size = x[0].numel()
    rows = []
    for kind, images in (("clean", x), ("adversarial", adv)):
        base = predict(model, images)
        for k in cfg.fig4_2_deflections:
            p, agree = [], []
            for r in range(cfg.sweep_runs):
                g = torch.Generator(device=x.device).manual_seed(r)
                z = method.deflect(images, k, tuned(cfg)["window"], None, g)
                prob = torch.softmax(model(z), 1)
                p.append(prob)
                agree.append((prob.argmax(1) == base).float())
            prob = torch.stack(p).mean(0)
            rows.append({"images": kind, "deflections": k, "fraction": k / size,
                         "p_true": float(prob.gather(1, y[:, None]).mean()),
                         "p_adv": float(prob.gather(1, adv_class[:, None]).mean()),
                         "agree": 100 * float(torch.stack(agree).mean())})
    return pd.DataFrame(rows)


def run_fig4_3(cfg: Config) -> Fig4_3:
    """Fig. 4.3 (`_fig4_3_maps`) as a typed result."""
    res = _fig4_3_maps(cfg)
    return Fig4_3(res["maps"], res["share"], setting(cfg))


@torch.no_grad()
def _fig4_3_maps(cfg: Config) -> dict:
    """Mean |perturbation| map per attack (normal budgets) and the mean R-CAM object map of the clean
    images, first classifier; plus, per attack and image, the share of the perturbation's energy that
    falls in the image's top-quarter R-CAM region ("on the object"; 0.25 = no preference).

    Returns {"maps": {name: [H, W]}, "share": DataFrame(attack, share)}.
    """
    name = cfg.models[0]
    batch = correct_images(cfg, name, "test", cfg.n_images)
    obj = saliency_of(cfg, name, batch.images, cfg.top_k)               # [N, H, W]
    thresh = obj.flatten(1).quantile(0.75, dim=1)[:, None, None]
    region = obj >= thresh
    maps, rows = {"object (R-CAM)": obj.mean(0).cpu()}, []
    levels = [(a, "normal") for a in cfg.attacks] + ([("fgsm", "large")] if "fgsm" in cfg.attacks else [])
    for attack, level in levels:
        adv = adversarial(cfg, name, batch, attack, level)
        delta = (adv.images - batch.images).abs().sum(1)                 # [N, H, W]
        label = LABEL[attack] + (" (large)" if level == "large" else "")
        maps[label] = delta.mean(0).cpu()
        energy = (delta ** 2)
        share = (energy * region).flatten(1).sum(1) / energy.flatten(1).sum(1).clamp_min(1e-12)
        area = region.flatten(1).float().mean(1)
        moved = energy.flatten(1).sum(1) > 0
        rows += [{"attack": label, "share": float(s), "area": float(a)} for s, a in zip(share[moved], area[moved])]
    return {"maps": maps, "share": pd.DataFrame(rows)}


def _map_corr(a: Tensor, b: Tensor) -> list[float]:
    """Per image: Pearson correlation of two maps `[N, H, W]`."""
    a, b = a.flatten(1), b.flatten(1)
    a, b = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
    return (a * b).sum(1).div((a.norm(dim=1) * b.norm(dim=1)).clamp_min(1e-12)).tolist()


def map_stability(cfg: Config) -> dict:
    """Per image: correlation between the clean and adversarial CAM (top class) and R-CAM maps."""
    name = cfg.models[0]
    batch = correct_images(cfg, name, "test", cfg.n_images)
    attack = "cw" if "cw" in cfg.attacks else cfg.attacks[-1]
    adv = adversarial(cfg, name, batch, attack).images
    cam = _map_corr(saliency_of(cfg, name, batch.images, 1), saliency_of(cfg, name, adv, 1))
    rcam = _map_corr(saliency_of(cfg, name, batch.images, cfg.top_k), saliency_of(cfg, name, adv, cfg.top_k))
    return {"cam_corr": cam, "rcam_corr": rcam}


def run_fig4_4(cfg: Config, count: int = 4) -> Fig4_4:
    """Fig. 4.4: the maps of `count` images (`_fig4_4_maps`), then the stability of the maps over the whole
    image set (`map_stability`)."""
    maps = _fig4_4_maps(cfg, count)
    stability = map_stability(cfg)
    return Fig4_4(**maps, **stability, tuned=setting(cfg))


@torch.no_grad()
def _fig4_4_maps(cfg: Config, count: int = 4) -> dict:
    """CAM of the predicted class and R-CAM on clean and adversarial (C&W or the last attack) images."""
    name = cfg.models[0]
    batch = correct_images(cfg, name, "test", cfg.n_images)
    attack = "cw" if "cw" in cfg.attacks else cfg.attacks[-1]
    adv = adversarial(cfg, name, batch, attack).images[:count]
    x = batch.images[:count]
    out = {"clean": x.cpu(), "adversarial": adv.cpu(), "attack": attack}
    for kind, images in (("clean", x), ("adversarial", adv)):
        out[f"cam_{kind}"] = saliency_of(cfg, name, images, 1).cpu()
        out[f"rcam_{kind}"] = saliency_of(cfg, name, images, cfg.top_k).cpu()
    return out


def run_fig4_6(cfg: Config) -> Fig4_6:
    """Fig. 4.6 (`_fig4_6_rows`) as a typed result."""
    rows = _fig4_6_rows(cfg)
    return Fig4_6(rows, setting(cfg))


@torch.no_grad()
def _fig4_6_rows(cfg: Config) -> pd.DataFrame:
    """Per attack (normal budgets, every classifier) and successfully attacked image: the rank (1-5, 0 =
    outside the top 5) of the adversarial class in the clean image's prediction, and of the true class
    in the adversarial image's prediction. Columns: model, attack, adv_rank_in_clean, true_rank_in_adv."""
    rows = []
    for name in cfg.models:
        model, _ = classifier(cfg, name)
        batch = correct_images(cfg, name, "test", cfg.n_images)
        clean_top = torch.cat([model(x).topk(5, 1).indices for x in batch.images.split(500)])
        for attack in cfg.attacks:
            adv = adversarial(cfg, name, batch, attack).images
            adv_top = torch.cat([model(x).topk(5, 1).indices for x in adv.split(500)])
            fooled = adv_top[:, 0] != batch.labels

            def rank(top: Tensor, cls: Tensor) -> Tensor:
                hit = top == cls[:, None]
                return torch.where(hit.any(1), hit.float().argmax(1) + 1, torch.zeros_like(cls))

            r1, r2 = rank(clean_top, adv_top[:, 0])[fooled], rank(adv_top, batch.labels)[fooled]
            rows += [{"model": name, "attack": attack, "adv_rank_in_clean": int(a), "true_rank_in_adv": int(b)}
                     for a, b in zip(r1.tolist(), r2.tolist())]
    return pd.DataFrame(rows)


def classifiers_table(cfg: Config) -> pd.DataFrame:
    """Each classifier: family, parameters, clean test accuracy (%) on the whole test split, training time."""
    rows = []
    for name in cfg.models:
        model, info = classifier(cfg, name)
        rows.append({"model": MODEL_LABEL.get(name, name), "parameters": sum(p.numel() for p in model.parameters()),
                     "test accuracy (%)": round(info["test_acc"], 1), "training (s)": round(info.get("seconds", 0.0)),
                     "source": info.get("source", "torchvision weights")})
    return pd.DataFrame(rows).set_index("model")
