"""The experiments of Bianchi et al., *Selective CNN-Filters Fine-Tuning*: one `run_*` per artefact.

Each `run_*(cfg)` returns a typed result (`results.py`) that `lib.papers.selective_finetuning.render`
turns into figures, tables and claims. Expensive steps are cached by spec (`lib.cache`): the two
clean baselines, the per-layer rankings, and every fine-tuned model, so the four notebooks share them.

Protocol choices where the paper is silent (each one parameter away):
- activation maps are post-ReLU outputs of conv+BN+ReLU blocks, before pooling;
- seeds are replicates: with `REPLICATE_BASELINES` seed s ranks and fine-tunes its own clean baselines
  (initialisation and batch order `BASELINE_SEED` + s; the zoo serves only `BASELINE_SEED`'s CIFAR-10
  net), and every seed draws its own pairs, noise and fine-tuning subsets;
- rankings use `N_RANK` (clean, distorted) training pairs, distortion noise seeded per seed;
- fine-tuning: Adam (lr `FT_LR`), batch `FT_BATCH`, at most `FT_STEPS` steps, validation every
  `FT_EVAL_EVERY` steps on `FT_VAL_SIZE` distorted validation images, best validation loss kept
  (early stopping as for the baselines); BatchNorm on stored statistics; classifier untouched;
- the n distorted training images are a stratified subset of the training split drawn per seed;
  accuracies are measured on `TEST_SIZE` distorted test images (fixed noise per level);
- Borda ties (filters outside every voter's top 10 get 0 points) are broken by summed EMD.

Cache keys hold the source of this module and of the library modules the values depend on, so a
code change recomputes instead of reusing stale results.
"""
from __future__ import annotations

import copy
import sys
from dataclasses import asdict, dataclass, field

import pandas as pd
import torch
from torch import Tensor, nn

from lib import cache, distortions, models, repro, train
from lib import data as data_module
from lib.config import Config
from lib.data import Dataset, ImageSet, stratified_subset
from lib.papers.selective_finetuning import method, results
from lib.papers.selective_finetuning.results import EmdReadingsResult, Fig4Result, Fig5Result, Fig6Result, Table1Result
from lib.progress import progress

NETS = {"cifar10_net": ("conv1", "conv2"), "allconv_bn": ("conv1", "conv2", "conv3")}
CODE = [sys.modules[__name__], results, method, distortions, models, train, data_module, repro]   # what cached values depend on


# ---------------------------------------------------------------------------------------------
# Baselines and data


@dataclass
class Memo:
    """Values computed once per notebook run (`cfg.memo(Memo)`): baselines by (net, baseline seed),
    rankings by (net, kind, level, seed)."""

    baselines: dict[tuple[str, int], tuple[nn.Module, dict]] = field(default_factory=dict)
    rankings: dict[tuple[str, str, float, int], dict[str, dict[str, Tensor]]] = field(default_factory=dict)


def net_data(cfg: Config, net: str) -> Dataset:
    """The dataset a net is trained on: `DATA`, or for All-Conv `DATA_ALLCONV` when it is set."""
    return cfg.dataset(cfg.data_allconv or cfg.data if net == "allconv_bn" else cfg.data)


def baseline_seed(cfg: Config, seed: int) -> int:
    """The seed of the clean baselines that replicate `seed` uses (`REPLICATE_BASELINES`)."""
    return cfg.baseline_seed + (seed if cfg.replicate_baselines else 0)


