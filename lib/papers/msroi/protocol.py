"""The experiments of thesis ch. 2: the map network and its baselines (Figs. 2.2, 2.3), semantic JPEG at equal
size (Table 2.1, Figs. 2.1, 2.4, 2.5).

Data: object and background images come from `DATA` (lib.data). Training scenes use the training split only;
every evaluation scene uses held-out images only (the test split), so the map network never saw an evaluation
object. With `MAP_TRAIN='images'` (paper profile) the network trains on the folder's own images (Caltech-256
style, one label each, from MAP_FOLDER, resized to MAP_SIZE with lib.data's centre crop) and a fixed stratified 20% of them are
held out as the evaluation objects.

Sharing with `aug_msroi` (thesis ch. 3): the map network is described by a `MapNetSpec` (architecture, training
scenes, recipe, seed) and cached by its hash with the data's fingerprint (`load_map_network`). Another paper
builds the same spec (`MapNetSpec.from_params(its parameters)` reads the MAP_*, TRAIN_OBJECTS, OBJECT_FRAC,
TEXTURE parameters, or construct it directly) and calls

    net, info = lib.papers.msroi.protocol.load_map_network(spec, dataset, device)

which hits the cache entry this paper wrote (stage `msroi_mapnet`) when the spec and data agree. The maps then
come from `lib.papers.msroi.method.msroi_map(net, images, spec.size, spec.rank_weights)`.

Cached (`lib.cache`): scene sets (stage `msroi_scenes`), the map network (`msroi_mapnet`), the CAM baseline
(`msroi_camnet`), compression results per image set (`msroi_compress`).
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from lib import cache, paths, repro
from lib import data as data_module
from lib.config import Config
from lib.data import Dataset, ImageSet, stratified_split
from lib.papers.msroi import method, results
from lib.papers.msroi.results import MapsResult
from lib.progress import progress

CODE = [sys.modules[__name__], method, results, data_module]
NET_CODE = [method]     # the networks' cache entries depend on the method only (so aug_msroi shares them)


@dataclass
class Memo:
    """Values computed once per notebook run: pools, networks, scene sets."""

    pools: dict = field(default_factory=dict)
    nets: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Pools of object / background images


def resolve_path(path: str) -> Path:
    """A user path; a relative one is under the data root (`lib.paths.data_root()`: $REPRO_DATA_ROOT or <repo>/data),
    where the runner's `needs.data` check looks for caltech256/, kodak/ and cat2000/."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else paths.data_root() / p


def _folder_of(folder: str | None) -> Path:
    if not folder:
        raise ValueError("MAP_TRAIN='images' needs MAP_FOLDER: a folder or .tar.gz of train/<class>/<image> "
                         "(Caltech-256), e.g. MAP_FOLDER='data/caltech256'")
    return resolve_path(folder)


def pools(cfg: Config) -> dict:
    """The object / background pools: {'classes', 'train': ImageSet, 'heldout': ImageSet, 'source', 'fingerprint'}.

    composites: the training split of `DATA` and its test split (held out). images: the folder's images resized
    to MAP_SIZE (lib.data.read_image_folder), split 80/20 stratified (seed 0), the 20% held out.
    """
    memo = cfg.memo(Memo).pools
    if "pools" in memo:
        return memo["pools"]
    if cfg.map_train == "composites":
        ds: Dataset = cfg.dataset(cfg.data)
        out = {"classes": list(ds.classes), "train": ds.train, "heldout": ds.test, "fingerprint": ds.fingerprint,
               "source": f"{ds.spec}: objects and backgrounds of training scenes from its training split "
                         f"({len(ds.train)} images), of evaluation scenes from its test split ({len(ds.test)})"}
    else:
        folder = _folder_of(cfg.map_folder)
        raw = data_module.read_image_folder(folder, resize=cfg.map_size)
        images, labels = raw["train"]
        held_idx, train_idx = stratified_split(labels, [0.2], seed=0)
        out = {"classes": raw["classes"], "train": ImageSet(images[train_idx], labels[train_idx]).to(cfg.device),
               "heldout": ImageSet(images[held_idx], labels[held_idx]).to(cfg.device),
               "fingerprint": data_module._fingerprint(folder) + f"-{cfg.map_size}",
               "source": f"{folder}: {len(train_idx)} training images resized to {cfg.map_size} px, "
                         f"{len(held_idx)} held out (stratified 20%, seed 0) as evaluation objects"}
    memo["pools"] = out
    return out


