"""Prakash thesis ch. 3: one function per figure / table. Each draws the artefact from a typed result of
`lib.papers.aug_msroi.protocol`, saves it with its data, sets the thesis's numbers beside ours, computes the
verdicts of the claims it tests (`lib.claims`) and returns the saved `Record`.

Claims over images are paired comparisons over images (Student-t interval of the mean per-image difference; the
attacks pooled where the claim pools them); shares of images use the Wilson interval. There is one seed per run
(see the SCALE line), so no claim is judged over seeds. The thesis's attacker is oblivious (it attacks the
undefended classifier); the BPDA + EOT rows show what an attacker who knows the defence achieves.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lib import claims as C
from lib.config import Config
from lib.papers.aug_msroi.paper import (
    C3_PSNR_DB,
    C4_PTS,
    C5_R,
    C5_SHARE,
    C6_SHARE,
    C10_ATTACKS,
    C10_PTS,
    C11_PTS,
    C12_ATTACKS,
    C12_R,
    CLAIMS,
    CLEAN_TOP1,
    DEFENCE_LABEL,
    FIG3_2B_ATTACKS,
    LABEL,
    TABLE3_1,
    TIMING_IMAGES,
    TIMING_PERTURBATIONS,
    TIMING_SECONDS,
)
from lib.papers.aug_msroi.results import AttackResult, DefenceResult, MapsResult, SearchResult
from lib.report import Record

COLOUR = {"none": "tab:grey", "jpeg": "tab:blue", "msroi": "tab:orange", "aug": "tab:red"}


def _img(x) -> np.ndarray:
    """float `[3, H, W]` in [0, 1] -> `[H, W, 3]` for imshow."""
    return np.clip(np.asarray(x, dtype=float).transpose(1, 2, 0), 0, 1)


def _off(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def _name(classes: list[str], c: int) -> str:
    return classes[c] if 0 <= c < len(classes) else str(c)


def _chosen_note(rec: Record, ch: dict) -> None:
    rec.note(f"Chosen on the search split (never on the test images): JPEG Q* = {ch['jpeg_q']:g} (highest accuracy "
             f"on the search split's adversarial images, attacks pooled); MS-ROI level shift {ch['shift']:+g} "
             f"(levels {', '.join(f'{q:g}' for q in ch['levels'])}, Q_f = the top level; mean PSNR closest to "
             f"JPEG(Q*)'s); Aug-MSROI input noise σ = {ch['sigma_in']:g}, activation noise {ch['act_scale']:g}·std "
             "(highest pooled accuracy). Accuracy is agreement with the clean prediction (the thesis's success "
             "definition) unless said otherwise.")


# ---------------------------------------------------------------------------------------------
# Fig. 3.1


def fig3_1(cfg: Config, res: AttackResult) -> Record:
    """Fig. 3.1: original, perturbation and adversarial image (IGSM), and how much of the image the noise touches
    (AM-C6)."""
    ex = res.examples
    rec = Record(cfg, "fig3_1", "Fig. 3.1: original, perturbation, adversarial image",
                 f"Left: Original Image, Center: Perturbed Noise, Right: Adversarial Image ({LABEL[ex['attack']]} at "
                 f"RMSE {res.info['budget']:g}; thesis: one ImageNet elephant)")
    n = len(ex["clean"])
    fig, axes = plt.subplots(n, 3, figsize=(7.2, 2.4 * n), squeeze=False)
    cls = ex["classes"]
    for i in range(n):
        x, a = np.asarray(ex["clean"][i]), np.asarray(ex["adversarial"][i])
        d = a - x
        span = max(float(np.abs(d).max()), 1e-12)
        axes[i, 0].imshow(_img(x))
        axes[i, 0].set_title(f"clean: {_name(cls, ex['clean_pred'][i])} (label {_name(cls, ex['labels'][i])})",
                             fontsize=7)
        axes[i, 1].imshow(_img(0.5 + 0.5 * d / span))
        axes[i, 1].set_title(f"δ ×{0.5 / span:.0f} (max |δ| {span:.3f})", fontsize=7)
        axes[i, 2].imshow(_img(a))
        axes[i, 2].set_title(f"adversarial: {_name(cls, ex['adv_pred'][i])}", fontsize=7)
        for ax in axes[i]:
            _off(ax)
    fig.tight_layout()
    rec.figure(fig, "fig3_1", res.stats)
    row = res.stats.set_index("attack")
    if "igsm" in row.index:
        share = float(row.loc["igsm", "changed_nonsat"])
        verdict = C.Verdict.HOLDS if share >= C6_SHARE else C.Verdict.FAILS
        rec.claim(C.Claim("am.c6", CLAIMS["am.c6"], verdict,
                          f"IGSM changes {100 * share:.1f}% of the non-saturated pixel values of the {res.info['n']} "
                          f"test images (bound ≥ {100 * C6_SHARE:.0f}%; a count over every pixel, no interval)"))
    rec.note(f"Attacks: white-box on {res.info['model']} ({res.info['source']}; clean test accuracy "
             f"{res.info['test_acc']:.1f}%, thesis ResNet-50: {CLEAN_TOP1:.0f}%), untargeted away from the clean "
             f"prediction, each at RMSE {res.info['budget']:g} on [0, 1] (FGSM, IGSM, GA at it; DeepFool and L-BFGS "
             "scaled onto it; JSMA stops at it). Options: " + str(res.info["options"]))
    return rec.save()


# ---------------------------------------------------------------------------------------------
# Fig. 3.2


def fig3_2(cfg: Config, search: SearchResult, res: AttackResult) -> Record:
    """Fig. 3.2: (a) accuracy on adversarial images vs JPEG quality (AM-C4); (b) the mean MS-ROI map and the mean
    perturbation of five attacks (AM-C5); the search split's choices."""
    rec = Record(cfg, "fig3_2", "Fig. 3.2: accuracy vs JPEG quality; mean saliency vs mean perturbation",
                 "(a) Classification accuracy on adversarial images is recovered as quantization increases, but drops "
                 "when quantization becomes too aggressive. (b) average MSROI saliency map for original images, "
                 "average adversarial perturbations for five attack methods")
    j = search.jpeg
    fig = plt.figure(figsize=(13, 6.4))
    grid = fig.add_gridspec(2, 6)
    for col, split in enumerate(("search", "test")):
        ax = fig.add_subplot(grid[0, 3 * col:3 * col + 3])
        s = j[j.split == split]
        for a in [*[k for k in s.attack.unique() if k not in ("clean", "pooled")], "clean", "pooled"]:
            t = s[s.attack == a].sort_values("quality")
            style = dict(lw=2.4, color="k") if a == "pooled" else dict(lw=1, ls="--", color="tab:green") \
                if a == "clean" else dict(lw=1)
            ax.plot(t.quality, t.accuracy, marker=".", label=LABEL.get(a, a), **style)
        ax.axvline(search.chosen["jpeg_q"], color="k", lw=0.6, ls=":")
        ax.set_xlabel("JPEG quality Q (lower = stronger quantisation)")
        ax.set_ylabel("accuracy (% agreement with clean prediction)")
        ax.set_title(f"(a) {split} split ({'chooses Q*' if split == 'search' else 'shown only'}; Q* = "
                     f"{search.chosen['jpeg_q']:g})", fontsize=8)
        ax.legend(fontsize=6, ncol=2)
    panels = [("mean MS-ROI map (clean)", np.asarray(res.mean_map))]
    panels += [(f"mean |δ|: {LABEL[a]}", np.asarray(res.mean_delta[a])) for a in FIG3_2B_ATTACKS if a in res.mean_delta]
    for k, (title, m) in enumerate(panels[:6]):
        ax = fig.add_subplot(grid[1, k])
        ax.imshow(m, cmap="jet")
        ax.set_title(title, fontsize=7)
        _off(ax)
    fig.tight_layout()
    rec.figure(fig, "fig3_2", j)
    stats = res.stats.set_index("attack")
    rec.table(stats, "fig3_2_attacks", f"The attacks on the {res.info['n']} test images: success (prediction moved "
                                       "off the clean one), RMSE on [0, 1], Pearson r of the mean |δ| and mean map, "
                                       "share of |δ|² on the 25% most salient pixels, non-saturated values changed, "
                                       "point-biserial r of changed pixels with the Aug-MSROI map")
    sp = j[j.split == "search"].pivot(index="quality", columns="attack", values="accuracy")
    rec.table(sp, "fig3_2_search", "Fig. 3.2a data, search split: accuracy (%) per JPEG quality and attack")
    rec.data(search.shifts, "fig3_2_shifts")
    rec.data(search.aug, "fig3_2_aug_search")

    # AM-C4: inverted U, per attack and pooled (both splits reported; the test split is the verdict)
    parts = []
    test = j[j.split == "test"]
    for a in [*[k for k in test.attack.unique() if k not in ("clean", "pooled")], "pooled"]:
        t = test[test.attack == a].sort_values("quality")
        acc, qs = t.accuracy.to_numpy(float), t.quality.to_numpy(float)
        k = int(np.argmax(acc))
        interior = 0 < k < len(acc) - 1
        margin = float(acc[k] - max(acc[0], acc[-1]))
        ok = interior and margin >= C4_PTS
        parts.append((LABEL.get(a, a), C.Verdict.HOLDS if ok else C.Verdict.FAILS,
                      f"argmax Q {qs[k]:g} ({'interior' if interior else 'at an end'}), {acc[k]:.1f}% vs ends "
                      f"{acc[0]:.1f}% (Q{qs[0]:g}) / {acc[-1]:.1f}% (Q{qs[-1]:g}), margin {margin:+.1f} pts"))
    pooled = parts[-1][1]
    rec.claim(C.Claim("am.c4", CLAIMS["am.c4"], pooled,
                      f"test split, pooled: {parts[-1][2]}; per attack: {C.tally([v for _, v, _ in parts[:-1]])} "
                      "(a single sweep: no interval)", tuple(parts)))
    # AM-C5: noise not concentrated in salient regions
    parts = []
    for a in FIG3_2B_ATTACKS:
        if a not in stats.index:
            continue
        r, share = float(stats.loc[a, "r_mean_maps"]), float(stats.loc[a, "top25_share"])
        ok = r < C5_R and share <= C5_SHARE
        parts.append((LABEL[a], C.Verdict.HOLDS if ok else C.Verdict.FAILS,
                      f"r = {r:+.2f} (< {C5_R}), share on top-25% salient pixels {share:.2f} (≤ {C5_SHARE})"))
    if parts:
        rec.claim(C.Claim("am.c5", CLAIMS["am.c5"], C.all_of([v for _, v, _ in parts]),
                          "; ".join(f"{n}: {e}" for n, _, e in parts) + " (means over the test images; no interval)",
                          tuple(parts)))
    _chosen_note(rec, search.chosen)
    sh = search.shifts.set_index("shift")
    rec.note(f"MS-ROI calibration on the search split: mean PSNR {sh.loc[search.chosen['shift'], 'psnr']:.2f} dB vs "
             f"JPEG(Q*) {sh.loc[search.chosen['shift'], 'jpeg_psnr']:.2f} dB (every shift in fig3_2_shifts.csv); "
             f"the Aug-MSROI grid in fig3_2_aug_search.csv. {search.info['aug_n']} perturbations, jitter ±"
             f"{search.info['aug_shift']} px, chroma {search.info['subsampling']}.")
    return rec.save()