def baseline(cfg: Config, net: str, seed: int) -> tuple[nn.Module, dict]:
    """The clean baseline of `net` for replicate `seed` (cached on disk, and once per run in
    `cfg.memo(Memo)`). The zoo serves only `BASELINE_SEED`'s (when `ZOO` and its card matches)."""
    bseed = baseline_seed(cfg, seed)
    memo = cfg.memo(Memo).baselines
    if (net, bseed) not in memo:
        config = train.TrainConfig(max_epochs=cfg.max_epochs[net], patience=cfg.patience[net],
                                   batch_size=cfg.batch_size)
        width = cfg.allconv_width if net == "allconv_bn" else None
        size = cfg.allconv_train_size if net == "allconv_bn" else 0
        model, info = train.reference_or_baseline(net, net_data(cfg, net), config, seed=bseed, width=width,
                                                  train_size=size, device=cfg.device, use_cache=cfg.use_cache,
                                                  use_zoo=cfg.zoo and bseed == cfg.baseline_seed)
        if cfg.zoo and bseed != cfg.baseline_seed:
            info = info | {"source": f"trained here (a replicate: the zoo holds only baseline seed {cfg.baseline_seed}'s)"}
        memo[net, bseed] = model, info | {"baseline_seed": bseed}
        cfg.note_model(train.describe_source(f"{net} (baseline seed {bseed})", info))
    return memo[net, bseed]


def distorted(images: ImageSet, kind: str, level: float, seed: int) -> ImageSet:
    """`images` with a fixed distortion (uint8, quantised; noise fixed by `seed`)."""
    return ImageSet(distortions.distort_set(images.images, kind, float(level), seed), images.labels)


def test_set(cfg: Config, data: Dataset) -> ImageSet:
    """The first `TEST_SIZE` test images (stratified, fixed)."""
    return stratified_subset(data.test, cfg.test_size, seed=0)


# ---------------------------------------------------------------------------------------------
# Associative ranking (Fig. 4, Fig. 5)


def borda_points(model: nn.Module, clean: ImageSet, kind: str, level: float, layers: tuple[str, ...],
                 seed: int, batch_size: int = 500, depth: int = 10) -> dict[str, dict[str, Tensor]]:
    """Borda points and summed EMD per filter of each layer over (clean, distorted) pairs.

    Returns:
        {layer: {"points": `[F]` int64 (Algorithm 1: 10 points for rank 1 … 1 for rank 10),
                 "emd": `[F]` float64 EMD summed over the pairs}}, on the CPU.
    """
    dist = distorted(clean, kind, level, seed)
    out = {layer: {"points": 0, "emd": 0} for layer in layers}
    for start in range(0, len(clean), batch_size):
        sl = slice(start, start + batch_size)
        a = models.activations(model, clean.float(sl), list(layers), batch_size)
        b = models.activations(model, dist.float(sl), list(layers), batch_size)
        for layer in layers:
            d = method.emd_per_filter(a[layer], b[layer])
            out[layer]["points"] = out[layer]["points"] + method.borda_count(d, depth)
            out[layer]["emd"] = out[layer]["emd"] + d.double().sum(0)
    return {layer: {k: v.cpu() for k, v in r.items()} for layer, r in out.items()}


def rankings(cfg: Config, net: str, kind: str, level: float, seed: int) -> dict[str, dict[str, Tensor]]:
    """Cached `borda_points` of every fine-tunable layer of `net` for one distortion level and seed."""
    level = float(level)
    memo = cfg.memo(Memo).rankings
    if (net, kind, level, seed) in memo:
        return memo[net, kind, level, seed]
    model, info = baseline(cfg, net, seed)
    data = net_data(cfg, net)
    spec = {"baseline": info["spec"], "kind": kind, "level": level, "seed": seed, "n": cfg.n_rank,
            "layers": NETS[net]}

    def compute() -> dict[str, dict[str, Tensor]]:
        pairs = stratified_subset(data.train, cfg.n_rank, seed=repro.derive_seed("rank", seed))
        return borda_points(model, pairs, kind, level, NETS[net], seed=repro.derive_seed("noise", seed))

    result = cache.cached("rankings", spec, compute, enabled=cfg.use_cache, code=CODE)
    memo[net, kind, level, seed] = result
    return result


def ranking(result: dict[str, Tensor]) -> Tensor:
    """Filter indices `[F]`, most susceptible first, from one layer's `borda_points` entry."""
    return method.rank_from_borda(result["points"], tiebreak=result["emd"])


