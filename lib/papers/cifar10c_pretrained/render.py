"""Rojas-Alvarez et al., pretrained CNNs on CIFAR-10-C: one function per figure / table.

Each function takes the `Config` and a result of `lib.papers.cifar10c_pretrained.protocol`, draws the
artefact, saves it with its data, puts the paper's numbers beside ours, computes the verdicts of the claims
it tests, and returns the saved `Record`.

Claims are lists of parts, each a comparison over seeds (`lib.claims`): `gt` (quantity A exceeds
quantity B by more than a margin, paired by seed), `gt_const` (A exceeds a constant), `le` (A at most a
constant). A quantity is (architecture, arm, column) of the final-epoch table `final_table` (accuracies and
losses of the last head-training epoch, accuracies in %); pseudo-architectures hold per-seed aggregates:
`_resnet_mean` (mean over the ResNets), `_resnet_spread` (max − min over the ResNets), `_mean6` (mean over
all architectures run), `_spearman` (Spearman ρ between weight-layer depth and the column over the
architectures run). The same parts are evaluated on the paper's own Table 3 (one value each, a plain
comparison), so every claim also says whether the paper's numbers satisfy it.
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator
from scipy import stats

from lib import claims as C
from lib.config import Config
from lib.papers.cifar10c_pretrained.paper import (
    ARCH_LABEL,
    ARM_LABEL,
    CITED_DROP,
    CLAIMS,
    DEPTH,
    MEAN_P_RESNET_CLEAN,
    PROXY_LABEL,
    RESNETS,
    SCALE,
    TABLE2,
    TABLE3,
    VGGS,
)
from lib.papers.cifar10c_pretrained.results import Fig5Result, StudyResult
from lib.report import Record

ARM_STYLE = {"clean": "-", "c": "--"}
COLOURS = {"resnet18": "tab:blue", "resnet50": "tab:orange", "resnet101": "tab:green", "vgg16": "tab:red",
           "vgg19": "tab:purple", "alexnet": "tab:brown"}
Quantity = tuple[str, str, str]   # (arch or pseudo-arch, arm, column)
ORDER = list(ARCH_LABEL)          # the paper's order of the networks


def _by_order(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` (with columns arch, arm) sorted in the paper's order of the networks, NP before P."""
    return frame.sort_values(["arch", "arm"], key=lambda c: c.map(ORDER.index) if c.name == "arch" else c,
                             ignore_index=True)


def _archs(frame: pd.DataFrame) -> list[str]:
    """The architectures present in `frame`, in the paper's order."""
    present = set(frame.arch)
    return [a for a in ORDER if a in present]


# ---------------------------------------------------------------------------------------------
# Labels


def arm_label(arm: str, proxy: bool) -> str:
    """'no pretraining' / 'with pretraining', the latter marked as a stand-in when `proxy`."""
    return ARM_LABEL[arm] + (f" ({PROXY_LABEL})" if arm == "p" and proxy else "")


def _record(cfg: Config, result: StudyResult | None, artefact: str, title: str, caption: str) -> Record:
    rec = Record(cfg, artefact, title, caption)
    if result is not None:
        if result.proxy:
            rec.scale = SCALE.format(**cfg.params) + f" ({PROXY_LABEL})"
            rec.note(f"STAND-IN, NOT IMAGENET: the 'with pretraining' arm uses backbones trained on a disjoint pool of "
                     f"{result.info['sizes']['proxy_pool']} CIFAR-10 training images (in-domain supervised pretraining "
                     "at width {:g}); it says nothing about ImageNet features. The paper profile loads torchvision's "
                     "ImageNet checkpoints (PRETRAINED='imagenet').".format(result.info["width"]))
            rec.note(proxy_scale_note(final_table(result.curves)))
        rec.note(_seeds_note(cfg, result))
        s = result.info["sizes"]
        rec.note(f"Head training: {s['probe_train']} training images, {result.info['epochs']} epochs, Adam; clean test: "
                 f"{s['test']} images; CIFAR-10-C: {s['c_per_cell']} images × 19 corruptions × 5 severities = "
                 f"{s['c_total']} ({result.info['c_source']}), pooled as the paper's single number. Width "
                 f"{result.info['width']:g} of torchvision's networks, input {result.info['input_size']} px (AlexNet "
                 f"{result.info['alexnet_input']} px, the smallest its last max-pool accepts is 63).")
        rec.note("Same trained head evaluated on both test sets after every epoch (paired); the paper's wording "
                 "suggests separate runs for the clean and the corrupted set. Numbers are of the last (30th) epoch; "
                 "the best epoch is listed beside them (the PyTorch tutorial keeps the best epoch on the test set).")
        rec.note("BatchNorm: the paper's loop runs in train mode, which moves the frozen BatchNorm layers' running "
                 f"statistics to CIFAR-10; we set them once from {s['bn_calib']} training images (cumulative average) "
                 "and train the head on eval-mode features. Dropout of VGG/AlexNet's frozen classifier is active "
                 "while the head trains, as in the paper's loop.")
    return rec


