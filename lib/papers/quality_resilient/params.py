"""Parameters of Dodge & Karam, *Quality Resilient DNNs*: the notebooks share them.

smoke = synthetic data, a tiny network, seconds; quick = real CIFAR-10 on a 2-core CPU (≤ 45 min from
an empty cache, sized from measured speeds with 2 threads on the shared project machine: vgg16_slim
(width 1, fc 1024) trains M_clean at ≈ 1,400–1,800 images/s and fine-tunes the experts at ≈ 1,100–1,300
images/s; an 8,000-image, 10-epoch, 2-seed run took 8.5 min and gave a 61–62% M_clean, so quick now
trains on 20,000 images for 30 epochs with 3 seeds: 28 min from an empty cache with other jobs on the
machine, M_clean 80.5–80.9%, ≈ 345 s of M_clean per seed); paper = the paper's settings (needs its
datasets and VGG-16 weights: not runnable here).
Levels: AWGN σ on the 0–255 scale; blur σ in pixels, kernel truncated at 4σ each side (SciPy rule).
"""
from __future__ import annotations

from lib.params import Param, Params

_DATA = "auto | cifar10 | imagefolder:PATH | synthetic (lib.data)"
_BRANCHES = ("conv2_1", "conv3_1", "conv4_1", "conv5_1", "fc6", "fc7", "fc8")

