"""Bianchi et al., *Selective CNN-Filters Fine-Tuning*: one function per figure / table.

Each function takes the `Config` and the results of the matching `lib.papers.selective_finetuning.protocol` run, draws the
artefact, saves it with its data, puts the paper's numbers beside ours, computes the verdicts of
the claims the artefact tests, and returns the saved `Record` (it displays itself in notebooks).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lib import claims as C
from lib.config import Config
from lib.distortions import blur_kernel_size, describe
from lib.papers.selective_finetuning.paper import CLAIMS, NET_LABEL, PAPER_FIG4_OVERLAP, PAPER_TABLE1
from lib.papers.selective_finetuning.results import EmdReadingsResult, Fig4Result, Fig5Result, Fig6Result, Table1Result
from lib.report import Record, noted_accuracies

PAPER = "selective_finetuning"
COLOURS = {"most": "tab:red", "least": "tab:blue", "all": "tab:green", "baseline": "black"}


def _data_note(cfg: Config) -> str | None:
    """Say so when the All-Conv artefacts do not run on CIFAR-100 at the paper's width."""
    spec = cfg.p.DATA_ALLCONV or cfg.p.DATA
    width = cfg.p.ALLCONV_WIDTH
    if spec == "cifar100" and width == 96:
        return None
    return (f"The paper trains the All-Conv Net (width 96) on CIFAR-100; this run uses '{spec}' "
            f"with width {width}" + (" (CIFAR-100 is not available on our machines)." if spec != "cifar100" else "."))


def _record(cfg: Config, artefact: str, title: str, caption: str) -> Record:
    rec = Record(cfg, artefact, title, caption)
    note = _data_note(cfg)
    if note:
        rec.note(note)
    rec.note(_seeds_note(cfg))
    baselines = _baseline_accuracies(cfg)
    if baselines:
        rec.add_to_scale("our baselines' clean test accuracy: " + baselines
                         + " (the paper does not state its baselines' clean accuracy)")
    return rec


def _baseline_accuracies(cfg: Config) -> str:
    """'CIFAR-10 net 67.6% (seed 0, zoo), 66.9% (seed 1, trained here), …' from the run's model notes
    (`protocol.baseline` names them '<net> (baseline seed <s>)'); '' when none was noted."""
    per_net: dict[str, list[str]] = {}
    for name, (acc, source) in noted_accuracies(cfg).items():
        net, _, seed = name.partition(" (baseline seed ")
        per_net.setdefault(net, []).append(f"{acc:.1f}% ({'seed ' + seed.rstrip(')') + ', ' if seed else ''}{source})")
    return "; ".join(f"{NET_LABEL.get(net, net)} {', '.join(accs)}" for net, accs in per_net.items())


def _seeds_note(cfg: Config) -> str:
    """What each seed varies, for every artefact's notes."""
    if cfg.replicate_baselines:
        return (f"Seeds {', '.join(map(str, cfg.seeds))} are replicates of training: seed s trains its own clean "
                f"baselines (initialisation and batch order {cfg.baseline_seed} + s"
                + ("; seed 0's CIFAR-10 net is the zoo's checkpoint when its card matches the data" if cfg.zoo else "")
                + f") and draws its own {cfg.n_rank} ranking pairs, noise and fine-tuning subsets.")
    return (f"Each seed draws its own {cfg.n_rank} (clean, distorted) ranking pairs, noise and fine-tuning subsets; "
            f"all seeds use the same baselines (BASELINE_SEED={cfg.baseline_seed}), so the spread over seeds "
            "measures the stability of ranking and fine-tuning, not of training.")


def _identity(kind: str, level: float) -> bool:
    """True where the distortion leaves images unchanged: blur whose 4σ kernel rounds to one tap."""
    return kind == "blur" and blur_kernel_size(level) == 1


def _label(kind: str, level: float) -> str:
    return describe(kind, level) + (": identity at this σ" if _identity(kind, level) else "")


# ---------------------------------------------------------------------------------------------
# Fig. 4


