"""Bartschat et al.: one function per figure (Figs. 2–7), with data, the paper's numbers and computed verdicts.

Each function takes the `Config` and a result of `lib.papers.training_variation.protocol`, draws the artefact,
saves it with its data, computes the verdicts of the claims it tests and returns the saved `Record`.

Statistics. Accuracy comparisons are paired over the same test images (same seeded distortion for every model):
per image, correctness in % (averaged over `SEEDS` when there are several), and the 95% Student-t interval of
the mean per-image difference decides (`lib.claims.greater`). "Similar" (|Δ| ≤ tol) holds when the whole
interval lies inside ±tol, fails when it lies wholly outside, else inconclusive (`_within`). Adversarial
changes are compared per image over the attacked images both models classify correctly (reading (a)); reading
(b) counts misclassified images as change 0 and is shown beside it. Architecture spreads use a paired
bootstrap over images (1,000 resamples, seed 0). Seed-to-seed variation (`EXTRA_SEEDS`) is reported and used
where a claim is about "no significant difference".
"""
from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FormatStrFormatter

from lib import claims as C
from lib.config import Config
from lib.papers.training_variation.paper import (
    ARCH_LABEL,
    CLAIMS,
    FIG2_WEIGHTS,
    FIG2_WIDTH,
    MODULE_LABEL,
    ONE_PERCENT,
)
from lib.papers.training_variation.results import Fig3Result, ModulesResult, StudyResult
from lib.report import Record

V = C.Verdict
COLOURS = {"resnet": "tab:blue", "inception": "tab:orange", "resnext": "tab:green"}


# ---------------------------------------------------------------------------------------------
# Statistics helpers


def _greater(a: np.ndarray, b: np.ndarray, margin: float = 0.0) -> C.Test:
    """`lib.claims.greater` over paired per-image values; inconclusive (NaN) with fewer than two pairs."""
    if len(a) < 2:
        return C.Test(V.INCONCLUSIVE, float("nan"), float("nan"), float("nan"), len(a))
    return C.greater(a, b, margin)


def _within(d: np.ndarray, tol: float) -> C.Test:
    """Is the mean of the paired differences `d` within ±`tol`? (interval inside: holds; wholly outside: fails)."""
    if len(d) < 2:
        return C.Test(V.INCONCLUSIVE, float("nan"), float("nan"), float("nan"), len(d))
    m, lo, hi = C.mean_interval(d)
    if len(d) < 2:
        v = V.INCONCLUSIVE
    elif -tol < lo and hi < tol:
        v = V.HOLDS
    elif lo > tol or hi < -tol:
        v = V.FAILS
    else:
        v = V.INCONCLUSIVE
    return C.Test(v, m, lo, hi, len(d))


def _share_rule(verdicts: list[C.Verdict], share: float) -> C.Verdict:
    """Holds when at least `share` of the parts hold; fails when more than 1 − `share` fail; else inconclusive."""
    n = max(len(verdicts), 1)
    if sum(v is V.HOLDS for v in verdicts) / n >= share:
        return V.HOLDS
    if sum(v is V.FAILS for v in verdicts) / n > 1 - share:
        return V.FAILS
    return V.INCONCLUSIVE


def _claim(cid: str, verdict: C.Verdict, evidence: str, parts: list[tuple[str, C.Verdict, str]] = ()) -> C.Claim:
    return C.Claim(cid, CLAIMS[cid], verdict, evidence, tuple(parts))


def _lv(s: float) -> str:
    return f"{s:g}"