PARAMS = Params(
    # -- data, device, repetitions
    DATA=Param(str, f"dataset: {_DATA} (paper: Caltech-101, -256, Scene-67 or ImageNet-50 as an image folder, "
                    "see pretrained.py; the default is Caltech-101)",
               smoke="synthetic:n=800,test=200", quick="auto", paper="imagefolder:../shared/data/caltech101"),
    DEVICE=Param(str, "auto | cpu | cuda", smoke="auto"),
    SEEDS=Param(list[int], "repetitions of the core pipeline (M_clean, experts, weights, gate): each seed "
                           "retrains everything", smoke=[0], quick=[0, 1, 2], min_len=1, min=0),
    NO_CACHE=Param(bool, "True recomputes every model instead of reusing the on-disk cache", smoke=False),
    TRAIN_SIZE=Param(int, "training images, stratified subset of the training split (0: all)", smoke=320,
                     quick=20000, paper=0, min=0),
    VAL_SIZE=Param(int, "validation images: Eq. 4 targets and early stopping", smoke=160, quick=1000, paper=0,
                   min=0),
    TEST_SIZE=Param(int, "test images, each at every level of both distortions", smoke=160, quick=2000, paper=0,
                    min=0),
    SPLIT=Param(str, "suite: lib.data's splits of DATA | per_class: DATA=imagefolder:PATH (images of any size) "
                     "resized to CROP² and split per class by PER_CLASS (the paper's Caltech protocol) | given: "
                     "the folder's own train/ and test/, VAL_FRACTION of training held out (Scene-67, ImageNet-50)",
                smoke="suite", paper="per_class", choices=("suite", "per_class", "given")),
    PER_CLASS=Param(list[int], "per_class split: [train, val, max test] images per class (Caltech: 25, 5, 50)",
                    smoke=[25, 5, 50], min=0, min_len=3),
    VAL_FRACTION=Param(float, "given split: share of each class's training images held out for validation "
                              "(paper: 20%)", smoke=0.2, min=0, max=0.99),
    CROP=Param(int, "per_class and given splits: image side after resizing the shorter side to CROP·8/7 and centre-cropping "
                    "(px; the paper: 224)", smoke=224, min=16),
    # -- network
    NETWORK=Param(str, "vgg16_slim: VGG-16 topology trained from scratch (WIDTH, FC) | vgg16_imagenet: torchvision's "
                       "ImageNet VGG-16 from WEIGHTS with a new fc8, fine-tuned (the paper)",
                  smoke="vgg16_slim", paper="vgg16_imagenet", choices=("vgg16_slim", "vgg16_imagenet")),
    WEIGHTS=Param(str | None, "vgg16_imagenet: path of torchvision's vgg16-397923af.pth (None: torch hub's "
                              "checkpoints folder); never downloaded", smoke=None),
    FC8_LR=Param(float, "vgg16_imagenet: learning rate of the new fc8 while fine-tuning M_clean (paper: 0.01; the "
                        "other layers use EXPERT_LR)", smoke=0.01, min=0),
    WIDTH=Param(float, "vgg16_slim width multiplier of the conv blocks (16, 32, 64, 128, 128)", smoke=0.25,
                quick=1.0, min=0.01),
    FC=Param(int, "vgg16_slim units of fc6 and fc7 (VGG-16: 4096)", smoke=64, quick=1024, paper=4096, min=1),
    # -- distortions
    NOISE_MAX=Param(float, "largest AWGN σ (0–255 scale), training draws U(0, max) (paper: 100)", smoke=100.0,
                    min=0),
    BLUR_MAX=Param(float, "largest blur σ in px (paper: 10 px at 224²; 10·32/224 ≈ 1.43 at CIFAR's 32²)",
                   smoke=1.43, paper=10.0, min=0),
    LEVELS=Param(int, "test levels per distortion, equally spaced from 0 to the maximum (paper: 10)", smoke=4,
                 quick=10, min=2),
    # -- M_clean (trained from scratch here; the paper fine-tunes ImageNet VGG-16)
    CLEAN_EPOCHS=Param(int, "M_clean: epochs (vgg16_slim: SGD Nesterov 0.9, one-cycle, crop + flip, wd 5e-4; "
                            "vgg16_imagenet: at most this many, Section 2's recipe with early stopping)", smoke=2,
                       quick=30, paper=30, min=1),
    CLEAN_LR=Param(float, "M_clean: peak learning rate", smoke=0.05, min=0),
    # -- experts (Section 2's recipe: SGD + momentum, constant lr, no wd, early stop on validation loss)
    EXPERT_EPOCHS=Param(int, "M_noise, M_blur, M_all: at most this many epochs", smoke=1, quick=3, paper=30,
                        min=1),
    EXPERT_LR=Param(float, "experts: SGD learning rate (paper: 0.001 at batch 32)", smoke=0.005, quick=0.003,
                    paper=0.001, min=0),
    EXPERT_BATCH=Param(int, "experts and gate: batch size (paper: 32)", smoke=32, min=2),
    MOMENTUM=Param(float, "SGD momentum (paper: unstated)", smoke=0.9, min=0, max=1),
    PATIENCE=Param(int, "early stopping: validation checks without improvement", smoke=2, quick=2, paper=5,
                   min=1),
    EVAL_EVERY=Param(int, "steps between validation checks (0: once per epoch)", smoke=0, quick=125, paper=0,
                     min=0),
    # -- gating network (Table 1, Eq. 5)
    GATE_EPOCHS=Param(int, "gating network: at most this many epochs", smoke=1, quick=8, paper=30, min=1),
    GATE_LR=Param(float, "gating network: SGD learning rate", smoke=0.01, paper=0.001, min=0),
    GATE_LAMBDA=Param(float, "λ of Eq. 5", smoke=0.01, min=0),
    WEIGHT_TOL=Param(float, "largest tolerated |SLSQP − EM| weight difference before the run warns", smoke=1e-4,
                     min=0),
    # -- tree structures (Tables 6–7), seed SEEDS[0] only
    TREE_BRANCHES=Param(list[str], "TreeNet branch points trained (Table 6)", smoke=["fc7"],
                        quick=["conv3_1", "conv5_1", "fc7"], paper=list(_BRANCHES)),
    INVERTED_BRANCHES=Param(list[str], "Inverted-TreeNet branch points trained (Table 7)", smoke=["fc6"],
                            quick=["conv3_1", "conv5_1", "fc6"], paper=list(_BRANCHES)),
    TREE_EPOCHS=Param(int, "members of a tree structure: at most this many epochs", smoke=1, quick=2, paper=30,
                      min=1),
    # -- figures
    FIG1_LEVEL=Param(int, "Fig. 1: index of the test level shown (both distortions)", smoke=2, quick=6, min=0),
    FIG3_CHANNELS=Param(int, "Fig. 3: Conv5_1 channels visualised by activation maximisation", smoke=4, quick=8,
                        min=1),
    FIG3_STEPS=Param(int, "Fig. 3: gradient-ascent steps (Adam, lr 0.05 on pixel logits)", smoke=20, quick=200,
                     min=1),
)
