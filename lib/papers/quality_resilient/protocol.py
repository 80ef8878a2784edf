"""The experiments of Dodge & Karam, *Quality Resilient DNNs*: one `run_*` per artefact group.

Pipeline per seed (each step cached on disk by spec, `lib.cache`, and once per run in `Memo`):
    1. M_clean: `vgg16_slim` trained from scratch on clean images (the paper fine-tunes ImageNet VGG-16;
       nothing pretrained exists at 32×32 here): `lib.recipes.train_model` (SGD Nesterov, one-cycle,
       crop + flip, no label smoothing so that softmax outputs stay plain).
    2. M_noise, M_blur, M_all: fine-tuned from M_clean with Section 2's recipe (`method.train_classifier`):
       half of each batch distorted (M_all: ¼ noise, ¼ blur), each image at its own level drawn from
       U(0, NOISE_MAX) / U(0, BLUR_MAX); early stopping on a fixed distorted validation set.
    3. Eq. 4 per distortion type and level on the validation set (SLSQP, EM cross-check).
    4. The gating net (Table 1) on Eq. 5: batches ½ clean, ¼ noise, ¼ blur, levels drawn from the test
       grid (the targets exist only there), clean images take level 0's target.
    5. Test: every test image at every level of both distortions (fixed draws, 8-bit quantised), softmax
       outputs of the four experts and the gate's weights; every ensemble follows from them.
Tree structures (Tables 6–7) use seed SEEDS[0]: members start from M_clean, the shared part frozen
(BN in eval mode), the rest fine-tuned per distortion; the clean member is M_clean; the gate is step 4's.

Data subsets are fixed (stratified, seed 0) across seeds; seeds change initialisation, batch order
and the training distortions, so comparisons are paired over seeds on identical test images.
"""
from __future__ import annotations

import copy
import hashlib
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lib import cache, distortions, paths, recipes, repro
from lib import data as data_module
from lib.config import Config
from lib.data import Dataset, ImageSet, stratified_subset
from lib.papers.quality_resilient import method, paper, pretrained, results
from lib.papers.quality_resilient.results import (
    CurvesResult,
    ExamplesResult,
    GateResult,
    NeuronsResult,
    TreesResult,
    WeightsResult,
)

CODE = [sys.modules[__name__], method, pretrained, results, distortions, data_module, repro, recipes]   # what cached values depend on
EXPERT_MODELS = ("M_clean", "M_noise", "M_blur", "M_all")
FOLDER_SPLITS = ("per_class", "given")   # SPLIT values that read DATA = imagefolder:PATH at CROP²
EVAL_BATCH = 500


# ---------------------------------------------------------------------------------------------
# Data and distortions


@dataclass
class Splits:
    """The fixed subsets (uint8 images on the compute device), the class names and what identifies the data."""

    train: ImageSet
    val: ImageSet
    test: ImageSet
    classes: list[str]
    fingerprint: str


@dataclass
class Memo:
    """Per notebook run: the splits, the models of each seed, the evaluations."""

    splits: Splits | None = None
    clean: dict[int, tuple[method.VGG16, dict]] = field(default_factory=dict)
    experts: dict[tuple[int, str], tuple[method.VGG16, dict]] = field(default_factory=dict)
    weights: dict[int, dict] = field(default_factory=dict)
    gate: dict[int, tuple[method.GatingNet, dict]] = field(default_factory=dict)
    evals: dict[int, dict] = field(default_factory=dict)


def _subset(images: ImageSet, n: int, seed: int) -> ImageSet:
    return images if n == 0 or n >= len(images) else stratified_subset(images, n, seed)


def _digest(*sets: ImageSet) -> str:
    """A content digest of image sets (labels and every 4th pixel row and column)."""
    h = hashlib.sha256()
    for s in sets:
        h.update(s.labels.cpu().numpy().tobytes())
        h.update(s.images[:, :, ::4, ::4].contiguous().cpu().numpy().tobytes())
    return h.hexdigest()[:16]