# ---------------------------------------------------------------------------------------------
# Figs. 3.3, 3.4


def fig3_3(cfg: Config, res: MapsResult) -> Record:
    """Fig. 3.3: MS-ROI map of the original, MS-ROI and Aug-MSROI maps of the adversarial image (AM-C7)."""
    ex = res.examples
    rec = Record(cfg, "fig3_3", "Fig. 3.3: MS-ROI vs Aug-MSROI on an adversarial image",
                 f"Left: MSROI on original image, Center: MSROI, Right: Aug-MSROI, on adversarial image "
                 f"({LABEL[ex['attack']]})")
    n = len(ex["clean"])
    fig, axes = plt.subplots(n, 4, figsize=(9, 2.3 * n), squeeze=False)
    for i in range(n):
        axes[i, 0].imshow(_img(ex["clean"][i]))
        for k, (key, title) in enumerate((("map_clean", "MS-ROI (original)"), ("map_adv", "MS-ROI (adversarial)"),
                                          ("aug_adv", "Aug-MSROI (adversarial)"))):
            axes[i, k + 1].imshow(np.asarray(ex[key][i]), cmap="jet", vmin=0, vmax=1)
            axes[i, k + 1].set_title(title, fontsize=7)
        for ax in axes[i]:
            _off(ax)
    fig.tight_layout()
    rows = res.rows
    rec.figure(fig, "fig3_3", rows)
    summary = rows.groupby("attack")[["corr_msroi", "corr_aug"]].mean()
    summary.loc["pooled"] = rows[["corr_msroi", "corr_aug"]].mean()
    rec.table(summary, "fig3_3_summary", "Mean Pearson correlation with the clean image's MS-ROI map")
    t = C.greater(rows.corr_aug.to_numpy(float), rows.corr_msroi.to_numpy(float))
    parts = []
    for a, s in rows.groupby("attack"):
        ta = C.greater(s.corr_aug.to_numpy(float), s.corr_msroi.to_numpy(float))
        parts.append((LABEL.get(a, a), ta.verdict, ta.describe()))
    rec.claim(C.Claim("am.c7", CLAIMS["am.c7"], t.verdict,
                      f"corr(Aug-MSROI(x'), map(x)) − corr(MSROI(x'), map(x)), attacks pooled: {t.describe()}; per "
                      f"attack: {C.tally([v for _, v, _ in parts])}", tuple(parts)))
    _scale_note(rec)
    rec.note(f"Maps of the 32-px image resized to {res.info['map_size']} px for the map network and back; "
             f"Aug-MSROI: {res.info['aug_n']} passes, jitter ±{res.info['aug_shift']} px, input noise σ = "
             f"{res.info['chosen']['sigma_in']:g}, activation noise {res.info['chosen']['act_scale']:g}·std.")
    return rec.save()


