"""Thesis chapter 5 (RePr): the runs behind every figure and table, one `run_*` per artefact.

Every trained network is one `Run` (architecture, schedule, training spec, seed) trained by
`lib.papers.repr.method.train` and cached on disk by its full description, the data fingerprint, the device
type and the source of the modules it depends on; within one notebook run it is also kept in
`cfg.memo(Memo)`. Notebooks that ask for the same run (e.g. the standard C^3(32) of Fig. 5.1, Table 5.1,
Figs 5.6-5.8, Tables 5.2-5.3) share it.

Data (every run): a stratified `TRAIN_SIZE` subset of the training split (fixed, split seed 0), a
stratified `VAL_SIZE` subset of the validation split for the data-driven rankings (the thesis's 5K
held-out images), a stratified `TEST_SIZE` subset of the test split for every final accuracy (the
per-epoch curves use the first `CURVE_SIZE` images of it, shuffled once, to keep evaluation cheap). No
augmentation (the thesis names none; the official code uses none). Standard and RePr runs with the
same seed share initialisation and batch order, so comparisons are paired by seed.
"""
from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd
import torch
from torch import nn

from lib import cache, cca, models, repro, zoo
from lib import data as data_module
from lib.config import Config
from lib.data import ImageSet, stratified_subset
from lib.papers.repr import method, results
from lib.papers.repr.results import (
    CcaMatrix,
    CcaResult,
    Curves,
    Fig5_1Result,
    Fig5_3Result,
    Fig5_4Result,
    Fig5_5Result,
    Fig5_6Result,
    Fig5_9Result,
    Finals,
)
from lib.progress import progress

CODE = [sys.modules[__name__], results, method, models, data_module, repro]   # what cached runs depend on


@dataclass(frozen=True)
class Run:
    """One training run. `arch`: `vanilla` (C^depth(width)) or `resnet` (ResNet-depth)."""

    arch: str = "vanilla"
    depth: int = 3
    width: int = 32
    pool: str = "thirds"
    dropout: float = 0.0
    schedule: method.Schedule = field(default_factory=lambda: method.Schedule(epochs=17, s1=3, s2=2))
    spec: method.TrainSpec = field(default_factory=method.TrainSpec)
    seed: int = 0
    teacher: "Run | ZooTeacher | None" = None   # knowledge distillation from this run's final model
    snapshots: tuple[int, ...] = ()

    def label(self) -> str:
        name = f"C^{self.depth}({self.width})" if self.arch == "vanilla" else f"ResNet-{self.depth}"
        scheme = "standard" if self.schedule.standard else f"RePr[{self.spec.criterion}]"
        return f"{name} {scheme} seed {self.seed}"

    def describe(self) -> dict:
        d = asdict(self)
        d["teacher"] = self.teacher.describe() if self.teacher else None
        return d


@dataclass(frozen=True)
class ZooTeacher:
    """A KD teacher served by the model zoo (`lib.zoo`): a converged ResNet-20 trained on the whole
    training split, of which the students' `TRAIN_SIZE` images are a subset."""

    name: str
    sha256: str

    def describe(self) -> dict:
        return {"zoo": self.name, "sha256": self.sha256}

    def label(self) -> str:
        return f"zoo:{self.name}"


@dataclass
class Memo:
    """Values computed once per notebook run (`cfg.memo(Memo)`): the data splits, and each `Run`'s
    training history by `repr(run)`."""

    splits: dict[str, ImageSet] | None = None
    runs: dict[str, dict] = field(default_factory=dict)


def build(run: Run, num_classes: int) -> nn.Module:
    """A freshly initialised network for `run` (global RNG seeded by `run.seed` first)."""
    repro.seed_everything(run.seed)
    if run.arch == "vanilla":
        return models.VanillaConvNet(run.depth, run.width, num_classes, run.pool, run.dropout)
    if run.arch == "resnet":
        return models.ResNetCifar(run.depth, num_classes, run.dropout)
    raise ValueError(f"arch must be 'vanilla' or 'resnet'; got {run.arch!r}")