def proxy_scale_note(fin: pd.DataFrame) -> str:
    """Where our scale decides: the stand-in 'with pretraining' arm's clean accuracy (`final_table` rows of arm
    'p', mean over seeds, %) beside the paper's ImageNet-pretrained arm, and the claims that rest on it."""
    ours = fin[fin.arm == "p"].groupby("arch").clean_acc.mean()
    paper = TABLE3[(TABLE3.arm == "p") & (TABLE3.test == "clean")].set_index("arch").acc
    weakest = ours.idxmin()
    spread = fin[fin.arm == "p"].groupby("arch")["drop"].std().mean()
    uses_p = ", ".join(cid.split(".")[-1].upper().replace("CC", "CC-") for cid in CLAIMS
                       if cid.startswith("cc.cc") and _uses_p(cid))
    return (f"Our scale decides the 'with pretraining' verdicts: the stand-in backbones reach {ours.min():.1f}–"
            f"{ours.max():.1f}% clean accuracy after head training (mean over seeds; lowest {ARCH_LABEL[weakest]}), "
            f"the paper's ImageNet-pretrained networks {paper.min():g}–{paper.max():g}%. The relative drops of such "
            f"weak networks are small and noisy (seed-to-seed standard deviation {spread:.1f} points, mean over "
            f"architectures), so a fail or inconclusive resting on that arm ({uses_p}) speaks about the stand-in, "
            "not about ImageNet pretraining; the paper profile (PRETRAINED='imagenet') tests the paper's arm.")


def _seeds_note(cfg: Config, result: StudyResult) -> str:
    """What each seed varies, per arm."""
    seeds = ", ".join(map(str, cfg.seeds))
    if not result.proxy:
        p = "the same ImageNet backbone for every seed, so the seeds vary only the head"
    elif cfg.proxy_replicates:
        p = (f"its own proxy backbone (initialisation and batch order {cfg.proxy_seed} + seed), so the seeds "
             "replicate the pretraining as well as the head")
    else:
        p = "one proxy backbone for every seed, so the seeds vary only the head (one replicate of the pretraining)"
    return (f"Seeds {seeds}: each draws the head's initialisation and batch order; without pretraining each also "
            f"draws a new random backbone; with pretraining, {p}.")


# ---------------------------------------------------------------------------------------------
# Fig. 5


def fig5(cfg: Config, result: Fig5Result) -> Record:
    """One test image under the 19 corruptions × 5 severities of our CIFAR-10-C generator."""
    rec = Record(cfg, "fig5", "Fig. 5: the 19 CIFAR-10-C corruptions at severities 1–5 (our generator)",
                 "Ejemplos de corrupciones aplicadas a imágenes (examples of corruptions applied to images), from [5]. "
                 "Here: generated with lib.corruptions (the CIFAR constants of make_cifar_c.py).")
    n_c = len(result.names)
    fig, axes = plt.subplots(6, n_c, figsize=(1.05 * n_c, 6.9))
    for j, name in enumerate(result.names):
        axes[0, j].imshow(result.clean if j == 0 else np.full_like(result.clean, 255))
        for s in range(5):
            axes[s + 1, j].imshow(result.grid[j, s])
        axes[0, j].set_title(name.replace("_", "\n"), fontsize=7)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
        for side in ax.spines.values():
            side.set_visible(False)
    axes[0, 0].set_ylabel("clean", fontsize=8)
    for s in range(5):
        axes[s + 1, 0].set_ylabel(f"severity {s + 1}", fontsize=8)
    fig.suptitle(f"test image {result.index} ('{result.label}'), corruption seed 0", fontsize=9)
    fig.tight_layout()
    clean = result.clean.astype(float)
    rows = [{"corruption": name, "severity": s + 1,
             "mean_abs_diff": float(np.abs(result.grid[j, s].astype(float) - clean).mean()),
             "rmse": float(np.sqrt(((result.grid[j, s].astype(float) - clean) ** 2).mean()))}
            for j, name in enumerate(result.names) for s in range(5)]
    frame = pd.DataFrame(rows)
    rec.figure(fig, "fig5", frame)
    dist = frame.pivot(index="corruption", columns="severity", values="mean_abs_diff")
    k = int((dist[5] > dist[1]).sum())
    share, lo, hi = C.wilson(k, len(dist))
    verdict = C.Verdict.HOLDS if lo > 0.5 else C.Verdict.FAILS if hi < 0.5 else C.Verdict.INCONCLUSIVE
    rec.claim(C.Claim("cc.fig5_severity", CLAIMS["cc.fig5_severity"], verdict,
                      f"{k} of {len(dist)} corruptions move this image farther at severity 5 than at 1 (Wilson 95% "
                      f"[{100 * lo:.0f}%, {100 * hi:.0f}%] vs 50%); not farther: "
                      f"{', '.join(dist.index[dist[5] <= dist[1]]) or 'none'}"))
    rec.note("Data: the distance of each corrupted version to the clean image (0–255 scale). The paper borrows its "
             "Fig. 5 from Hendrycks & Dietterich; it has no numbers to compare.")
    return rec.save()