def _scale_note(rec: Record) -> None:
    rec.note("Our scale decides the defence claims (AM-C1, AM-C7 … AM-C11): the maps come from msroi's map network, "
             "trained for minutes on a CPU on CIFAR composites (its quality is on msroi's Fig. 2.2 page), applied to "
             "32-px images that hold 16 JPEG blocks each; the thesis uses a map network trained on Caltech-256 and "
             "256-px ImageNet images. A fail here judges the defence built from our weak map at this size, not "
             "necessarily the thesis's.")


def fig3_4(cfg: Config, res: MapsResult) -> Record:
    """Fig. 3.4: the maps of the individual jittered passes and their average (one adversarial image)."""
    ex = res.examples
    rec = Record(cfg, "fig3_4", "Fig. 3.4: combination of jittered inputs",
                 "Combination of various jittered inputs (the Aug-MSROI passes of one adversarial image and their "
                 "average)")
    each = np.asarray(ex["each"])
    k = len(each)
    fig, axes = plt.subplots(1, k + 2, figsize=(2 * (k + 2), 2.3), squeeze=False)
    axes[0, 0].imshow(_img(ex["adversarial"][0]))
    axes[0, 0].set_title("adversarial image", fontsize=7)
    for i in range(k):
        axes[0, i + 1].imshow(each[i], cmap="jet", vmin=0, vmax=1)
        axes[0, i + 1].set_title(f"pass {i + 1}", fontsize=7)
    axes[0, k + 1].imshow(np.asarray(ex["aug_adv"][0]), cmap="jet", vmin=0, vmax=1)
    axes[0, k + 1].set_title("average (Aug-MSROI)", fontsize=7)
    for ax in axes[0]:
        _off(ax)
    fig.tight_layout()
    flat = each.reshape(k, -1)
    data = pd.DataFrame({"pass": np.arange(1, k + 1), "mean": flat.mean(1), "std": flat.std(1),
                         "corr_with_average": [float(np.corrcoef(f, np.asarray(ex["aug_adv"][0]).ravel())[0, 1])
                                               for f in flat]})
    rec.figure(fig, "fig3_4", data)
    parts = []
    for a in C12_ATTACKS:
        r = res.rows[res.rows.attack == a].pb_r.dropna().to_numpy(float)
        if len(r) < 2:
            continue
        m, lo, hi = C.mean_interval(list(r))
        v = C.Verdict.HOLDS if hi < C12_R else C.Verdict.FAILS if lo >= C12_R else C.Verdict.INCONCLUSIVE
        parts.append((LABEL[a], v, f"mean r = {m:+.3f} [95% CI {lo:+.3f}, {hi:+.3f}] over {len(r)} images (< {C12_R})"))
    if parts:
        rec.claim(C.Claim("am.c12", CLAIMS["am.c12"], C.all_of([v for _, v, _ in parts]),
                          "; ".join(f"{n}: {e}" for n, _, e in parts) + " (point-biserial r per image between "
                          "'pixel changed by the attack' and the Aug-MSROI map of the adversarial image)", tuple(parts)))
    else:
        rec.claim(C.Claim("am.c12", CLAIMS["am.c12"], C.Verdict.NOT_RUN,
                          "JSMA / L-BFGS not among the attacks, or fewer than two images with a partial change"))
    rec.note(f"{len(each)} passes, jitter ±{res.info['aug_shift']} px, input noise σ = "
             f"{res.info['chosen']['sigma_in']:g}, activation noise {res.info['chosen']['act_scale']:g}·std; each "
             "pass's map is the rank-weighted map of its own top classes, the average is min-max normalised.")
    return rec.save()