# ---------------------------------------------------------------------------------------------
# Scenes


def scene_set(pool: ImageSet, fingerprint: str, n: int, size: int, seed: int, *, objects=(2, 4),
              size_frac=(0.25, 0.375), texture: float = 0.06, force_class: int | None = None,
              use_cache: bool = True) -> dict:
    """`n` composite scenes drawn from `pool` (objects and backgrounds), rendered at `size` px; cached by spec.

    Returns:
        {'images': uint8 `[n, 3, size, size]`, 'instances': uint8 `[n, size, size]`, 'layouts': the layouts,
        'labels': float `[n, C]` multi-hot, 'largest': int64 `[n]`} on the CPU.
    """
    spec = {"pool": fingerprint, "pool_n": len(pool), "n": n, "size": size, "seed": seed, "objects": list(objects),
            "size_frac": list(size_frac), "texture": texture, "force_class": force_class}

    def compute() -> dict:
        g = torch.Generator().manual_seed(seed)
        labels = pool.labels.cpu()
        lay = method.make_layouts(n, labels, len(pool), g, objects=objects, size_frac=size_frac, texture=texture,
                                  force_class=force_class)
        images, inst = method.render_scenes(lay, pool.images, pool.images, size)
        classes = int(labels.max()) + 1 if len(labels) else 1
        return {"images": images.cpu(), "instances": inst.to(torch.uint8).cpu(), "layouts": lay,
                "labels": method.multi_hot(lay, labels, classes), "largest": method.largest_class(lay, labels)}

    return cache.cached("msroi_scenes", spec, compute, enabled=use_cache, code=[method])


# ---------------------------------------------------------------------------------------------
# The map network (shared with aug_msroi)


@dataclass(frozen=True)
class MapNetSpec:
    """Everything that determines the trained MS-ROI network (and the CAM baseline trained on the same data)."""

    train: str = "composites"          # composites | images
    size: int = 64                     # input side (pixels)
    widths: tuple = (16, 32, 48)
    pools: int = 2
    per_class: int = 8
    scenes: int = 6000                 # composites: training scenes; images: cap (0 = all)
    epochs: int = 6
    batch: int = 64
    lr: float = 3e-3
    seed: int = 0
    objects: tuple = (1, 4)
    object_frac: tuple = (0.25, 0.5)
    texture: float = 0.06
    rank_weights: tuple = method.CODE_RANK_WEIGHTS
    cam_features: int = 64
    cam_epochs: int = 3

    @classmethod
    def from_params(cls, p: dict) -> "MapNetSpec":
        """The spec from a parameter dict holding MAP_TRAIN, MAP_SIZE, MAP_WIDTHS, MAP_POOLS, MAP_PER_CLASS,
        MAP_SCENES, MAP_EPOCHS, MAP_BATCH, MAP_LR, MAP_SEED, TRAIN_OBJECTS, OBJECT_FRAC, TEXTURE,
        MAP_RANK_WEIGHTS, CAM_FEATURES, CAM_EPOCHS (msroi's names; aug_msroi may declare the same ones)."""
        return cls(train=p["MAP_TRAIN"], size=int(p["MAP_SIZE"]), widths=tuple(p["MAP_WIDTHS"]),
                   pools=int(p["MAP_POOLS"]), per_class=int(p["MAP_PER_CLASS"]), scenes=int(p["MAP_SCENES"]),
                   epochs=int(p["MAP_EPOCHS"]), batch=int(p["MAP_BATCH"]), lr=float(p["MAP_LR"]),
                   seed=int(p["MAP_SEED"]), objects=tuple(p["TRAIN_OBJECTS"]), object_frac=tuple(p["OBJECT_FRAC"]),
                   texture=float(p["TEXTURE"]), rank_weights=tuple(p["MAP_RANK_WEIGHTS"]),
                   cam_features=int(p["CAM_FEATURES"]), cam_epochs=int(p["CAM_EPOCHS"]))

    def net_key(self) -> dict:
        """The fields that determine the MS-ROI network (not the CAM-only ones, not the rank weights)."""
        d = asdict(self)
        for k in ("rank_weights", "cam_features", "cam_epochs"):
            d.pop(k)
        return d


def map_network_spec(cfg: Config) -> MapNetSpec:
    return MapNetSpec.from_params(cfg.params)