# ---------------------------------------------------------------------------------------------
# The final-epoch table and the claim machinery


def final_table(curves: pd.DataFrame) -> pd.DataFrame:
    """Per (arch, arm, seed) the last epoch: clean_acc, c_acc (%), clean_loss, c_loss, gap = clean − c (points),
    abs_gap, drop = 100·(1 − c/clean) (%), best_clean_acc, best_c_acc (% at the best epoch of each)."""
    last = curves.sort_values("epoch").groupby(["arch", "arm", "seed"], as_index=False).last()
    best = curves.groupby(["arch", "arm", "seed"], as_index=False).agg(best_clean_acc=("clean_acc", "max"),
                                                                     best_c_acc=("c_acc", "max"))
    out = last[["arch", "arm", "seed", "epoch", "clean_acc", "c_acc", "clean_loss", "c_loss"]].merge(
        best, on=["arch", "arm", "seed"])
    for col in ("clean_acc", "c_acc", "best_clean_acc", "best_c_acc"):
        out[col] = 100 * out[col]
    out["gap"] = out.clean_acc - out.c_acc
    out["abs_gap"] = out.gap.abs()
    out["drop"] = 100 * (1 - out.c_acc / out.clean_acc)
    return out


def paper_final() -> pd.DataFrame:
    """The paper's Table 3 (and Table 2's printed drops) in `final_table`'s layout, one 'seed' (0)."""
    t = TABLE3
    rows = []
    for (arch, arm), g in t.groupby(["arch", "arm"]):
        c, clean = g[g.test == "c"].iloc[0], g[g.test == "clean"].iloc[0]
        rows.append({"arch": arch, "arm": arm, "seed": 0, "clean_acc": clean.acc, "c_acc": c.acc,
                     "clean_loss": clean.loss, "c_loss": c.loss, "gap": clean.acc - c.acc,
                     "abs_gap": abs(clean.acc - c.acc), "drop": float(TABLE2[arm][arch])})
    return pd.DataFrame(rows)


def with_aggregates(fin: pd.DataFrame) -> pd.DataFrame:
    """`fin` plus the pseudo-architectures of the module docstring, per (arm, seed)."""
    extra = []
    cols = ["clean_acc", "c_acc", "clean_loss", "c_loss", "gap", "abs_gap", "drop"]
    for (arm, seed), g in fin.groupby(["arm", "seed"]):
        res = g[g.arch.isin(RESNETS)]
        if len(res):
            extra.append({"arch": "_resnet_mean", "arm": arm, "seed": seed, **{c: res[c].mean() for c in cols}})
            extra.append({"arch": "_resnet_spread", "arm": arm, "seed": seed,
                          **{c: res[c].max() - res[c].min() for c in cols}})
        extra.append({"arch": "_mean6", "arm": arm, "seed": seed, **{c: g[c].mean() for c in cols}})
        if len(g) >= 3:
            depth = [DEPTH[a] for a in g.arch]
            extra.append({"arch": "_spearman", "arm": arm, "seed": seed,
                          **{c: _spearman(depth, g[c]) for c in cols}})
    return pd.concat([fin, pd.DataFrame(extra)], ignore_index=True) if extra else fin


def _spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's ρ; NaN when either side is constant."""
    if np.ptp(np.asarray(x, dtype=float)) == 0 or np.ptp(np.asarray(y, dtype=float)) == 0:
        return float("nan")
    return float(stats.spearmanr(x, y).statistic)


def _values(fin: pd.DataFrame, q: Quantity) -> list[float] | None:
    arch, arm, col = q
    d = fin[(fin.arch == arch) & (fin.arm == arm)].sort_values("seed")
    return list(d[col]) if len(d) else None


def _name(q: Quantity) -> str:
    arch, arm, col = q
    names = {"_resnet_mean": "mean of the ResNets", "_resnet_spread": "spread over the ResNets",
             "_mean6": "mean of all networks", "_spearman": "Spearman ρ(depth, ·)"}
    return f"{names.get(arch, ARCH_LABEL.get(arch, arch))} {arm.upper()} {col}"