# ---------------------------------------------------------------------------------------------
# Data and runs


def splits(cfg: Config) -> dict[str, ImageSet]:
    """The fixed train / val / test subsets every run uses (module docstring)."""
    memo = cfg.memo(Memo)
    if memo.splits is None:
        data = cfg.dataset()
        test = stratified_subset(data.test, cfg.test_size, 0) if cfg.test_size else data.test
        # Shuffled once (seed 0): the per-epoch curves use the first CURVE_SIZE test images, and image
        # folders list their images class by class, so an unshuffled head would hold a few classes only.
        test = test.take(torch.randperm(len(test), generator=torch.Generator().manual_seed(0)).to(test.labels.device))
        memo.splits = {
            "train": stratified_subset(data.train, cfg.train_size, 0) if cfg.train_size else data.train,
            "val": stratified_subset(data.val, cfg.val_size, 0) if cfg.val_size else data.val,
            "test": test,
        }
    return memo.splits


def base_run(cfg: Config, **changes) -> Run:
    """The notebook's default run (C^DEPTH(WIDTH), RePr schedule and training spec from the parameters),
    with `changes` applied; `schedule` / `spec` changes are given as dicts of fields."""
    schedule = method.Schedule(epochs=cfg.epochs, s1=cfg.s1, s2=cfg.s2, fraction=cfg.prune, cycles=cfg.cycles)
    spec = method.TrainSpec(optimizer=cfg.optimizer, lr=cfg.lr, batch_size=cfg.batch_size, criterion="ortho")
    run = Run(depth=cfg.depth, width=cfg.width, pool=cfg.pool, schedule=schedule, spec=spec, snapshots=(cfg.s1,))
    schedule_changes, spec_changes = changes.pop("schedule", {}), changes.pop("spec", {})
    run = replace(run, **changes)
    return replace(run, schedule=replace(run.schedule, **schedule_changes), spec=replace(run.spec, **spec_changes))


def standard(run: Run) -> Run:
    """The same run trained the standard way (no drops) for the same number of epochs."""
    return replace(run, schedule=replace(run.schedule, fraction=0.0))


def train_run(cfg: Config, run: Run) -> dict:
    """History of `run` (see `lib.papers.repr.method.train`) plus `state_dict` of the final model; cached."""
    key, memo = repr(run), cfg.memo(Memo).runs
    if key in memo:
        return memo[key]
    data, sets = cfg.dataset(), splits(cfg)
    spec = {"run": run.describe(), "data": data.fingerprint, "data_spec": data.spec,
            "sizes": {k: len(v) for k, v in sets.items()}, "curve_size": cfg.curve_size, "device": cfg.device.type}

    def compute() -> dict:
        teacher_logits = None
        if run.teacher is not None:
            teacher = model_of(cfg, run.teacher)
            with torch.no_grad():
                teacher_logits = torch.cat([teacher(x.float() / 255) for x in sets["train"].images.split(1000)])
        model = build(run, data.num_classes).to(cfg.device)
        bar = (lambda it: progress(it, run.label(), total=run.schedule.epochs))
        hist = method.train(model, sets["train"].images, sets["train"].labels, sets["test"].images, sets["test"].labels,
                       run.schedule, run.spec, run.seed, sets["val"].images, sets["val"].labels,
                       teacher_logits=teacher_logits, snapshots=run.snapshots, curve_size=cfg.curve_size,
                       progress=bar)
        return hist | {"state_dict": {k: v.cpu() for k, v in model.state_dict().items()}}

    memo[key] = cache.cached("repr_run", spec, compute, enabled=cfg.use_cache, code=CODE)
    return memo[key]


def model_of(cfg: Config, run: Run | ZooTeacher, state: dict | None = None) -> nn.Module:
    """The trained model of `run` (or the given state dict of it) on the device, eval mode."""
    if isinstance(run, ZooTeacher):
        return zoo.load(run.name, cfg.dataset(), cfg.device)[0]
    model = build(run, cfg.dataset().num_classes)
    model.load_state_dict(state if state is not None else train_run(cfg, run)["state_dict"])
    return model.to(cfg.device).eval()