def fig4(cfg: Config, result: Fig4Result) -> Record:
    """Borda counts of first-layer filters (nets × distortions) and the blur/AWGN top-25% overlap."""
    res = result.rows
    rec = _record(cfg, "fig4", "Fig. 4: distortion susceptibility of first-layer filters (Borda counts)",
                  "Distortion susceptibility of convolutional filters in the first convolutional layer of both "
                  "baseline models, tested on clean and blurred image pairs (similar results for AWGN).")
    nets, kinds = list(dict.fromkeys(res.net)), list(dict.fromkeys(res.distortion))
    fig, axes = plt.subplots(len(nets), len(kinds), figsize=(5.5 * len(kinds), 2.8 * len(nets)), squeeze=False)
    # Filter i of one baseline is not filter i of another: with replicate baselines the bars show one
    # network (the first seed's, as the paper shows one); with a shared baseline, the mean over seeds.
    shown = res[res.seed == res.seed.iloc[0]] if cfg.replicate_baselines else res
    mean = shown.groupby(["net", "distortion", "level", "filter"], as_index=False).agg(points=("points", "mean"),
                                                                                     top=("top", "mean"))
    for i, net in enumerate(nets):
        for j, kind in enumerate(kinds):
            d = mean[(mean.net == net) & (mean.distortion == kind)]
            colours = ["tab:red" if t >= 0.5 else "tab:grey" for t in d.top]
            axes[i, j].bar(d["filter"], d.points, color=colours)
            axes[i, j].set_title(f"{NET_LABEL[net]}, conv1, {describe(kind, d.level.iloc[0])}", fontsize=9)
            axes[i, j].set_xlabel("filter index")
            axes[i, j].set_ylabel("Borda points" + (f" (seed {res.seed.iloc[0]}'s baseline)" if cfg.replicate_baselines
                                                    else f" (mean of {res.seed.nunique()} seeds)"))
    fig.suptitle("red: top 25% (most susceptible)" + ("" if cfg.replicate_baselines else " in most seeds"), fontsize=9)
    fig.tight_layout()
    rec.figure(fig, "fig4", res)

    overlap_rows, share_tests = [], []
    for net in nets:
        per_seed = []
        for seed in sorted(res.seed.unique()):
            tops = [set(res[(res.net == net) & (res.distortion == k) & (res.seed == seed) & res.top]["filter"])
                    for k in kinds]
            per_seed.append(len(tops[0] & tops[-1]))
        k = int(res[(res.net == net) & (res.seed == res.seed.iloc[0]) & (res.distortion == kinds[0])].top.sum())
        f = int(res[(res.net == net)]["filter"].nunique())
        p_paper, k_paper = PAPER_FIG4_OVERLAP[net]
        overlap_rows.append({"net": NET_LABEL[net], "filters": f, "top-25% size": k,
                             "paper": f"{p_paper}/{k_paper}", "ours (mean over seeds)": f"{np.mean(per_seed):.2f}/{k}",
                             "ours per seed": " ".join(map(str, per_seed)),
                             "chance": f"{C.chance_overlap(f, k):.2f}/{k}",
                             "p (min seed vs chance)": C.chance_overlap_pvalue(f, k, min(per_seed)),
                             "_per_seed": per_seed, "_k": k, "_f": f})
        for kind in kinds:
            d = res[(res.net == net) & (res.distortion == kind)]
            shares = [g[g.top].points.sum() / max(g.points.sum(), 1) for _, g in d.groupby("seed")]
            share_tests.append((net, kind, C.greater(shares, [0.5] * len(shares)), shares))
    table = pd.DataFrame(overlap_rows).drop(columns=["_per_seed", "_k", "_f"]).set_index("net")
    rec.table(table, "fig4_overlap", "Top-25% first-layer filters shared by the blur and AWGN rankings "
              "(paper §5.1 beside ours; chance = k²/F).")

    verdicts = [t.verdict for *_, t, _ in share_tests]
    rec.claim(C.Claim(
        "sf.fig4.few_susceptible",
        CLAIMS["sf.fig4.few_susceptible"],
        C.all_of(verdicts),
        "; ".join(f"{NET_LABEL[n]} {k}: top-25% share {np.mean(s):.0%} (seeds {', '.join(f'{x:.0%}' for x in s)}), "
                  f"vs 50%: {t.verdict.value}" for n, k, t, s in share_tests)))
    per_net = []
    for row in overlap_rows:
        k, f, seeds = row["_k"], row["_f"], row["_per_seed"]
        p = C.chance_overlap_pvalue(f, k, min(seeds))
        per_net.append(C.from_pvalue(p, effect_ok=np.mean(seeds) >= 0.5 * k))
    rec.claim(C.Claim(
        "sf.fig4.type_independent",
        CLAIMS["sf.fig4.type_independent"],
        C.all_of(per_net),
        "; ".join(f"{NET_LABEL[n]}: {np.mean(r['_per_seed']):.2f}/{r['_k']} shared "
                  f"(chance {C.chance_overlap(r['_f'], r['_k']):.2f}, hypergeometric p of worst seed "
                  f"{C.chance_overlap_pvalue(r['_f'], r['_k'], min(r['_per_seed'])):.1e}); holds needs p<0.01 "
                  f"and ≥ half shared" for n, r in zip(nets, overlap_rows))))
    return rec.save()