def training_data(spec: MapNetSpec, pool: ImageSet, fingerprint: str, classes: int, device: torch.device,
                  use_cache: bool = True) -> tuple[Tensor, Tensor, Tensor]:
    """(images uint8 `[N, 3, size, size]` on `device`, multi-hot float `[N, C]`, largest-object class int64 `[N]`)."""
    if spec.train == "composites":
        s = scene_set(pool, fingerprint, spec.scenes, spec.size, repro.derive_seed("msroi-train-scenes", spec.seed),
                      objects=spec.objects, size_frac=spec.object_frac, texture=spec.texture, use_cache=use_cache)
        labels = s["labels"]
        if labels.shape[1] < classes:
            labels = torch.nn.functional.pad(labels, (0, classes - labels.shape[1]))
        return s["images"].to(device), labels, s["largest"]
    n = len(pool) if spec.scenes == 0 else min(spec.scenes, len(pool))
    y = pool.labels[:n].cpu()
    return pool.images[:n].to(device), torch.nn.functional.one_hot(y, classes).float(), y


def load_map_network(spec: MapNetSpec, pool: ImageSet, fingerprint: str, classes: int, device: torch.device,
                     use_cache: bool = True, log=print) -> tuple[method.MSROINet, dict]:
    """The trained MS-ROI network of `spec` on the training `pool` (cached, stage `msroi_mapnet`).

    Returns (net in eval mode on `device`, info: history (per-epoch loss, seconds), seconds, scenes).
    """
    key = {**spec.net_key(), "data": fingerprint, "classes": classes}

    def compute() -> dict:
        x, y, _ = training_data(spec, pool, fingerprint, classes, device, use_cache)
        net = method.build_msroi(classes, spec.per_class, spec.widths, spec.pools,
                                 repro.derive_seed("msroi-init", spec.seed)).to(device)
        start = time.perf_counter()
        hist = method.train(net, x, y, "bce", epochs=spec.epochs, batch=spec.batch, lr=spec.lr,
                            seed=repro.derive_seed("msroi-order", spec.seed), log=lambda s: log(f"[MS-ROI net] {s}"))
        return {"state_dict": {k: v.detach().cpu() for k, v in net.state_dict().items()}, "history": hist,
                "seconds": time.perf_counter() - start, "n": len(x)}

    stored = cache.cached("msroi_mapnet", key, compute, enabled=use_cache, code=NET_CODE)
    net = method.MSROINet(classes, spec.per_class, spec.widths, spec.pools)
    net.load_state_dict(stored["state_dict"])
    return net.to(device).eval(), {k: stored[k] for k in ("history", "seconds", "n")}


def load_cam_network(spec: MapNetSpec, pool: ImageSet, fingerprint: str, classes: int, device: torch.device,
                     use_cache: bool = True, log=print) -> tuple[method.CAMNet, dict]:
    """The CAM baseline trained on the same images (softmax on the largest object's class; stage `msroi_camnet`)."""
    key = {**spec.net_key(), "epochs": spec.cam_epochs, "features": spec.cam_features, "data": fingerprint,
           "classes": classes}

    def compute() -> dict:
        x, _, largest = training_data(spec, pool, fingerprint, classes, device, use_cache)
        keep = torch.nonzero(largest >= 0).flatten()
        net = method.build_cam(classes, spec.cam_features, spec.widths, spec.pools,
                               repro.derive_seed("cam-init", spec.seed)).to(device)
        start = time.perf_counter()
        hist = method.train(net, x[keep.to(x.device)], largest[keep], "ce", epochs=spec.cam_epochs, batch=spec.batch,
                            lr=spec.lr, seed=repro.derive_seed("cam-order", spec.seed),
                            log=lambda s: log(f"[CAM net] {s}"))
        return {"state_dict": {k: v.detach().cpu() for k, v in net.state_dict().items()}, "history": hist,
                "seconds": time.perf_counter() - start, "n": len(keep)}

    stored = cache.cached("msroi_camnet", key, compute, enabled=use_cache, code=NET_CODE)
    net = method.CAMNet(classes, spec.cam_features, spec.widths, spec.pools)
    net.load_state_dict(stored["state_dict"])
    return net.to(device).eval(), {k: stored[k] for k in ("history", "seconds", "n")}


def map_network(cfg: Config) -> tuple[method.MSROINet, dict]:
    """This run's MS-ROI network (memoised per notebook run)."""
    memo = cfg.memo(Memo).nets
    if "msroi" not in memo:
        p = pools(cfg)
        memo["msroi"] = load_map_network(map_network_spec(cfg), p["train"], p["fingerprint"], len(p["classes"]),
                                         cfg.device, cfg.use_cache)
    return memo["msroi"]