def curves(cfg: Config, runs: dict[str, list[Run]]) -> pd.DataFrame:
    """Per-epoch history of groups of runs: columns group, seed, epoch, train_acc, test_acc (on the first
    `CURVE_SIZE` test images), ortho_sum, lr, sub_network, final_test_acc (all test images; the same
    on every row of a run). Accuracies in %."""
    rows = []
    for group, members in runs.items():
        for run in members:
            h = train_run(cfg, run)
            for i, epoch in enumerate(h["epoch"]):
                rows.append({"group": group, "seed": run.seed, "epoch": epoch, "train_acc": 100 * h["train_acc"][i],
                             "test_acc": 100 * h["test_acc"][i], "ortho_sum": h["ortho_sum"][i], "lr": h["lr"][i],
                             "sub_network": h["sub_network"][i], "final_test_acc": 100 * h["final_test_acc"]})
    return pd.DataFrame(rows)


def finals(cfg: Config, runs: dict[str, list[Run]]) -> pd.DataFrame:
    """Final test accuracy (%) of groups of runs: columns group, seed, test_acc, train_acc, seconds, images_per_s."""
    rows = []
    for group, members in runs.items():
        for run in members:
            h = train_run(cfg, run)
            rows.append({"group": group, "seed": run.seed, "test_acc": 100 * h["final_test_acc"],
                         "train_acc": 100 * h["train_acc"][-1], "seconds": h["seconds"],
                         "images_per_s": h["images_per_s"]})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Fig. 5.1, Table 5.1, Fig. 5.3


def run_fig5_1(cfg: Config) -> Fig5_1Result:
    """Standard vs RePr (Oracle ranking, as the thesis's Fig. 5.1) on C^3(32): curves and drop events."""
    runs = {"standard": [standard(base_run(cfg, seed=s)) for s in cfg.seeds],
            "RePr (Oracle)": [base_run(cfg, seed=s, spec={"criterion": "oracle"}) for s in cfg.seeds],
            "RePr (Ortho)": [base_run(cfg, seed=s) for s in cfg.seeds]}
    events = [dict(e, group=g, seed=r.seed) for g, rs in runs.items() for r in rs for e in train_run(cfg, r)["events"]]
    return Fig5_1Result(curves(cfg, runs), pd.DataFrame(events), base_run(cfg).schedule)


def run_table5_1(cfg: Config) -> Finals:
    """Final test accuracy of standard training and of RePr under each ranking criterion (`CRITERIA`),
    plus the Ortho variants of `ORTHO_VARIANTS`: `public` (the official code's whole-tensor,
    signed-mean score) and `skip_first` (first conv layer left out of the ranking)."""
    runs = {"Standard": [standard(base_run(cfg, seed=s)) for s in cfg.seeds]}
    for criterion in cfg.criteria:
        runs[criterion] = [base_run(cfg, seed=s, spec={"criterion": criterion}) for s in cfg.seeds]
    for variant in cfg.ortho_variants:   # beyond the thesis: how the Ortho reading changes the result
        spec = {"public": {"criterion": "ortho_public"}, "skip_first": {"rank_layers": "skip_first"}}[variant]
        runs[f"ortho:{variant}"] = [base_run(cfg, seed=s, spec=spec) for s in cfg.seeds]
    return Finals(finals(cfg, runs))


