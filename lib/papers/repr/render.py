"""Thesis chapter 5 (RePr): one function per figure / table, with the thesis's numbers and the claims.

Each function takes the `Config` and the matching `lib.papers.repr.protocol.run_*` result, draws and saves
the artefact with its data, sets the thesis's numbers beside ours, computes the verdicts and returns
the saved `Record`. Accuracies and errors are in % of test images; differences in points.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator
from scipy import stats

from lib import claims as C
from lib.config import Config
from lib.papers.repr.paper import (
    CLAIMS,
    CRITERION_LABEL,
    PAPER_TABLE5_1,
    PAPER_TABLE5_2,
    PAPER_TABLE5_3,
    PAPER_TABLE5_4,
    PAPER_TABLE5_5,
    PAPER_TABLE5_6,
    PAPER_TABLE5_7,
    PAPER_TABLE5_8,
    PAPER_TABLE5_9,
    THESIS_C2_TEST_ACC,
    THESIS_FIG5_1_TEST_ACC,
    THESIS_FIG5_3_ORTHO,
)
from lib.papers.repr.results import (
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
from lib.report import Record

# One colour per training scheme in every figure (with or without KD, dropout, any schedule or optimizer)
COLOURS = {"standard": "black", "RePr (Oracle)": "tab:orange", "RePr (Ortho)": "tab:blue", "RePr": "tab:blue"}
BAND = "band in the line's colour: ± 1 sd over seeds"


def _colour(group: str) -> str | None:
    """The scheme's colour of a curve group ('standard', 'dropout|RePr (Ortho)', 'Standard + KD', ...)."""
    scheme = group.split("|")[-1].removesuffix(" + KD")
    return COLOURS.get(scheme if scheme != "Standard" else "standard")


def _baseline(rec: Record, cfg: Config, values, what: str, thesis: str, metric: str = "test accuracy") -> None:
    """Add our baseline's measured value (mean over seeds, %) beside the thesis's to the record's scale line."""
    v = [float(x) for x in values if np.isfinite(x)]
    if v:
        seeds = f"{len(v)} seed{'s' if len(v) > 1 else ''}"
        rec.add_to_scale(f"ours: {what} {np.mean(v):.1f}% {metric} (mean of {seeds}, {cfg.test_size or 'all'} test "
                         f"images) vs thesis {thesis}")


def _record(cfg: Config, artefact: str, title: str, caption: str) -> Record:
    rec = Record(cfg, artefact, title, caption)
    rec.note(scale_note(cfg))
    return rec


def scale_note(cfg: Config) -> str:
    """What this run's scale is, next to the thesis's (C^3(32), 45K/5K images, 100 epochs, S1=20, S2=10, p=30%, N=3)."""
    return (f"This run: C^{cfg.depth}({cfg.width}) with pooling '{cfg.pool}', {cfg.train_size or 'all'} training images, "
            f"{cfg.val_size or 'all'} validation images for data-driven rankings, {cfg.test_size or 'all'} test images; "
            f"{cfg.epochs} epochs, S1={cfg.s1}, S2={cfg.s2}, p={100 * cfg.prune:g}%, N={cfg.cycles}; optimizer "
            f"{cfg.optimizer} lr {cfg.lr:g}, batch {cfg.batch_size}, no augmentation; seeds {cfg.seeds}. "
            "Thesis: C^3(32), 45K/5K split, 100 epochs, S1=20, S2=10, p=30%, N=3, SGD lr 0.01.")


def per_seed(df: pd.DataFrame, group: str, col: str = "test_acc", key: str = "group") -> list[float]:
    """Values of `col` for one group, ordered by seed (for paired tests)."""
    return list(df[df[key] == group].sort_values("seed")[col])


def _mean_sd(values: pd.Series) -> str:
    """'mean ± sd' over seeds; 'mean ± —' for one seed (no sd)."""
    if len(values) < 2:
        return f"{values.mean():.1f} ± —"
    return f"{values.mean():.1f} ± {values.std(ddof=1):.1f}"


def _shade(ax, schedule) -> None:
    for d, r in zip(schedule.drop_epochs(), schedule.readd_epochs()):
        ax.axvspan(d + 0.5, r + 0.5, color="gold", alpha=0.2, lw=0)


def _curve_plot(ax, df: pd.DataFrame, col: str, groups: list[str], schedule=None, labels: dict | None = None) -> None:
    for g in groups:
        d = df[df.group == g].groupby("epoch")[col]
        m, s = d.mean(), d.std(ddof=1).fillna(0)
        line, = ax.plot(m.index, m.values, label=(labels or {}).get(g, g), color=_colour(g))
        ax.fill_between(m.index, m - s, m + s, color=line.get_color(), alpha=0.15, lw=0)
    if schedule is not None:
        _shade(ax, schedule)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)


# ---------------------------------------------------------------------------------------------
# Fig. 5.1