def run_fig4(cfg: Config) -> Fig4Result:
    """Borda points of every filter of each baseline's first conv layer, for blur and AWGN.

    Returns:
        Long table: net, distortion, level, seed, filter, points, rank (1 = most susceptible),
        top (in the top `FRACTION`).
    """
    rows = []
    for net in cfg.nets:
        for kind, level in cfg.fig4_levels.items():
            for seed in cfg.seeds:
                result = rankings(cfg, net, kind, level, seed)["conv1"]
                points, order = result["points"], ranking(result)
                top = set(method.select_filters(order, cfg.fraction, "most").tolist())
                rank = torch.empty_like(order)
                rank[order] = torch.arange(1, len(order) + 1)
                rows += [{"net": net, "distortion": kind, "level": level, "seed": seed, "filter": f,
                          "points": int(points[f]), "rank": int(rank[f]), "top": f in top}
                         for f in range(len(points))]
    return Fig4Result(pd.DataFrame(rows))


# ---------------------------------------------------------------------------------------------
# Fine-tuning (Fig. 5, Fig. 6)


def ft_config(cfg: Config) -> train.TrainConfig:
    return train.TrainConfig(max_epochs=10**6, patience=cfg.ft_patience, batch_size=cfg.ft_batch, lr=cfg.ft_lr,
                             eval_every=cfg.ft_eval_every, max_steps=cfg.ft_steps)


def finetuned(cfg: Config, net: str, kind: str, level: float, n: int, which: str, seed: int
              ) -> tuple[nn.Module, dict]:
    """The baseline fine-tuned on `n` distorted training images, `which` 25% of each layer's filters.

    Cached by spec. Rankings come from `rankings(..., seed)`; `which` is most | least | all.

    Returns:
        (model in eval mode, info with test accuracy, steps, trainable parameter count, seconds).
    """
    level = float(level)
    base, info = baseline(cfg, net, seed)
    data = net_data(cfg, net)
    spec = {"baseline": info["spec"], "kind": kind, "level": level, "n": n, "which": which, "seed": seed,
            "fraction": cfg.fraction, "ft": asdict(ft_config(cfg)), "val": cfg.ft_val_size,
            "test": cfg.test_size, "n_rank": cfg.n_rank}

    def compute() -> dict:
        selection = {layer: method.select_filters(ranking(r), cfg.fraction, which).tolist()
                     for layer, r in rankings(cfg, net, kind, level, seed).items()}
        model = copy.deepcopy(base)
        tr = distorted(stratified_subset(data.train, n, repro.derive_seed("ft-train", seed)), kind, level,
                       repro.derive_seed("ft-noise", seed))
        val = distorted(stratified_subset(data.val, cfg.ft_val_size, 0), kind, level, repro.derive_seed("val", level))
        hist = train.fit(model, tr, val, ft_config(cfg), seed=seed, selection=selection)
        test = distorted(test_set(cfg, data), kind, level, repro.derive_seed("test", level))
        blocks = models.conv_blocks(model)
        n_params = sum(len(idx) * (blocks[layer].conv.weight[0].numel() + 3) for layer, idx in selection.items())
        return {"state_dict": {k: v.cpu() for k, v in model.state_dict().items()},
                "acc": train.accuracy(model, test.images, test.labels), "steps": hist.best_step,
                "seconds": hist.seconds, "trainable_params": n_params, "selection": selection}

    stored = cache.cached("finetuned", spec, compute, enabled=cfg.use_cache, code=CODE)
    model = copy.deepcopy(base)
    model.load_state_dict(stored["state_dict"])
    return model.eval(), {k: v for k, v in stored.items() if k != "state_dict"}


def baseline_accuracy(cfg: Config, net: str, kind: str | None, level: float | None, seed: int) -> float:
    """Accuracy of replicate `seed`'s un-fine-tuned baseline on the (distorted, if `kind`) test images."""
    model, _ = baseline(cfg, net, seed)
    test = test_set(cfg, net_data(cfg, net))
    if kind is not None:
        test = distorted(test, kind, level, repro.derive_seed("test", level))
    return train.accuracy(model, test.images, test.labels)


