"""Parameters of Bianchi et al., selective CNN-filter fine-tuning: the four notebooks share them.

smoke = synthetic data, seconds per notebook; quick = real CIFAR-10 on a 2-core CPU, minutes;
paper = the paper's datasets and settings. `quick`/`paper` default to the previous profile's value.
Distortion levels: AWGN σ on the 0–255 scale; blur σ in pixels (kernel 4σ), as in `lib.distortions`.
"""
from __future__ import annotations

from lib.params import Param, Params

# The paper's three levels of each distortion (§4): AWGN σ 5, 15, 25 (0–255); blur σ 0.25, 1.25, 2.25 px.
_PAPER_LEVELS = {"awgn": [5.0, 15.0, 25.0], "blur": [0.25, 1.25, 2.25]}
_DATA = ("auto | cifar10 | cifar100 | imagefolder:PATH | synthetic (lib.data)")

PARAMS = Params(
    # -- data, device, repetitions
    DATA=Param(str, f"dataset of the CIFAR-10 net: {_DATA}", smoke="synthetic", quick="auto", paper="cifar10"),
    DATA_ALLCONV=Param(str | None, "dataset of the All-Conv net; None: same as DATA", smoke=None, paper="cifar100"),
    DEVICE=Param(str, "auto | cpu | cuda", smoke="auto"),
    SEEDS=Param(list[int], "replicates: each seed draws its own image pairs, noise and fine-tuning subsets, "
                           "and with REPLICATE_BASELINES ranks and fine-tunes its own clean baselines",
                smoke=[0, 1], quick=[0, 1, 2], min_len=1, min=0),
    NO_CACHE=Param(bool, "True recomputes baselines, rankings and fine-tuned models", smoke=False),
    # -- clean baselines
    BASELINE_SEED=Param(int, "initialisation / batch order of the clean baselines (seed s's with "
                             "REPLICATE_BASELINES: BASELINE_SEED + s)", smoke=0, min=0),
    REPLICATE_BASELINES=Param(bool, "each seed trains its own clean baselines, so the spread over seeds includes "
                                    "training (the claims are about trained networks); False: every seed uses "
                                    "BASELINE_SEED's, and the seeds vary only pairs, noise and subsets", smoke=True),
    ZOO=Param(bool, "the CIFAR-10 net of BASELINE_SEED: use the model zoo's reference checkpoint (trained with the "
                    "paper's protocol, Adam + early stopping with patience 15) when it matches the data; every other "
                    "baseline is trained here with MAX_EPOCHS/PATIENCE (the report says which)", smoke=True),
    MAX_EPOCHS=Param(dict[str, int], "baseline training: epoch cap per net (epochs)",
                     smoke={"cifar10_net": 3, "allconv_bn": 3}, quick={"cifar10_net": 300, "allconv_bn": 15},
                     paper={"cifar10_net": 300, "allconv_bn": 300}, min=1),
    PATIENCE=Param(dict[str, int], "baseline early-stopping patience per net (epochs; the paper's is 15)",
                   smoke={"cifar10_net": 2, "allconv_bn": 2}, quick={"cifar10_net": 15, "allconv_bn": 3},
                   paper={"cifar10_net": 15, "allconv_bn": 15}, min=1),
    BATCH_SIZE=Param(int, "baseline batch size (images)", smoke=128, min=1),
    ALLCONV_WIDTH=Param(int, "filters in All-Conv's first three layers (paper: 96)", smoke=8, quick=24, paper=96,
                        min=1),
    ALLCONV_TRAIN_SIZE=Param(int, "All-Conv training images (0: the whole training split)", smoke=0, quick=20000,
                             paper=0, min=0),
    NETS=Param(list[str], "baselines to analyse", smoke=["cifar10_net", "allconv_bn"], min_len=1),
    # -- rankings (Fig. 4, Table 1)
    N_RANK=Param(int, "(clean, distorted) training pairs that vote in a ranking (images)", smoke=200, quick=5000,
                 paper=40000, min=1),
    FRACTION=Param(float, "share of filters called 'most susceptible' (fraction)", smoke=0.25, min=0, max=1),
    FIG4_LEVELS=Param(dict[str, float], "Fig. 4 distortion levels: blur σ (px), AWGN σ (0–255)",
                      smoke={"blur": 1.25, "awgn": 15.0}, min=0),
    N_SPATIAL=Param(int, "pairs for the 1-D vs spatial EMD check (spatial: ~0.1 s per map pair)", smoke=1, quick=8,
                    paper=200, min=1),
    # -- fine-tuning (Figs. 5, 6)
    TEST_SIZE=Param(int, "distorted test images per accuracy (images)", smoke=500, quick=2000, paper=10000, min=1),
    FT_STEPS=Param(int, "fine-tuning: optimiser steps at most", smoke=8, quick=60, paper=20000, min=1),
    FT_EVAL_EVERY=Param(int, "fine-tuning: steps between validation checks", smoke=4, quick=10, paper=200, min=1),
    FT_PATIENCE=Param(int, "fine-tuning: checks without improvement before stopping", smoke=2, paper=15, min=1),
    FT_BATCH=Param(int, "fine-tuning batch size (images)", smoke=32, quick=128, min=1),
    FT_LR=Param(float, "fine-tuning Adam learning rate (Adam's default)", smoke=0.001, min=0),
    FT_VAL_SIZE=Param(int, "distorted validation images for early stopping (images)", smoke=200, quick=1000,
                      paper=10000, min=1),
    FT_SIZES=Param(list[int], "Fig. 5 x axis: numbers of distorted training images", smoke=[50, 200],
                   quick=[100, 1000, 5000], paper=[100, 500, 1000, 5000, 10000, 40000], min=1, min_len=1),
    FIG5_LEVELS=Param(dict[str, dict[str, list[float]]], "Fig. 5 levels per net: AWGN σ (0–255), blur σ (px)",
                      smoke={"cifar10_net": {"awgn": [15.0], "blur": [1.25]},
                             "allconv_bn": {"awgn": [15.0], "blur": [1.25]}},
                      quick={"cifar10_net": _PAPER_LEVELS, "allconv_bn": {"awgn": [15.0], "blur": [1.25]}},
                      paper={"cifar10_net": _PAPER_LEVELS, "allconv_bn": _PAPER_LEVELS}, min=0),
    FIG6_LEVEL=Param(float, "Fig. 6 AWGN σ (0–255)", smoke=15.0, min=0),
    FIG6_N=Param(int, "Fig. 6: distorted training images used for fine-tuning (paper: 5000)", smoke=200,
                 quick=5000, min=1),
    FIG6_EVAL=Param(int, "Fig. 6: test images whose map sums are averaged", smoke=100, quick=1000, paper=10000,
                    min=1),
    FIG6_EXAMPLE=Param(int, "Fig. 6: which of the evaluated images is drawn (index)", smoke=0, min=0),
    # -- Table 1
    TABLE1_LEVEL=Param(float, "Table 1 AWGN σ (0–255)", smoke=15.0, min=0),
    TABLE1_N=Param(int, "Table 1: training images split into a clean and a noisy half", smoke=400, quick=4000,
                   paper=10000, min=2),
)