def fig5_1(cfg: Config, res: Fig5_1Result) -> Record:
    """Train / test accuracy curves of standard training and RePr (Oracle; Ortho added), annotations A-F."""
    sch = res.schedule
    rec = _record(cfg, "fig5_1", "Fig. 5.1: standard training vs RePr (train and test accuracy)",
                  "C^3(32) on CIFAR-10, standard scheme vs RePr (yellow: sub-network periods). Left: training "
                  f"accuracy, right: test accuracy on the first {cfg.curve_size or 'all'} test images (per-epoch "
                  f"curves); lines: mean over {len(cfg.seeds)} seeds, {BAND}. Markers at the right end: final test "
                  f"accuracy on all {cfg.test_size or 'all'} test images (mean ± sd over seeds), the numbers the "
                  f"claims use. Red dotted: the thesis's {THESIS_FIG5_1_TEST_ACC:g}% (standard C^3(32), 100 epochs). "
                  "Annotations as in §5.4.")
    c = res.curves
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    groups = ["standard", "RePr (Oracle)", "RePr (Ortho)"]
    for ax, col, name in zip(axes, ("train_acc", "test_acc"), ("training", "test")):
        _curve_plot(ax, c, col, groups, sch)
        ax.set_ylabel(f"{name} accuracy (%)")
    axes[1].set_ylabel(f"test accuracy (%), first {cfg.curve_size or 'all'} test images")
    last_epoch = int(c.epoch.max())
    for i, g in enumerate(groups):
        fin = _final_by_group(c[c.group == g]).test_acc
        if len(fin):
            axes[1].errorbar(last_epoch + 0.7 + 0.25 * i, fin.mean(), yerr=fin.std(ddof=1) if len(fin) > 1 else 0,
                             marker="D", ms=5, color=_colour(g), capsize=2, ls="none",
                             label=f"final, all {cfg.test_size or 'all'} test images" if i == 0 else None)
    axes[1].axhline(THESIS_FIG5_1_TEST_ACC, color="tab:red", ls=":", lw=1.5,
                    label=f"thesis: standard {THESIS_FIG5_1_TEST_ACC:g}%")
    _baseline(rec, cfg, _final_by_group(c[c.group == "standard"]).test_acc, "standard C^3(32)",
              f"{THESIS_FIG5_1_TEST_ACC:g}% (text) / {PAPER_TABLE5_1['Standard']}% (Table 5.1)")
    drop0, readd0 = sch.drop_epochs()[0], sch.readd_epochs()[0]
    e_epoch = min(readd0 + 2, sch.epochs)
    f_epoch = sch.readd_epochs()[-1] if len(sch.readd_epochs()) > 2 else sch.epochs
    m = c[c.group == "RePr (Oracle)"].groupby("epoch")[["train_acc", "test_acc"]].mean()
    marks = {"A": (drop0, m.train_acc[drop0], 0), "C": (drop0, m.test_acc[drop0], 1), "D": (readd0, m.test_acc[readd0], 1),
             "E": (e_epoch, m.test_acc[e_epoch], 1), "F": (f_epoch, m.test_acc[f_epoch], 1)}
    for label, (x, y, i) in marks.items():
        axes[i].annotate(f"[{label}]", (x, y), textcoords="offset points", xytext=(-8, 8), fontsize=8)
    axes[1].legend(fontsize=8)
    rec.figure(fig, "fig5_1", c)
    ev = res.events
    if len(ev):
        rec.data(ev.assign(dropped=ev.get("dropped", pd.Series(dtype=object)).astype(str)), "fig5_1_events")
        drops = ev[(ev.kind == "drop")]
        summary = drops.groupby("group")[["test_acc_before", "test_acc_after"]].mean().mul(100).round(1)
        rec.table(summary, "fig5_1_drops", "Test accuracy (%) just before and just after dropping the filters "
                  "(mean over drops and seeds); the sub-network then trains S2 epochs.")
        per_layer = {}
        for g, d in drops.groupby("group"):
            counts = pd.DataFrame(list(d.dropped)).mean()
            per_layer[g] = counts.round(1)
        rec.table(pd.DataFrame(per_layer).T, "fig5_1_dropped_per_layer",
                  "Filters dropped per layer at each drop (mean). The thesis reports its ranking drops more "
                  "filters from deeper layers.")
    final = {g: _final_by_group(c[c.group == g]).sort_values("seed") for g in groups}
    t_train = C.greater(list(final["standard"].train_acc), list(final["RePr (Oracle)"].train_acc))
    t_test = C.greater(list(final["RePr (Oracle)"].test_acc), list(final["standard"].test_acc))
    rec.claim(C.Claim("repr.fig5_1.train_below_test_above",
                      CLAIMS["repr.fig5_1.train_below_test_above"], C.all_of([t_train.verdict, t_test.verdict]),
                      f"final accuracies, paired over seeds, 95% Student-t: standard − RePr (Oracle) training accuracy "
                      f"(running accuracy over the last epoch's batches): {t_train.describe(' pts')}; RePr (Oracle) − standard test "
                      f"accuracy on all {cfg.test_size or 'all'} test images (the markers at the right of the figure, "
                      f"not the {cfg.curve_size or 'all'}-image curves): {t_test.describe(' pts')}",
                      parts=(("training accuracy below", t_train.verdict, t_train.describe(" pts")),
                             ("test accuracy above", t_test.verdict, t_test.describe(" pts")))))

    def gain(group: str) -> list[float]:
        d = c[c.group == group].pivot(index="seed", columns="epoch", values="test_acc").sort_index()
        return list(d[e_epoch] - d[drop0])

    t_jump = C.greater(gain("RePr (Oracle)"), gain("standard"))
    rec.claim(C.Claim("repr.fig5_1.jump_after_readd",
                      CLAIMS["repr.fig5_1.jump_after_readd"],
                      t_jump.verdict,
                      f"test accuracy on the first {cfg.curve_size or 'all'} test images (the curves), paired over "
                      f"seeds, 95% Student-t: ([E] epoch {e_epoch} − [C] epoch {drop0}) RePr minus the same for "
                      f"standard: {t_jump.describe(' pts')}; "
                      f"RePr mean gain {np.mean(gain('RePr (Oracle)')):+.1f}, standard {np.mean(gain('standard')):+.1f} pts"))
    return rec.save()


# ---------------------------------------------------------------------------------------------
# Table 5.1, Fig. 5.3


def table5_1(cfg: Config, result: Finals) -> Record:
    """Final test accuracy per ranking criterion, thesis beside ours, with claims."""
    res = result.rows
    rec = _record(cfg, "table5_1", "Table 5.1: test accuracy of RePr with each ranking criterion",
                  "Test accuracy on CIFAR-10 using standard training and RePr training with various metrics.")
    order = ["Standard", *cfg.criteria, *(f"ortho:{v}" for v in cfg.ortho_variants)]
    ours = res.groupby("group").test_acc.agg(_mean_sd).reindex(order)
    paper = pd.Series({k: PAPER_TABLE5_1.get(k, float("nan")) for k in order})
    idx = pd.Index([CRITERION_LABEL.get(k, k) for k in order], name="Metric")
    table = pd.DataFrame({"Acc (thesis)": paper.values, "Acc (ours, mean ± sd)": ours.values}, index=idx)
    rec.table(table, "table5_1", "Test accuracy (%); ours: mean ± sd over seeds. * beyond the thesis: the "
              "official code's Ortho score (whole-tensor normalisation, signed mean), and Ortho with the first conv "
              "layer left out of the global ranking.")
    rec.data(res, "table5_1_per_seed")
    std = per_seed(res, "Standard")
    _baseline(rec, cfg, std, "standard C^3(32)", f"{PAPER_TABLE5_1['Standard']}%")
    stat = (f"final test accuracy on {cfg.test_size or 'all'} test images (the table's column), paired over "
            f"{len(std)} seeds, 95% Student-t")
    t = C.greater(per_seed(res, "ortho"), std)
    rec.claim(C.Claim("repr.table5_1.ortho_beats_standard",
                      CLAIMS["repr.table5_1.ortho_beats_standard"],
                      t.verdict, f"{stat}: Ortho − standard: {t.describe(' pts')}"))
    others = [c for c in cfg.criteria if c not in ("ortho", "oracle", "ortho_public")]
    tests = {c: C.greater(per_seed(res, "ortho"), per_seed(res, c)) for c in others}
    close = C.at_most([o - r for o, r in zip(per_seed(res, "oracle"), per_seed(res, "ortho"))], 1.0)
    verdict = C.all_of([close.verdict, C.most_of([x.verdict for x in tests.values()])])
    rec.claim(C.Claim("repr.table5_1.ortho_near_oracle_above_others",
                      CLAIMS["repr.table5_1.ortho_near_oracle_above_others"], verdict,
                      f"{stat}: Oracle − Ortho (≤ 1 pt): {close.describe(' pts')}; Ortho vs others: "
                      f"{C.tally([x.verdict for x in tests.values()])} ("
                      + "; ".join(f"{k} {x.mean:+.1f}" for k, x in tests.items()) + ")"))
    return rec.save()