def splits(cfg: Config) -> Splits:
    """SPLIT = suite: `lib.data`'s splits of DATA; per_class: DATA = imagefolder:PATH (any image sizes)
    resized to CROP² and split per class by PER_CLASS (Caltech: 25 / 5 / ≤ 50); given: the folder's own
    train/ and test/ at CROP², VAL_FRACTION of each class's training held out (Scene-67, ImageNet-50).
    Then stratified subsets of TRAIN_SIZE / VAL_SIZE / TEST_SIZE images (0: all), fixed across seeds."""
    memo = cfg.memo(Memo)
    if memo.splits is None:
        if cfg.split in FOLDER_SPLITS:
            kind, _, arg = cfg.data.partition(":")
            if kind != "imagefolder" or not arg:
                raise ValueError(f"SPLIT={cfg.split!r} needs DATA='imagefolder:PATH', got DATA={cfg.data!r}")
            path = Path(arg).expanduser()
            path = path if path.is_absolute() else paths.ROOT / path
            if cfg.split == "per_class":
                n_train, n_val, max_test = cfg.per_class
                classes, tr, va, te = pretrained.load_per_class(path, cfg.crop, n_train, n_val, max_test, seed=0)
            else:
                classes, tr, va, te = pretrained.load_given(path, cfg.crop, cfg.val_fraction, seed=0)
            tr, va, te = tr.to(cfg.device), va.to(cfg.device), te.to(cfg.device)
            fingerprint = f"{cfg.split}-{_digest(tr, va, te)}"
        else:
            data: Dataset = cfg.dataset()
            classes, tr, va, te, fingerprint = list(data.classes), data.train, data.val, data.test, data.fingerprint
        if not len(va) or not len(te):
            raise ValueError(f"empty validation ({len(va)}) or test ({len(te)}) split; see SPLIT / PER_CLASS")
        memo.splits = Splits(_subset(tr, cfg.train_size, 0), _subset(va, cfg.val_size, 0),
                             _subset(te, cfg.test_size, 0), classes, fingerprint)
    return memo.splits


def levels(cfg: Config) -> dict[str, list[float]]:
    """The test grid per distortion: `LEVELS` equally spaced values from 0 to the maximum."""
    return {"noise": method.level_grid(cfg.noise_max, cfg.levels), "blur": method.level_grid(cfg.blur_max, cfg.levels)}


def distorted(images: Tensor, kind: str, level: float, seed: int, batch_size: int = 1000) -> Tensor:
    """A fixed distorted copy of uint8 images `[N, 3, H, W]` -> uint8 (8-bit quantised).

    noise: AWGN σ = `level` (0–255), noise drawn on the CPU from `seed` (independent of batching);
    blur: σ = `level` px, SciPy rule (truncate 4σ, reflected borders). Level 0 returns the images.
    """
    if level == 0:
        return images
    out = torch.empty_like(images)
    if kind == "noise":
        noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(int(seed))) * (level / 255.0)
    for s in range(0, len(images), batch_size):
        x = images[s:s + batch_size].float() / 255.0
        if kind == "noise":
            y = (x + noise[s:s + batch_size].to(x.device)).clamp(0, 1)
        elif kind == "blur":
            y = distortions.blur_per_sample(x, float(level))
        else:
            raise ValueError(f"unknown distortion {kind!r}; valid: noise, blur")
        out[s:s + batch_size] = torch.round(y * 255.0).to(torch.uint8)
    return out


def _float(x: Tensor) -> Tensor:
    x = x.float() / 255.0 if x.dtype == torch.uint8 else x
    return x.contiguous(memory_format=torch.channels_last)


@torch.no_grad()
def softmax_outputs(model: nn.Module, images: Tensor) -> Tensor:
    """`[N, C]` float32 softmax rows of `model` (eval mode) for uint8 or [0, 1] float images."""
    model.eval()
    return torch.cat([F.softmax(model(_float(images[s:s + EVAL_BATCH])), 1) for s in range(0, len(images), EVAL_BATCH)])


@torch.no_grad()
def gate_outputs(gate: nn.Module, images: Tensor) -> Tensor:
    """`[N, 3]` gate weights for uint8 or [0, 1] float images."""
    gate.eval()
    return torch.cat([gate(_float(images[s:s + EVAL_BATCH])) for s in range(0, len(images), EVAL_BATCH)])


def _state(model: nn.Module) -> dict[str, Tensor]:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def _data_spec(cfg: Config) -> dict:
    return {"data": splits(cfg).fingerprint, "sizes": [cfg.train_size, cfg.val_size, cfg.test_size],
            "split": cfg.split, "per_class": cfg.per_class if cfg.split == "per_class" else None,
            "val_fraction": cfg.val_fraction if cfg.split == "given" else None,
            "crop": cfg.crop if cfg.split in FOLDER_SPLITS else None}


def new_network(cfg: Config) -> method.VGG16:
    """M_clean's starting point: `vgg16_slim` (random init) or torchvision's ImageNet VGG-16 with a new fc8."""
    n = len(splits(cfg).classes)
    if cfg.network == "vgg16_imagenet":
        size = cfg.crop if cfg.split in FOLDER_SPLITS else int(splits(cfg).test.images.shape[-1])
        return pretrained.load_vgg16_imagenet(n, cfg.weights, input_size=size)
    return method.vgg16_slim(num_classes=n, width=cfg.width, fc=cfg.fc)


# ---------------------------------------------------------------------------------------------
# Step 1: M_clean


def clean_recipe(cfg: Config) -> recipes.Recipe:
    return recipes.Recipe(epochs=cfg.clean_epochs, lr=cfg.clean_lr, batch_size=128, label_smoothing=0.0)