def run_fig5(cfg: Config) -> Fig5Result:
    """Accuracy on distorted test images vs number of distorted fine-tuning images.

    Returns:
        Long table: net, distortion, level, n, which (most|least|all|baseline), seed, acc (fraction),
        steps (best validation step), trainable_params, seconds.
    """
    jobs = [(net, kind, level, n, which, seed)
            for net in cfg.nets for kind in ("awgn", "blur") for level in cfg.fig5_levels[net][kind]
            for n in cfg.ft_sizes for which in ("most", "least", "all") for seed in cfg.seeds]
    rows = []
    for net, kind, level, n, which, seed in progress(jobs, "fine-tuning runs"):
        _, info = finetuned(cfg, net, kind, level, n, which, seed)
        rows.append({"net": net, "distortion": kind, "level": level, "n": n, "which": which, "seed": seed,
                     "acc": info["acc"], "steps": info["steps"], "trainable_params": info["trainable_params"],
                     "seconds": info["seconds"]})
    for net, kind, level in sorted({(r["net"], r["distortion"], r["level"]) for r in rows}):
        for s in cfg.seeds:
            acc = baseline_accuracy(cfg, net, kind, level, s)
            rows += [{"net": net, "distortion": kind, "level": level, "n": n, "which": "baseline", "seed": s,
                      "acc": acc, "steps": 0, "trainable_params": 0, "seconds": 0.0} for n in cfg.ft_sizes]
    return Fig5Result(pd.DataFrame(rows))


def hamming_maps(model: nn.Module, sharp: Tensor, noisy: Tensor, layers: tuple[str, ...]) -> dict[str, Tensor]:
    """Per-location Hamming distance between binarised (> 0) feature vectors of sharp and noisy images.

    Args:
        sharp, noisy: `[N, 3, H, W]` float in [0, 1].

    Returns:
        {layer: `[N, h, w]` float32, number of channels whose on/off state differs (0 … F)}.
    """
    a = models.activations(model, sharp, list(layers))
    b = models.activations(model, noisy, list(layers))
    return {layer: ((a[layer] > 0) != (b[layer] > 0)).sum(1).float() for layer in layers}


def run_fig6(cfg: Config) -> Fig6Result:
    """Hamming-distance maps (sharp vs AWGN) of All-Conv's first three layers: baseline, all, most.

    Returns:
        `Fig6Result`: example {model: {layer: [h, w] map}}, sums DataFrame(model, layer, seed, mean_sum), where
        mean_sum is the per-image sum of the map averaged over `FIG6_EVAL` test images.
    """
    net, kind, level, n = "allconv_bn", "awgn", cfg.fig6_level, cfg.fig6_n
    layers = NETS[net]
    data = net_data(cfg, net)
    test = test_set(cfg, data)
    if cfg.fig6_eval > len(test):
        raise ValueError(f"FIG6_EVAL={cfg.fig6_eval} exceeds the {len(test)} test images (TEST_SIZE={cfg.test_size})")
    sharp = stratified_subset(test, cfg.fig6_eval, seed=1)
    noisy = distorted(sharp, kind, level, repro.derive_seed("fig6", level))
    rows, example = [], {}
    for seed in cfg.seeds:
        variants = {"baseline": baseline(cfg, net, seed)[0]} | {
            f"{w} fine-tuned": finetuned(cfg, net, kind, level, n, w, seed)[0] for w in ("all", "most")}
        for name, model in variants.items():
            maps = hamming_maps(model, sharp.float(), noisy.float(), layers)
            if seed == cfg.seeds[0]:
                example[name] = {layer: m[cfg.fig6_example].cpu() for layer, m in maps.items()}
            rows += [{"model": name, "layer": layer, "seed": seed, "mean_sum": float(m.sum((1, 2)).mean()),
                      "channels": int(models.conv_blocks(model)[layer].conv.out_channels)}
                     for layer, m in maps.items()]
    return Fig6Result(example, pd.DataFrame(rows), level, n)


# ---------------------------------------------------------------------------------------------
# Non-associative ranking (Table 1)