def _evaluate_parts(parts: Sequence[tuple], fin: pd.DataFrame, paper: pd.DataFrame
                   ) -> list[tuple[str, C.Verdict, str]]:
    """Verdict and evidence of each part (module docstring) on our seeds, with the paper's own value beside.

    parts: ("gt", A, B, margin) | ("gt_const", A, constant) | ("le", A, constant), A and B `Quantity`.
    fin, paper: `with_aggregates` tables (ours over seeds; the paper's, one row each).
    Parts whose quantities we did not run are left out.
    """
    out = []
    for part in parts:
        kind, a = part[0], part[1]
        va, pa = _values(fin, a), _values(paper, a)
        if va is None:
            continue
        if kind == "gt":
            b, margin = part[2], part[3]
            vb, pb = _values(fin, b), _values(paper, b)
            if vb is None:
                continue
            n = min(len(va), len(vb))
            test = C.greater(va[:n], vb[:n], margin)
            label = f"{_name(a)} > {_name(b)}" + (f" + {margin:g}" if margin else "")
            paper_ok = None if pa is None or pb is None else pa[0] - pb[0] > margin
            ours = f"ours {np.mean(va):.3g} vs {np.mean(vb):.3g}, difference {test.describe()}"
        else:
            bound = part[2]
            test = C.greater(va, [bound] * len(va)) if kind == "gt_const" else C.at_most(va, bound)
            label = f"{_name(a)} {'>' if kind == 'gt_const' else '≤'} {bound:g}"
            paper_ok = None if pa is None else (pa[0] > bound if kind == "gt_const" else pa[0] <= bound)
            ours = f"ours {test.describe()}" if kind == "le" else f"ours {np.mean(va):.3g}, minus bound {test.describe()}"
        paper_txt = "paper: —" if paper_ok is None else f"paper's own numbers: {'yes' if paper_ok else 'NO'}"
        out.append((label, test.verdict, f"{ours}; {paper_txt}"))
    return out


def _claim(cid: str, parts: Sequence[tuple], fin: pd.DataFrame, paper: pd.DataFrame, proxy_arm: bool) -> C.Claim:
    """A `Claim` from parts combined with `all_of`; `not run` when no part could be evaluated.

    proxy_arm: the claim involves the 'with pretraining' arm and that arm is the CIFAR-pretrained stand-in:
    the text says so.
    """
    text = (f"[P arm = {PROXY_LABEL}] " if proxy_arm else "") + CLAIMS[cid]
    done = _evaluate_parts(parts, fin, paper)
    if not done:
        return C.Claim(cid, text, C.Verdict.NOT_RUN, "no architecture of this claim was run")
    verdict = C.all_of([v for _, v, _ in done])
    ours = C.tally([v for _, v, _ in done])
    paper_yes = sum("own numbers: yes" in ev for _, _, ev in done)
    return C.Claim(cid, text, verdict, f"parts: {ours}; the paper's own numbers satisfy {paper_yes} of {len(done)}",
                   parts=tuple(done))


def claim_parts(cid: str, archs: Sequence[str]) -> list[tuple]:
    """The parts of claim `cid` over the architectures `archs` (module docstring)."""
    others = [a for a in archs if a != "alexnet"]
    if cid == "cc.cc1":
        return [("gt", (a, "p", "clean_acc"), (a, "np", "clean_acc"), 0.0) for a in archs]
    if cid == "cc.cc2":
        return [("gt", (a, "p", "drop"), (a, "np", "drop"), 0.0) for a in archs]
    if cid == "cc.cc3":
        r18, r50, r101 = RESNETS
        return [("gt", (r18, "np", "c_acc"), (r50, "np", "c_acc"), 0.0),
                ("gt", (r18, "np", "c_acc"), (r101, "np", "c_acc"), 0.0),
                ("gt", (r50, "np", "c_acc"), (r101, "np", "c_acc"), 0.0)]
    if cid == "cc.cc4":
        return [("gt", ("resnet50", "p", "c_acc"), (r, "p", "c_acc"), 0.0) for r in ("resnet18", "resnet101")]
    if cid == "cc.cc5":
        return [("gt", (r, "p", "c_acc"), (r, "np", "c_acc"), 0.0) for r in RESNETS]
    if cid == "cc.cc6":
        return [("gt_const", ("_resnet_mean", "p", "clean_acc"), MEAN_P_RESNET_CLEAN - 10),
                ("le", ("_resnet_mean", "p", "clean_acc"), MEAN_P_RESNET_CLEAN + 10)]
    if cid == "cc.cc7":
        return ([("le", (v, "np", "gap"), 8.0) for v in VGGS] + [("gt_const", (v, "p", "gap"), 50.0) for v in VGGS])
    if cid == "cc.cc8":
        return [("le", ("alexnet", "np", "abs_gap"), 1.0)]
    if cid == "cc.cc9":
        return [("gt", ("alexnet", "p", "c_acc"), (a, arm, "c_acc"), 0.0)
                for arm in ("np", "p") for a in archs if (a, arm) != ("alexnet", "p")]
    if cid == "cc.cc10":
        return [("gt", (a, arm, "c_loss"), ("alexnet", arm, "c_loss"), 0.0) for arm in ("np", "p") for a in others]
    if cid == "cc.cc11":
        return [("le", ("_resnet_spread", arm, "drop"), 10.0) for arm in ("np", "p")]
    if cid == "cc.cc12":
        return ([("gt", (a, arm, "drop"), ("alexnet", arm, "drop"), 0.0) for arm in ("np", "p") for a in others]
                + [("gt_const", ("_spearman", arm, "drop"), 0.0) for arm in ("np", "p")])
    if cid == "cc.cc13":
        lo, hi = CITED_DROP
        return [p for arm in ("np", "p") for p in (("gt_const", ("_mean6", arm, "drop"), lo),
                                                   ("le", ("_mean6", arm, "drop"), hi))]
    raise KeyError(cid)