class _Grid:
    """Per-image views of a `StudyResult` (main seeds averaged)."""

    def __init__(self, res: StudyResult):
        self.res = res
        self.seeds = res.info["seeds"]
        self.levels = res.info["levels"]
        self.archs = [a for a in ARCH_LABEL if a in set(res.models.arch)]

    def correct(self, arch: str, tr: float, te: float, seeds: list[int] | None = None) -> np.ndarray:
        """Per-image correctness in % (float `[N]`), averaged over `seeds` (default: the main seeds)."""
        seeds = self.seeds if seeds is None else seeds
        return 100 * np.mean([self.res.correct[(arch, tr, s, te)] for s in seeds], axis=0)

    def acc(self, arch: str, tr: float, te: float) -> float:
        return float(self.correct(arch, tr, te).mean())

    def table(self) -> pd.DataFrame:
        """Accuracy (%) of the main seeds: rows (arch, train σ), columns test σ."""
        a = self.res.acc[self.res.acc.seed.isin(self.seeds)]
        return (100 * a.groupby(["arch", "train_sigma", "test_sigma"]).acc.mean()).unstack("test_sigma")

    def adv(self, arch: str, tr: float) -> pd.DataFrame:
        """Attacked images of one model (main seed = the first), indexed by image."""
        a = self.res.adv
        return a[(a.arch == arch) & (a.train_sigma == tr) & (a.seed == self.seeds[0])].set_index("image")

    def change_pair(self, arch: str, tr_a: float, tr_b: float, col: str = "sign_change") -> tuple[np.ndarray, np.ndarray]:
        """Changes of two models over the images both classify correctly and both attacks flipped (reading (a))."""
        a, b = self.adv(arch, tr_a), self.adv(arch, tr_b)
        ok = (~a.misclassified) & (~b.misclassified) & a[col].notna() & b[col].notna()
        return a[col][ok].to_numpy(float), b[col][ok].to_numpy(float)

    def mean_change(self, arch: str, tr: float, col: str = "sign_change", counted: bool = False) -> float:
        """Mean change over the attacked images: (a) correct ones only, or (b) misclassified counted as 0."""
        a = self.adv(arch, tr)
        if counted:
            return float(a[col].mean())
        return float(a[col][~a.misclassified].mean())

    def seed_spread(self) -> tuple[float, list[str]]:
        """Largest |clean-accuracy difference| (points) between seeds of the same (arch, σ); descriptions."""
        extra = self.res.info["extra_seeds"]
        if not extra:
            return float("nan"), []
        out, texts = [], []
        for arch in self.archs:
            for s in self.res.info["extra_levels"]:
                keys = [sd for sd in self.seeds + extra if (arch, s, sd, 0.0) in self.res.correct]
                if len(keys) < 2:
                    continue
                accs = [100 * self.res.correct[(arch, s, sd, 0.0)].mean() for sd in keys]
                out.append(max(accs) - min(accs))
                texts.append(f"{ARCH_LABEL[arch]} σ={_lv(s)}: " + " / ".join(f"{x:.1f}" for x in accs) + "%")
        return (max(out) if out else float("nan")), texts


def _record(cfg: Config, res: StudyResult | None, artefact: str, title: str, caption: str) -> Record:
    rec = Record(cfg, artefact, title, caption)
    if res is not None:
        s = res.info["sizes"]
        rec.note(f"Scale: width {res.info['width']} (paper 256), {s['train']} training images, {res.info['epochs']} "
                 f"epochs of SGD (momentum {cfg.momentum}, lr {cfg.lr} cosine to 0, weight decay {cfg.weight_decay}, "
                 f"batch {cfg.batch}; the paper names only SGD, cross-entropy and 90 epochs), {s['test']} test images "
                 f"per level, {s['adv']} attacked images per model. Training seeds {res.info['seeds']} for every model; "
                 f"extra seeds {res.info['extra_seeds']} at noise σ {res.info['extra_levels']}. A seed changes the "
                 "initialisation, the batch order and the distortion draws (each model has its own). Data: "
                 f"{res.info['data']}.")
        rec.note("Noise is added after normalisation to [−1, 1] (σ on that scale, × 127.5 for grey levels), without "
                 "clipping or 8-bit quantisation, freshly drawn per training batch; each test level is drawn once with "
                 "a fixed seed and shared by all models (paired comparisons). Blur: Gaussian σ in pixels, scipy rule "
                 "(truncate 4σ, reflect border).")
        clean = res.acc[(res.acc.train_sigma == 0) & (res.acc.test_sigma == 0)].acc * 100
        if len(clean):
            rec.note(f"Our scale decides some verdicts: the σ = 0 models reach {clean.min():.1f}–{clean.max():.1f}% "
                     "clean test accuracy (the paper's width-256, 90-epoch models are far stronger, though it prints no "
                     "accuracy). Claims that compare architectures or call results 'similar' within a few points (TV-C1, "
                     "C7, C13, C17) are judged against differences between weak models and the seed-to-seed spread of "
                     "these models (fig4_seeds.csv): a fail or inconclusive there speaks about this scale, not "
                     "necessarily about the paper.")
        if res.family == "blur":
            rec.note("Blur at σ ∈ {" + ", ".join(_lv(x) for x in res.info["identity_blur"]) + "} pixels is the "
                     "identity (kernel radius int(4σ + 0.5) = 0): those models are trained and tested on clean images, "
                     "so they differ from the σ = 0 model only by their training seed (further clean replicates).")
    return rec


def _level_axis(ax: plt.Axes, levels: list[float], xlabel: str) -> None:
    ax.set_xticks(range(len(levels)))
    ax.set_xticklabels([_lv(s) for s in levels])
    ax.set_xlabel(xlabel)
    ax.grid(alpha=0.3)


# ---------------------------------------------------------------------------------------------
# Fig. 2 and Fig. 3


