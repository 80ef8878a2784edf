"""Parameters of Bartschat et al. (robustness w.r.t. training data variation): all notebooks share them.

smoke = synthetic data, seconds (width 8, 200 training images, 1 epoch, all 39 + 6 models); quick = real
CIFAR-10 on a 2-core CPU; paper = width 256, the full training split, 90 epochs (a GPU; configured, not run
here). `quick`/`paper` default to the previous profile's value.

Quick sizing, measured 2026-11-30 18:35–18:41 UTC on the shared 2-core machine (load average 3–5 from other
jobs), `nice -n 10`, ONE thread, so pessimistic by perhaps 1.5–2×:

    (1) bare SGD steps of batch 128 on random input, images/s at width 16 / 24 / 32 (two repeats; the spread is
        the machine's load):  resnet 421–751 / 743–759 / 447–580; inception 285–818 / 213–636 / 14–415;
        resnext 478–797 / 287–478 / 301–807.
    (2) `method.train` (distortion draw included), 10 steps of 128, noise σ 0.1 / blur σ 5, images/s:
        width 16: resnet 825 / 1112, inception 992 / 1052, resnext 1978 / 1746  (harmonic mean ≈ 1,100);
        width 24: resnet 985 / 1279, inception 691 / 700, resnext 1103 / 1147   (harmonic mean ≈ 900).

Chosen: width 16, 12,000 training images, 4 epochs. 39 models + 6 second-seed models (noise σ ∈ {0, 0.1} ×
3 architectures) = 45 × 48,000 = 2.16 M training images: ≈ 33 min at the one-thread speed above, ≈ 22–25 min
with 2 threads. Evaluation: 45 models × 7 levels × 1,000 test images ≈ 0.3 M forward passes (≈ 2–3 min); the
minimal-change search (16 + 10 forward passes of 128 images) and DeepFool (10 candidate classes) ≈ 10 k
forward-equivalents per model (≈ 3–4 min in all). Estimated quick total ≈ 30–40 min from an empty cache
(both notebooks; the σ = 0 models are trained once and shared by the noise and blur notebooks).
"""
from __future__ import annotations

from lib.params import Param, Params

LEVELS = [0.0, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0]   # §2.3: noise σ on the [−1, 1] scale; blur σ in pixels

PARAMS = Params(
    # -- data, device, seeds
    DATA=Param(str, "CIFAR-10 source: auto | cifar10 | imagefolder:PATH | synthetic (lib.data)", smoke="synthetic",
               quick="auto", paper="cifar10"),
    DEVICE=Param(str, "auto | cpu | cuda", smoke="auto"),
    SEEDS=Param(list[int], "training seeds of every model (each seed: a new initialisation, batch order and "
                           "distortion draws)", smoke=[0], min_len=1, min=0),
    EXTRA_SEEDS=Param(list[int], "further training seeds, only at the noise levels EXTRA_LEVELS (seed-to-seed "
                                 "variation); [] = none", smoke=[1], min=0),
    EXTRA_LEVELS=Param(list[float], "noise levels (σ, [−1, 1] scale) trained again with EXTRA_SEEDS, for all "
                                    "architectures", smoke=[0.0, 0.1], min=0),
    NO_CACHE=Param(bool, "True retrains every model and recomputes every evaluation", smoke=False),
    # -- networks
    ARCHS=Param(list[str], "module types of the skeleton (resnet | inception | resnext)",
                smoke=["resnet", "inception", "resnext"], min_len=1),
    WIDTH=Param(int, "channels of every layer of the skeleton and of the modules' input/output (paper: 256 in "
                     "Fig. 2's examples; a multiple of 8)", smoke=8, quick=16, paper=256, min=8),
    LEVELS=Param(list[float], "training and evaluation levels: noise σ on the [−1, 1] scale (× 127.5 for grey "
                              "levels), blur σ in pixels; must contain 0", smoke=LEVELS, min_len=2, min=0),
    # -- training (the paper: SGD, cross-entropy, 90 epochs; the rest is not stated: our choices)
    TRAIN_N=Param(int, "training images, a stratified subset of the training split; 0 = all (images)", smoke=200,
                  quick=12000, paper=0, min=0),
    EPOCHS=Param(int, "training epochs (passes over TRAIN_N images)", smoke=1, quick=4, paper=90, min=1),
    BATCH=Param(int, "SGD batch size (images)", smoke=64, quick=128, min=1),
    LR=Param(float, "peak SGD learning rate, cosine-decayed to 0", smoke=0.05, min=0),
    MOMENTUM=Param(float, "SGD momentum", smoke=0.9, min=0, max=1),
    WEIGHT_DECAY=Param(float, "SGD weight decay (L2)", smoke=5e-4, min=0),
    FLIP=Param(bool, "random horizontal flips in training (the paper names no augmentation)", smoke=False),
    # -- evaluation
    TEST_N=Param(int, "test images per evaluation level, a stratified subset of the test split; 0 = all (images)",
                 smoke=100, quick=1000, paper=0, min=0),
    TEST_SEED=Param(int, "seed of the test subset and of the distortion draws of the test sets (one draw, shared "
                         "by every model)", smoke=0, min=0),
    ADV_N=Param(int, "clean test images attacked per model (the paper: 128), the same for every model", smoke=8,
                quick=128, min=1),
    ADV_EPS_MAX=Param(float, "largest gradient-sign step tried ([−1, 1] scale; 2 = the whole range)", smoke=2.0,
                      min=0),
    ADV_GRID=Param(int, "geometric line-search steps of the minimal gradient-sign step (from 1e-4)", smoke=16, min=2),
    ADV_BISECT=Param(int, "bisection steps after the line search", smoke=10, min=0),
    DEEPFOOL=Param(bool, "also run DeepFool (L2, lib.attacks) as a second reading of the minimal change",
                   smoke=True),
    # -- Fig. 3
    FIG3_CLASSES=Param(list[int], "classes of the Fig. 3 images (the first test image of each; CIFAR-10: 6 = frog, "
                                  "9 = truck)", smoke=[6, 9], min_len=1, min=0),
    FIG3_SIGMA=Param(float, "noise σ of Fig. 3 ([−1, 1] scale)", smoke=1.0, min=0),
)