# ---------------------------------------------------------------------------------------------
# Fig. 5


def _acc(res: pd.DataFrame, **where) -> list[float]:
    """Test accuracies in percent, one per seed (seed order), of the rows matching `where`."""
    d = res
    for k, v in where.items():
        d = d[d[k] == v]
    return list(d.sort_values("seed").acc * 100)


def fig5(cfg: Config, result: Fig5Result) -> Record:
    """Accuracy on distorted test images vs number of distorted fine-tuning images (most/least/all)."""
    res = result.rows
    rec = _record(cfg, "fig5", "Fig. 5: fine-tuning most / least / all 25% of filters vs training-set size",
                  "Classification accuracy on distorted inputs as a function of the number of distorted training "
                  "images used for fine-tuning; most / least: the 25% of each layer's filters most / least "
                  "susceptible; all: every filter of the layers (CIFAR-10 net: both conv layers, classifier "
                  "untouched; All-Conv: first three conv layers). Lines: mean over the seeds; bands: min–max over "
                  "the seeds (replicates, see the notes); dashed: the baseline before fine-tuning (mean over the "
                  "seeds). A blur whose 4σ kernel "
                  "has one tap (σ=0.25 px) leaves the images unchanged: that panel is marked 'identity at this σ'.")
    panels = list(dict.fromkeys(zip(res.net, res.level.astype(float), res.distortion)))
    ncols = min(3, len(panels))
    nrows = -(-len(panels) // ncols)
    fig, grid = plt.subplots(nrows, ncols, figsize=(3.9 * ncols, 3.0 * nrows), squeeze=False)
    axes = list(grid.flat)
    for ax in axes[len(panels):]:
        fig.delaxes(ax)
    for ax, (net, level, kind) in zip(axes, panels):
        d = res[(res.net == net) & (res.level == level) & (res.distortion == kind)]
        for which in ("most", "least", "all", "baseline"):
            g = d[d.which == which].groupby("n").acc
            m, lo, hi = g.mean() * 100, g.min() * 100, g.max() * 100
            ax.plot(m.index, m.values, marker="o" if which != "baseline" else None, ms=3, color=COLOURS[which],
                    ls="--" if which == "baseline" else "-", label=which)
            if which != "baseline":
                ax.fill_between(m.index, lo.values, hi.values, color=COLOURS[which], alpha=0.15)
        ax.set_xscale("log")
        ax.set_title(f"{NET_LABEL[net]}, {_label(kind, level)}", fontsize=8,
                     color="tab:red" if _identity(kind, level) else "black")
        ax.set_xlabel("distorted training images")
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"lines: mean over {res.seed.nunique()} seeds; bands: min–max over those seeds", fontsize=9)
    fig.tight_layout()
    rec.figure(fig, "fig5", res)
    if any(_identity(k, lv) for _, lv, k in panels):
        rec.note("Blur σ = 0.25 px with the paper's 4σ kernel rule has a 1-tap kernel: the images are unchanged, "
                 "every EMD is 0, so 'most' and 'least' there are arbitrary (filters by index) and only the "
                 "mildest-level claim uses that panel.")
    summary = (res.groupby(["net", "distortion", "level", "n", "which"]).acc
               .agg(lambda s: f"{100 * s.mean():.1f} ± " + (f"{100 * s.std(ddof=1):.1f}" if len(s) > 1 else "—"))
               .unstack("which"))
    rec.table(summary, "fig5_summary", "Test accuracy (%) on distorted images, mean ± sd over seeds.")
    for claim in _fig5_claims(cfg, res):
        rec.claim(claim)
    return rec.save()