def run_table1(cfg: Config) -> Table1Result:
    """Overlap of non-associative (exemplar) top-25% sets with the associative top-25%, per layer.

    For each seed, two disjoint halves of `TABLE1_N` training images play the clean set D_C and the
    independently collected noisy set D_T (distorted with AWGN σ = `TABLE1_LEVEL`). The exemplar of
    each set is its exact 1-medoid on pixels (Euclidean) or on the layer's flattened activations
    (Euclidean, or Hamming on binarised activations).

    Returns:
        Long table: layer, features (pixels|FTM), metric (euclidean|hamming), seed, overlap, k, filters.
    """
    net, kind, level = "allconv_bn", "awgn", cfg.table1_level
    data = net_data(cfg, net)
    layers = NETS[net]
    rows = []
    for seed in cfg.seeds:
        model, _ = baseline(cfg, net, seed)
        truth = rankings(cfg, net, kind, level, seed)
        pool = stratified_subset(data.train, cfg.table1_n, repro.derive_seed("table1", seed))
        halves = torch.randperm(len(pool), generator=repro.generator(seed))
        clean = pool.take(halves[: len(pool) // 2].to(pool.labels.device))
        noisy = distorted(pool.take(halves[len(pool) // 2:].to(pool.labels.device)), kind, level, seed)
        acts_c = models.activations(model, clean.float(), list(layers))
        acts_n = models.activations(model, noisy.float(), list(layers))
        for layer in layers:
            k_top = method.select_filters(ranking(truth[layer]), cfg.fraction, "most")
            f = len(truth[layer]["points"])
            for features, metric in (("pixels", "euclidean"), ("FTM", "euclidean"), ("FTM", "hamming")):
                xc = clean.float().flatten(1) if features == "pixels" else acts_c[layer].flatten(1)
                xn = noisy.float().flatten(1) if features == "pixels" else acts_n[layer].flatten(1)
                ic, i_n = method.exemplar_indices(xc, xn, metric)
                order = method.exemplar_ranking(acts_c[layer][ic], acts_n[layer][i_n])
                top = method.select_filters(order, cfg.fraction, "most")
                rows.append({"layer": layer, "features": features, "metric": metric, "seed": seed,
                             "overlap": method.overlap(top, k_top), "k": len(k_top), "filters": f})
    return Table1Result(pd.DataFrame(rows))


def run_emd_readings(cfg: Config) -> EmdReadingsResult:
    """Top-25% first-layer filters under the 1-D and the spatial (2-D) reading of the EMD.

    Both readings rank the CIFAR-10 net's conv1 filters by Borda count over the same `N_SPATIAL`
    (clean, distorted) training pairs, for each distortion of `FIG4_LEVELS`; the spatial EMD costs
    ~50–150 ms per map pair, hence the small subset.

    Returns:
        Table: distortion, level, seed, reading (1d|spatial), k, overlap (with the other reading).
    """
    data = net_data(cfg, "cifar10_net")
    rows = []
    for kind, level in cfg.fig4_levels.items():
        for seed in cfg.seeds:
            model, _ = baseline(cfg, "cifar10_net", seed)
            pairs = stratified_subset(data.train, cfg.n_spatial, seed=repro.derive_seed("spatial", seed))
            dist = distorted(pairs, kind, level, repro.derive_seed("noise", seed))
            a = models.activations(model, pairs.float(), ["conv1"])["conv1"]
            b = models.activations(model, dist.float(), ["conv1"])["conv1"]
            tops = {}
            for name, fn in (("1d", method.emd_per_filter), ("spatial", method.emd_spatial)):
                d = fn(a, b)
                order = method.rank_from_borda(method.borda_count(d), tiebreak=d.double().sum(0))
                tops[name] = method.select_filters(order, cfg.fraction, "most")
            rows.append({"distortion": kind, "level": level, "seed": seed, "pairs": len(pairs),
                         "filters": a.shape[1], "k": len(tops["1d"]), "overlap": method.overlap(tops["1d"], tops["spatial"]),
                         "top_1d": " ".join(map(str, tops["1d"].tolist())),
                         "top_spatial": " ".join(map(str, tops["spatial"].tolist()))})
    return EmdReadingsResult(pd.DataFrame(rows))