def fig2(cfg: Config, result: ModulesResult) -> Record:
    """Fig. 2: weights of the ResNet, Inception and ResNeXt modules and a plain 3×3 conv, ours beside the paper's."""
    rec = Record(cfg, "fig2", "Fig. 2: the three modules and their weights",
                 "Visualisation of the modules: left ResNet, middle Inception, right ResNeXt. The second line defines "
                 "the number of feature maps produced by the module.")
    t = result.table
    at256 = t[t.width == FIG2_WIDTH].set_index("module")
    order = ["resnet", "inception", "resnext", "conv3x3"]
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    xs = np.arange(len(order))
    ax.bar(xs - 0.2, [FIG2_WEIGHTS[m] for m in order], 0.4, label="paper (width 256)", color="0.6")
    ax.bar(xs + 0.2, [at256.weights[m] for m in order], 0.4, label="ours (width 256)", color="tab:blue")
    ax.set_xticks(xs)
    ax.set_xticklabels([MODULE_LABEL[m] for m in order])
    ax.set_ylabel("weights (no biases, no BN)")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    data = t.assign(paper=[FIG2_WEIGHTS[m] if w == FIG2_WIDTH else np.nan for m, w in zip(t.module, t.width)])
    rec.figure(fig, "fig2", data)
    ours = pd.DataFrame({"weights": [int(at256.weights[m]) for m in order]},
                        index=pd.Index([MODULE_LABEL[m] for m in order], name="module"))
    paper = pd.DataFrame({"weights": [FIG2_WEIGHTS[m] for m in order]}, index=ours.index)
    rec.table(ours, "fig2_weights", "Weights at width 256: paper beside ours", paper=paper)
    rec.table(result.shapes, "fig2_shapes", f"Shapes at the run's width {result.run_width} (a forward pass)")
    parts = []
    for m in order:
        ok = int(at256.weights[m]) == FIG2_WEIGHTS[m]
        parts.append((MODULE_LABEL[m], V.HOLDS if ok else V.FAILS,
                      f"ours {int(at256.weights[m]):,} vs paper {FIG2_WEIGHTS[m]:,} "
                      f"({100 * (at256.weights[m] / FIG2_WEIGHTS[m] - 1):+.1f}%)"))
    rec.claim(_claim("tv.p1", C.all_of([p[1] for p in parts]), "; ".join(f"{n}: {e}" for n, _, e in parts), parts))
    rec.note("The paper's Inception widths are not given; ours are four paths of width/4 (1×1; 1×1→3×3; 1×1→5×5; "
             "max-pool→1×1), 204,800 weights at width 256 against the paper's 192,512 (a known deviation: many width "
             "splits give 192,512 and the text does not pick one). ResNeXt below width 256: min(32, width/8) groups.")
    return rec.save()


def fig3(cfg: Config, result: Fig3Result) -> Record:
    """Fig. 3: test images (a frog and a truck on CIFAR-10) clean and with noise σ on the [−1, 1] scale."""
    rec = Record(cfg, "fig3", "Fig. 3: images with and without noise",
                 "The left images show the original images, the right ones the same images with added noise of "
                 f"σ = {result.sigma:g}.")
    k = len(result.names)
    fig, axes = plt.subplots(k, 2, figsize=(4, 2 * k), squeeze=False)
    shown = np.clip((result.noisy + 1) / 2, 0, 1)
    rows = []
    for i in range(k):
        axes[i, 0].imshow(result.clean[i])
        axes[i, 1].imshow(shown[i])
        axes[i, 0].set_ylabel(f"{result.names[i]} (#{result.indices[i]})", fontsize=8)
        clean = result.clean[i].astype(float) / 127.5 - 1
        rows.append({"index": result.indices[i], "class": result.names[i], "sigma": result.sigma,
                     "noise_std_measured": float((result.noisy[i] - clean).std()),
                     "share_outside_pm1": float((np.abs(result.noisy[i]) > 1).mean())})
    axes[0, 0].set_title("original", fontsize=9)
    axes[0, 1].set_title(f"noise σ = {result.sigma:g} (clipped for display)", fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    rec.figure(fig, "fig3", pd.DataFrame(rows))
    stds = np.array([r["noise_std_measured"] for r in rows])
    err = np.abs(stds / result.sigma - 1) if result.sigma > 0 else np.abs(stds)
    rec.claim(_claim("tv.fig3_units", V.HOLDS if (err <= 0.05).all() else V.FAILS,
                     "measured noise std per image " + ", ".join(f"{x:.3f}" for x in stds) +
                     f" vs σ = {result.sigma:g} ([−1, 1] scale; {127.5 * result.sigma:g} grey levels); largest relative "
                     f"error {100 * err.max():.1f}% (bound 5%)"))
    rec.note("Noise on the [−1, 1] scale without clipping (σ = 1 is 127.5 grey levels); the network sees the unclipped "
             "values, the picture clips them to [−1, 1] for display only.")
    return rec.save()


# ---------------------------------------------------------------------------------------------
# Accuracy grids (Figs. 4 and 6)


def _acc_figure(rec: Record, g: _Grid, name: str, xlabel: str) -> pd.DataFrame:
    tab = g.table()
    levels = g.levels
    fig, axes = plt.subplots(len(g.archs), 1, figsize=(6.4, 2.9 * len(g.archs)), sharex=True, squeeze=False)
    cmap = plt.get_cmap("viridis")
    for ax, arch in zip(axes[:, 0], g.archs):
        for j, te in enumerate(levels):
            ys = [tab.loc[(arch, tr), te] for tr in levels]
            ax.plot(range(len(levels)), ys, "o-", color=cmap(j / max(len(levels) - 1, 1)), ms=3,
                    label=f"test {_lv(te)}")
        ax.set_title(ARCH_LABEL[arch], fontsize=10)
        ax.set_ylabel("accuracy (%)")
        _level_axis(ax, levels, xlabel)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(levels), fontsize=7, title="evaluation σ",
               title_fontsize=7, frameon=False)      # above the panels: inside one it would hide lines
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / fig.get_figheight()))
    data = g.res.acc.assign(acc_pct=lambda d: 100 * d.acc)
    rec.figure(fig, name, data)
    shown = tab.copy()
    shown.columns = [f"test {_lv(c)}" for c in shown.columns]
    rec.table(shown.round(1), f"{name}_grid", "Accuracy (%) of the main seed(s): rows (architecture, training σ), "
              "columns evaluation σ (the paper prints no numbers)")
    return tab