def _fig5_claims(cfg: Config, res: pd.DataFrame) -> list[C.Claim]:
    """The claims Fig. 5 tests, with verdicts from paired seed-level comparisons (lib.claims)."""
    sizes = sorted(res.n.unique())
    small, large = sizes[0], sizes[-1]
    combos = sorted({(n, k, float(lv)) for n, k, lv in zip(res.net, res.distortion, res.level)})
    levels = {(n, k): sorted(float(x) for x in res[(res.net == n) & (res.distortion == k)].level.unique())
              for n, k, _ in combos}
    moderate = [(n, k, lv) for n, k, lv in combos if lv == levels[n, k][max(len(levels[n, k]) - 2, 0)]]
    strongest = [(n, k, lv) for n, k, lv in combos if len(levels[n, k]) >= 2 and lv == levels[n, k][-1]]
    mildest = [(n, k, lv) for n, k, lv in combos if len(levels[n, k]) >= 3 and lv == levels[n, k][0]]
    out = []

    def cond(n, k, lv, size):
        return dict(net=n, distortion=k, level=lv, n=size)

    tests = [(c, C.greater(_acc(res, **cond(*c, small), which="most"), _acc(res, **cond(*c, small), which=w)), w)
             for c in moderate for w in ("all", "least")]
    out.append(C.Claim(
        "sf.fig5.few_samples_most_wins",
        f"With few distorted samples (n = {small}), fine-tuning the 25% most susceptible filters beats fine-tuning "
        "all filters and the 25% least susceptible, at the moderate distortion levels (paper Fig. 5 columns 1, 3).",
        C.all_of([t.verdict for _, t, _ in tests]),
        f"{C.tally([t.verdict for _, t, _ in tests])}. " + "; ".join(
            f"{NET_LABEL[c[0]]} {_label(c[1], c[2])} most−{w}: {t.describe(' pts')}" for c, t, w in tests)))
    tests = [(c, C.greater(_acc(res, **cond(*c, large), which="all"), _acc(res, **cond(*c, large), which="most"),
                           margin=-1.0)) for c in moderate + strongest]
    out.append(C.Claim(
        "sf.fig5.many_samples_all_catches_up",
        f"With many distorted samples (n = {large}), fine-tuning all filters catches up with or beats fine-tuning "
        "the most susceptible 25% (all − most > −1 point).",
        C.all_of([t.verdict for _, t in tests]),
        f"{C.tally([t.verdict for _, t in tests])}. " + "; ".join(
            f"{NET_LABEL[c[0]]} {_label(c[1], c[2])} all−most: {t.describe(' pts')}" for c, t in tests)))
    tests = [((*c, s), C.greater(_acc(res, **cond(*c, s), which="most"), _acc(res, **cond(*c, s), which="least")))
             for c in moderate + strongest for s in sizes]
    out.append(C.Claim(
        "sf.fig5.most_beats_least",
        CLAIMS["sf.fig5.most_beats_least"],
        C.all_of([t.verdict for _, t in tests]),
        f"{C.tally([t.verdict for _, t in tests])} configurations (net × distortion × level × n); "
        f"mean gap most−least {np.mean([t.mean for _, t in tests]):+.2f} points; smallest "
        + min(((t.mean, f'{NET_LABEL[c[0]]} {_label(c[1], c[2])} n={c[3]}: {t.describe(" pts")}')
               for c, t in tests), default=(0, "n/a"))[1]))
    if mildest:
        gains = []
        for c in mildest:
            base = np.mean(_acc(res, **cond(*c, large), which="baseline"))
            best = max(("most", "least", "all"), key=lambda w: np.mean(_acc(res, **cond(*c, large), which=w)))
            gains.append((c, best, C.at_most(np.array(_acc(res, **cond(*c, large), which=best)) - base, 2.0)))
        out.append(C.Claim(
            "sf.fig5.mild_level_small_gain",
            CLAIMS["sf.fig5.mild_level_small_gain"],
            C.all_of([t.verdict for *_, t in gains]),
            "; ".join(f"{NET_LABEL[c[0]]} {_label(c[1], c[2])}: best ({w}, n={large}) − baseline "
                      f"{t.describe(' pts')}" for c, w, t in gains)))
    return out


# ---------------------------------------------------------------------------------------------
# Fig. 6