# ---------------------------------------------------------------------------------------------
# Table 3.1, Figs. 3.5, 3.6


def _summary(rows: pd.DataFrame) -> pd.DataFrame:
    out = []
    for (a, d), s in rows.groupby(["attack", "defence"], sort=False):
        cc = s[s.clean_correct.astype(bool)]
        out.append({"attack": a, "defence": d, "n": len(s), "agree %": 100 * s.agree.mean(),
                    "vs label %": 100 * s.correct.mean(),
                    "vs label, clean-correct images %": 100 * cc.correct.mean() if len(cc) else np.nan,
                    "RMSE (0–255)": s.rmse255.mean(), "SSIM": s.ssim.mean(),
                    "PSNR (dB)": s.psnr[np.isfinite(s.psnr)].mean() if np.isfinite(s.psnr).any() else np.inf,
                    "top-level share": s.top_share.mean()})
    return pd.DataFrame(out)


def _pooled(rows: pd.DataFrame, attacks: list[str]) -> pd.DataFrame:
    """Rows of the oblivious attacks only (not clean, not BPDA)."""
    return rows[rows.attack.isin(attacks)]


def _paired(rows: pd.DataFrame, d: str, col: str) -> np.ndarray:
    return rows[rows.defence == d].sort_values(["attack", "image"])[col].to_numpy(float)