def _similar_cells(g: _Grid, pairs: list[tuple[str, str]], tol: float) -> tuple[C.Verdict, str]:
    verdicts, worst = [], (0.0, "")
    for tr in g.levels:
        for te in g.levels:
            cell = []
            for a, b in pairs:
                t = _within(g.correct(a, tr, te) - g.correct(b, tr, te), tol)
                cell.append(t.verdict)
                if abs(t.mean) > abs(worst[0]):
                    worst = (t.mean, f"{ARCH_LABEL[a]} − {ARCH_LABEL[b]} at train {_lv(tr)} / test {_lv(te)}")
            verdicts.append(C.all_of(cell))
    v = _share_rule(verdicts, 0.8)
    return v, (f"cells within ±{tol:g} points: {C.tally(verdicts)} (holds at ≥ 80% holding); largest difference "
               f"{worst[0]:+.1f} points ({worst[1]})")


def fig4(cfg: Config, res: StudyResult) -> Record:
    """Fig. 4: accuracy vs training noise level, one line per evaluation noise level, one panel per architecture."""
    rec = _record(cfg, res, "fig4", "Fig. 4: accuracy vs training noise level",
                  "Accuracy of the ResNet (top), Inception (middle) and ResNeXt (bottom) for different noise levels in "
                  "training data (x-axis) and evaluation data (lines; the number after each evaluation set is its σ).")
    g = _Grid(res)
    _acc_figure(rec, g, "fig4", "training noise σ ([−1, 1] scale)")
    lv = g.levels
    pairs = [(a, b) for i, a in enumerate(g.archs) for b in g.archs[i + 1:]]
    # TV-C1
    v, ev = _similar_cells(g, pairs, 3.0)
    rec.claim(_claim("tv.c1", v, ev))
    # TV-C2
    parts = []
    if 0.01 in lv:
        for arch in g.archs:
            for te in [t for t in lv if t <= 0.1]:
                t = _within(g.correct(arch, 0.01, te) - g.correct(arch, 0.0, te), 1.0)
                parts.append((f"{ARCH_LABEL[arch]} train 0.01 vs 0, test {_lv(te)}", t.verdict, t.describe(" pt")))
            for tr in lv:
                t = _within(g.correct(arch, tr, 0.01) - g.correct(arch, tr, 0.0), 1.0)
                parts.append((f"{ARCH_LABEL[arch]} train {_lv(tr)}, test 0.01 vs 0", t.verdict, t.describe(" pt")))
    rec.claim(_claim("tv.c2", C.all_of([p[1] for p in parts]), C.tally([p[1] for p in parts]), parts))
    # TV-C3
    parts = []
    for arch in g.archs:
        for tr in [s for s in lv if s >= 0.1]:
            accs = {te: g.acc(arch, tr, te) for te in lv}
            best = max(accs, key=accs.get)
            if best == tr:
                parts.append((f"{ARCH_LABEL[arch]} train {_lv(tr)}", V.HOLDS, f"best test σ = {_lv(best)} "
                              f"({accs[best]:.1f}%)"))
                continue
            t = _greater(g.correct(arch, tr, best), g.correct(arch, tr, tr), 1.0)
            verdict = {V.HOLDS: V.FAILS, V.FAILS: V.HOLDS}.get(t.verdict, V.INCONCLUSIVE)
            parts.append((f"{ARCH_LABEL[arch]} train {_lv(tr)}", verdict,
                          f"best test σ = {_lv(best)} ({accs[best]:.1f}%) vs same σ {accs[tr]:.1f}%; excess "
                          f"{t.describe(' pt')} vs the 1-point tie"))
    rec.claim(_claim("tv.c3", C.all_of([p[1] for p in parts]), C.tally([p[1] for p in parts]), parts))
    # TV-C4 (clean accuracy)
    parts = []
    high = [s for s in lv if s >= 0.1]
    for arch in g.archs:
        for tr in high:
            t = _greater(g.correct(arch, 0.0, 0.0), g.correct(arch, tr, 0.0))
            parts.append((f"{ARCH_LABEL[arch]} clean acc: train 0 > train {_lv(tr)}", t.verdict, t.describe(" pt")))
        for a, b in zip(high, high[1:]):
            t = _greater(g.correct(arch, a, 0.0), g.correct(arch, b, 0.0))
            parts.append((f"{ARCH_LABEL[arch]} clean acc: train {_lv(a)} > train {_lv(b)}", t.verdict,
                          t.describe(" pt")))
    rec.claim(_claim("tv.c4", C.all_of([p[1] for p in parts]), C.tally([p[1] for p in parts]) +
                     " (tested on clean accuracy)", parts))
    # TV-C5
    parts = []
    for arch in g.archs:
        for j, te in enumerate(lv):
            accs = {tr: g.acc(arch, tr, te) for tr in lv}
            best = max(accs, key=accs.get)
            near = [lv[k] for k in range(max(0, j - 1), min(len(lv), j + 2))]
            if best in near:
                parts.append((f"{ARCH_LABEL[arch]} test {_lv(te)}", V.HOLDS, f"best training σ {_lv(best)}"))
                continue
            near_best = max(near, key=accs.get)
            t = _greater(g.correct(arch, best, te), g.correct(arch, near_best, te), 1.0)
            verdict = {V.HOLDS: V.FAILS, V.FAILS: V.HOLDS}.get(t.verdict, V.INCONCLUSIVE)
            parts.append((f"{ARCH_LABEL[arch]} test {_lv(te)}", verdict,
                          f"best training σ {_lv(best)} beats the best nearby ({_lv(near_best)}) by {t.describe(' pt')}"))
    rec.claim(_claim("tv.c5", C.all_of([p[1] for p in parts]), C.tally([p[1] for p in parts]), parts))
    # TV-C6
    c6 = _c6_parts(g)
    rec.claim(_claim("tv.c6", C.all_of([p[1] for p in c6]), C.tally([p[1] for p in c6]), c6))
    # TV-C17
    spread, seed_texts = g.seed_spread()
    parts = []
    for a, b in pairs:
        t = _greater(g.correct(a, 0.0, 0.0), g.correct(b, 0.0, 0.0))
        sig = t.lo > 0 or t.hi < 0
        if t.n < 2:
            verdict = V.INCONCLUSIVE
        elif not sig or (np.isfinite(spread) and abs(t.mean) <= spread):
            verdict = V.HOLDS
        elif np.isfinite(spread) and abs(t.mean) > 2 * spread:
            verdict = V.FAILS
        else:
            verdict = V.INCONCLUSIVE
        parts.append((f"{ARCH_LABEL[a]} − {ARCH_LABEL[b]} clean acc (σ=0 models)", verdict,
                      f"{t.describe(' pt')} over images; seed-to-seed spread {spread:.1f} pt"))
    rec.claim(_claim("tv.c17", C.all_of([p[1] for p in parts]),
                     f"{C.tally([p[1] for p in parts])}; seed replicates (clean acc): " + ("; ".join(seed_texts) or
                                                                                        "none (no EXTRA_SEEDS)"), parts))
    rec.data(_seed_table(res), "fig4_seeds")
    rec.note("Seed-to-seed variation: fig4_seeds.csv lists the clean accuracy of every model trained with more than "
             "one seed. Claims compare models paired over images (one seed each); differences smaller than the "
             "seed-to-seed spread are not evidence about the architectures or training levels.")
    return rec.save()