def fig6(cfg: Config, res: Fig6Result) -> Record:
    """Hamming-distance maps between sharp and AWGN activations: baseline, all and most fine-tuned."""
    rec = _record(cfg, "fig6", "Fig. 6: disparity of activations on sharp vs noisy inputs (Hamming maps)",
                  "Hamming distance between binarised feature vectors at corresponding locations for a sharp and a "
                  "Gaussian-noise version of an example image, first three conv layers of the All-Conv Net: (a) "
                  "baseline, (b) all filters fine-tuned, (c) top 25% most susceptible fine-tuned, with "
                  f"{res.n} distorted training images; (sum of the map) in each title.")
    example, sums = res.example, res.sums
    names, layers = list(example), list(next(iter(example.values())))
    fig, axes = plt.subplots(len(names), len(layers), figsize=(3 * len(layers), 2.9 * len(names)), squeeze=False)
    vmax = max(float(m.max()) for maps in example.values() for m in maps.values())
    for i, name in enumerate(names):
        for j, layer in enumerate(layers):
            m = example[name][layer].numpy()
            im = axes[i, j].imshow(m, cmap="viridis", vmin=0, vmax=vmax)
            axes[i, j].set_title(f"{name}, {layer} ({m.sum():.0f})", fontsize=8)
            axes[i, j].axis("off")
    fig.colorbar(im, ax=axes, shrink=0.6, label="channels differing")
    rows = [{"model": name, "layer": layer, "row": y, "col": x, "hamming": float(v)}
            for name, maps in example.items() for layer, m in maps.items()
            for (y, x), v in np.ndenumerate(m.numpy())]
    rec.figure(fig, "fig6", pd.DataFrame(rows))
    table = (sums.groupby(["model", "layer"]).mean_sum
             .agg(lambda s: f"{s.mean():.0f} ± " + (f"{s.std(ddof=1):.0f}" if len(s) > 1 else "—")).unstack("layer"))
    rec.table(table, "fig6_sums", f"Sum of the Hamming map per image, mean over {cfg.fig6_eval} test images "
              "(± sd over fine-tuning seeds).")
    rec.data(sums, "fig6_sums_per_seed")

    def per_seed(model: str, layer: str) -> list[float]:
        return list(sums[(sums.model == model) & (sums.layer == layer)].sort_values("seed").mean_sum)

    tests = [(m, layer, C.greater(per_seed("baseline", layer), per_seed(m, layer)))
             for m in ("all fine-tuned", "most fine-tuned") for layer in layers]
    rec.claim(C.Claim(
        "sf.fig6.finetuned_more_invariant",
        CLAIMS["sf.fig6.finetuned_more_invariant"],
        C.all_of([t.verdict for *_, t in tests]),
        "; ".join(f"{layer} baseline−{m}: {t.describe()}" for m, layer, t in tests),
        parts=tuple((f"{layer} baseline−{m}", t.verdict, t.describe()) for m, layer, t in tests)))
    tests = [(layer, C.greater(per_seed("all fine-tuned", layer), per_seed("most fine-tuned", layer)))
             for layer in layers]
    rec.claim(C.Claim(
        "sf.fig6.most_slightly_more_invariant",
        CLAIMS["sf.fig6.most_slightly_more_invariant"],
        C.all_of([t.verdict for _, t in tests]),
        "; ".join(f"{layer} all−most: {t.describe()}" for layer, t in tests),
        parts=tuple((f"{layer} all−most", t.verdict, t.describe()) for layer, t in tests)))
    return rec.save()


# ---------------------------------------------------------------------------------------------
# Table 1