def _uses_p(cid: str) -> bool:
    return cid not in ("cc.cc3", "cc.cc8")


def _claims(rec: Record, ids: Sequence[str], result: StudyResult, fin: pd.DataFrame) -> None:
    ours, paper = with_aggregates(fin), with_aggregates(paper_final())
    archs = _archs(fin)
    for cid in ids:
        rec.claim(_claim(cid, claim_parts(cid, archs), ours, paper, result.proxy and _uses_p(cid)))


# ---------------------------------------------------------------------------------------------
# Figs. 6–9


def _curve_panel(ax, curves: pd.DataFrame, archs: Sequence[str], arm: str, paper: pd.DataFrame) -> None:
    for arch in archs:
        d = curves[(curves.arch == arch) & (curves.arm == arm)]
        if d.empty:
            continue
        for test in ("clean", "c"):
            g = d.groupby("epoch")[f"{test}_acc"]
            m, lo, hi = 100 * g.mean(), 100 * g.min(), 100 * g.max()
            lab = f"{ARCH_LABEL[arch]} {'CIFAR-10' if test == 'clean' else 'CIFAR-10-C'}"
            ax.plot(m.index, m.values, ARM_STYLE[test], color=COLOURS[arch], label=lab, lw=1.4)
            ax.fill_between(m.index, lo.values, hi.values, color=COLOURS[arch], alpha=0.15, lw=0)
            p = paper[(paper.arch == arch) & (paper.arm == arm) & (paper.test == test)]
            if len(p):
                ax.plot([m.index.max()], [p.acc.iloc[0]], "x" if test == "clean" else "+", color=COLOURS[arch], ms=9,
                        mew=2)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=1)


def _curves_figure(cfg: Config, result: StudyResult, artefact: str, title: str, caption: str,
                   archs: Sequence[str], arms: Sequence[str], claim_ids: Sequence[str]) -> Record:
    rec = _record(cfg, result, artefact, title, caption)
    curves = result.curves[result.curves.arch.isin(archs) & result.curves.arm.isin(arms)]
    fig, axes = plt.subplots(1, len(arms), figsize=(6.2 * len(arms), 4.4), squeeze=False)
    for ax, arm in zip(axes[0], arms):
        _curve_panel(ax, curves, archs, arm, TABLE3)
        ax.set_title(arm_label(arm, result.proxy), fontsize=9)
    fig.suptitle(f"{title}\nsolid: clean CIFAR-10, dashed: CIFAR-10-C (pooled 19 × 5); line = mean of "
                 f"{curves.seed.nunique()} seeds, band = min–max; ×/+ at the last epoch: the paper's Table 3 "
                 "(clean / C)", fontsize=8)
    fig.tight_layout()
    rec.figure(fig, artefact, curves)
    if result.proxy and "p" in arms:
        rec.note(f"Panel '{arm_label('p', True)}': a stand-in for ImageNet pretraining; the paper's × / + markers "
                 "there are ImageNet numbers.")
    fin = final_table(result.curves)
    _claims(rec, claim_ids, result, fin)
    return rec.save()


def fig6(cfg: Config, result: StudyResult) -> Record:
    """Fig. 6: accuracy per epoch of the ResNets without pretraining, CIFAR-10-C vs clean."""
    return _curves_figure(cfg, result, "fig6", "Fig. 6: ResNet accuracy per epoch, no pretraining",
                          "Porcentaje de precisión de la arquitectura ResNet (accuracy of the ResNet architecture); "
                          "(b) compared with the uncorrupted test set.", RESNETS, ["np"], ["cc.cc3"])


def fig7(cfg: Config, result: StudyResult) -> Record:
    """Fig. 7: accuracy per epoch of the pretrained ResNets (stand-in pretraining in the quick profile)."""
    return _curves_figure(cfg, result, "fig7", "Fig. 7: ResNet accuracy per epoch, with pretraining"
                          + (" (stand-in, not ImageNet)" if result.proxy else ""),
                          "Porcentaje de precisión de la arquitectura ResNet con preentrenamiento de ImageNet "
                          "(accuracy of the ResNet architecture with ImageNet pretraining).", RESNETS, ["p"],
                          ["cc.cc4", "cc.cc5"])


def fig8(cfg: Config, result: StudyResult) -> Record:
    """Fig. 8: VGG16/19 accuracy per epoch, (a) without and (b) with pretraining."""
    return _curves_figure(cfg, result, "fig8", "Fig. 8: VGG16 / VGG19 accuracy per epoch, (a) no pretraining, "
                          "(b) with pretraining" + (" (stand-in, not ImageNet)" if result.proxy else ""),
                          "(a) VGG16 y VGG19 sin pesos de ImageNet, con corrupciones (C) y sin ellas; (b) lo mismo con "
                          "preentrenamiento de ImageNet.", VGGS, ["np", "p"], ["cc.cc7"])