def run_fig5_3(cfg: Config) -> Fig5_3Result:
    """Every criterion's per-filter priority beside the greedy Oracle's accuracy drop, on the standard
    C^3(32) at the first drop point (epoch S1) and at the end of training, per seed.

    Columns: seed, stage, criterion, layer, filter, importance (= −priority: higher = more important),
    oracle_drop (validation-accuracy drop in %, when the filter alone is zeroed).
    """
    s1 = cfg.s1
    rows = []
    for seed in cfg.seeds:
        run = standard(base_run(cfg, seed=seed))   # every base run keeps its weights at epoch S1
        h = train_run(cfg, run)
        sets = splits(cfg)
        for stage, state in (("epoch S1", h["snapshots"][s1]), ("end", h["state_dict"])):
            model = model_of(cfg, run, state)
            oracle = method.oracle_drops(model, sets["val"].images, sets["val"].labels)
            for criterion in [*cfg.criteria, *(["ortho_public"] if "public" in cfg.ortho_variants else [])]:
                if criterion == "oracle":
                    continue
                gen = torch.Generator().manual_seed(seed)
                pr = method.rank_filters(model, criterion, sets["val"].images, sets["val"].labels, generator=gen)
                for layer, values in pr.items():
                    for f, v in enumerate(values.tolist()):
                        rows.append({"seed": seed, "stage": stage, "criterion": criterion, "layer": layer,
                                     "filter": f, "importance": -v, "oracle_drop": 100 * float(oracle[layer][f])})
    return Fig5_3Result(pd.DataFrame(rows))


# ---------------------------------------------------------------------------------------------
# Figs 5.2 and 5.11 (C^2(32): CCA of filter activations, Oracle histogram)


def run_fig5_2_fig5_11(cfg: Config) -> CcaResult:
    """C^2(WIDTH) standard and RePr (Ortho): per-layer filter-by-filter canonical correlations on
    `CCA_IMAGES` test images (`lib.cca.filter_correlation_matrix`), the same for the untrained
    network (random He-normal weights; the thesis's 'random' reference) and the greedy-Oracle test
    accuracy drop of every filter of the standard network, per seed.
    """
    sets = splits(cfg)
    images = sets["test"].images[:cfg.cca_images]
    out = {"matrices": [], "oracle": [], "finals": []}
    for seed in cfg.seeds:
        rep = base_run(cfg, depth=2, seed=seed)
        variants = {"standard": model_of(cfg, standard(rep)), "RePr (Ortho)": model_of(cfg, rep),
                    "untrained": build(rep, cfg.dataset().num_classes).to(cfg.device).eval()}
        for name in ("standard", "RePr (Ortho)"):
            r = standard(rep) if name == "standard" else rep
            out["finals"].append({"model": name, "seed": seed, "test_acc": 100 * train_run(cfg, r)["final_test_acc"]})
        for name, model in variants.items():
            acts = layer_activations(model, images)
            for layer, a in acts.items():
                m = cca.filter_correlation_matrix(a, method=cfg.cca_method, max_dims=cfg.cca_dims)
                out["matrices"].append({"model": name, "seed": seed, "layer": layer, "matrix": m.cpu().numpy()})
        drops = method.oracle_drops(variants["standard"], sets["test"].images, sets["test"].labels)
        out["oracle"] += [{"seed": seed, "layer": layer, "filter": f, "drop_pts": 100 * float(v)}
                          for layer, d in drops.items() for f, v in enumerate(d.tolist())]
    return CcaResult([CcaMatrix(**m) for m in out["matrices"]], pd.DataFrame(out["oracle"]), pd.DataFrame(out["finals"]))


@torch.no_grad()
def layer_activations(model: nn.Module, images: torch.Tensor, batch_size: int = 500) -> dict[str, torch.Tensor]:
    """Post-ReLU activations `[N, J, H, W]` (float32) of every conv layer of a vanilla net, before pooling."""
    convs = models.prunable_convs(model)
    out: dict[str, list[torch.Tensor]] = {name: [] for name in convs}
    hooks = [conv.register_forward_hook(lambda _m, _i, o, n=name: out[n].append(o.relu()))
             for name, (conv, _) in convs.items()]
    try:
        for x in images.split(batch_size):
            model(x.float() / 255 if x.dtype == torch.uint8 else x)
    finally:
        for h in hooks:
            h.remove()
    return {name: torch.cat(v) for name, v in out.items()}


# ---------------------------------------------------------------------------------------------
# Figs 5.4-5.8