def table1(cfg: Config, result: Table1Result) -> Record:
    """Matches between non-associative (exemplar) and associative top-25% sets, paper beside ours."""
    res = result.rows
    rec = _record(cfg, "table1", "Table 1: non-associative vs associative ranking (matching top-25% filters)",
                  "Number of matching convolutional filters per layer between the associative ranking and the "
                  f"non-associative ones (All-Conv baseline, AWGN σ = {cfg.table1_level:g}); Pixels: exemplars "
                  "found on image pixels; FTM: on the layer's flattened feature maps.")
    layers = sorted(res.layer.unique())
    k = int(res.k.iloc[0])
    cells, chance = {}, {}
    for i, layer in enumerate(layers, 1):
        d = res[res.layer == layer]
        f = int(d.filters.iloc[0])
        chance[f"Layer {i}"] = f"{C.chance_overlap(f, k):.2f}/{k}"
        for features in ("Pixels", "FTM"):
            for metric in ("euclidean", "hamming"):
                g = d[(d.features.str.lower() == features.lower()) & (d.metric == metric)].overlap
                sd = f" ±{g.std(ddof=1):.1f}" if len(g) > 1 else ""
                cells[(f"Layer {i}", features, metric)] = f"{g.mean():.1f}/{k}{sd} ({g.mean() / k:.0%})" if len(g) else "-"
    ours = pd.DataFrame({col: [cells[(*col, "euclidean")], cells[(*col, "hamming")]]
                         for col in PAPER_TABLE1.columns}, index=PAPER_TABLE1.index)
    paper = PAPER_TABLE1.map(lambda c: c if c == "-" else f"{c} ({int(c.split('/')[0]) / 24:.0%})")
    flat = lambda df: df.set_axis([f"{a} {b}" for a, b in df.columns], axis=1)
    rec.table(flat(ours), "table1", "Matching top-25% filters, paper (of 24) beside ours (of k, mean ± sd over "
              "seeds).", paper=flat(paper))
    rec.table(pd.DataFrame([chance], index=pd.Index(["chance (k²/F)"], name="")), "table1_chance",
              "Expected matches of a random top-25% set.")
    rec.data(res, "table1_per_seed")
    tests = []
    for (layer, features, metric), g in res.groupby(["layer", "features", "metric"]):
        f, ch = int(g.filters.iloc[0]), C.chance_overlap(int(g.filters.iloc[0]), k)
        p = C.pooled_overlap_pvalue(f, k, list(g.overlap))
        tests.append((f"{layer} {features}/{metric}", C.from_pvalue(p, effect_ok=g.overlap.mean() > ch),
                      f"{g.overlap.mean():.2f}/{k} vs chance {ch:.2f}, p={p:.1e}"))
    rec.claim(C.Claim(
        "sf.table1.above_chance",
        CLAIMS["sf.table1.above_chance"],
        C.most_of([v for _, v, _ in tests]),
        f"{C.tally([v for _, v, _ in tests])} cells; " + "; ".join(f"{name}: {text} ({v.value})"
                                                                   for name, v, text in tests)))
    euclid = res[res.metric == "euclidean"]
    pixels = euclid[euclid.features == "pixels"].groupby("seed").overlap.mean()
    ftm = euclid[euclid.features == "FTM"].groupby("seed").overlap.mean()
    t = C.greater(list(pixels), list(ftm))
    rec.claim(C.Claim(
        "sf.table1.pixels_closest",
        CLAIMS["sf.table1.pixels_closest"],
        t.verdict, f"pixels − feature maps (Euclidean): {t.describe(' matches')} (of {k}, mean over layers)"))
    rec.note("Exemplars are exact 1-medoids of each set of TABLE1_N/2 images (the paper clusters whole datasets; "
             "exact medoids are O(N²) in distance evaluations).")
    return rec.save()


# ---------------------------------------------------------------------------------------------
# Suite check: the two readings of "EMD"


def emd_readings(cfg: Config, result: EmdReadingsResult) -> Record:
    """How much the top-25% set of the CIFAR-10 net's conv1 changes between 1-D and spatial EMD."""
    res = result.rows
    rec = _record(cfg, "emd_readings", "Check: 1-D vs spatial EMD rankings (CIFAR-10 net, conv1)",
                  "The paper calls its distance EMD without saying over what. The suite uses the 1-D "
                  "Wasserstein-1 distance between the two maps' activation values (the only reading feasible at "
                  "40,000 pairs × F filters); the spatial reading treats each map as mass over pixel positions "
                  "with Euclidean ground distance. Both rank the same pairs here.")
    table = res.drop(columns=["top_1d", "top_spatial"]).set_index(["distortion", "level", "seed"])
    rec.table(table, "emd_readings", "Top-25% filters shared by the two readings, per distortion and seed.")
    rec.data(res, "emd_readings_sets")
    k, f = int(res.k.iloc[0]), int(res.filters.iloc[0])
    tests = [C.greater(list(g.overlap), [0.5 * k] * len(g)) for _, g in res.groupby("distortion")]
    rec.claim(C.Claim(
        "sf.check.emd_reading",
        CLAIMS["sf.check.emd_reading"],
        C.all_of([t.verdict for t in tests]),
        "; ".join(f"{d}: mean {g.overlap.mean():.2f}/{k} shared over {len(g)} seeds of {g.pairs.iloc[0]} pairs "
                  f"(chance {C.chance_overlap(f, k):.2f})" for d, g in res.groupby("distortion"))))
    return rec.save()