def fig9(cfg: Config, result: StudyResult) -> Record:
    """Fig. 9: AlexNet accuracy per epoch without (NP) and with pretraining, corrupted (c) and clean."""
    return _curves_figure(cfg, result, "fig9", "Fig. 9: AlexNet accuracy per epoch, without and with pretraining"
                          + (" (stand-in, not ImageNet)" if result.proxy else ""),
                          "AlexNet sin (NP) y con preentrenamiento, sobre CIFAR-10 corrupto (c) y limpio.",
                          ["alexnet"], ["np", "p"], ["cc.cc8"])


# ---------------------------------------------------------------------------------------------
# Tables 2 and 3


def _mean_sd(values: pd.Series, fmt: str) -> str:
    return f"{values.mean():{fmt}} ± {values.std(ddof=1):{fmt}}" if len(values) > 1 else f"{values.mean():{fmt}}"


def table2(cfg: Config, result: StudyResult) -> Record:
    """Table 2: relative accuracy drop (%) from clean to CIFAR-10-C, per architecture and arm, ours beside the paper's."""
    rec = _record(cfg, result, "table2", "Table 2: relative accuracy drop from clean CIFAR-10 to CIFAR-10-C"
                  + (" (P arm: stand-in, not ImageNet)" if result.proxy else ""),
                  "Diferencias de precisión en un conjunto de prueba basado en CIFAR-10-C respecto a uno limpio. The "
                  "paper's percentages are the relative drop 100·(1 − acc_C / acc_clean) of its Table 3 (all 12 cells "
                  "reproduce); ours: the same from the last epoch, mean over seeds.")
    fin = final_table(result.curves)
    archs = _archs(fin)
    rows = {arm_label(arm, result.proxy): [fin[(fin.arch == a) & (fin.arm == arm)]["drop"].mean() for a in archs]
            for arm in ("np", "p")}
    ours = pd.DataFrame(rows, index=[ARCH_LABEL[a] for a in archs]).T.round(1)
    paper = pd.DataFrame({arm_label(arm, result.proxy): [float(TABLE2[arm][a]) for a in archs] for arm in ("np", "p")},
                         index=[ARCH_LABEL[a] for a in archs]).T
    ours.index.name = paper.index.name = "relative drop (%)"
    rec.table(ours, "table2", "Relative accuracy drop (%), paper beside ours (mean over seeds, last epoch).", paper=paper)
    absolute = fin.groupby(["arch", "arm"]).agg(drop=("drop", lambda v: _mean_sd(v, ".1f")),
                                                gap_points=("gap", lambda v: _mean_sd(v, ".1f"))).reset_index()
    absolute = _by_order(absolute)
    absolute["arch"] = absolute.arch.map(ARCH_LABEL)
    absolute["arm"] = absolute.arm.map(lambda a: arm_label(a, result.proxy))
    rec.table(absolute.set_index(["arch", "arm"]), "table2_detail",
              "Ours: relative drop (%) and absolute gap (points), mean ± sd over seeds.")
    rec.data(fin, "table2_per_seed")
    _claims(rec, ["cc.cc2", "cc.cc11", "cc.cc12", "cc.cc13"], result, fin)
    return rec.save()