def _c6_parts(g: _Grid) -> list[tuple[str, C.Verdict, str]]:
    parts = []
    if 0.1 not in g.levels:
        return parts
    for arch in g.archs:
        t = _greater(g.correct(arch, 0.1, 0.0), g.correct(arch, 0.0, 0.0), -1.0)
        parts.append((f"{ARCH_LABEL[arch]} clean: train 0.1 ≥ train 0 − 1 pt", t.verdict, t.describe(" pt")))
        t = _greater(g.correct(arch, 0.1, 0.1), g.correct(arch, 0.0, 0.1))
        parts.append((f"{ARCH_LABEL[arch]} test 0.1: train 0.1 > train 0", t.verdict, t.describe(" pt")))
    return parts


def _seed_table(res: StudyResult) -> pd.DataFrame:
    a = res.acc[res.acc.test_sigma == 0.0]
    multi = a.groupby(["arch", "train_sigma"]).seed.transform("nunique") > 1
    return a[multi].assign(acc_pct=lambda d: 100 * d.acc).drop(columns="acc").sort_values(["arch", "train_sigma",
                                                                                             "seed"])


# ---------------------------------------------------------------------------------------------
# Minimal change (Figs. 5 and 7)


def _change_table(g: _Grid) -> pd.DataFrame:
    rows = []
    for arch in g.archs:
        for tr in g.levels:
            a = g.adv(arch, tr)
            rows.append({"arch": arch, "train_sigma": tr, "clean_acc_attacked_pct": 100 * float((~a.misclassified).mean()),
                         "sign_a_excluded": g.mean_change(arch, tr), "sign_b_counted0": g.mean_change(arch, tr,
                                                                                                    counted=True),
                         "deepfool_a_excluded": g.mean_change(arch, tr, "df_change"),
                         "deepfool_b_counted0": g.mean_change(arch, tr, "df_change", counted=True),
                         "not_found": int((~a.found).sum()), "deepfool_failed": int((~a.df_success).sum())})
    return pd.DataFrame(rows)