def cam_network(cfg: Config) -> tuple[method.CAMNet, dict]:
    memo = cfg.memo(Memo).nets
    if "cam" not in memo:
        p = pools(cfg)
        memo["cam"] = load_cam_network(map_network_spec(cfg), p["train"], p["fingerprint"], len(p["classes"]),
                                       cfg.device, cfg.use_cache)
    return memo["cam"]


def learned_maps(cfg: Config, images: Tensor) -> Tensor:
    """MS-ROI maps float32 `[N, H, W]` in [0, 1] of uint8 images `[N, 3, H, W]` (any size; CPU result)."""
    net, _ = map_network(cfg)
    maps, _ = method.msroi_map(net, images.to(cfg.device), cfg.map_size, cfg.map_rank_weights)
    return maps.cpu()


# ---------------------------------------------------------------------------------------------
# Figs. 2.2, 2.3: maps on held-out scenes


def map_eval_scenes(cfg: Config) -> dict:
    p = pools(cfg)
    return scene_set(p["heldout"], p["fingerprint"] + "-heldout", cfg.n_map_eval, cfg.eval_size,
                     repro.derive_seed("msroi-map-eval"), objects=(2, 4), size_frac=tuple(cfg.eval_object_frac),
                     texture=cfg.texture, use_cache=cfg.use_cache)


