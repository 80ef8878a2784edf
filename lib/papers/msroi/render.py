"""Prakash thesis ch. 2: one function per figure / table. Each draws the artefact from a typed result of
`lib.papers.msroi.protocol`, saves it with its data, sets the thesis's numbers beside ours, computes the verdicts of
the claims it tests (`lib.claims`) and returns the saved `Record`.

Claims over images are paired comparisons over images (the Student-t interval of the mean per-image difference);
proportions of images use the Wilson interval. Every compression claim is judged twice, with the oracle map (the
paste masks: the encoder alone) and with the learned MS-ROI map (end to end), and for every encoder variant.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lib import claims as C
from lib.config import Config
from lib.papers.msroi.paper import (
    C10_FAIL,
    CLAIMS,
    SPEED,
)
from lib.papers.msroi.results import MapsResult
from lib.report import Record

METHOD_LABEL = {"msroi": "MS-ROI (ours)", "cam": "CAM (top-1)", "sr": "spectral residual", "oracle": "paste mask (oracle)"}
METHOD_COLOUR = {"msroi": "tab:red", "cam": "tab:blue", "sr": "tab:grey"}


def _img(x) -> np.ndarray:
    """uint8 `[3, H, W]` tensor/array -> `[H, W, 3]` array for imshow."""
    return np.asarray(x).transpose(1, 2, 0)


def _off(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def _maps_notes(rec: Record, res: MapsResult) -> None:
    i = res.info
    rec.note(f"Scenes: CIFAR composites (objects pasted with a superellipse mask on an enlarged background crop plus "
             f"smooth texture), {i['n_scenes']} held-out scenes of 2–4 objects at {i['eval_size']} px; {i['source']}. "
             "The paste masks are the ground truth ('oracle'); the thesis shows real photographs and human fixations.")
    rec.note(f"MS-ROI network: multi-label (one sigmoid per class, binary cross-entropy, eq 2.6 with the sign "
             f"corrected), per-class feature maps (eq 2.4), input {i['map_size']} px, trained on {i['train_n']} "
             f"images ({i['msroi_seconds']:.0f} s when computed); map = top-{len(i['rank_weights'])} classes by Z^c, "
             f"each class map min-max normalised, weights {i['rank_weights']} (the public code's rank weights), "
             "bilinear upsampling, min-max to [0, 1].")
    rec.note(f"CAM baseline: same trunk + ReLU feature maps + global average pooling + linear layer, softmax on the "
             f"largest object's class ({i['cam_n']} images); top-1 class map. Spectral residual (Hou & Zhang 2007): "
             f"grey image at {i['sr']['side']} px, log-amplitude minus its 3×3 mean, Gaussian σ = {i['sr']['sigma']} "
             "px; it replaces the eye-fixation map of the thesis's figure, which composites do not have.")
    lab = res.labels
    rec.note(f"Held-out multi-label quality of the MS-ROI network: micro F1 {lab['f1']:.3f} at sigmoid 0.5; "
             f"{100 * lab['top_hit']:.1f}% of the present classes are among its top {lab['k']}; the CAM network's "
             f"top-1 class is the largest object's in {100 * lab['cam_top1']:.1f}% of scenes.")


def _summary(res: MapsResult) -> pd.DataFrame:
    ps = res.per_scene
    rows = []
    for m in ("msroi", "cam", "sr"):
        s = ps[ps.method == m]
        mean, lo, hi = C.mean_interval(s.recall.to_numpy(float))
        rows.append({"method": METHOD_LABEL[m], "object recall": mean, "recall 95% lo": lo, "recall 95% hi": hi,
                     "scenes with every object": float(s.all_hit.mean()), "mean map on objects": float(s.inside.mean()),
                     "mean map on background": float(s.outside.mean()), "scenes": len(s)})
    return pd.DataFrame(rows).set_index("method")


# ---------------------------------------------------------------------------------------------
# Fig. 2.2


def fig2_2(cfg: Config, res: MapsResult) -> Record:
    """Fig. 2.2: MS-ROI vs CAM vs saliency on one multi-object scene, and object recall over every held-out scene
    (MS-C9)."""
    rec = Record(cfg, "fig2_2", "Fig. 2.2: MS-ROI vs CAM vs saliency",
                 "Comparison of various methods of detecting objects in an image (thesis: a photograph of a boy and "
                 "children; here held-out CIFAR composites, spectral-residual saliency in place of human fixations)")
    ex = res.examples
    n_obj = (ex["instances"].reshape(len(ex["instances"]), -1).long().max(1).values).numpy()
    pick = int(np.argmax(n_obj))   # the first example with the most objects
    cols = ["image", "msroi", "cam", "sr", "oracle"]
    fig = plt.figure(figsize=(13, 5.6))
    grid = fig.add_gridspec(2, 5, height_ratios=[1, 0.9])
    for j, name in enumerate(cols):
        ax = fig.add_subplot(grid[0, j])
        ax.imshow(_img(ex["images"][pick]))
        if name != "image":
            ax.imshow(np.asarray(ex["maps"][name][pick]), cmap="jet", alpha=0.55, vmin=0, vmax=1)
        ax.set_title(f"({'abcde'[j]}) " + ("image: " + ", ".join(ex["labels"][pick]) if name == "image"
                                           else METHOD_LABEL[name]), fontsize=8)
        _off(ax)
    summary = _summary(res)
    ax = fig.add_subplot(grid[1, :3])
    ps = res.per_scene
    for k, m in enumerate(("msroi", "cam", "sr")):
        row = summary.loc[METHOD_LABEL[m]]
        ax.bar(k, row["object recall"], color=METHOD_COLOUR[m],
               yerr=[[row["object recall"] - row["recall 95% lo"]], [row["recall 95% hi"] - row["object recall"]]],
               capsize=4)
        ax.bar(k + 4, row["scenes with every object"], color=METHOD_COLOUR[m], alpha=0.6)
    ax.set_xticks([0, 1, 2, 4, 5, 6], [METHOD_LABEL[m].split(" (")[0] for m in ("msroi", "cam", "sr")] * 2, fontsize=7)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share")
    ax.set_title(f"left: object recall (mean map ≥ {res.info['hit']} on the object), 95% CI; right: scenes with "
                 f"every object captured ({res.info['n_scenes']} held-out scenes)", fontsize=8)
    ax = fig.add_subplot(grid[1, 3:])
    for m in ("msroi", "cam", "sr"):
        s = ps[ps.method == m]
        ax.scatter(s.outside, s.inside, s=6, alpha=0.5, color=METHOD_COLOUR[m], label=METHOD_LABEL[m])
    ax.plot([0, 1], [0, 1], color="k", lw=0.6)
    ax.set_xlabel("mean map on background")
    ax.set_ylabel("mean map on objects")
    ax.legend(fontsize=7)
    fig.tight_layout()
    rec.figure(fig, "fig2_2", ps)
    rec.table(summary, "fig2_2_summary", "Maps on held-out scenes: object recall (mean and 95% Student-t interval "
                                         "over scenes), scenes with every object captured, mean map values")
    rec.data(res.per_object, "fig2_2_objects")
    rec.data(res.training, "fig2_2_training")

    def recall(m: str) -> np.ndarray:
        return ps[ps.method == m].sort_values("scene").recall.to_numpy(float)

    parts = []
    for other in ("cam", "sr"):
        t = C.greater(recall("msroi"), recall(other))
        parts.append((f"MS-ROI > {METHOD_LABEL[other]}", t.verdict, f"Δ recall {t.describe()} over scenes"))
    t_cs = C.greater(recall("cam"), recall("sr"))
    rec.claim(C.Claim("ms.c9", CLAIMS["ms.c9"], C.all_of([v for _, v, _ in parts]),
                      "; ".join(f"{n}: {v.value} ({e})" for n, v, e in parts) +
                      f"; context, CAM − spectral residual: {t_cs.describe()}", tuple(parts)))
    _maps_notes(rec, res)
    return rec.save()


# ---------------------------------------------------------------------------------------------
# Fig. 2.3


def fig2_3(cfg: Config, res: MapsResult) -> Record:
    """Fig. 2.3: the MS-ROI map of five held-out scenes (the first five, not chosen) and how often a map misses an
    object (MS-C10); the map speed (MS-C11)."""
    rec = Record(cfg, "fig2_3", "Fig. 2.3: our map for five scenes",
                 "Sample of our map for five KODAK images (here: the first five held-out composite scenes)")
    ex = res.examples
    n = min(5, len(ex["images"]))
    fig, axes = plt.subplots(2, n, figsize=(2.6 * n, 5.4), squeeze=False)
    ps = res.per_scene[res.per_scene.method == "msroi"].set_index("scene")
    for j in range(n):
        axes[0, j].imshow(_img(ex["images"][j]))
        axes[0, j].set_title(", ".join(ex["labels"][j]), fontsize=7)
        axes[1, j].imshow(np.asarray(ex["maps"]["msroi"][j]), cmap="jet", vmin=0, vmax=1)
        axes[1, j].contour(np.asarray(ex["instances"][j]) > 0, levels=[0.5], colors="white", linewidths=0.8)
        top = [ex["classes"][c] for c in ex["top"][j][:3].tolist()]
        axes[1, j].set_title(f"recall {ps.loc[j, 'hits']}/{ps.loc[j, 'objects']}; top: {', '.join(top)}", fontsize=7)
        _off(axes[0, j])
        _off(axes[1, j])
    fig.tight_layout()
    rows = res.per_scene[res.per_scene.method == "msroi"].copy()
    rec.figure(fig, "fig2_3", rows)
    fails = int((~rows.all_hit.astype(bool)).sum())
    t = C.proportion_at_most(fails, len(rows), C10_FAIL)
    rec.claim(C.Claim("ms.c10", CLAIMS["ms.c10"], t.verdict,
                      f"scenes where the MS-ROI map misses an object (mean map < {res.info['hit']} on it): "
                      f"{t.describe()} vs ≤ {C10_FAIL:.0f}% (thesis: 1 of its 5 shown images)"))
    tm = res.timing
    rates = np.asarray(tm["rates"], float)
    speed = (f"{rates.mean():.1f} maps/s at {tm['height']}×{tm['width']} on {tm['device']} (network input "
             f"{tm['map_size']} px, {len(rates)} repeats)")
    if tm["device"].startswith("cuda"):
        ts = C.greater(list(rates), [SPEED] * len(rates))
        rec.claim(C.Claim("ms.c11", CLAIMS["ms.c11"], ts.verdict,
                          f"{speed}; minus {SPEED:.0f}: {ts.describe(' maps/s')} (a different GPU than the thesis's)"))
    else:
        rec.claim(C.Claim("ms.c11", CLAIMS["ms.c11"], C.Verdict.NOT_RUN,
                          f"a GPU speed claim; measured here on the CPU only: {speed}"))
    rec.table(pd.DataFrame([{"device": tm["device"], "height": tm["height"], "width": tm["width"],
                             "maps per second": float(rates.mean()), "thesis (Titan X Maxwell)": f"> {SPEED:.0f}"}]),
              "fig2_3_speed", "MS-C11: map speed (one image per call, map network + rank weighting + upsampling)")
    _maps_notes(rec, res)
    return rec.save()