def table3_1(cfg: Config, res: DefenceResult) -> Record:
    """Table 3.1: accuracy, RMSE, SSIM, PSNR of JPEG, MSROI and Aug-MSROI on the adversarial test images (attacks
    pooled), beside the thesis; claims AM-C1, C2, C3, C11."""
    rec = Record(cfg, "table3_1", "Table 3.1: quantitative results using Aug-MSROI",
                 f"Results averaged across {res.info['n']} images (attacks pooled with equal weight: "
                 f"{', '.join(LABEL[a] for a in res.info['attacks'])})")
    rows = res.rows
    adv = _pooled(rows, res.info["attacks"])
    ours = []
    for d in ("jpeg", "msroi", "aug"):
        s = adv[adv.defence == d]
        ours.append({"Accuracy": 100 * s.agree.mean(), "MSE": s.rmse255.mean(), "SSIM": s.ssim.mean(),
                     "PSNR": s.psnr.mean()})
    ours = pd.DataFrame(ours, index=TABLE3_1.index)
    rec.table(ours, "table3_1", "Thesis vs ours. Accuracy: % agreement with the clean prediction; 'MSE' is RMSE on "
                                "0–255 RGB against the clean original (the thesis's column behaves like one); SSIM "
                                "on luma; PSNR on RGB, per-image mean", paper=TABLE3_1)
    detail = _summary(rows)
    rec.table(detail.set_index(["attack", "defence"]), "table3_1_detail",
              "Every condition × defence: agreement with the clean prediction, accuracy vs the label (all images and "
              "the images the classifier gets right when clean), image quality against the clean original, share "
              "of pixels in the top quality level; 'bpda' = the adaptive BPDA+EOT attacker against that defence")
    rec.data(rows, "table3_1_rows")

    def greater(d1: str, d2: str, col: str, sign: float = 1.0) -> C.Test:
        return C.greater(sign * _paired(adv, d1, col), sign * _paired(adv, d2, col))

    t1, t2 = greater("aug", "msroi", "agree"), greater("msroi", "jpeg", "agree")
    parts = [("Aug-MSROI > MSROI", t1.verdict, t1.describe()), ("MSROI > JPEG", t2.verdict, t2.describe())]
    rec.claim(C.Claim("am.c1", CLAIMS["am.c1"], C.all_of([t1.verdict, t2.verdict]),
                      "; ".join(f"{n}: {v.value}, Δ agreement {e} over (attack, image) pairs" for n, v, e in parts),
                      tuple(parts)))
    parts = []
    for other in ("jpeg", "msroi"):
        for col, sign, name in (("rmse255", -1.0, "lower RMSE"), ("ssim", 1.0, "higher SSIM"),
                                ("psnr", 1.0, "higher PSNR")):
            t = greater("aug", other, col, sign)
            parts.append((f"{name} than {DEFENCE_LABEL[other]}", t.verdict, t.describe()))
    rec.claim(C.Claim("am.c2", CLAIMS["am.c2"], C.all_of([v for _, v, _ in parts]),
                      "; ".join(f"{n}: {v.value} ({e})" for n, v, e in parts), tuple(parts)))
    gap = _paired(adv, "msroi", "psnr") - _paired(adv, "jpeg", "psnr")
    m, lo, hi = C.mean_interval(list(gap))
    v3 = C.Verdict.HOLDS if -C3_PSNR_DB <= lo and hi <= C3_PSNR_DB else \
        C.Verdict.FAILS if hi < -C3_PSNR_DB or lo > C3_PSNR_DB else C.Verdict.INCONCLUSIVE
    rec.claim(C.Claim("am.c3", CLAIMS["am.c3"], v3,
                      f"test split: PSNR(MSROI) − PSNR(JPEG) = {m:+.2f} dB [95% CI {lo:+.2f}, {hi:+.2f}] (bound "
                      f"±{C3_PSNR_DB} dB; the shift was chosen on the search split)"))
    clean = rows[rows.attack == "clean"]
    drop = _paired(clean, "none", "agree") - _paired(clean, "aug", "agree")
    t = C.at_most(list(100 * drop), C11_PTS)
    rec.claim(C.Claim("am.c11", CLAIMS["am.c11"], t.verdict,
                      f"clean images: agreement drop after Aug-MSROI {t.describe(' pts')} (≤ {C11_PTS:g} pts); "
                      f"accuracy vs label without / with Aug-MSROI {100 * clean[clean.defence == 'none'].correct.mean():.1f}"
                      f"% / {100 * clean[clean.defence == 'aug'].correct.mean():.1f}%"))
    _chosen_note(rec, res.info["chosen"])
    rec.note(f"Classifier: {res.info['model']} ({res.info['source']}), clean test accuracy {res.info['test_acc']:.1f}% "
             f"(thesis ResNet-50: {CLEAN_TOP1:.0f}%). The test images are not filtered by correctness: 'agree' is "
             "the thesis's success definition (top class of the defended adversarial image = top class of the clean "
             "image), which is why the thesis's 82% can exceed its 76% clean accuracy; accuracy against the label "
             "and on the clean-correct images are in table3_1_detail.")
    _scale_note(rec)
    rec.note("Table 3.1's 'MSE' column is read as RMSE on 0–255: 20·log10(255/10.92) = 27.37 dB ≈ its PSNR 27.36 "
             "(JPEG and MSROI rows: 23.76 / 23.98 dB vs printed 24.33 / 24.61, consistent with per-image PSNR means). "
             "The thesis's attacker is oblivious of the defence; see the 'bpda' rows for an adaptive attacker.")
    return rec.save()