def run_fig5_4(cfg: Config) -> Fig5_4Result:
    """RePr (Ortho) with each pruned fraction in `PRUNE_FRACTIONS` (0 = standard): final test
    accuracy and the thesis's statistic, test accuracy averaged over the `S2` epochs after the
    first drop (thesis: "average test accuracy over 5 epochs starting from epoch 20")."""
    rows = []
    for p in cfg.prune_fractions:
        for seed in cfg.seeds:
            run = base_run(cfg, seed=seed, schedule={"fraction": p})
            h = train_run(cfg, run)
            window = h["test_acc"][cfg.s1:cfg.s1 + max(cfg.s2, 1)]
            rows.append({"prune_pct": 100 * p, "seed": seed, "test_acc": 100 * h["final_test_acc"],
                         "window_acc": 100 * float(np.mean(window))})
    return Fig5_4Result(pd.DataFrame(rows))


def run_fig5_5(cfg: Config) -> Fig5_5Result:
    """Many RePr iterations (`MANY_CYCLES`): train and test accuracy at the end of each cycle (just
    before the next drop), RePr vs standard over the same epochs."""
    cycles = cfg.many_cycles
    epochs = cycles * (cfg.s1 + cfg.s2) + cfg.s1
    runs = {"RePr (Ortho)": [base_run(cfg, seed=s, schedule={"cycles": cycles, "epochs": epochs}) for s in cfg.seeds]}
    runs["standard"] = [standard(r) for r in runs["RePr (Ortho)"]]
    c = curves(cfg, runs)
    ends = {(i + 1) * (cfg.s1 + cfg.s2) + cfg.s1: i + 1 for i in range(cycles)} | {cfg.s1: 0}
    at = c[c.epoch.isin(list(ends))].assign(iteration=lambda d: d.epoch.map(ends))
    return Fig5_5Result(c, at)


def run_fig5_6(cfg: Config) -> Fig5_6Result:
    """Left: standard vs RePr (Ortho) under each optimiser of `OPTIMIZERS` ({name: lr}). Right: RePr with
    S1 = S2 = each value of `S_VALUES` (same number of cycles, epochs scaled), vs standard."""
    opt = {}
    for name, lr in cfg.optimizers.items():
        rep = [base_run(cfg, seed=s, spec={"optimizer": name, "lr": lr}) for s in cfg.seeds]
        opt[f"{name}|standard"], opt[f"{name}|RePr"] = [standard(r) for r in rep], rep
    s_runs = {}
    for s in cfg.s_values:
        epochs = cfg.cycles * 2 * s + max(1, cfg.epochs - cfg.cycles * (cfg.s1 + cfg.s2))
        rep = [base_run(cfg, seed=seed, schedule={"s1": s, "s2": s, "epochs": epochs}) for seed in cfg.seeds]
        s_runs[f"{s}|standard"], s_runs[f"{s}|RePr"] = [standard(r) for r in rep], rep
    return Fig5_6Result(finals(cfg, opt), finals(cfg, s_runs))


def run_fig5_7(cfg: Config) -> Curves:
    """Test-accuracy curves, standard vs RePr (Ortho), under the step and cyclic schedules (`LR_SCHEDULES`)."""
    runs = {}
    for kind, settings in cfg.lr_schedules.items():
        spec = {"lr_schedule": kind, **settings}
        rep = [base_run(cfg, seed=s, spec=spec) for s in cfg.seeds]
        runs[f"{kind}|standard"], runs[f"{kind}|RePr"] = [standard(r) for r in rep], rep
    return Curves(curves(cfg, runs), base_run(cfg).schedule)


def run_fig5_8(cfg: Config) -> Curves:
    """Test-accuracy curves of standard, RePr (Oracle) and RePr (Ortho), with dropout `DROPOUT` before the FC and without."""
    runs = {}
    for label, p in (("dropout", cfg.dropout), ("no dropout", 0.0)):
        rep = [base_run(cfg, seed=s, dropout=p) for s in cfg.seeds]
        runs[f"{label}|standard"] = [standard(r) for r in rep]
        runs[f"{label}|RePr (Oracle)"] = [replace(r, spec=replace(r.spec, criterion="oracle")) for r in rep]
        runs[f"{label}|RePr (Ortho)"] = rep
    return Curves(curves(cfg, runs), base_run(cfg).schedule)