def _change_figure(rec: Record, g: _Grid, name: str, xlabel: str) -> pd.DataFrame:
    tab = _change_table(g)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    xs = range(len(g.levels))
    for arch in g.archs:
        t = tab[tab.arch == arch]
        for ax, col in zip(axes, ("sign", "deepfool")):
            ax.plot(xs, t[f"{col}_a_excluded"], "o-", color=COLOURS[arch], label=f"{ARCH_LABEL[arch]} (a) excluded")
            ax.plot(xs, t[f"{col}_b_counted0"], "s--", color=COLOURS[arch], alpha=0.6, ms=3,
                    label=f"{ARCH_LABEL[arch]} (b) counted 0")
    axes[0].set_title("minimal gradient-sign step (primary)", fontsize=10)
    axes[1].set_title("DeepFool L2 (second reading)", fontsize=10)
    for ax in axes:
        _level_axis(ax, g.levels, xlabel)
        ax.set_ylabel("mean |Δ| per pixel (0–255, log scale)")
        ax.set_yscale("log")   # the chance-level models at the top σ need ~10–30× the others' change
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
        ax.tick_params(axis="y", which="minor", labelsize=6)
    axes[0].axhline(ONE_PERCENT, color="0.5", lw=0.8, ls=":")
    axes[0].text(0, ONE_PERCENT, " 1% of 8 bits (2.55)", fontsize=6, color="0.4", va="bottom")
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    rec.figure(fig, name, tab)
    rec.table(tab.set_index(["arch", "train_sigma"]).round(3), f"{name}_changes",
              "Mean required change (0–255 scale), (a) over correctly classified attacked images, (b) misclassified "
              "counted as 0; clean accuracy on the attacked images; images the search did not flip")
    rec.data(g.res.adv, f"{name}_per_image")
    rec.note("Minimal change: per image the smallest ε such that clip(x + ε·sign(∇x loss), −1, 1) is misclassified "
             f"(geometric line search from 1e-4 to {rec.cfg.adv_eps_max:g} on the [−1, 1] scale, "
             f"{rec.cfg.adv_grid} steps, then {rec.cfg.adv_bisect} bisection steps), reported as mean |x' − x| × 127.5 "
             "(0–255 scale); DeepFool (lib.attacks, L2, overshoot 0.02, 50 iterations) as a second reading. The paper "
             "does not name its attack. Reading (a) excludes images the model already misclassifies (primary, used by "
             "the verdicts); (b) counts them as 0 (foolbox-1 behaviour), which lowers the change of inaccurate "
             "models mechanically.")
    return tab


