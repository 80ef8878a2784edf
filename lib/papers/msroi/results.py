"""Typed results of thesis ch. 2: what `protocol.run_*` return and `render` reads.

Maps are float32 in [0, 1]; images uint8 (0–255) `[N, 3, H, W]`; instance maps uint8 `[N, H, W]` (0 = background,
k + 1 = object slot k). Qualities on the IJG 1–100 scale, PSNR-type metrics in dB on luma (0–255), sizes in bytes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class MapsResult:
    """Figs. 2.2–2.3 and claims MS-C9…C11: the maps of three methods on held-out composite scenes.

    examples: images uint8 `[E, 3, S, S]`, instances uint8 `[E, S, S]`, maps {method: float32 `[E, S, S]`} for
        methods msroi | cam | sr | oracle, top int64 `[E, k]` (the MS-ROI network's top classes), labels list of
        lists of class names present, scene ids.
    per_scene: scene, method, objects (count), hits (objects whose mean map ≥ HIT), recall = hits / objects,
        all_hit (bool), inside (mean map on object pixels), outside (mean map on background pixels).
    per_object: scene, slot, class, method, mean (map over the object's visible pixels), hit.
    training: net (msroi | cam), epoch, loss, seconds — the training curves (from the cache when hit).
    labels: MS-ROI network on the held-out scenes: `f1` (multi-label F1 at sigmoid 0.5, micro), `top_hit` (share
        of present classes within the top-k), CAM `top1` (largest-object class accuracy).
    timing: device, height, width, rates (maps per second, one per repeat), net ('msroi').
    info: classes, map_size, eval_size, hit threshold, scene counts, rank weights, sources of the pools.
    """

    examples: dict
    per_scene: pd.DataFrame
    per_object: pd.DataFrame
    training: pd.DataFrame
    labels: dict = field(default_factory=dict)
    timing: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)


@dataclass
class CompressionResult:
    """Table 2.1, Figs. 2.1, 2.4, 2.5 and claims MS-C1…C8: every image × encoder × map.

    rows: one row per (set, image, variant, map) with: set, image, group (category or size), side (pixels,
        the longer side), map (oracle | learned), variant, ref_bytes, ours_bytes, size_ratio (ours / ref − 1),
        q_final (the encoder's final / base quality; NaN when it has none), matched_q (quality of the standard
        JPEG whose size matches ours), salient_frac, and per metric m in `metrics` the columns `jpeg_<m>`
        (reference Q), `ours_<m>`, `matched_<m>` (standard JPEG at matched size); failed (the encoder could not
        match the size: the row keeps its closest result and the reason in `error`).
    example: Fig. 2.1's close-up: original, reference JPEG and ours (uint8 `[H, W, 3]` each), the map and the
        crop box (y0, x0, side), for the headline encoder and the learned map.
    metrics: metric names in Table 2.1's order.
    info: sizes, sets, tolerance, reference quality, encoder notes.
    """

    rows: pd.DataFrame
    example: dict
    metrics: list[str]
    info: dict = field(default_factory=dict)

    def deltas(self, metric: str, against: str = "jpeg") -> np.ndarray:
        """ours − `against` (jpeg | matched) for `metric`, aligned with `rows`."""
        return (self.rows[f"ours_{metric}"] - self.rows[f"{against}_{metric}"]).to_numpy(float)