# ---------------------------------------------------------------------------------------------
# Fig. 5.9, Tables 5.2-5.3 (knowledge distillation, orthogonality loss)


def teacher_run(cfg: Config, seed: int | None = None) -> Run | ZooTeacher:
    """The KD teacher: with `ZOO_TEACHER`, the model zoo's ResNet-20 when it was trained on this data
    (and `TEACHER_DEPTH` is 20); else ResNet-`TEACHER_DEPTH` trained the standard way on the students'
    images."""
    if cfg.zoo_teacher and cfg.teacher_depth == 20:
        model, card = zoo.lookup("resnet20", None, cfg.dataset())
        if model is not None:
            acc = teacher_accuracy(cfg, ZooTeacher(card["name"], card["weights"]["sha256"]))
            cfg.note_model(f"KD teacher: model zoo checkpoint {card['name']} (trained on the whole "
                           f"{card['data']['sizes']['train']:,}-image training split; the students see "
                           f"{len(splits(cfg)['train']):,} of them), test accuracy {acc:.1f}% on this notebook's "
                           "test images")
            return ZooTeacher(card["name"], card["weights"]["sha256"])
        cfg.note_model(f"KD teacher: trained here ({card})")
    return standard(base_run(cfg, arch="resnet", depth=cfg.teacher_depth, seed=cfg.seeds[0] if seed is None else seed,
                             spec={"optimizer": cfg.resnet_optimizer, "lr": cfg.resnet_lr}))


def teacher_accuracy(cfg: Config, teacher: Run | ZooTeacher) -> float:
    """The teacher's accuracy (%) on this notebook's test images (all of them)."""
    if not isinstance(teacher, ZooTeacher):
        return 100 * train_run(cfg, teacher)["final_test_acc"]
    test = splits(cfg)["test"]
    model = model_of(cfg, teacher)
    with torch.no_grad():
        pred = torch.cat([model(x.float() / 255).argmax(1) for x in test.images.split(1000)])
    return 100 * float((pred == test.labels).float().mean())


def kd_runs(cfg: Config) -> dict[str, list[Run]]:
    teacher = teacher_run(cfg)
    runs = {}
    for kd in (False, True):
        rep = [base_run(cfg, seed=s, teacher=teacher if kd else None,
                        spec={"kd_temperature": cfg.kd_temperature, "kd_alpha": cfg.kd_alpha} if kd else {})
               for s in cfg.seeds]
        suffix = " + KD" if kd else ""
        runs["Standard" + suffix] = [standard(r) for r in rep]
        runs["RePr (Ortho)" + suffix] = rep
        runs["RePr (Oracle)" + suffix] = [replace(r, spec=replace(r.spec, criterion="oracle")) for r in rep]
    return runs


def run_fig5_9(cfg: Config) -> Fig5_9Result:
    """Ortho-sum per epoch of standard, RePr (Ortho), RePr (Oracle), without and with KD."""
    runs = kd_runs(cfg)
    return Fig5_9Result(curves(cfg, runs), teacher_accuracy(cfg, teacher_run(cfg)), base_run(cfg).schedule)


def run_table5_2_5_3(cfg: Config) -> Finals:
    """Final test accuracy of Std, Std+OL, RePr, RePr+OL (λ = `ORTHO_LAMBDA`), KD and KD+RePr."""
    runs = {}
    rep = [base_run(cfg, seed=s) for s in cfg.seeds]
    runs["Std"], runs["RePr"] = [standard(r) for r in rep], rep
    ol = [replace(r, spec=replace(r.spec, ortho_lambda=cfg.ortho_lambda)) for r in rep]
    runs["Std+OL"], runs["RePr+OL"] = [standard(r) for r in ol], ol
    kd = kd_runs(cfg)
    runs["KD"], runs["KD+RePr"] = kd["Standard + KD"], kd["RePr (Ortho) + KD"]
    return Finals(finals(cfg, runs))