def fig5_3(cfg: Config, result: Fig5_3Result) -> Record:
    """Pearson correlation of criterion values and of ranks with the greedy Oracle, per criterion."""
    res = result.rows
    rec = _record(cfg, "fig5_3", "Fig. 5.3: correlation of ranking criteria with the greedy Oracle",
                  "Left: Pearson correlation of each metric's values with the Oracle's accuracy drops. Centre: "
                  "correlation of the filter ranks (Spearman) with the Oracle's ranks. Right (Table 5.1): separate "
                  f"artefact. Bars: mean over {len(cfg.seeds)} seeds (one network per seed, all its filters); error "
                  "bars: ± 1 sd over those seeds. Red marks: the thesis's Ortho values (0.38 on values, 0.58 on ranks).")
    rows = []
    for (seed, stage, crit), d in res.groupby(["seed", "stage", "criterion"]):
        pearson = stats.pearsonr(d.importance, d.oracle_drop)[0] if d.importance.std() > 0 else np.nan
        spearman = stats.spearmanr(d.importance, d.oracle_drop)[0] if d.importance.std() > 0 else np.nan
        within = [stats.spearmanr(g.importance, g.oracle_drop)[0] for _, g in d.groupby("layer")
                  if g.importance.std() > 0 and g.oracle_drop.std() > 0]
        rows.append({"seed": seed, "stage": stage, "criterion": crit, "pearson": pearson, "spearman": spearman,
                     "spearman_within_layers": float(np.mean(within)) if within else np.nan})
    corr = pd.DataFrame(rows)
    stages = list(dict.fromkeys(res.stage))
    crits = [c for c in dict.fromkeys(res.criterion) if c != "oracle"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
    width = 0.8 / len(stages)
    for ax, col, name in zip(axes, ("pearson", "spearman"), ("values (Pearson)", "ranks (Spearman)")):
        for i, stage in enumerate(stages):
            m = corr[corr.stage == stage].groupby("criterion")[col].agg(["mean", "std"]).reindex(crits)
            ax.bar(np.arange(len(crits)) + i * width, m["mean"], width, yerr=m["std"].fillna(0), label=stage)
        ax.set_xticks(np.arange(len(crits)) + width * (len(stages) - 1) / 2)
        ax.set_xticklabels([CRITERION_LABEL.get(c, c).split(" [")[0] for c in crits], rotation=45, ha="right", fontsize=8)
        ax.set_title(f"correlation with the Oracle: {name}", fontsize=9)
        ax.set_xlabel("ranking criterion")
        ax.axhline(0, color="black", lw=0.5)
        ax.grid(alpha=0.3, axis="y")
        if "ortho" in crits:
            x = crits.index("ortho")
            ax.hlines(THESIS_FIG5_3_ORTHO[col], x - width / 2, x + width * (len(stages) - 0.5), color="tab:red",
                      lw=2.5, label="thesis, Ortho (0.38 values, 0.58 ranks)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, [f"model at {lab}" if lab in stages else lab for lab in labels], loc="upper center",
               ncol=len(labels), fontsize=8, bbox_to_anchor=(0.5, 1.07))
    axes[0].set_ylabel("Pearson r with the Oracle's drop")
    axes[1].set_ylabel("Spearman ρ with the Oracle's drop")
    axes[1].yaxis.set_tick_params(labelleft=True)
    rec.figure(fig, "fig5_3", corr)
    table = corr.groupby(["criterion", "stage"])[["pearson", "spearman", "spearman_within_layers"]].mean().unstack("stage").round(2)
    table.columns = [f"{a} @ {b}" for a, b in table.columns]
    rec.table(table.reindex(crits), "fig5_3_correlations",
              "Mean correlation with the Oracle over seeds (importance = −priority; Oracle = accuracy drop). "
              "Thesis, Ortho: 0.38 on values, 0.58 on ranks; 'other metrics show very poor correlation using the rank'. "
              "Pearson and Spearman are over all filters of the network (the ranking is global); "
              "spearman_within_layers (ours) is the mean of per-layer rank correlations.")
    end = corr[corr.stage == "end"]
    cheap = [c for c in crits if c not in ("ortho", "ortho_public", "random")]
    tests = {c: C.greater(per_seed(end, "ortho", "spearman", "criterion"), per_seed(end, c, "spearman", "criterion"))
             for c in cheap}
    rec.claim(C.Claim("repr.fig5_3.ortho_best_rank_correlation",
                      CLAIMS["repr.fig5_3.ortho_best_rank_correlation"],
                      C.all_of([t.verdict for t in tests.values()]),
                      f"Spearman correlation of each criterion's filter ranks with the Oracle's, all filters of the "
                      f"network at the end of training, paired over {len(cfg.seeds)} seeds, 95% Student-t: Ortho "
                      f"{np.mean(per_seed(end, 'ortho', 'spearman', 'criterion')):+.2f} (thesis "
                      f"{THESIS_FIG5_3_ORTHO['spearman']:.2f}); Ortho − other: "
                      + "; ".join(f"{k} {t.describe()}" for k, t in tests.items()),
                      parts=tuple((f"Ortho − {k}", t.verdict, t.describe()) for k, t in tests.items())))
    return rec.save()


# ---------------------------------------------------------------------------------------------
# Figs 5.2 and 5.11


def _offdiag(m: np.ndarray) -> np.ndarray:
    return m[~np.eye(len(m), dtype=bool)]


def _filter_axes(ax) -> None:
    ax.set_xlabel("filter j")
    ax.set_ylabel("filter i")


def _tri_image(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    out = np.tril(lower, -1) + np.triu(upper, 1)
    np.fill_diagonal(out, np.nan)
    return out


def _cca_frame(res: CcaResult) -> pd.DataFrame:
    rows = []
    for r in res.matrices:
        off = _offdiag(r.matrix)
        rows.append({"model": r.model, "seed": r.seed, "layer": r.layer, "mean": off.mean(),
                     "share_above_0.3": (off > 0.3).mean(), "share_above_0.9": (off > 0.9).mean()})
    return pd.DataFrame(rows)


def fig5_2(cfg: Config, res: CcaResult) -> Record:
    """CCA matrix of the standard C^2(32) (lower: layer 1, upper: layer 2) and the Oracle histogram."""
    rec = _record(cfg, "fig5_2", "Fig. 5.2: filter correlations (CCA) and accuracy change per dropped filter",
                  "Left: canonical correlation between the activations of every pair of filters, C^2(32) trained "
                  "on CIFAR-10 (lower triangle: layer 1, upper: layer 2). Right: distribution of the change in "
                  "test accuracy when one filter at a time is dropped.")
    rec.note(f"What is correlated (the thesis does not say): for filters i, j of one layer, the two filters' "
             f"post-ReLU maps on {cfg.cca_images} test images, positions as variables and images as samples, "
             f"each SVD-reduced to ≤ {cfg.cca_dims} dimensions (99% of variance); the entry is the top canonical "
             f"correlation (method '{cfg.cca_method}', lib.cca). 'untrained' = the same net with its random "
             "He-normal initial weights, our stand-in for the thesis's random-orthogonal reference (0.3).")
    seed0 = cfg.seeds[0]
    mats = {(r.model, r.layer): r.matrix for r in res.matrices if r.seed == seed0}
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4))
    im = axes[0].imshow(_tri_image(mats["standard", "conv1"], mats["standard", "conv2"]), vmin=0, vmax=1, cmap="viridis")
    axes[0].set_title(f"standard C^2({cfg.width}), seed {seed0}: lower = layer 1, upper = layer 2", fontsize=9)
    _filter_axes(axes[0])
    fig.colorbar(im, ax=axes[0], shrink=0.8, label="canonical correlation (top CCA coefficient, 0–1)")
    o = res.oracle
    for layer, d in o.groupby("layer"):
        axes[1].hist(d.drop_pts, bins=30, alpha=0.6, label=layer)
    axes[1].set_xlabel("test accuracy drop when the filter is zeroed (points)")
    axes[1].set_ylabel(f"filters (all {o.seed.nunique()} seeds)")
    axes[1].legend()
    rows = [{"model": m, "layer": layer, "i": i, "j": j, "corr": float(v)} for (m, layer), mat in mats.items()
            for (i, j), v in np.ndenumerate(mat)]
    rec.figure(fig, "fig5_2", pd.DataFrame(rows))
    stats_ = _cca_frame(res)
    rec.data(stats_, "fig5_2_cca_summary")
    rec.data(o, "fig5_2_oracle_per_filter")
    share = o.assign(below=o.drop_pts < 1.0).groupby(["seed", "layer"]).below.mean().unstack("layer")
    _baseline(rec, cfg, res.finals[res.finals.model == "standard"].test_acc, f"standard C^2({cfg.width})",
              f"{THESIS_C2_TEST_ACC}% (C^2(32), 100 epochs)")
    rec.table(pd.DataFrame({"filters with drop < 1 point (%)": 100 * share.mean(),
                            "filters with drop > 4 points (%)": 100 * o.assign(big=o.drop_pts > 4).groupby(
                                ["seed", "layer"]).big.mean().unstack("layer").mean(),
                            "max drop (points)": o.groupby("layer").drop_pts.max()}).round(1),
              "fig5_2_oracle", f"Greedy Oracle on the standard C^2({cfg.width}); test accuracy "
              f"{_mean_sd(res.finals[res.finals.model == 'standard'].test_acc)}% (thesis: 58.2%).")
    layer2 = list(share.sort_index()["conv2"])
    t = C.greater(layer2, [0.5] * len(layer2))
    rec.claim(C.Claim("repr.fig5_2.most_removals_cheap",
                      CLAIMS["repr.fig5_2.most_removals_cheap"], t.verdict,
                      f"per seed, the share of layer-2 filters whose removal costs < 1 point of test accuracy (greedy "
                      f"Oracle, {cfg.test_size or 'all'} test images), minus 0.5; 95% Student-t over {len(layer2)} "
                      f"seeds: {t.describe()}; layer 1 mean share "
                      f"{share['conv1'].mean():.2f}"))
    s = stats_[stats_.layer == "conv2"]
    share = per_seed(s, "standard", "share_above_0.3", "model")
    t = C.greater(share, [0.5] * len(share))
    rec.claim(C.Claim("repr.fig5_2.many_correlated_pairs",
                      CLAIMS["repr.fig5_2.many_correlated_pairs"], t.verdict,
                      f"per seed, the share of layer-2 filter pairs with canonical correlation > 0.3 ({cfg.cca_images} "
                      f"test images), minus 0.5; 95% Student-t over {len(share)} seeds: {t.describe()} (standard {np.mean(share):.2f}; "
                      f"pairs > 0.9: {s[s.model == 'standard']['share_above_0.9'].mean():.3f}). Context: the untrained "
                      f"network (random He-normal weights) has {s[s.model == 'untrained']['share_above_0.3'].mean():.2f} "
                      "of its pairs above 0.3, so natural-image statistics alone make filter activations correlate; "
                      "0.3 is not a chance level for this statistic."))
    return rec.save()