def _spread_claim(g: _Grid, tab: pd.DataFrame) -> tuple[C.Verdict, str, list]:
    """Per training σ: (max − min)/mean of the architectures' mean change (a), paired bootstrap over images."""
    rng = np.random.default_rng(0)
    parts = []
    for tr in g.levels:
        frames = [g.adv(a, tr) for a in g.archs]
        n = len(frames[0])
        vals = np.stack([np.where(f.misclassified.to_numpy(), np.nan, f.sign_change.to_numpy(float)) for f in frames])
        idx = rng.integers(0, n, size=(1000, n))
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            means = np.nanmean(vals[:, idx], axis=2)                    # [archs, 1000]
            ratio = (means.max(0) - means.min(0)) / means.mean(0)
            point = np.nanmean(vals, axis=1)
            r0 = float((point.max() - point.min()) / point.mean())
            lo, hi = np.nanpercentile(ratio, [2.5, 97.5])
        v = V.HOLDS if hi <= 0.2 else V.FAILS if lo > 0.2 else V.INCONCLUSIVE
        parts.append((f"train {_lv(tr)}", v, f"spread/mean {r0:.2f} [bootstrap 95% {lo:.2f}, {hi:.2f}]"))
    return C.most_of([p[1] for p in parts]), C.tally([p[1] for p in parts]), parts


def fig5(cfg: Config, res: StudyResult) -> Record:
    """Fig. 5: mean required change (0–255 scale) vs training noise level for the three architectures."""
    rec = _record(cfg, res, "fig5", "Fig. 5: required change for an adversarial image vs training noise level",
                  "Average required change in pixels to create an adversarial image for different noise levels during "
                  f"training ({res.info['sizes']['adv']} clean test images per model).")
    g = _Grid(res)
    tab = _change_figure(rec, g, "fig5", "training noise σ ([−1, 1] scale)")
    v, ev, parts = _spread_claim(g, tab)
    rec.claim(_claim("tv.c7", v, ev, parts))
    # TV-C8
    c8 = []
    for arch in g.archs:
        if 0.1 in g.levels:
            a, b = g.change_pair(arch, 0.1, 0.0)
            t = _greater(a, b)
            c8.append((f"{ARCH_LABEL[arch]} change train 0.1 > train 0", t.verdict, t.describe(" grey levels")))
    rec.claim(_claim("tv.c8", C.all_of([p[1] for p in c8]), C.tally([p[1] for p in c8]) + " (reading (a), paired over "
                     "images correct under both models)", c8))
    # TV-C9
    parts = []
    for arch in g.archs:
        means = {tr: g.mean_change(arch, tr) for tr in g.levels}
        peak = max(means, key=means.get)
        for tr in [s for s in (1.0, 5.0) if s in g.levels]:
            if peak == tr:
                parts.append((f"{ARCH_LABEL[arch]} change at {_lv(tr)} below peak", V.FAILS, f"{_lv(tr)} is the peak"))
            else:
                a, b = g.change_pair(arch, peak, tr)
                t = _greater(a, b)
                parts.append((f"{ARCH_LABEL[arch]} change peak ({_lv(peak)}) > {_lv(tr)}", t.verdict,
                              t.describe(" grey levels") + f"; (b): {g.mean_change(arch, peak, counted=True):.2f} vs "
                              f"{g.mean_change(arch, tr, counted=True):.2f}"))
            t = _greater(g.correct(arch, 0.0, 0.0), g.correct(arch, tr, 0.0), 10.0)
            parts.append((f"{ARCH_LABEL[arch]} clean acc train 0 > train {_lv(tr)} + 10 pt", t.verdict,
                          t.describe(" pt")))
    rec.claim(_claim("tv.c9", C.all_of([p[1] for p in parts]), C.tally([p[1] for p in parts]), parts))
    # TV-C10 = TV-C6 and TV-C8 at σ = 0.1
    c6 = _c6_parts(g)
    both = c6 + c8
    rec.claim(_claim("tv.c10", C.all_of([p[1] for p in both]), f"TV-C6 parts: {C.tally([p[1] for p in c6])}; "
                     f"TV-C8 parts: {C.tally([p[1] for p in c8])}", both))
    # TV-C11
    parts = []
    for arch in g.archs:
        for tr in g.levels:
            a = g.adv(arch, tr)
            vals = a.sign_change[~a.misclassified].dropna().to_numpy(float)
            t = C.at_most(vals, ONE_PERCENT) if len(vals) >= 2 else C.Test(V.INCONCLUSIVE, float("nan"),
                                                                             float("nan"), float("nan"), len(vals))
            parts.append((f"{ARCH_LABEL[arch]} train {_lv(tr)}", t.verdict, f"mean {t.mean:.2f} [95% CI {t.lo:.2f}, "
                                                                            f"{t.hi:.2f}] grey levels, n={t.n}"))
    rec.claim(_claim("tv.c11", C.all_of([p[1] for p in parts]), C.tally([p[1] for p in parts]) +
                     f"; largest mean {tab.sign_a_excluded.max():.2f} grey levels (bound {ONE_PERCENT})", parts))
    return rec.save()