# ---------------------------------------------------------------------------------------------
# Fig. 5.10, Tables 5.4-5.5 (depth, ResNets, DSD, BAN)


def resnet_runs(cfg: Config, depth: int) -> dict[str, list[Run]]:
    """Table 5.4's schemes on ResNet-`depth`, all with the same epochs and schedule: our standard
    training, DSD (30% smallest weights per layer held at zero for S2 epochs, re-added at zero, N
    cycles), BAN (born-again: the same net distilled from the standard one; `BAN_GENERATIONS`
    generations, each taught by the previous), RePr with the Weights and with the Ortho ranking."""
    seeds = cfg.resnet_seeds
    spec = {"optimizer": cfg.resnet_optimizer, "lr": cfg.resnet_lr}
    rep = [base_run(cfg, arch="resnet", depth=depth, seed=s, spec=spec) for s in seeds]
    runs = {"Our Impl": [standard(r) for r in rep]}
    runs["DSD"] = [replace(r, spec=replace(r.spec, sparsify="weights")) for r in rep]
    ban = []
    for r in runs["Our Impl"]:
        student = r
        for _ in range(cfg.ban_generations):
            student = replace(r, teacher=student, spec=replace(r.spec, kd_alpha=1.0, kd_temperature=1.0))
        ban.append(student)
    runs["BAN"] = ban
    runs["RePr (Weights)"] = [replace(r, spec=replace(r.spec, criterion="weights")) for r in rep]
    runs["RePr (Ortho)"] = rep
    return runs


def run_table5_4(cfg: Config) -> Finals:
    """Test error (%) of Table 5.4's schemes on ResNet-20."""
    res = finals(cfg, resnet_runs(cfg, cfg.resnet_table_depth))
    return Finals(res.assign(test_err=100 - res.test_acc))


def run_table5_5_fig5_10(cfg: Config) -> Finals:
    """Test error (%) of standard vs RePr (Ortho) for C^n(WIDTH), n in `DEPTHS`, and the ResNets of
    `RESNET_DEPTHS`; with parameters (excluding the last FC) and relative inference time (CPU,
    batch 500, vs C^3)."""
    runs = {}
    for depth in cfg.depths:
        rep = [base_run(cfg, depth=depth, seed=s) for s in cfg.seeds]
        runs[f"vanilla|{depth}|Std"], runs[f"vanilla|{depth}|RePr"] = [standard(r) for r in rep], rep
    for depth in cfg.resnet_depths:
        rs = resnet_runs(cfg, depth)
        runs[f"resnet|{depth}|Std"], runs[f"resnet|{depth}|RePr"] = rs["Our Impl"], rs["RePr (Ortho)"]
    res = finals(cfg, runs)
    parts = res.group.str.split("|", expand=True)
    res = res.assign(family=parts[0], layers=parts[1].astype(int), scheme=parts[2], test_err=100 - res.test_acc)
    sizes = {}
    for fam, depth in res[["family", "layers"]].drop_duplicates().itertuples(index=False):
        run = base_run(cfg, arch="vanilla" if fam == "vanilla" else "resnet", depth=depth)
        model = build(run, cfg.dataset().num_classes)
        sizes[fam, depth] = {"params_k": sum(p.numel() for n, p in model.named_parameters() if not n.startswith("fc"))
                             / 1000, "inference_s": inference_seconds(model)}
    ref = inference_seconds(build(base_run(cfg, depth=3), cfg.dataset().num_classes))
    res["params_k"] = [sizes[f, d]["params_k"] for f, d in zip(res.family, res.layers)]
    res["inf_time_rel"] = [sizes[f, d]["inference_s"] / ref for f, d in zip(res.family, res.layers)]
    return Finals(res)


@torch.no_grad()
def inference_seconds(model: nn.Module, batch: int = 500, repeats: int = 3) -> float:
    """Median CPU seconds of one forward pass of `batch` random 32×32 images (eval mode)."""
    import time

    model = model.cpu().eval()
    x = torch.rand(batch, 3, 32, 32)
    model(x)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - t)
    return float(np.median(times))