def fig5_11(cfg: Config, res: CcaResult) -> Record:
    """CCA matrices of layers 1 and 2 of C^2(32), standard vs RePr, side by side."""
    rec = _record(cfg, "fig5_11", "Fig. 5.11: filter correlations (CCA), standard vs RePr",
                  "Canonical correlation analysis of activations from the 1st and 2nd layer of a C^2(32) trained on "
                  "CIFAR-10, standard vs RePr training.")
    seed0 = cfg.seeds[0]
    mats = {(r.model, r.layer): r.matrix for r in res.matrices if r.seed == seed0}
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4))
    for ax, model in zip(axes, ("standard", "RePr (Ortho)")):
        im = ax.imshow(_tri_image(mats[model, "conv1"], mats[model, "conv2"]), vmin=0, vmax=1, cmap="viridis")
        ax.set_title(f"{model}, seed {seed0}: lower = layer 1, upper = layer 2", fontsize=9)
        _filter_axes(ax)
    fig.colorbar(im, ax=axes, shrink=0.8, label="canonical correlation (top CCA coefficient, 0–1)")
    rows = [{"model": m, "layer": layer, "i": i, "j": j, "corr": float(v)} for (m, layer), mat in mats.items()
            if m != "untrained" for (i, j), v in np.ndenumerate(mat)]
    rec.figure(fig, "fig5_11", pd.DataFrame(rows))
    s = _cca_frame(res)
    table = s.groupby(["layer", "model"])[["mean", "share_above_0.3", "share_above_0.9"]].mean().round(3)
    rec.table(table, "fig5_11_summary", "Off-diagonal canonical correlations: mean and share of pairs above 0.3 / 0.9 "
              "(mean over seeds).")
    tests = {layer: C.greater(per_seed(s[s.layer == layer], "standard", "mean", "model"),
                              per_seed(s[s.layer == layer], "RePr (Ortho)", "mean", "model")) for layer in ("conv1", "conv2")}
    rec.claim(C.Claim("repr.fig5_11.repr_reduces_correlation",
                      CLAIMS["repr.fig5_11.repr_reduces_correlation"],
                      tests["conv2"].verdict,
                      f"mean off-diagonal canonical correlation per layer ({cfg.cca_images} test images), standard − "
                      f"RePr (Ortho), paired over seeds, 95% Student-t (the verdict is layer 2's; the thesis expects "
                      "less in layer 1): " + "; ".join(f"{k}: {t.describe()}" for k, t in tests.items())))
    return rec.save()


# ---------------------------------------------------------------------------------------------
# Figs 5.4-5.8


def _gain_vs_standard(res: pd.DataFrame, col: str, key: str, value) -> list[float]:
    base = res[res[key] == 0].sort_values("seed")[col].to_numpy()
    return list(res[res[key] == value].sort_values("seed")[col].to_numpy() - base)