def table3(cfg: Config, result: StudyResult) -> Record:
    """Table 3: loss and accuracy of every architecture × test set × pretraining, ours beside the paper's."""
    rec = _record(cfg, result, "table3", "Table 3: loss and accuracy of the fine-tuned CNNs"
                  + (" (P arm: stand-in, not ImageNet)" if result.proxy else ""),
                  "Pérdida y precisión de los modelos de CNN obtenidos por fine tuning, con y sin (pre)entrenamiento. "
                  "The paper's last block, labelled 'ResNet50' a second time, is AlexNet.")
    fin = final_table(result.curves)
    archs = _archs(fin)
    ours_rows, paper_rows, index = [], [], []
    for a in archs:
        for test in ("c", "clean"):
            for arm in ("np", "p"):
                d = fin[(fin.arch == a) & (fin.arm == arm)]
                p = TABLE3[(TABLE3.arch == a) & (TABLE3.test == test) & (TABLE3.arm == arm)].iloc[0]
                index.append((ARCH_LABEL[a], "CIFAR-10-C" if test == "c" else "CIFAR-10",
                              "yes" + (" (stand-in)" if result.proxy else "") if arm == "p" else "no"))
                ours_rows.append({"loss": d[f"{test}_loss"].mean(), "acc (%)": d[f"{test}_acc"].mean()})
                paper_rows.append({"loss": p.loss, "acc (%)": p.acc})
    idx = pd.MultiIndex.from_tuples(index, names=["model", "test set", "pretrained"])
    ours, paper = pd.DataFrame(ours_rows, index=idx), pd.DataFrame(paper_rows, index=idx)
    rec.table(ours, "table3", "Loss (mean cross-entropy per image) and accuracy (%), paper beside ours (mean over "
              "seeds, last epoch).", paper=paper)
    # units per column (lib.overview reads them): the caption's "(%)" must not make the losses percentages
    rec.tables[-1]["units"] = {"loss": "cross-entropy (nats per image)", "acc (%)": "%"}
    detail = fin.groupby(["arch", "arm"]).agg(
        clean_acc=("clean_acc", lambda v: _mean_sd(v, ".2f")), c_acc=("c_acc", lambda v: _mean_sd(v, ".2f")),
        best_clean_acc=("best_clean_acc", lambda v: _mean_sd(v, ".2f")),
        best_c_acc=("best_c_acc", lambda v: _mean_sd(v, ".2f")),
        clean_loss=("clean_loss", lambda v: _mean_sd(v, ".3f")), c_loss=("c_loss", lambda v: _mean_sd(v, ".3f")),
        seeds=("seed", "nunique")).reset_index()
    detail = _by_order(detail)
    detail = detail.merge(result.backbones[["arch", "arm", "params", "head_in", "bn_layers", "pretrain_val_acc"]],
                          on=["arch", "arm"])
    detail["arch"] = detail.arch.map(ARCH_LABEL)
    detail["arm"] = detail.arm.map(lambda a: arm_label(a, result.proxy))
    rec.table(detail.set_index(["arch", "arm"]), "table3_detail",
              "Ours, mean ± sd over seeds: last-epoch and best-epoch accuracy (%), loss; parameters of the "
              "width-scaled network; features into the head; BatchNorm layers recalibrated; the proxy backbone's "
              "own validation accuracy (fraction) after pretraining.")
    cells = _by_order(result.cells.groupby(["arch", "arm", "corruption"]).acc.mean().mul(100)
                      .unstack("corruption").round(1).reset_index())
    cells.index = pd.MultiIndex.from_tuples([(ARCH_LABEL[a], arm_label(m, result.proxy))
                                             for a, m in zip(cells.pop("arch"), cells.pop("arm"))], names=["model", "arm"])
    cells = cells[list(dict.fromkeys(result.cells.corruption))]   # the generator's order of the corruptions
    cells.columns.name = None
    rec.table(cells, "table3_per_corruption", "Ours: CIFAR-10-C accuracy (%) per corruption (mean over severities "
              "and seeds), last epoch.")
    sev = _by_order(result.cells.groupby(["arch", "arm", "severity"]).acc.mean().mul(100)
                    .unstack("severity").round(1).reset_index())
    sev.index = pd.MultiIndex.from_tuples([(ARCH_LABEL[a], arm_label(m, result.proxy))
                                           for a, m in zip(sev.pop("arch"), sev.pop("arm"))], names=["model", "arm"])
    sev.columns = [f"severity {c}" for c in sev.columns]
    rec.table(sev, "table3_per_severity", "Ours: CIFAR-10-C accuracy (%) per severity (mean over corruptions and "
              "seeds), last epoch.")
    rec.data(result.cells, "table3_cells_per_seed")
    _claims(rec, ["cc.cc1", "cc.cc5", "cc.cc6", "cc.cc9", "cc.cc10"], result, fin)
    return rec.save()


# ---------------------------------------------------------------------------------------------
# The unscaled-input diagnosis


def diagnosis_verdict(diag: pd.DataFrame) -> tuple[C.Verdict, list[tuple[str, C.Verdict, str]]]:
    """Does unscaled corrupted input reproduce the paper's pattern for the BatchNorm ResNets (both arms)?

    Parts per (ResNet, arm): unscaled accuracy ≤ 20% (`at_most` over seeds, in %), and log10(unscaled loss /
    clean loss) > 1 (`greater` than 1 over seeds). Returns (all_of verdict, parts).
    """
    parts = []
    for (arch, arm), g in diag[diag.arch.isin(RESNETS)].groupby(["arch", "arm"]):
        g = g.sort_values("seed")
        acc = C.at_most(list(100 * g.unscaled_acc), 20.0)
        ratio = list(np.log10(g.unscaled_loss / g.clean_loss))
        big = C.greater(ratio, [1.0] * len(ratio))
        parts.append((f"{ARCH_LABEL[arch]} {arm.upper()}: unscaled C accuracy ≤ 20%", acc.verdict,
                      f"ours {acc.describe('%')}"))
        parts.append((f"{ARCH_LABEL[arch]} {arm.upper()}: unscaled C loss > 10 × clean loss", big.verdict,
                      f"log10 ratio minus 1: {big.describe()}; mean unscaled loss {g.unscaled_loss.mean():.4g} vs "
                      f"clean {g.clean_loss.mean():.3g}"))
    if not parts:
        return C.Verdict.NOT_RUN, []
    return C.all_of([v for _, v, _ in parts]), parts