def fig6(cfg: Config, res: StudyResult) -> Record:
    """Fig. 6: accuracy vs training blur level, one line per evaluation blur level, all three architectures."""
    rec = _record(cfg, res, "fig6", "Fig. 6: accuracy vs training blur level (all three architectures)",
                  "Accuracy of the Inception models for different blur levels in training data and different levels "
                  "for evaluation (the paper shows Inception only: 'results for ResNet and ResNeXt are similar').")
    g = _Grid(res)
    _acc_figure(rec, g, "fig6", "training blur σ (pixels)")
    rec.note("The caption says 'different noise level for evaluation'; the text implies blur levels. We evaluate the "
             "blur models on the blur test sets (the caption-literal alternative, noise test sets, is not run).")
    lv = g.levels
    if "inception" in g.archs:
        parts = []
        for tr in [s for s in lv if 0 < s <= 0.5]:
            t = _within(g.correct("inception", tr, 0.0) - g.correct("inception", 0.0, 0.0), 2.0)
            parts.append((f"train {_lv(tr)} vs 0 (clean), within ±2 pt", t.verdict, t.describe(" pt")))
        for tr in [s for s in lv if s >= 1]:
            t = _greater(g.correct("inception", 0.0, 0.0), g.correct("inception", tr, 0.0), 3.0)
            parts.append((f"train 0 > train {_lv(tr)} + 3 pt (clean)", t.verdict, t.describe(" pt")))
        rec.claim(_claim("tv.c12", C.all_of([p[1] for p in parts]), C.tally([p[1] for p in parts]) +
                         f"; blur at σ ∈ {res.info['identity_blur']} is the identity", parts))
        others = [("inception", a) for a in g.archs if a != "inception"]
        v, ev = _similar_cells(g, others, 3.0)
        rec.claim(_claim("tv.c13", v, ev))
        parts = []
        grid_mean = {a: np.mean([g.correct(a, tr, te) for tr in lv for te in lv], axis=0) for a in g.archs}
        for a in g.archs:
            if a != "inception":
                t = _greater(grid_mean["inception"], grid_mean[a])
                parts.append((f"Inception > {ARCH_LABEL[a]} (mean over the blur grid)", t.verdict, t.describe(" pt") +
                              f"; clean acc of σ=0 models {g.acc('inception', 0.0, 0.0):.1f} vs "
                              f"{g.acc(a, 0.0, 0.0):.1f}%"))
        rec.claim(_claim("tv.c14", C.all_of([p[1] for p in parts]), C.tally([p[1] for p in parts]), parts))
    rec.data(_seed_table(res), "fig6_seeds")
    return rec.save()


def fig7(cfg: Config, res: StudyResult) -> Record:
    """Fig. 7: mean required change (0–255 scale) vs training blur level for the three architectures."""
    rec = _record(cfg, res, "fig7", "Fig. 7: required change for an adversarial image vs training blur level",
                  "Average required change in pixels to create an adversarial image for different blur levels during "
                  f"training ({res.info['sizes']['adv']} clean test images per model).")
    g = _Grid(res)
    _change_figure(rec, g, "fig7", "training blur σ (pixels)")
    parts = []
    for arch in g.archs:
        for tr in [s for s in g.levels if 0 < s <= 0.5]:
            a, b = g.change_pair(arch, tr, 0.0)
            t = _within(a - b, 0.1 * float(b.mean()) if len(b) else 0.0)
            parts.append((f"{ARCH_LABEL[arch]} blur {_lv(tr)} vs 0 within ±10%", t.verdict,
                          t.describe(" grey levels") + f" (10% = {0.1 * float(b.mean()) if len(b) else 0:.3f})"))
    rec.claim(_claim("tv.c15", C.all_of([p[1] for p in parts]), C.tally([p[1] for p in parts]), parts))
    parts = []
    for arch in g.archs:
        for tr in [s for s in (1.0, 5.0) if s in g.levels]:
            a, b = g.change_pair(arch, 0.0, tr)
            t = _greater(a, b)
            parts.append((f"{ARCH_LABEL[arch]} change train 0 > blur {_lv(tr)}", t.verdict,
                          t.describe(" grey levels") + f"; (b): {g.mean_change(arch, 0.0, counted=True):.2f} vs "
                          f"{g.mean_change(arch, tr, counted=True):.2f}"))
    rec.claim(_claim("tv.c16", C.all_of([p[1] for p in parts]), C.tally([p[1] for p in parts]) +
                     " (reading (a); (b) in each part)", parts))
    return rec.save()