def fig3_5(cfg: Config, res: DefenceResult) -> Record:
    """Fig. 3.5: original, adversarial, JPEG and Aug-MSROI with the predicted class and its confidence (AM-C8)."""
    ex = res.examples
    rec = Record(cfg, "fig3_5", "Fig. 3.5: JPEG vs Aug-MSROI on adversarial images",
                 f"Original Image, Adversarial Image, JPEG, Aug-MSROI ({LABEL[ex['attack']]}; the first test images "
                 "the attack fooled)")
    stages = ("clean", "adversarial", "jpeg", "aug")
    titles = {"clean": "original", "adversarial": "adversarial", "jpeg": "JPEG", "aug": "Aug-MSROI"}
    n = len(ex["clean"])
    fig, axes = plt.subplots(n, 4, figsize=(8.4, 2.3 * n), squeeze=False)
    for i in range(n):
        for k, s in enumerate(stages):
            axes[i, k].imshow(_img(ex[s][i]))
            axes[i, k].set_title(f"{titles[s]}: {_name(ex['classes'], ex['pred'][s][i])} "
                                 f"({100 * ex['conf'][s][i]:.0f}%)", fontsize=7)
            _off(axes[i, k])
    fig.tight_layout()
    adv = _pooled(res.rows, res.info["attacks"])
    j = adv[adv.defence == "jpeg"].sort_values(["attack", "image"])
    a = adv[adv.defence == "aug"].sort_values(["attack", "image"])
    both = j.agree.to_numpy(bool) & a.agree.to_numpy(bool)
    data = pd.DataFrame({"attack": j.attack.to_numpy(), "image": j.image.to_numpy(),
                         "p_jpeg": j.p_clean.to_numpy(float), "p_aug": a.p_clean.to_numpy(float), "both": both})
    rec.figure(fig, "fig3_5", data)
    if both.sum() >= 2:
        t = C.greater(data.p_aug[both].to_numpy(float), data.p_jpeg[both].to_numpy(float))
        rec.claim(C.Claim("am.c8", CLAIMS["am.c8"], t.verdict,
                          f"{int(both.sum())} (attack, image) pairs recovered by both: p(clean class) after Aug-MSROI "
                          f"− after JPEG {t.describe()}"))
    else:
        rec.claim(C.Claim("am.c8", CLAIMS["am.c8"], C.Verdict.INCONCLUSIVE,
                          f"only {int(both.sum())} pairs recovered by both defences"))
    return rec.save()