def diag_scale(cfg: Config, result: StudyResult) -> Record:
    """The paper-bug diagnosis: our final heads on CIFAR-10-C fed correctly ([0, 1]) and unscaled (0–255)."""
    rec = _record(cfg, result, "diag_scale", "Diagnosis: CIFAR-10-C fed unscaled (0–255), the suspected cause of the "
                  "paper's CIFAR-10-C numbers",
                  "The paper's CIFAR-10-C accuracies are near chance (10–24%) and its losses reach 3.4 million against "
                  "2.5–19 on the clean set. Hypothesis (ours, not the paper's): the corrupted uint8 arrays reached the "
                  "networks without the /255 scaling the clean set got from ToTensor. We re-evaluate the trained heads "
                  "on a subset of our CIFAR-10-C with the scaling left out.")
    d = result.diag
    if d.empty:
        rec.note("C_INPUT_SCALE_N = 0: the diagnosis was not run.")
        rec.claim(C.Claim("cc.diag_scale", CLAIMS["cc.diag_scale"], C.Verdict.NOT_RUN, "not run (C_INPUT_SCALE_N=0)"))
        return rec.save()
    g = d.groupby(["arch", "arm"]).agg(clean_acc=("clean_acc", "mean"), scaled_acc=("scaled_acc", "mean"),
                                       unscaled_acc=("unscaled_acc", "mean"), clean_loss=("clean_loss", "mean"),
                                       scaled_loss=("scaled_loss", "mean"), unscaled_loss=("unscaled_loss", "mean"))
    ours = g.reset_index()
    ours = _by_order(ours)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    labels = [f"{ARCH_LABEL[a]}\n{m.upper()}" for a, m in zip(ours.arch, ours.arm)]
    x = np.arange(len(ours))
    w = 0.27
    for k, (col, lab) in enumerate([("clean", "clean CIFAR-10"), ("scaled", "CIFAR-10-C, [0, 1] (correct)"),
                                    ("unscaled", "CIFAR-10-C, 0–255 (emulated bug)")]):
        axes[0].bar(x + (k - 1) * w, 100 * ours[f"{col}_acc"], w, label=lab)
        axes[1].bar(x + (k - 1) * w, ours[f"{col}_loss"], w, label=lab)
    pap = paper_final()
    for i, (a, m) in enumerate(zip(ours.arch, ours.arm)):
        p = pap[(pap.arch == a) & (pap.arm == m)]
        if len(p):
            axes[0].plot([i + w], [p.c_acc.iloc[0]], "k*", ms=8, label="paper, CIFAR-10-C" if i == 0 else None)
            axes[1].plot([i + w], [p.c_loss.iloc[0]], "k*", ms=8, label="paper, CIFAR-10-C" if i == 0 else None)
    axes[0].axhline(10, color="grey", lw=0.8, ls=":")
    axes[0].set_ylabel("accuracy (%)")
    axes[1].set_yscale("log")
    axes[1].set_ylabel("mean cross-entropy (log scale)")
    for ax in axes:
        ax.set_xticks(x, [lab.replace("\n", " ") for lab in labels], fontsize=7, rotation=40, ha="right")
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle("Last-epoch heads on the diagnosis subset; NP: no pretraining, P: with pretraining"
                 + (f" ({PROXY_LABEL})" if result.proxy else "") + "; dotted: chance", fontsize=8)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    rec.figure(fig, "diag_scale", d)
    table = ours.copy()
    for col in ("clean_acc", "scaled_acc", "unscaled_acc"):
        table[col] = 100 * table[col]
    table = table.merge(pap[["arch", "arm", "c_acc", "c_loss"]].rename(columns={"c_acc": "paper_c_acc",
                                                                               "c_loss": "paper_c_loss"}),
                        on=["arch", "arm"], how="left")
    table["arch"] = table.arch.map(ARCH_LABEL)
    table["arm"] = table.arm.map(lambda a: arm_label(a, result.proxy))
    rec.table(table.set_index(["arch", "arm"]), "diag_scale_table",
              f"Accuracy (%) and mean loss of the last-epoch heads: clean test, CIFAR-10-C subset "
              f"({result.info['sizes']['diag_per_cell']} images per cell) fed correctly and unscaled; the paper's "
              "CIFAR-10-C numbers beside.")
    verdict, parts = diagnosis_verdict(d)
    rec.claim(C.Claim("cc.diag_scale", (f"[P arm = {PROXY_LABEL}] " if result.proxy else "") + CLAIMS["cc.diag_scale"],
                      verdict, f"parts: {C.tally([v for _, v, _ in parts])}", parts=tuple(parts)))
    rec.note("A hypothesis test, not a fact about the paper's code (none was published). Losses ordered by depth and "
             "near-chance accuracy under unscaled input would fit the paper's Table 3; a correct pipeline's numbers "
             "are the 'CIFAR-10-C, [0, 1]' bars.")
    return rec.save()