def fig5_4(cfg: Config, result: Fig5_4Result) -> Record:
    """Test accuracy vs % of filters pruned."""
    res = result.rows
    rec = _record(cfg, "fig5_4", "Fig. 5.4: RePr with various percentages of filters pruned",
                  "Test accuracy vs % of filters pruned (0 = standard training). The thesis plots the average test "
                  f"accuracy over 5 epochs from epoch 20 (the first sub-network phase); ours averages the S2={cfg.s2} "
                  "epochs after the first drop ('window'), and also shows the final accuracy. Points: mean over "
                  f"{result.rows.seed.nunique()} seeds; error bars: ± 1 sd over those seeds (final: all "
                  f"{cfg.test_size or 'all'} test images; window: the first {cfg.curve_size or 'all'}).")
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for col, name in (("test_acc", "final"), ("window_acc", "first sub-network window")):
        g = res.groupby("prune_pct")[col]
        ax.errorbar(g.mean().index, g.mean(), yerr=g.std(ddof=1).fillna(0), marker="o", capsize=3, label=name)
    ax.set_xlabel("filters pruned (%)")
    ax.set_ylabel("test accuracy (%)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    rec.figure(fig, "fig5_4", res)
    _baseline(rec, cfg, res[res.prune_pct == 0].test_acc, "standard C^3(32) (0% pruned)", f"{PAPER_TABLE5_1['Standard']}%")
    rec.table(res.groupby("prune_pct")[["test_acc", "window_acc"]].agg(_mean_sd), "fig5_4_summary",
              "Test accuracy (%) per pruned percentage, mean ± sd over seeds.")
    ps = sorted(p for p in res.prune_pct.unique() if p > 0)
    low, mid = ps[0], min(ps, key=lambda p: abs(p - 30))
    high = [p for p in ps if p > mid]
    rise = C.greater(_gain_vs_standard(res, "test_acc", "prune_pct", mid), _gain_vs_standard(res, "test_acc", "prune_pct", low))
    flat = [C.at_most([a - b for a, b in zip(_gain_vs_standard(res, "test_acc", "prune_pct", p),
                                                _gain_vs_standard(res, "test_acc", "prune_pct", mid))], 1.0) for p in high]
    rec.claim(C.Claim("repr.fig5_4.rise_then_flatten",
                      CLAIMS["repr.fig5_4.rise_then_flatten"],
                      C.all_of([rise.verdict] + [f.verdict for f in flat]),
                      f"final test accuracy gain over standard training ({cfg.test_size or 'all'} test images), paired "
                      f"over seeds, 95% Student-t: {mid:g}% − {low:g}%: {rise.describe(' pts')}; "
                      + "; ".join(f"{p:g}% − {mid:g}% ≤ 1 pt: {f.describe(' pts')}" for p, f in zip(high, flat))))
    return rec.save()


def fig5_5(cfg: Config, res: Fig5_5Result) -> Record:
    """Train and test accuracy at the end of each of many RePr iterations."""
    rec = _record(cfg, "fig5_5", "Fig. 5.5: marginal returns of many RePr iterations",
                  "Training and test accuracy on CIFAR-10 after each RePr iteration (measured just before the next "
                  f"drop, i.e. S1={cfg.s1} epochs after each re-add), RePr vs standard training over the same epochs.")
    it = res.iterations
    n_seeds = it.seed.nunique()
    rec.caption += (f" Points: mean over {n_seeds} seeds; error bars: ± 1 sd over those seeds. Test accuracy: the "
                    f"first {cfg.curve_size or 'all'} test images (per-iteration curves).")
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for i, (g, col) in enumerate([(g, c) for g in ("standard", "RePr (Ortho)") for c in ("train_acc", "test_acc")]):
        d = it[it.group == g].groupby("iteration")[col]
        m, sd = d.mean(), d.std(ddof=1).fillna(0)
        ax.errorbar(m.index + (i - 1.5) * 0.04, m.values, yerr=sd.values, color=_colour(g),
                    ls="--" if col == "train_acc" else "-", marker="o", ms=3, capsize=2,
                    label=f"{g} {col.split('_')[0]}")
    ax.set_xlabel("RePr iteration")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("accuracy (%)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    rec.figure(fig, "fig5_5", it)
    piv = it.pivot_table(index=["seed", "iteration"], columns="group", values=["train_acc", "test_acc"])
    gain = (piv["test_acc"]["RePr (Ortho)"] - piv["test_acc"]["standard"]).unstack("iteration")
    gap = (piv["train_acc"] - piv["test_acc"]).unstack("iteration")
    rec.table(pd.DataFrame({"RePr − standard test (pts)": gain.mean(), "train−test gap, standard": gap["standard"].mean(),
                            "train−test gap, RePr": gap["RePr (Ortho)"].mean()}).round(2),
              "fig5_5_summary", "Per iteration, mean over seeds.")
    last, k = int(gain.columns.max()), min(3, int(gain.columns.max()))
    early = C.greater(list(gain[k] - gain[0]), list(gain[last] - gain[k]))
    rec.claim(C.Claim("repr.fig5_5.diminishing_returns",
                      CLAIMS["repr.fig5_5.diminishing_returns"],
                      early.verdict, f"gain = RePr − standard test accuracy after an iteration (first "
                      f"{cfg.curve_size or 'all'} test images), paired over seeds, 95% Student-t: gain({k}) − gain(0) "
                      f"minus gain({last}) − gain({k}): {early.describe(' pts')}"))
    t = C.greater(list(gap["standard"][last]), list(gap["RePr (Ortho)"][last]))
    rec.claim(C.Claim("repr.fig5_5.gap_narrows", CLAIMS["repr.fig5_5.gap_narrows"], t.verdict,
                      f"train − test accuracy gap, standard minus RePr, after {last} iterations, paired over seeds, 95% "
                      f"Student-t: {t.describe(' pts')}"))
    return rec.save()


def _paired_bars(ax, res: pd.DataFrame, conditions: list[str]) -> None:
    for i, scheme in enumerate(("standard", "RePr")):
        m = [res[res.group == f"{c}|{scheme}"].test_acc for c in conditions]
        ax.bar(np.arange(len(conditions)) + 0.4 * i, [x.mean() for x in m], 0.4, color=_colour(scheme),
               yerr=[x.std(ddof=1) if len(x) > 1 else 0 for x in m], label=scheme, capsize=3, ecolor="0.55")
    ax.set_xticks(np.arange(len(conditions)) + 0.2)
    ax.set_xticklabels(conditions)
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3, axis="y")


def _helps_each(res: pd.DataFrame, conditions: list[str]) -> dict[str, C.Test]:
    return {c: C.greater(per_seed(res, f"{c}|RePr"), per_seed(res, f"{c}|standard")) for c in conditions}


def fig5_6(cfg: Config, res: Fig5_6Result) -> Record:
    """RePr vs standard under each optimiser; RePr with S1 = S2 values."""
    rec = _record(cfg, "fig5_6", "Fig. 5.6: RePr with different optimizers and S1 = S2 values",
                  "Left: standard vs RePr (Ortho) per optimizer. Right: S1 = S2 (epochs), same number of cycles. "
                  f"Bars: final test accuracy on {cfg.test_size or 'all'} test images, mean over {len(cfg.seeds)} "
                  "seeds; error bars: ± 1 sd over those seeds.")
    opt, sv = res.optimizers, res.s_values
    opts = list(cfg.optimizers)
    svals = [str(s) for s in cfg.s_values]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    _paired_bars(axes[0], opt, opts)
    _paired_bars(axes[1], sv, svals)
    axes[1].set_xlabel("S1 = S2 (epochs)")
    axes[0].legend(fontsize=8)
    rec.figure(fig, "fig5_6", pd.concat([opt.assign(panel="optimizer"), sv.assign(panel="S1=S2")]))
    rec.note("Optimizers (learning rate): " + ", ".join(f"{k} ({v:g})" for k, v in cfg.optimizers.items())
             + "; momentum = SGD with momentum 0.9. The thesis names SGD, Momentum and Adam and gives no rates.")
    t_opt, t_s = _helps_each(opt, opts), _helps_each(sv, svals)
    summary = pd.DataFrame({k: [t.describe(" pts"), t.verdict.value]
                            for k, t in (t_opt | {f"S1=S2={k}": v for k, v in t_s.items()}).items()},
                           index=["RePr − standard (final test accuracy)", "verdict"]).T.rename_axis("condition")
    rec.table(summary, "fig5_6_summary", "Paired over seeds.")
    rec.claim(C.Claim("repr.fig5_6.helps_each_optimizer", CLAIMS["repr.fig5_6.helps_each_optimizer"],
                      C.all_of([t.verdict for t in t_opt.values()]),
                      _stat(cfg) + "; ".join(f"{k}: {t.describe(' pts')}" for k, t in t_opt.items())))
    rec.claim(C.Claim("repr.fig5_6.s_values", CLAIMS["repr.fig5_6.s_values"],
                      C.all_of([t.verdict for t in t_s.values()]),
                      _stat(cfg) + "; ".join(f"S1=S2={k}: {t.describe(' pts')}" for k, t in t_s.items())))
    return rec.save()


def _stat(cfg: Config, quantity: str = "final test accuracy") -> str:
    """How a RePr claim's numbers were made: the quantity, the test images and the paired statistic."""
    return f"{quantity} on {cfg.test_size or 'all'} test images, paired over seeds, 95% Student-t: "


def _final_by_group(c: pd.DataFrame) -> pd.DataFrame:
    """The last epoch of every run, with `test_acc` = the final accuracy on all test images."""
    last = c[c.epoch == c.epoch.max()]
    return last.assign(test_acc=last.final_test_acc)


def fig5_7(cfg: Config, result: Curves) -> Record:
    """Test accuracy curves under a step and a cyclic learning-rate schedule."""
    res, schedule = result.curves, result.schedule
    rec = _record(cfg, "fig5_7", "Fig. 5.7: standard vs RePr under step and cyclic learning rates",
                  "Test accuracy, standard vs RePr. Left: step schedule 0.1, 0.01, 0.001. Right: cyclic learning rate "
                  f"(thesis: period 50 epochs, amplitude 0.005, starting lr 0.001). Test accuracy on the first "
                  f"{cfg.curve_size or 'all'} test images; lines: mean over seeds, {BAND}; yellow: sub-network periods.")
    kinds = list(cfg.lr_schedules)
    rec.note("Schedules (plain SGD): " + "; ".join(f"{k}: {v}" for k, v in cfg.lr_schedules.items())
             + ". Step boundaries (not given in the thesis): half and three quarters of the epochs; cyclic waveform: "
             "triangular. Under the step schedule the last re-add falls in the lowest-rate phase (lr/100), where the "
             "newly drawn filters barely train before the end.")
    fig, axes = plt.subplots(1, len(kinds), figsize=(5.5 * len(kinds), 3.6), squeeze=False)
    for ax, kind in zip(axes[0], kinds):
        _curve_plot(ax, res, "test_acc", [f"{kind}|standard", f"{kind}|RePr"], schedule,
                    labels={f"{kind}|standard": "standard", f"{kind}|RePr": "RePr (Ortho)"})
        ax.set_title(kind, fontsize=9)
        ax.set_ylabel("test accuracy (%)")
        ax.legend(fontsize=8)
    rec.figure(fig, "fig5_7", res)
    t = _helps_each(_final_by_group(res), kinds)
    rec.claim(C.Claim("repr.fig5_7.helps_each_schedule", CLAIMS["repr.fig5_7.helps_each_schedule"],
                      C.all_of([x.verdict for x in t.values()]),
                      _stat(cfg) + "; ".join(f"{k}: {x.describe(' pts')}" for k, x in t.items())))
    return rec.save()


def fig5_8(cfg: Config, result: Curves) -> Record:
    """Test accuracy curves of standard / RePr-Oracle / RePr-Ortho with and without dropout."""
    res, schedule = result.curves, result.schedule
    rec = _record(cfg, "fig5_8", "Fig. 5.8: standard vs RePr with and without dropout",
                  f"Test accuracy of C^3(32): standard, RePr with Oracle, RePr with Ortho. Left: dropout {cfg.dropout:g} "
                  "(before the classifier; the thesis does not say where). Right: no dropout. Test accuracy on the "
                  f"first {cfg.curve_size or 'all'} test images; lines: mean over seeds, {BAND}; yellow: sub-network "
                  "periods.")
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
    for ax, label in zip(axes, ("dropout", "no dropout")):
        groups = [f"{label}|{s}" for s in ("standard", "RePr (Oracle)", "RePr (Ortho)")]
        _curve_plot(ax, res, "test_acc", groups, schedule, labels={g: g.split("|")[1] for g in groups})
        ax.set_title(label, fontsize=9)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("test accuracy (%)")
    rec.figure(fig, "fig5_8", res)
    f = _final_by_group(res)
    t_drop = C.greater(per_seed(f, "no dropout|standard"), per_seed(f, "dropout|standard"))
    rec.claim(C.Claim("repr.fig5_8.dropout_hurts", CLAIMS["repr.fig5_8.dropout_hurts"], t_drop.verdict,
                      f"{_stat(cfg)}standard without − with dropout: {t_drop.describe(' pts')}"))
    tests = {f"{d}, {s}": C.greater(per_seed(f, f"{d}|RePr ({s})"), per_seed(f, f"{d}|standard"))
             for d in ("dropout", "no dropout") for s in ("Oracle", "Ortho")}
    rec.claim(C.Claim("repr.fig5_8.repr_helps_both", CLAIMS["repr.fig5_8.repr_helps_both"],
                      C.all_of([t.verdict for t in tests.values()]),
                      _stat(cfg) + "; ".join(f"{k}: {t.describe(' pts')}" for k, t in tests.items())))
    return rec.save()


# ---------------------------------------------------------------------------------------------
# Fig. 5.9, Tables 5.2-5.3


def fig5_9(cfg: Config, res: Fig5_9Result) -> Record:
    """Ortho-sum over training, without and with knowledge distillation."""
    schedule = res.schedule
    rec = _record(cfg, "fig5_9", "Fig. 5.9: Ortho-sum over training, with and without knowledge distillation",
                  "Sum of the inter-filter orthogonality score (eq. 5.2) over the network during training; lower = "
                  "less overlap; yellow = sub-network periods. Left: no KD; right: with KD (same colour = same scheme "
                  f"in both panels). Lines: mean over seeds, {BAND}.")
    rec.note(f"KD teacher: ResNet-{cfg.teacher_depth} (test accuracy {res.teacher_acc:.1f}%; where it came from: "
             f"the model notes below); loss {cfg.kd_alpha:g}·T²·KL + {1 - cfg.kd_alpha:g}·CE with T = "
             f"{cfg.kd_temperature:g} (the thesis gives no teacher, temperature or weights).")
    c = res.curves
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
    for ax, suffix in zip(axes, ("", " + KD")):
        groups = [g + suffix for g in ("Standard", "RePr (Ortho)", "RePr (Oracle)")]
        _curve_plot(ax, c, "ortho_sum", groups, schedule)
        ax.set_title("with KD" if suffix else "without KD", fontsize=9)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("Ortho-sum (eq. 5.2, summed over layers)")
    rec.figure(fig, "fig5_9", c)
    f = _final_by_group(c)
    _baseline(rec, cfg, per_seed(f, "Standard"), "standard C^3(32)", f"{PAPER_TABLE5_1['Standard']}%")
    t1 = C.greater(per_seed(f, "Standard", "ortho_sum"), per_seed(f, "RePr (Ortho)", "ortho_sum"))
    t2 = C.greater(per_seed(f, "Standard", "ortho_sum"), per_seed(f, "RePr (Oracle)", "ortho_sum"))
    rec.claim(C.Claim("repr.fig5_9.repr_lowers_overlap",
                      CLAIMS["repr.fig5_9.repr_lowers_overlap"],
                      C.all_of([t1.verdict, t2.verdict]),
                      "Ortho-sum at the final epoch, paired over seeds, 95% Student-t: "
                      f"standard − RePr(Ortho): {t1.describe()}; standard − RePr(Oracle): {t2.describe()}"))
    tk = {g: C.greater(per_seed(f, g + " + KD", "ortho_sum"), per_seed(f, g, "ortho_sum"))
          for g in ("Standard", "RePr (Ortho)", "RePr (Oracle)")}
    rec.claim(C.Claim("repr.fig5_9.kd_raises_overlap", CLAIMS["repr.fig5_9.kd_raises_overlap"],
                      C.all_of([t.verdict for t in tk.values()]),
                      "Ortho-sum at the final epoch, paired over seeds, 95% Student-t: "
                      + "; ".join(f"{k}: KD − no KD {t.describe()}" for k, t in tk.items())))
    return rec.save()


def _two_col(res: pd.DataFrame, groups: list[str], paper: dict[str, tuple[float, float]]) -> pd.DataFrame:
    ours = res.groupby("group").test_acc.agg(_mean_sd)
    table = pd.DataFrame(index=pd.Index(groups, name="scheme"))
    table["CIFAR-10 (thesis)"] = [paper[g][0] for g in groups]
    table["CIFAR-10 (ours)"] = [ours.get(g, "") for g in groups]
    table["CIFAR-100 (thesis)"] = [paper[g][1] for g in groups]
    table["CIFAR-100 (ours)"] = "not run (no CIFAR-100 here)"
    return table


def table5_2(cfg: Config, result: Finals) -> Record:
    """Table 5.2: standard and RePr training with and without the orthogonality loss."""
    res = result.rows
    rec = _record(cfg, "table5_2", "Table 5.2: adding the orthogonality loss (OL, λ = 0.01)",
                  "Test accuracy of C^3(32) with and without the orthogonality loss, standard and RePr training.")
    paper = PAPER_TABLE5_2
    rec.table(_two_col(res, list(paper), paper), "table5_2", f"Test accuracy (%), λ = {cfg.ortho_lambda:g}, OL = Σ_ℓ Σ|ŴŴᵀ − I|.")
    rec.data(res, "table5_2_per_seed")
    _baseline(rec, cfg, per_seed(res, "Std"), "standard C^3(32)", f"{PAPER_TABLE5_2['Std'][0]}%")
    t = {b: C.at_most([a - b_ for a, b_ in zip(per_seed(res, f"{b}+OL"), per_seed(res, b))], 1.5) for b in ("Std", "RePr")}
    rec.claim(C.Claim("repr.table5_2.ol_adds_little",
                      CLAIMS["repr.table5_2.ol_adds_little"],
                      C.all_of([x.verdict for x in t.values()]),
                      _stat(cfg) + "; ".join(f"{k}+OL − {k} (≤ 1.5): {x.describe(' pts')}" for k, x in t.items())))
    return rec.save()


def table5_3(cfg: Config, result: Finals) -> Record:
    """Table 5.3: knowledge distillation, RePr, and both."""
    res = result.rows
    rec = _record(cfg, "table5_3", "Table 5.3: knowledge distillation vs RePr",
                  "Test accuracy of C^3(32): standard, KD, RePr, KD + RePr.")
    paper = PAPER_TABLE5_3
    rec.table(_two_col(res, list(paper), paper), "table5_3", "Test accuracy (%); KD teacher as in Fig. 5.9.")
    rec.data(res, "table5_3_per_seed")
    _baseline(rec, cfg, per_seed(res, "Std"), "standard C^3(32)", f"{PAPER_TABLE5_3['Std'][0]}%")
    t1 = C.greater(per_seed(res, "KD+RePr"), per_seed(res, "KD"))
    t2 = C.greater(per_seed(res, "KD+RePr"), per_seed(res, "RePr"))
    rec.claim(C.Claim("repr.table5_3.kd_and_repr_add_up", CLAIMS["repr.table5_3.kd_and_repr_add_up"],
                      C.all_of([t1.verdict, t2.verdict]),
                      f"{_stat(cfg)}KD+RePr − KD: {t1.describe(' pts')}; KD+RePr − RePr: {t2.describe(' pts')}"))
    return rec.save()


# ---------------------------------------------------------------------------------------------
# Fig. 5.10, Tables 5.4-5.9

def table5_4(cfg: Config, result: Finals) -> Record:
    """Table 5.4: ResNet-20 test error under standard training, DSD, BAN and RePr."""
    res = result.rows
    rec = _record(cfg, "table5_4", "Table 5.4: ResNet-20 on CIFAR-10, RePr vs DSD and BAN (test error)",
                  "Test error (%) of ResNet-20 on CIFAR-10 with various training schemes, all for N = 3 iterations "
                  "(BAN: generations) and the same epochs.")
    rec.note(f"All schemes here train {cfg.epochs} epochs (thesis: 150) with {cfg.resnet_optimizer} lr {cfg.resnet_lr:g} "
             f"on the same {cfg.train_size} images, seeds {cfg.resnet_seeds}; BAN uses {cfg.ban_generations} generation(s) "
             "(pure distillation, T = 1, from the previous generation); DSD holds the 30% smallest weights of each "
             "layer at zero during each sub-network phase and re-adds them at zero. 'Original' is He et al.'s number, not run.")
    ours = res.groupby("group").test_err.agg(_mean_sd)
    table = pd.DataFrame({"error (thesis)": pd.Series(PAPER_TABLE5_4),
                          "error (ours)": pd.Series({k: ours.get(k, "not run") for k in PAPER_TABLE5_4})})
    table.index.name = "scheme"
    n_seeds = len(cfg.resnet_seeds)
    rec.table(table, "table5_4", "Test error (%); ours: " + (f"mean ± sd over {n_seeds} seeds." if n_seeds > 1 else
                                                              f"one seed ({cfg.resnet_seeds[0]}), no sd (—)."))
    _baseline(rec, cfg, per_seed(res, "Our Impl", "test_err"), f"ResNet-{cfg.resnet_table_depth} standard",
              f"{PAPER_TABLE5_4['Our Impl']}% (He et al.: {PAPER_TABLE5_4['Original [He+16b]']}%)", "test error")
    rec.data(res, "table5_4_per_seed")
    tests = {g: C.greater(per_seed(res, g, "test_err"), per_seed(res, "RePr (Ortho)", "test_err"))
             for g in ("Our Impl", "DSD", "BAN", "RePr (Weights)")}
    rec.claim(C.Claim("repr.table5_4.ortho_lowest_error", CLAIMS["repr.table5_4.ortho_lowest_error"],
                      C.all_of([t.verdict for t in tests.values()]),
                      f"test error on {cfg.test_size or 'all'} test images, paired over seeds: "
                      + "; ".join(f"{k} − RePr(Ortho): {t.describe(' pts')}" for k, t in tests.items())
                      + ("" if len(cfg.resnet_seeds) > 1 else " (one seed: no interval, verdict cannot hold)")))
    return rec.save()


def table5_5(cfg: Config, result: Finals) -> Record:
    """Table 5.5: test error of standard vs RePr for vanilla C^n nets and ResNets of several depths."""
    res = result.rows
    rec = _record(cfg, "table5_5", "Table 5.5: test error of standard vs RePr across models",
                  "Test error (%) on CIFAR-10 (and CIFAR-100) of vanilla ConvNets and ResNets, standard vs RePr; "
                  "parameters exclude the last FC; inference time relative to the 3-layer vanilla net.")
    g = res.groupby(["family", "layers", "scheme"]).test_err.agg(_mean_sd).unstack("scheme")
    size = res.groupby(["family", "layers"])[["params_k", "inf_time_rel"]].first()
    paper = PAPER_TABLE5_5.set_index(["family", "layers"])
    ours = size.rename(columns={"params_k": "params_k (ours)", "inf_time_rel": "inf_time_rel (ours, CPU)"}).round(2)
    ours["C10 Std (ours)"] = g["Std"] if "Std" in g else None
    ours["C10 RePr (ours)"] = g["RePr"] if "RePr" in g else None
    table = paper.join(ours, how="outer").sort_index()
    table[list(paper.columns)] = table[list(paper.columns)].astype(object).where(table[list(paper.columns)].notna(), "—")
    table[list(ours.columns)] = table[list(ours.columns)].astype(object).where(table[list(ours.columns)].notna(), "not run")
    seeds = res.groupby(["family", "layers", "scheme"]).seed.nunique()
    spread = (f"mean ± sd over {seeds.max()} seeds" if seeds.min() > 1 else
              f"mean ± sd over the seeds ({seeds.min()}–{seeds.max()} per row; '± —': one seed, no sd)")
    rec.table(table, "table5_5", f"Test error (%); ours: {spread}; '—' in a thesis column: not in the thesis. CIFAR-100 and "
              "DenseNets are not run (no CIFAR-100 here; DenseNets out of the CPU budget).")
    rec.data(res, "table5_5_per_seed")
    van = res[res.family == "vanilla"]
    tests = {d: C.greater(per_seed(van[van.scheme == "Std"], f"vanilla|{d}|Std", "test_err"),
                          per_seed(van[van.scheme == "RePr"], f"vanilla|{d}|RePr", "test_err")) for d in sorted(van.layers.unique())}
    rec.claim(C.Claim("repr.table5_5.lower_error_every_depth", CLAIMS["repr.table5_5.lower_error_every_depth"],
                      C.all_of([t.verdict for t in tests.values()]),
                      _stat(cfg, "final test error") + "; ".join(f"C^{d}: std − RePr {t.describe(' pts')}"
                                                                 for d, t in tests.items())))
    return rec.save()


def fig5_10(cfg: Config, result: Finals) -> Record:
    """Fig. 5.10: RePr's gain vs the depth of vanilla C^n nets."""
    res = result.rows
    rec = _record(cfg, "fig5_10", "Fig. 5.10: RePr's improvement vs depth of vanilla ConvNets",
                  "Accuracy improvement of RePr over standard training on vanilla C^n(32) with n layers. Ours: final "
                  f"test accuracy on {cfg.test_size or 'all'} test images, RePr − standard paired per seed, mean over "
                  f"{len(cfg.seeds)} seeds, error bars ± 1 sd over those seeds; thesis: from its Table 5.5 errors.")
    van = res[res.family == "vanilla"]
    piv = van.pivot_table(index="seed", columns=["layers", "scheme"], values="test_acc")
    depths = sorted(van.layers.unique())
    gains = pd.DataFrame({d: piv[d]["RePr"] - piv[d]["Std"] for d in depths})
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    ax.errorbar(depths, gains.mean(), yerr=gains.std(ddof=1).fillna(0), marker="o", capsize=3, label="ours")
    paper = PAPER_TABLE5_5[PAPER_TABLE5_5.family == "vanilla"]
    ax.plot(paper.layers, paper["C10 Std"] - paper["C10 RePr"], "k--", marker="s", label="thesis (Table 5.5, C10)")
    ax.set_xlabel("conv layers n")
    ax.set_ylabel("RePr − standard test accuracy (pts)")
    ax.axhline(0, color="grey", lw=0.5)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    rec.figure(fig, "fig5_10", gains.reset_index().melt(id_vars="seed", var_name="layers", value_name="gain_pts"))
    t = C.greater(list(gains[depths[-1]]), list(gains[3] if 3 in gains else gains[depths[0]]))
    rec.claim(C.Claim("repr.fig5_10.more_for_deeper", CLAIMS["repr.fig5_10.more_for_deeper"], t.verdict,
                      _stat(cfg, "RePr − standard final test accuracy (gain)")
                      + f"gain at n={depths[-1]} minus gain at n={3 if 3 in depths else depths[0]}: {t.describe(' pts')}"))
    return rec.save()


def tables5_6_9(cfg: Config) -> Record:
    """Tables 5.6-5.9 (ImageNet, VQA, COCO): the thesis's numbers and what running them would need."""
    rec = Record(cfg, "tables5_6_9", "Tables 5.6-5.9: ImageNet, VQA and COCO (not run)",
                 "The thesis's numbers; these experiments cannot run on our machines.")
    t56 = PAPER_TABLE5_6
    rec.table(t56, "table5_6", "Table 5.6 (thesis): ImageNet top-1 error (%), standard and after each RePr round. "
              "Needs: ImageNet-1k train/val (~150 GB) and, per model, ~90 epochs × 4 (3 RePr rounds) of multi-GPU "
              "training (days on 8 GPUs); not available here (no ImageNet, one 30-min GPU session at most).")
    t57 = PAPER_TABLE5_7
    rec.table(t57, "table5_7", "Table 5.7 (thesis, layout reconstructed): VQA answer confidences. Needs VQAv1 "
              "images (COCO) and questions, GloVe vectors and an ImageNet-trained Inception-v1 per scheme.")
    t58 = PAPER_TABLE5_8
    rec.table(t58, "table5_8", "Table 5.8 (thesis): VQAv1 open-ended accuracy, VQA-LSTM-CNN. Needs the data of Table 5.7.")
    t59 = PAPER_TABLE5_9
    rec.table(t59, "table5_9", "Table 5.9 (thesis): COCO mAP@[0.5:0.95], Faster R-CNN. Needs COCO 2014 "
              "trainval35k+minival (~20 GB), ImageNet-pretrained backbones trained each way, and days of multi-GPU training.")
    rec.note("Not reproduced: no ImageNet, VQA, COCO or pretrained weights on our machines, and the compute is "
             "orders of magnitude beyond the suite's budget. Shown so that every table of the chapter has a row.")
    rounds = t56[["Standard", "N=1", "N=2", "N=3"]].diff(axis=1).iloc[:, 1:]
    falls = int((rounds < 0).all(axis=1).sum())
    diminishing = int(((rounds["N=1"] <= rounds["N=2"]) & (rounds["N=2"] <= rounds["N=3"])).sum())
    untested = "Not run here (no ImageNet / VQA / COCO data, no pretrained weights, no multi-GPU compute)."
    rec.claim(C.Claim("repr.table5_6.imagenet_diminishing_gains",
                      CLAIMS["repr.table5_6.imagenet_diminishing_gains"], C.Verdict.NOT_RUN,
                      f"{untested} In the thesis's own table the error falls every round for {falls} of {len(t56)} "
                      f"models and the per-round gain shrinks in {diminishing} of {len(t56)}; the largest "
                      "relative change is VGG-16 (−22.75%)."))
    rec.claim(C.Claim("repr.tables5_8_5_9.vqa_detection_gains",
                      CLAIMS["repr.tables5_8_5_9.vqa_detection_gains"], C.Verdict.NOT_RUN,
                      f"{untested} Thesis: VQA 60.3 → 64.6; COCO mAP +3.0, +4.1, +2.8, +2.8."))
    return rec.save()