def _score(maps: dict[str, Tensor], instances: Tensor, layouts: dict, labels: Tensor, hit: float,
           class_names: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    inst = instances.long()
    bg = (inst == 0).float()
    scene_rows, object_rows = [], []
    obj_cls = labels[layouts["obj"].clamp(min=0)]
    for name, m in maps.items():
        mean, hits = method.object_recall(m, inst, hit)
        present = ~torch.isnan(mean)
        n_obj = present.sum(1)
        n_hit = hits.sum(1)
        fg = 1 - bg
        inside = (m * fg).sum((1, 2)) / fg.sum((1, 2)).clamp(min=1)
        outside = (m * bg).sum((1, 2)) / bg.sum((1, 2)).clamp(min=1)
        scene_rows.append(pd.DataFrame({"scene": np.arange(len(m)), "method": name, "objects": n_obj.numpy(),
                                        "hits": n_hit.numpy(), "recall": (n_hit / n_obj.clamp(min=1)).numpy(),
                                        "all_hit": (n_hit == n_obj).numpy(), "inside": inside.numpy(),
                                        "outside": outside.numpy()}))
        s_idx, k_idx = torch.nonzero(present, as_tuple=True)
        object_rows.append(pd.DataFrame({"scene": s_idx.numpy(), "slot": k_idx.numpy(),
                                         "class": [class_names[int(c)] for c in obj_cls[s_idx, k_idx]],
                                         "method": name, "mean": mean[s_idx, k_idx].numpy(),
                                         "hit": hits[s_idx, k_idx].numpy()}))
    return pd.concat(scene_rows, ignore_index=True), pd.concat(object_rows, ignore_index=True)


def _timing(cfg: Config, net: method.MSROINet) -> dict:
    """Maps per second at TIMING's height × width (one image per call, after one warm-up call)."""
    h, w, repeats = cfg.timing
    image = torch.randint(0, 256, (1, 3, h, w), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    image = image.to(cfg.device)
    method.msroi_map(net, image, cfg.map_size, cfg.map_rank_weights)
    rates = []
    for _ in range(repeats):
        if cfg.device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        method.msroi_map(net, image, cfg.map_size, cfg.map_rank_weights)
        if cfg.device.type == "cuda":
            torch.cuda.synchronize()
        rates.append(1.0 / max(time.perf_counter() - start, 1e-9))
    return {"device": cfg.device_name(), "height": h, "width": w, "rates": rates, "net": "msroi",
            "map_size": cfg.map_size}


def run_maps(cfg: Config) -> MapsResult:
    """Figs. 2.2, 2.3 (MS-C9, C10, C11): MS-ROI, CAM and spectral-residual maps of N_MAP_EVAL held-out scenes,
    scored against the paste masks (oracle)."""
    p = pools(cfg)
    if len(cfg.map_rank_weights) > len(p["classes"]):
        raise ValueError(f"MAP_RANK_WEIGHTS has {len(cfg.map_rank_weights)} weights but there are only "
                         f"{len(p['classes'])} classes")
    net, net_info = map_network(cfg)
    cam, cam_info = cam_network(cfg)
    scenes = map_eval_scenes(cfg)
    images = scenes["images"].to(cfg.device)
    msroi, top = method.msroi_map(net, images, cfg.map_size, cfg.map_rank_weights)
    cam_maps, cam_pred = method.cam_map(cam, images, cfg.map_size)
    sr = method.spectral_residual(images, cfg.sr_side, cfg.sr_sigma)
    maps = {"msroi": msroi.cpu(), "cam": cam_maps.cpu(), "sr": sr.cpu(), "oracle": (scenes["instances"] > 0).float()}
    labels_cpu = p["heldout"].labels.cpu()
    per_scene, per_object = _score({k: v for k, v in maps.items() if k != "oracle"}, scenes["instances"],
                                   scenes["layouts"], labels_cpu, cfg.hit, p["classes"])
    # multi-label quality of the network on the held-out scenes
    with torch.no_grad():
        logits = torch.cat([net(method.resize_for_map(images[i:i + 64], cfg.map_size)) for i in
                            range(0, len(images), 64)]).cpu()
    y = scenes["labels"]
    if y.shape[1] < logits.shape[1]:
        y = torch.nn.functional.pad(y, (0, logits.shape[1] - y.shape[1]))
    pred = (logits > 0).float()
    tp, fp, fn = float((pred * y).sum()), float((pred * (1 - y)).sum()), float(((1 - pred) * y).sum())
    top_hit = float(y.gather(1, top.cpu()).sum() / y.sum().clamp(min=1))
    largest = scenes["largest"]
    labels_info = {"f1": 2 * tp / max(2 * tp + fp + fn, 1e-9), "top_hit": top_hit,
                   "cam_top1": float((cam_pred.cpu() == largest).double().mean()), "k": len(cfg.map_rank_weights)}
    training = pd.DataFrame([{"net": "msroi", **r} for r in net_info["history"]] +
                            [{"net": "cam", **r} for r in cam_info["history"]])
    e = min(8, len(images))
    examples = {"images": scenes["images"][:e], "instances": scenes["instances"][:e],
                "maps": {k: v[:e] for k, v in maps.items()}, "top": top[:e].cpu(),
                "labels": [[p["classes"][c] for c in torch.nonzero(y[i]).flatten().tolist()] for i in range(e)],
                "classes": p["classes"]}
    info = {"classes": len(p["classes"]), "map_size": cfg.map_size, "eval_size": cfg.eval_size, "hit": cfg.hit,
            "n_scenes": len(images), "rank_weights": list(cfg.map_rank_weights), "source": p["source"],
            "train_n": net_info["n"], "msroi_seconds": net_info["seconds"], "cam_seconds": cam_info["seconds"],
            "cam_n": cam_info["n"], "sr": {"side": cfg.sr_side, "sigma": cfg.sr_sigma}}
    return MapsResult(examples=examples, per_scene=per_scene, per_object=per_object, training=training,
                      labels=labels_info, timing=_timing(cfg, net), info=info)


# ---------------------------------------------------------------------------------------------
# Compression at equal size: Table 2.1, Figs. 2.1, 2.4, 2.5

METRICS = ["psnr_s", "psnr", "psnr_hvs", "psnr_hvsm", "ssim", "ms_ssim", "vifp", "psnr_obj"]
_VQMT = ["psnr", "psnr_hvs", "psnr_hvsm", "ssim", "ms_ssim", "vifp"]


def _salient(saliency: np.ndarray, kind: str, quantile: float) -> np.ndarray | None:
    """PSNR-S pixels: the oracle's objects (saliency == 1) or the learned map's top (1 − quantile); None if empty."""
    mask = saliency >= 1.0 if kind == "oracle" else saliency >= np.quantile(saliency, quantile)
    return mask if mask.any() else None


def _quality(ref: np.ndarray, decoded: np.ndarray, salient: np.ndarray | None, objects: np.ndarray | None) -> dict:
    """Table 2.1's metrics of one decoded image (lib.iqa, luma), PSNR-S on `salient`, PSNR on the true objects."""
    from lib import iqa

    m = iqa.vqmt_metrics(ref, decoded, salient, strict=False)
    out = {k: m[k] for k in _VQMT}
    out["psnr_s"] = m["psnr_s"]
    out["psnr_obj"] = math.nan
    if objects is not None and objects.any():
        y_ref, y_dec = iqa.luma(iqa.crop_to_multiple(ref)), iqa.luma(iqa.crop_to_multiple(decoded))
        out["psnr_obj"] = iqa.psnr(y_ref, y_dec, iqa.crop_to_multiple(objects))
    return out


def compress_image(image: np.ndarray, maps: dict[str, np.ndarray], objects: np.ndarray | None,
                   variants: list[str], reference_q: int, salient_q: float) -> tuple[list[dict], dict]:
    """Every (map, variant) semantic JPEG of one image at the reference's size, with the reference JPEG and a
    standard JPEG at the matched size.

    Args:
        image: uint8 `[H, W, 3]`. maps: {'oracle' | 'learned': float `[H, W]` in [0, 1]}. objects: bool `[H, W]`
        true object pixels (None for real images). variants: lib.jpeg variants. reference_q: the reference's Q.
        salient_q: PSNR-S quantile of the learned map.

    Returns:
        (rows: one dict per (map, variant) — see `CompressionResult`; decoded images {'jpeg', (map, variant)}).
    """
    from lib import jpeg

    ref_data = jpeg.reference_jpeg(image, reference_q)
    ref_dec = jpeg.decode(ref_data)
    base = _quality(image, ref_dec, None, objects)
    decoded = {"jpeg": ref_dec}
    rows = []
    for map_name, saliency in maps.items():
        salient = _salient(saliency, map_name, salient_q)
        ref_s = math.nan
        if salient is not None:
            from lib import iqa
            ref_s = iqa.psnr(iqa.luma(iqa.crop_to_multiple(image)), iqa.luma(iqa.crop_to_multiple(ref_dec)),
                             iqa.crop_to_multiple(salient))
        for variant in variants:
            row = {"map": map_name, "variant": variant, "ref_bytes": len(ref_data), "failed": False, "error": "",
                   "salient_frac": float(salient.mean()) if salient is not None else 0.0,
                   **{f"jpeg_{k}": v for k, v in base.items()}, "jpeg_psnr_s": ref_s}
            try:
                enc = jpeg.encode_msroi(image, saliency.astype(np.float64), variant, reference_q)
            except jpeg.SizeMatchError as exc:
                row.update({"failed": True, "error": str(exc), "ours_bytes": exc.closest_bytes,
                            "size_ratio": exc.closest_bytes / exc.target_bytes - 1, "q_final": exc.closest_knob,
                            "matched_q": math.nan, "matched_bytes": math.nan,
                            **{f"ours_{k}": math.nan for k in METRICS}, **{f"matched_{k}": math.nan for k in METRICS}})
                rows.append(row)
                continue
            ours = jpeg.decode(enc.data)
            try:
                matched = jpeg.jpeg_at_size(image, enc.n_bytes)
            except jpeg.SizeMatchError:
                matched = jpeg.jpeg_at_size(image, enc.n_bytes, integer=True)
            matched_dec = jpeg.decode(matched.data)
            q_ours, q_matched = _quality(image, ours, salient, objects), _quality(image, matched_dec, salient, objects)
            row.update({"ours_bytes": enc.n_bytes, "size_ratio": enc.size_error, "q_final": enc.final_quality,
                        "matched_q": matched.quality, "matched_bytes": matched.n_bytes,
                        **{f"ours_{k}": v for k, v in q_ours.items()},
                        **{f"matched_{k}": v for k, v in q_matched.items()}})
            rows.append(row)
            decoded[(map_name, variant)] = ours
    return rows, decoded


def _image_sets(cfg: Config) -> list[dict]:
    """The compression sets: name, kind ('composites' | folder), scene spec or path."""
    p = pools(cfg)
    heldout_fp = p["fingerprint"] + "-heldout"
    frac = tuple(cfg.eval_object_frac)
    sets = []
    for name, source in cfg.eval_sets.items():
        count = {"kodak": cfg.n_kodak, "mit": cfg.n_mit}.get(name, cfg.n_kodak)
        objects = (3, 4) if name == "mit" else (2, 4)
        sets.append({"set": name, "source": source, "n": count, "objects": objects})
    sets.append({"set": "large", "source": cfg.large_image or "composites", "n": 1, "objects": (2, 4)})
    sets.append({"set": "categories", "source": cfg.category_folder or "composites", "n": cfg.n_per_category,
                 "objects": (2, 4)})
    for s in sets:
        s.update(pool_fp=heldout_fp, frac=frac)
    return sets


def fig2_4_sizes(count: int, smallest: int, largest: int) -> list[int]:
    """`count` sides from `smallest` to `largest`, geometric, rounded to multiples of 16, distinct, ascending."""
    if count < 1 or smallest < 16 or largest < smallest:
        raise ValueError(f"SIZES must be (count >= 1, smallest >= 16, largest >= smallest), got {count, smallest, largest}")
    raw = np.geomspace(smallest, largest, count) if count > 1 else np.array([smallest])
    return sorted({int(16 * round(v / 16)) for v in raw})


def _read_folder_images(path: str) -> list[tuple[str, str, np.ndarray]]:
    """(file name, group = parent folder name, uint8 `[H, W, 3]`) of every image under `path` (a folder, any sizes)
    or of `path` itself when it is an image file. Real images for the paper profile (lib.data stacks equal sizes only)."""
    from PIL import Image

    root = resolve_path(path)
    if not root.exists():
        raise data_module.DataError(f"image set {path!r} does not exist: give a folder of images (Kodak's 24 PNGs, "
                                    "CAT2000's <category>/<image>) or an image file")
    files = [root] if root.is_file() else sorted(f for f in root.rglob("*") if f.suffix.lower() in
                                                  data_module.IMAGE_SUFFIXES)
    if not files:
        raise data_module.DataError(f"no images ({', '.join(data_module.IMAGE_SUFFIXES)}) under {root}")
    out = []
    for f in files:
        with Image.open(f) as im:
            out.append((f.name, f.parent.name if f.parent != root else "", np.asarray(im.convert("RGB"))))
    return out


def _set_images(cfg: Config, s: dict) -> list[dict]:
    """The images of one compression set: dicts with image (uint8 HWC), objects (bool HW or None), group, name."""
    p = pools(cfg)
    out = []
    if s["source"] != "composites":
        items = _read_folder_images(s["source"])
        if s["set"] == "large":
            from PIL import Image

            name, _, img = items[0]
            for side in fig2_4_sizes(*cfg.sizes):
                h, w = img.shape[:2]
                scale = side / max(h, w)
                size = (max(16, round(w * scale)), max(16, round(h * scale)))
                small = np.asarray(Image.fromarray(img).resize(size, Image.LANCZOS))
                out.append({"image": small, "objects": None, "group": str(side), "name": f"{name}@{side}"})
            return out
        return [{"image": img, "objects": None, "group": group, "name": name} for name, group, img in items]
    seed = repro.derive_seed("msroi-compress", s["set"])
    common = dict(size_frac=s["frac"], texture=cfg.texture, use_cache=cfg.use_cache)
    if s["set"] == "large":
        sc = scene_set(p["heldout"], s["pool_fp"], 1, cfg.eval_size, seed, objects=(3, 4), **common)
        for side in fig2_4_sizes(*cfg.sizes):
            img, inst = method.render_scenes(sc["layouts"], p["heldout"].images.cpu(), p["heldout"].images.cpu(), side)
            out.append({"image": img[0].permute(1, 2, 0).numpy(), "objects": inst[0].numpy() > 0, "group": str(side),
                        "name": f"scene@{side}", "instances": inst[:1]})
        return out
    if s["set"] == "categories":
        n_classes = len(p["classes"])
        groups = [(p["classes"][c], c, s["objects"]) for c in range(n_classes)] + [("pattern", None, (0, 0))]
        for label, c, objects in groups:
            if c is not None and not bool((p["heldout"].labels == c).any()):
                continue
            sc = scene_set(p["heldout"], s["pool_fp"], s["n"], cfg.eval_size, seed + (c if c is not None else -1),
                           objects=objects, force_class=c, **common)
            out += [{"image": sc["images"][i].permute(1, 2, 0).numpy(), "objects": sc["instances"][i].numpy() > 0,
                     "group": label, "name": f"{label}-{i}", "instances": sc["instances"][i:i + 1]}
                    for i in range(len(sc["images"]))]
        return out
    sc = scene_set(p["heldout"], s["pool_fp"], s["n"], cfg.eval_size, seed, objects=s["objects"], **common)
    return [{"image": sc["images"][i].permute(1, 2, 0).numpy(), "objects": sc["instances"][i].numpy() > 0,
             "group": s["set"], "name": f"{s['set']}-{i}", "instances": sc["instances"][i:i + 1]}
            for i in range(len(sc["images"]))]


def _maps_of(cfg: Config, items: list[dict]) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """Learned and oracle maps of a set's images (float `[H, W]` in [0, 1]), batched when the sizes agree."""
    shapes = {it["image"].shape for it in items}
    if len(shapes) == 1:
        batch = torch.from_numpy(np.stack([it["image"] for it in items])).permute(0, 3, 1, 2)
        learned = list(learned_maps(cfg, batch).numpy())
    else:
        learned = [learned_maps(cfg, torch.from_numpy(np.ascontiguousarray(it["image"])).permute(2, 0, 1)[None])[0]
                   .numpy() for it in items]
    with_objects = [it for it in items if it["objects"] is not None]
    oracle: list[np.ndarray | None] = [None] * len(items)
    if with_objects and len(shapes) == 1:
        side = max(items[0]["image"].shape[:2])
        soft = method.soft_oracle(torch.cat([it["instances"] for it in items]), cfg.oracle_decay * side).numpy()
        oracle = list(soft)
    elif with_objects:
        oracle = [method.soft_oracle(it["instances"], cfg.oracle_decay * max(it["image"].shape[:2]))[0].numpy()
                  if it["objects"] is not None else None for it in items]
    return learned, oracle


def _compress_set(cfg: Config, s: dict) -> dict:
    from lib import iqa, jpeg

    spec = {"set": {k: (list(v) if isinstance(v, tuple) else v) for k, v in s.items()}, "variants": cfg.variants,
            "ref_q": cfg.reference_q, "salient": cfg.salient, "decay": cfg.oracle_decay, "size": cfg.eval_size,
            "sizes": cfg.sizes, "texture": cfg.texture, "classes": len(pools(cfg)["classes"]),
            "net": {**map_network_spec(cfg).net_key(), "data": pools(cfg)["fingerprint"]},
            "rank_weights": cfg.map_rank_weights}

    def compute() -> dict:
        rows, example = [], None
        items = _set_images(cfg, s)
        learned, oracle = _maps_of(cfg, items)
        for k, item in enumerate(progress(items, f"compress {s['set']}")):
            img = np.ascontiguousarray(item["image"])
            maps = {"learned": learned[k]} if oracle[k] is None else {"oracle": oracle[k], "learned": learned[k]}
            r, decoded = compress_image(img, maps, item["objects"], list(cfg.variants), cfg.reference_q, cfg.salient)
            for row in r:
                row.update({"set": s["set"], "image": item["name"], "group": item["group"], "side": max(img.shape[:2])})
            rows += r
            if example is None and (("learned", cfg.headline) in decoded):
                inst = item.get("instances")
                example = {"original": img, "jpeg": decoded["jpeg"], "ours": decoded[("learned", cfg.headline)],
                           "map": maps["learned"], "objects": item["objects"], "name": item["name"],
                           "instances": inst[0].numpy() if inst is not None else None,
                           "oracle_ours": decoded.get(("oracle", cfg.headline))}
        return {"rows": rows, "example": example}

    return cache.cached("msroi_compress", spec, compute, enabled=cfg.use_cache, code=CODE + [jpeg, iqa])


def run_compression(cfg: Config) -> results.CompressionResult:
    """Table 2.1, Figs. 2.1, 2.4, 2.5 (MS-C1…C8): every image of every set compressed by every encoder variant with
    the oracle map (composites only) and the learned MS-ROI map, at the reference JPEG's size (±1%), with the
    reference JPEG (Q = REFERENCE_Q) and a standard JPEG at the matched size. Cached per set."""
    from lib import jpeg

    unknown = [v for v in cfg.variants if v not in jpeg.VARIANTS]
    if unknown:
        raise ValueError(f"VARIANTS: unknown {unknown}; valid: {list(jpeg.VARIANTS)}")
    if cfg.headline not in cfg.variants:
        raise ValueError(f"HEADLINE={cfg.headline!r} is not among VARIANTS={cfg.variants}")
    sets = _image_sets(cfg)
    parts = [_compress_set(cfg, s) for s in sets]
    rows = pd.DataFrame([r for part in parts for r in part["rows"]])
    example = next((part["example"] for part in parts if part["example"] is not None), {})
    info = {"sets": {s["set"]: s["source"] for s in sets}, "reference_q": cfg.reference_q, "variants": cfg.variants,
            "headline": cfg.headline, "eval_size": cfg.eval_size, "salient": cfg.salient, "decay": cfg.oracle_decay,
            "sizes": fig2_4_sizes(*cfg.sizes), "subsampling": "4:4:4", "tolerance": 0.01}
    return results.CompressionResult(rows=rows, example=example, metrics=list(METRICS), info=info)