def fig3_6(cfg: Config, res: DefenceResult) -> Record:
    """Fig. 3.6: accuracy per attack for no defence, JPEG, MSROI and Aug-MSROI, plus the adaptive attacker
    (AM-C9, C10); the encoding time (AM-C13)."""
    rec = Record(cfg, "fig3_6", "Fig. 3.6: accuracy on various attacks",
                 "Classification accuracy of images on various attacks (series: no defence, JPEG, MSROI, Aug-MSROI; "
                 "the thesis does not name them)")
    rows = res.rows
    conds = ["clean", *res.info["attacks"]] + (["bpda"] if (rows.attack == "bpda").any() else [])
    fig, ax = plt.subplots(figsize=(11, 4))
    width = 0.2
    for k, d in enumerate(("none", "jpeg", "msroi", "aug")):
        vals = []
        for c in conds:
            s = rows[(rows.attack == c) & (rows.defence == d)]
            vals.append(100 * s.agree.mean() if len(s) else np.nan)
        ax.bar(np.arange(len(conds)) + (k - 1.5) * width, vals, width, color=COLOUR[d], label=DEFENCE_LABEL[d])
    ax.set_xticks(np.arange(len(conds)), [LABEL.get(c, c) for c in conds], fontsize=8)
    ax.set_ylabel("accuracy (% agreement with clean prediction)")
    ax.set_ylim(0, 105)
    ax.legend(fontsize=7, ncol=4)
    fig.tight_layout()
    per = rows.groupby(["attack", "defence"], sort=False).agree.mean().mul(100).unstack()
    per = per.reindex(index=[c for c in conds if c in per.index],
                      columns=[d for d in ("none", "jpeg", "msroi", "aug") if d in per.columns])
    rec.figure(fig, "fig3_6", per.reset_index())
    rec.table(per.rename(columns=DEFENCE_LABEL, index=lambda c: LABEL.get(c, c)), "fig3_6_per_attack",
              "Accuracy (% agreement with the clean prediction) per condition and defence; BPDA+EOT attacks the "
              "defence it is evaluated with (first ADAPTIVE['n'] test images)")
    parts = []
    for a in res.info["attacks"]:
        s = rows[rows.attack == a]
        t = C.greater(_paired(s, "aug", "agree"), _paired(s, "jpeg", "agree"))
        parts.append((LABEL[a], t.verdict, f"Δ agreement {t.describe()}"))
    rec.claim(C.Claim("am.c9", CLAIMS["am.c9"], C.all_of([v for _, v, _ in parts]),
                      "; ".join(f"{n}: {v.value} ({e})" for n, v, e in parts), tuple(parts)))
    clean_jpeg = 100 * rows[(rows.attack == "clean") & (rows.defence == "jpeg")].agree.mean()
    bound = clean_jpeg - C10_PTS
    parts = []
    for a in C10_ATTACKS:
        s = rows[(rows.attack == a) & (rows.defence == "jpeg")]
        if not len(s):
            continue
        t = C.proportion_at_most(int(s.agree.sum()), len(s), bound)
        parts.append((LABEL[a], t.verdict, t.describe()))
    fg = rows[(rows.attack == "fgsm") & (rows.defence == "jpeg")]
    context = f"; FGSM for comparison: {100 * fg.agree.mean():.1f}%" if len(fg) else ""
    rec.claim(C.Claim("am.c10", CLAIMS["am.c10"], C.all_of([v for _, v, _ in parts]),
                      f"JPEG(Q*) clean {clean_jpeg:.1f}%, bound ≤ {bound:.1f}%: " +
                      "; ".join(f"{n}: {v.value} ({e})" for n, v, e in parts) + context, tuple(parts)))
    tm = res.timing
    per300 = tm["seconds"] * TIMING_IMAGES / max(tm["images"], 1) * TIMING_PERTURBATIONS / max(tm["perturbations"], 1)
    text = (f"{tm['images']} images of {tm['size'][0]}×{tm['size'][1]} px × {tm['perturbations']} perturbations: "
            f"{tm['seconds']:.2f} s ({tm['seconds_maps']:.2f} s maps) on {tm['device']}; scaled to 300 × 5: "
            f"{per300:.2f} s (thesis: {TIMING_SECONDS:g} s on a Titan X, 256-px ImageNet images)")
    if str(tm["device"]).startswith("cuda") and tm["size"][0] >= 224:
        verdict = C.Verdict.HOLDS if per300 <= TIMING_SECONDS else C.Verdict.FAILS
    else:
        verdict = C.Verdict.NOT_RUN
        text = "a GPU timing at ImageNet size (paper profile); measured here: " + text
    rec.claim(C.Claim("am.c13", CLAIMS["am.c13"], verdict, text))
    rec.table(pd.DataFrame([tm]), "fig3_6_timing", "AM-C13: Aug-MSROI encoding time (maps + semantic JPEG)")
    bp = rows[rows.attack == "bpda"]
    if len(bp):
        rec.note(f"Adaptive attacker (BPDA + EOT, {res.info['adaptive']}): accuracy under it is "
                 + ", ".join(f"{DEFENCE_LABEL[d]} {100 * s.agree.mean():.1f}%" for d, s in bp.groupby("defence"))
                 + " — the thesis evaluates only defence-oblivious attacks.")
    _chosen_note(rec, res.info["chosen"])
    return rec.save()