def m_clean(cfg: Config, seed: int) -> tuple[method.VGG16, dict]:
    """M_clean of `seed` (cached): model in eval mode on the device, info (curve, seconds, test accuracy)."""
    memo = cfg.memo(Memo).clean
    if seed not in memo:
        sp = splits(cfg)
        if cfg.network == "vgg16_imagenet":
            how = {"network": "vgg16_imagenet", "weights": str(pretrained.default_checkpoint() if cfg.weights is None
                                                               else cfg.weights),
                   "sgd": asdict(sgd_config(cfg, cfg.clean_epochs, cfg.expert_lr)), "fc8_lr": cfg.fc8_lr}
        else:
            how = {"width": cfg.width, "fc": cfg.fc, "recipe": asdict(clean_recipe(cfg))}
        spec = _data_spec(cfg) | how | {"seed": seed}

        def compute() -> dict:
            repro.seed_everything(seed)
            model = new_network(cfg).to(cfg.device).to(memory_format=torch.channels_last)
            t0 = time.perf_counter()
            if cfg.network == "vgg16_imagenet":    # Section 2: fine-tune on clean images, new fc8 at 10× lr
                hist = method.train_classifier(
                    model, sp.train.images, sp.train.labels, lambda b, step: _float(b), _ce_loss(sp.val.images, sp.val.labels),
                    sgd_config(cfg, cfg.clean_epochs, cfg.expert_lr), seed,
                    lr_for=lambda name: cfg.fc8_lr if name.startswith("layers.fc8.") else cfg.expert_lr)
                steps, source = hist.total_steps, "torchvision ImageNet VGG-16 (fc8 new), fine-tuned on clean images"
                extra = {"history": asdict(hist)}
            else:
                curve, _ = recipes.train_model(model, sp.train, sp.val, clean_recipe(cfg), seed, log=lambda s: None)
                steps, source = len(curve.epoch) * (len(sp.train) // 128), "trained here from scratch (lib.recipes.train_model)"
                extra = {"curve": asdict(curve)}
            seconds = time.perf_counter() - t0
            batch = cfg.expert_batch if cfg.network == "vgg16_imagenet" else 128
            return {"state": _state(model), "config": model.config, "seconds": seconds, "source": source,
                    "images_per_s": steps * batch / max(seconds, 1e-9), "steps": steps, **extra}

        stored = cache.cached("qr_clean", spec, compute, enabled=cfg.use_cache, code=CODE)
        model = method.VGG16(**stored["config"])
        model.load_state_dict(stored["state"])
        model.to(cfg.device).eval()
        memo[seed] = (model, {k: v for k, v in stored.items() if k != "state"} | {"spec": spec})
    return memo[seed]


# ---------------------------------------------------------------------------------------------
# Step 2: experts


def sgd_config(cfg: Config, epochs: int, lr: float) -> method.SGDConfig:
    return method.SGDConfig(lr=lr, momentum=cfg.momentum, batch_size=cfg.expert_batch, max_epochs=epochs,
                            eval_every=cfg.eval_every, patience=cfg.patience)


def _random_batch_maker(cfg: Config, plan: method.BatchPlan, seed: int):
    """(uint8 batch, step) -> float batch distorted by `plan`, each image at its own U(0, max) level."""
    gen = torch.Generator(device=cfg.device).manual_seed(int(seed))

    def make(batch: Tensor, step: int) -> Tensor:
        _, n_noise, n_blur = plan.counts(len(batch))
        noise = method.uniform_levels(n_noise, cfg.noise_max, gen, cfg.device)
        blur = method.uniform_levels(n_blur, cfg.blur_max, gen, cfg.device)
        x, _ = method.mixed_batch(batch.float() / 255.0, plan, noise, blur, gen)
        return x.contiguous(memory_format=torch.channels_last)

    return make


def fixed_validation(cfg: Config, plan: method.BatchPlan, seed: int) -> Tensor:
    """The validation images distorted once by `plan` (random levels, fixed by `seed`): `[N, 3, H, W]` float."""
    sp = splits(cfg)
    make = _random_batch_maker(cfg, plan, seed)
    return torch.cat([make(sp.val.images[s:s + EVAL_BATCH], 0) for s in range(0, len(sp.val), EVAL_BATCH)])


def _ce_loss(images: Tensor, labels: Tensor):
    @torch.no_grad()
    def loss(model: nn.Module) -> float:
        total = 0.0
        for s in range(0, len(labels), EVAL_BATCH):
            total += F.cross_entropy(model(_float(images[s:s + EVAL_BATCH])), labels[s:s + EVAL_BATCH],
                                     reduction="sum").item()
        return total / len(labels)
    return loss


def finetune_member(cfg: Config, seed: int, kind: str, structure: str | None = None, branch: str | None = None,
                    epochs: int | None = None) -> tuple[method.VGG16, dict]:
    """M_clean fine-tuned with plan `kind` (noise | blur | all); with `structure` (tree | inverted) and
    `branch`, only the unshared part trains (a member of a tree structure). Cached by spec."""
    base, base_info = m_clean(cfg, seed)
    sp = splits(cfg)
    epochs = epochs or cfg.expert_epochs
    conf = sgd_config(cfg, epochs, cfg.expert_lr)
    spec = {"clean": base_info["spec"], "kind": kind, "structure": structure, "branch": branch,
            "sgd": asdict(conf), "noise_max": cfg.noise_max, "blur_max": cfg.blur_max, "seed": seed}

    def compute() -> dict:
        model = copy.deepcopy(base).to(memory_format=torch.channels_last)
        frozen = method.freeze_for_member(model, structure, branch) if structure else []
        plan = method.PLANS[kind]
        val = fixed_validation(cfg, plan, repro.derive_seed("val", kind))
        hist = method.train_classifier(model, sp.train.images, sp.train.labels,
                                       _random_batch_maker(cfg, plan, repro.derive_seed("train", kind, seed)),
                                       _ce_loss(val, sp.val.labels), conf, seed, frozen)
        return {"state": _state(model), "history": asdict(hist)}

    stored = cache.cached("qr_expert", spec, compute, enabled=cfg.use_cache, code=CODE)
    model = method.VGG16(**base.config)
    model.load_state_dict(stored["state"])
    return model.to(cfg.device).eval(), {"history": stored["history"], "spec": spec}


def expert(cfg: Config, seed: int, kind: str) -> tuple[method.VGG16, dict]:
    """M_noise, M_blur or M_all (`kind` noise | blur | all) of `seed`."""
    memo = cfg.memo(Memo).experts
    if (seed, kind) not in memo:
        memo[seed, kind] = finetune_member(cfg, seed, kind)
    return memo[seed, kind]


def experts(cfg: Config, seed: int) -> list[method.VGG16]:
    """[M_clean, M_noise, M_blur] (the order of `method.EXPERTS`)."""
    return [m_clean(cfg, seed)[0], expert(cfg, seed, "noise")[0], expert(cfg, seed, "blur")[0]]


# ---------------------------------------------------------------------------------------------
# Step 3: optimal weights (Eq. 4)


def optimal_weight_table(cfg: Config, seed: int) -> dict:
    """Eq. 4 per (kind, level) on the validation set (cached): {"table": {kind: `[L, 3]`}, "rows": [...],
    "seconds": solve time}. Level 0 is the clean validation set, shared by both kinds."""
    memo = cfg.memo(Memo).weights
    if seed in memo:
        return memo[seed]
    sp = splits(cfg)
    nets = experts(cfg, seed)
    spec = {"experts": [m_clean(cfg, seed)[1]["spec"]] + [expert(cfg, seed, k)[1]["spec"] for k in ("noise", "blur")],
            "levels": levels(cfg), "tol": cfg.weight_tol}

    def compute() -> dict:
        rows, table, seconds = [], {}, 0.0
        labels = sp.val.labels
        for kind, grid in levels(cfg).items():
            ws = []
            for li, level in enumerate(grid):
                imgs = distorted(sp.val.images, kind, level, repro.derive_seed("val-eq4", kind, li))
                probs = torch.stack([softmax_outputs(m, imgs) for m in nets], 1)
                t0 = time.perf_counter()
                sol = method.solve_weights(probs, labels, tol=cfg.weight_tol)
                seconds += time.perf_counter() - t0
                ws.append(sol.slsqp)
                rows.append({"kind": kind, "level_index": li, "level": level,
                             **{f"w_{e}": float(w) for e, w in zip(method.EXPERTS, sol.slsqp)},
                             **{f"em_{e}": float(w) for e, w in zip(method.EXPERTS, sol.em)},
                             "max_diff": sol.max_diff, "agree": sol.agree, "objective_slsqp": sol.objective_slsqp,
                             "objective_em": sol.objective_em, "slsqp_success": sol.slsqp_success, "n": sol.n})
            table[kind] = torch.tensor(np.stack(ws), dtype=torch.float64)
        return {"table": table, "rows": rows, "seconds": seconds}

    memo[seed] = cache.cached("qr_weights", spec, compute, enabled=cfg.use_cache, code=CODE)
    return memo[seed]


# ---------------------------------------------------------------------------------------------
# Step 4: gating network


def _gate_batch_maker(cfg: Config, table: dict[str, Tensor], seed: int):
    """(uint8 batch, step) -> (float batch ½ clean ¼ noise ¼ blur at grid levels, Eq. 5 targets)."""
    grid = {k: torch.tensor(v) for k, v in levels(cfg).items()}
    gen = torch.Generator(device=cfg.device).manual_seed(int(seed))
    plan = method.PLANS["all"]

    def make(batch: Tensor, step: int) -> tuple[Tensor, Tensor]:
        n_clean, n_noise, n_blur = plan.counts(len(batch))
        li_noise = torch.randint(1, cfg.levels, (n_noise,), generator=gen, device=cfg.device)
        li_blur = torch.randint(1, cfg.levels, (n_blur,), generator=gen, device=cfg.device)
        x, kinds = method.mixed_batch(batch.float() / 255.0, plan, grid["noise"].to(cfg.device)[li_noise].float(),
                                      grid["blur"].to(cfg.device)[li_blur].float(), gen)
        idx = torch.cat([torch.zeros(n_clean, dtype=torch.int64, device=cfg.device), li_noise, li_blur])
        return x.contiguous(memory_format=torch.channels_last), method.gate_targets(kinds, idx, table).to(x.device)

    return make


def gating_net(cfg: Config, seed: int) -> tuple[method.GatingNet, dict]:
    """The gate of `seed`, trained on Eq. 5 against `optimal_weight_table` (cached)."""
    memo = cfg.memo(Memo).gate
    if seed in memo:
        return memo[seed]
    sp = splits(cfg)
    weights = optimal_weight_table(cfg, seed)
    conf = sgd_config(cfg, cfg.gate_epochs, cfg.gate_lr)
    spec = {"weights": [r | {} for r in weights["rows"]], "sgd": asdict(conf), "lambda": cfg.gate_lambda,
            "seed": seed, **_data_spec(cfg)}

    def compute() -> dict:
        torch.manual_seed(seed)
        gate = method.GatingNet().to(cfg.device).to(memory_format=torch.channels_last)
        val_x, val_t = [], []
        make_val = _gate_batch_maker(cfg, weights["table"], repro.derive_seed("gate-val"))
        for s in range(0, len(sp.val), EVAL_BATCH):
            x, t = make_val(sp.val.images[s:s + EVAL_BATCH], 0)
            val_x.append(x)
            val_t.append(t)
        vx, vt = torch.cat(val_x), torch.cat(val_t)

        @torch.no_grad()
        def val_loss(g: nn.Module) -> float:
            return float(method.gate_loss(gate_outputs(g, vx), vt, cfg.gate_lambda))

        hist = method.train_gate(gate, sp.train.images, _gate_batch_maker(cfg, weights["table"],
                                                                          repro.derive_seed("gate", seed)),
                                 val_loss, conf, seed, cfg.gate_lambda)
        uniform = float(method.gate_loss(torch.full_like(vt, 1 / 3), vt, cfg.gate_lambda))
        return {"state": _state(gate), "history": asdict(hist), "uniform_val_loss": uniform}

    stored = cache.cached("qr_gate", spec, compute, enabled=cfg.use_cache, code=CODE)
    gate = method.GatingNet()
    gate.load_state_dict(stored["state"])
    memo[seed] = (gate.to(cfg.device).eval(), {k: v for k, v in stored.items() if k != "state"} | {"spec": spec})
    return memo[seed]


# ---------------------------------------------------------------------------------------------
# Step 5: test evaluation


def evaluation(cfg: Config, seed: int) -> dict:
    """Softmax outputs of the four experts and the gate's weights on every test condition (cached).

    Returns {"probs": {(kind, level_index): `[N, 4, C]` float32 (M_clean, M_noise, M_blur, M_all)},
             "gate": {(kind, level_index): `[N, 3]` float32}, "labels": `[N]`}; level 0 is the clean set,
    shared by both kinds.
    """
    memo = cfg.memo(Memo).evals
    if seed in memo:
        return memo[seed]
    sp = splits(cfg)
    nets = experts(cfg, seed) + [expert(cfg, seed, "all")[0]]
    gate, gate_info = gating_net(cfg, seed)
    spec = {"models": [m_clean(cfg, seed)[1]["spec"]] + [expert(cfg, seed, k)[1]["spec"] for k in ("noise", "blur", "all")],
            "gate": gate_info["spec"], "levels": levels(cfg)}

    def compute() -> dict:
        probs, weights = {}, {}
        for kind, grid in levels(cfg).items():
            for li in range(len(grid)):
                key = "clean" if li == 0 else f"{kind}:{li}"
                if key not in probs:
                    imgs = condition_images(cfg, kind, li)
                    probs[key] = torch.stack([softmax_outputs(m, imgs) for m in nets], 1).cpu()
                    weights[key] = gate_outputs(gate, imgs).cpu()
        return {"probs": probs, "gate": weights, "labels": sp.test.labels.cpu()}

    stored = cache.cached("qr_eval", spec, compute, enabled=cfg.use_cache, code=CODE)
    key = lambda kind, li: "clean" if li == 0 else f"{kind}:{li}"   # noqa: E731
    out = {"probs": {(k, li): stored["probs"][key(k, li)].float() for k in method.KINDS for li in range(cfg.levels)},
           "gate": {(k, li): stored["gate"][key(k, li)] for k in method.KINDS for li in range(cfg.levels)},
           "labels": stored["labels"]}
    memo[seed] = out
    return out


def condition_images(cfg: Config, kind: str, level_index: int) -> Tensor:
    """The fixed distorted test set of one condition (uint8, on the device); identical for every model."""
    level = levels(cfg)[kind][level_index]
    return distorted(splits(cfg).test.images, kind, level, repro.derive_seed("test", kind, level_index))


def model_predictions(probs: Tensor, gate: Tensor) -> dict[str, Tensor]:
    """`[N]` predictions of the eight models of Tables 2–5 from `[N, 4, C]` expert outputs and `[N, 3]` gate weights."""
    p3 = probs[:, :3]
    out = {m: probs[:, i].argmax(1) for i, m in enumerate(EXPERT_MODELS)}
    out["M_avg"] = method.ensemble_avg(p3).argmax(1)
    out["M_max"] = method.ensemble_max(p3)
    out["M_hardmix"] = method.ensemble_hardmix(p3, gate).argmax(1)
    out["M_mix"] = method.ensemble_mix(p3, gate).argmax(1)
    return out


# ---------------------------------------------------------------------------------------------
# Artefacts


def run_curves(cfg: Config) -> CurvesResult:
    """Accuracy of all eight models (Tables 2–5 rows) at every test level, per seed; AUC per model.

    Feeds Fig. 2 (M_clean, M_noise, M_blur), Fig. 5 (M_mix, M_avg, M_all) and Tables 2–5.
    """
    grid = levels(cfg)
    rows, aucs, models = [], [], []
    for seed in cfg.seeds:
        ev = evaluation(cfg, seed)
        labels = ev["labels"]
        for kind in method.KINDS:
            for li, level in enumerate(grid[kind]):
                preds = model_predictions(ev["probs"][kind, li], ev["gate"][kind, li])
                rows += [{"seed": seed, "model": m, "kind": kind, "level_index": li, "level": level,
                          "acc": float((p == labels).float().mean())} for m, p in preds.items()]
        df = pd.DataFrame([r for r in rows if r["seed"] == seed])
        for m in paper.MODELS:
            entry = {"seed": seed, "model": m}
            for kind in method.KINDS:
                d = df[(df.model == m) & (df.kind == kind)].sort_values("level_index")
                entry[kind] = method.auc(d.level.tolist(), d.acc.tolist())
                entry[f"{kind}_mean"] = method.auc_mean(d.acc.tolist())
            entry["average"] = (entry["noise"] + entry["blur"]) / 2
            aucs.append(entry)
        clean_model, ci = m_clean(cfg, seed)
        clean_acc = {m: float(df[(df.model == m) & (df.level_index == 0) & (df.kind == "noise")].acc.iloc[0])
                     for m in EXPERT_MODELS}
        models.append({"seed": seed, "model": "M_clean", "source": ci["source"],
                       "clean_acc": clean_acc["M_clean"], "steps": ci["steps"], "seconds": ci["seconds"],
                       "images_per_s": ci["images_per_s"]})
        for kind, name in (("noise", "M_noise"), ("blur", "M_blur"), ("all", "M_all")):
            h = expert(cfg, seed, kind)[1]["history"]
            models.append({"seed": seed, "model": name, "source": f"fine-tuned from M_clean (best step {h['best_step']})",
                           "clean_acc": clean_acc[name], "steps": h["total_steps"],
                           "seconds": h["total_steps"] * cfg.expert_batch / max(h["images_per_s"], 1e-9),
                           "images_per_s": h["images_per_s"]})
    return CurvesResult(pd.DataFrame(rows), pd.DataFrame(aucs), pd.DataFrame(models), grid, len(splits(cfg).test))


def run_fig4(cfg: Config) -> WeightsResult:
    """Eq. 4's optimal weights per distortion type and level (validation set), SLSQP and EM, per seed."""
    rows, seconds = [], {}
    for seed in cfg.seeds:
        w = optimal_weight_table(cfg, seed)
        rows += [{"seed": seed, **r} for r in w["rows"]]
        seconds[seed] = w["seconds"]
    return WeightsResult(pd.DataFrame(rows), cfg.weight_tol, seconds)


def run_table1(cfg: Config) -> GateResult:
    """The gating network: Table 1's layers with our parameter counts, its Eq. 5 training per seed, and
    how its mean output on the test conditions compares with the Eq. 4 targets."""
    gate = method.GatingNet()
    hyper = paper.TABLE1.set_index("Layer")["Hyper parameters"]
    names = ["Conv-1", "Conv-2", "Conv3", "Conv-4", "Conv-5", "Conv-6", "Conv-7"]
    layers = pd.DataFrame([{"layer": n, "hyper": hyper[n], "params": method.count_params(c)}
                           for n, c in zip(names, gate.convs)])
    hist, fit = [], []
    grid = levels(cfg)
    for seed in cfg.seeds:
        _, info = gating_net(cfg, seed)
        h = info["history"]
        hist += [{"seed": seed, "step": s, "val_loss": v, "uniform_val_loss": info["uniform_val_loss"]}
                 for s, v in zip(h["steps"], h["val_loss"])]
        ev = evaluation(cfg, seed)
        table = optimal_weight_table(cfg, seed)["table"]
        for kind in method.KINDS:
            for li, level in enumerate(grid[kind]):
                g = ev["gate"][kind, li].mean(0)
                t = table[kind][li]
                fit.append({"seed": seed, "kind": kind, "level_index": li, "level": level,
                            **{f"g_{e}": float(g[i]) for i, e in enumerate(method.EXPERTS)},
                            **{f"t_{e}": float(t[i]) for i, e in enumerate(method.EXPERTS)}})
    return GateResult(layers, method.count_params(gate), pd.DataFrame(hist), pd.DataFrame(fit))


def run_fig1(cfg: Config) -> ExamplesResult:
    """One test image clean, noisy and blurred (level index `FIG1_LEVEL`) with the predictions of M_clean,
    M_noise, M_blur and M_mix (seed SEEDS[0]). Picked: the first test image that M_mix classifies right in
    all three rows and M_clean gets wrong in at least one; else the first M_mix gets right in all rows;
    else image 0."""
    seed = cfg.seeds[0]
    li = min(cfg.fig1_level, cfg.levels - 1)
    ev = evaluation(cfg, seed)
    labels = ev["labels"]
    conds = [("clean", "noise", 0), ("noise", "noise", li), ("blur", "blur", li)]
    preds = [model_predictions(ev["probs"][k, i], ev["gate"][k, i]) for _, k, i in conds]
    shown = ("M_clean", "M_noise", "M_blur", "M_mix")
    mix_right = torch.stack([p["M_mix"] == labels for p in preds]).all(0)
    clean_wrong = torch.stack([p["M_clean"] != labels for p in preds]).any(0)
    both = torch.nonzero(mix_right & clean_wrong).flatten()
    right = torch.nonzero(mix_right).flatten()
    if len(both):
        idx, rule = int(both[0]), "first test image M_mix gets right in every row and M_clean gets wrong in one"
    elif len(right):
        idx, rule = int(right[0]), "first test image M_mix gets right in every row (M_clean right everywhere too)"
    else:
        idx, rule = 0, "no test image is right under M_mix in every row; image 0 shown"
    classes = splits(cfg).classes
    images = torch.stack([condition_images(cfg, k, i)[idx].float().cpu() / 255.0 for _, k, i in conds])
    grid = levels(cfg)
    names = [{"condition": c, "level": grid[k][i] if c != "clean" else 0.0} for c, k, i in conds]
    rows = pd.DataFrame([n | {m: classes[int(p[m][idx])] for m in shown} for n, p in zip(names, preds)])
    correct = pd.DataFrame([n | {m: bool(p[m][idx] == labels[idx]) for m in shown} for n, p in zip(names, preds)])
    return ExamplesResult(images, rows, correct, classes[int(labels[idx])], idx, rule)


def run_fig3(cfg: Config) -> NeuronsResult:
    """Conv5_1 channels that never fire on the validation images (clean + noisy + blurred, ⅓ each at
    random levels) per model and seed, and activation-maximisation inputs of `FIG3_CHANNELS` channels
    (seed SEEDS[0]): channels silent in M_noise or M_blur but alive in M_clean first, then the others."""
    layer, after = "conv5_1", "conv5_2"
    plan = method.BatchPlan(1 / 3, 1 / 3, 1 / 3)
    silent_rows, status = [], {}
    for seed in cfg.seeds:
        val = fixed_validation(cfg, plan, repro.derive_seed("fig3-val"))
        named = dict(zip(EXPERT_MODELS, experts(cfg, seed) + [expert(cfg, seed, "all")[0]]))
        for name, model in named.items():
            with torch.no_grad():
                acts = torch.cat([model.eval().lower(val[s:s + EVAL_BATCH], after) for s in range(0, len(val), EVAL_BATCH)])
            silent = method.silent_channels(acts)
            silent_rows.append({"seed": seed, "model": name, "channels": int(silent.numel()),
                                "silent": int(silent.sum()), "share": float(silent.float().mean())})
            if seed == cfg.seeds[0]:
                status[name] = silent
    seed = cfg.seeds[0]
    off = (~status["M_clean"]) & (status["M_noise"] | status["M_blur"])
    order = torch.cat([torch.nonzero(off).flatten(), torch.nonzero(~off).flatten()])
    channels = order[: cfg.fig3_channels].tolist()
    named = dict(zip(EXPERT_MODELS[:3], experts(cfg, seed)))
    images, resp = {}, []
    size = splits(cfg).test.images.shape[-1]
    for name, model in named.items():
        imgs, start, end = method.activation_maximisation(model.eval(), layer, channels, cfg.fig3_steps, size,
                                                          seed=repro.derive_seed("fig3", seed))
        images[name] = imgs
        for c, s0, s1 in zip(channels, start.tolist(), end.tolist()):
            silent_in = [m for m in EXPERT_MODELS[:3] if bool(status[m][c])]
            resp.append({"model": name, "channel": c, "start": s0, "end": s1,
                         "status": "silent in " + ", ".join(silent_in) if silent_in else "fires in all three"})
    return NeuronsResult(pd.DataFrame(silent_rows), images, channels, pd.DataFrame(resp))


def _structure_correct(cfg: Config, net: nn.Module) -> tuple[list[dict], Tensor]:
    """Accuracy of a structure (outputs probabilities) on every test condition, and per-image
    correctness `[N, R]` bool (R conditions, in the order of the rows)."""
    labels = splits(cfg).test.labels
    rows, cols, clean = [], [], None
    for kind, grid in levels(cfg).items():
        for li, level in enumerate(grid):
            if li == 0 and clean is not None:
                right = clean
            else:
                imgs = condition_images(cfg, kind, li)
                with torch.no_grad():
                    net.eval()
                    pred = torch.cat([net(_float(imgs[s:s + EVAL_BATCH])).argmax(1)
                                      for s in range(0, len(imgs), EVAL_BATCH)])
                right = (pred == labels).cpu()
                if li == 0:
                    clean = right
            rows.append({"kind": kind, "level_index": li, "level": level, "acc": float(right.float().mean())})
            cols.append(right)
    return rows, torch.stack(cols, 1)


def run_trees(cfg: Config) -> TreesResult:
    """Tables 6–7 on our data (seed SEEDS[0]): AUC of TreeNet at `TREE_BRANCHES` and Inverted-TreeNet at
    `INVERTED_BRANCHES`, beside M_mix (no sharing); our parameter counts; VGG-16's analytic column."""
    for b in cfg.tree_branches + cfg.inverted_branches:
        if b not in method.BRANCH_POINTS:
            raise ValueError(f"unknown branch point {b!r}; valid: {', '.join(method.BRANCH_POINTS)}")
    seed = cfg.seeds[0]
    clean, _ = m_clean(cfg, seed)
    gate, _ = gating_net(cfg, seed)
    per_layer = {n: method.count_params(clean.layers[n]) for n in method.LAYERS}
    gate_params = method.count_params(gate)
    rows, curves, members, per_image = [], [], [], {}

    def add(structure: str, branch: str, acc_rows: list[dict], correct: Tensor, params: int) -> None:
        per_image[f"{structure}:{branch}"] = correct
        grid = pd.DataFrame(acc_rows)
        a = {k: method.auc(grid[grid.kind == k].level.tolist(), grid[grid.kind == k].acc.tolist()) for k in method.KINDS}
        rows.append({"structure": structure, "branch": branch, "noise": a["noise"], "blur": a["blur"],
                     "average": (a["noise"] + a["blur"]) / 2, "params": params, "seed": seed})
        curves.extend({"structure": structure, "branch": branch} | r for r in acc_rows)

    ev = evaluation(cfg, seed)
    mix_rows, mix_cols = [], []
    for k in method.KINDS:
        for li, lv in enumerate(levels(cfg)[k]):
            right = (model_predictions(ev["probs"][k, li], ev["gate"][k, li])["M_mix"] == ev["labels"]).cpu()
            mix_rows.append({"kind": k, "level_index": li, "level": lv, "acc": float(right.float().mean())})
            mix_cols.append(right)
    add("mix", "M_mix", mix_rows, torch.stack(mix_cols, 1), method.structure_params(per_layer, "mix", None, gate_params))
    for structure, branches in (("tree", cfg.tree_branches), ("inverted", cfg.inverted_branches)):
        for b in branches:
            nets = [clean]
            for kind in ("noise", "blur"):
                m, info = finetune_member(cfg, seed, kind, structure, b, cfg.tree_epochs)
                nets.append(m)
                h = info["history"]
                members.append({"structure": structure, "branch": b, "member": kind, "steps": h["total_steps"],
                                "best_step": h["best_step"], "images_per_s": h["images_per_s"]})
            net = (method.TreeNet if structure == "tree" else method.InvertedTreeNet)(nets, gate, b)
            add(structure, b, *_structure_correct(cfg, net), net.num_params())
    slim = pd.DataFrame([{"layer": n, "params": p} for n, p in per_layer.items()])
    classes = tuple(paper.CLASSES[d] for d in ("Caltech101", "Caltech256", "Scene67"))
    vgg = pd.DataFrame([{"layer": n, "classes": c, "params": p} for c in classes
                        for n, p in method.vgg16_layer_params(c).items()])
    return TreesResult(pd.DataFrame(rows), pd.DataFrame(curves), method.vgg16_avg_params_table(classes, paper.GATE_PARAMS),
                       slim, vgg, per_image, pd.DataFrame(members))

