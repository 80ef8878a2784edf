"""Parameters of Pixel Deflection (Prakash thesis ch. 4): the five notebooks share them.

smoke = synthetic data, seconds per notebook; quick = real CIFAR-10 on a 2-core CPU, minutes;
paper = ImageNet validation images and torchvision's pretrained classifiers (a GPU).
`quick`/`paper` default to the previous profile's value; the CIFAR-only parameters (WIDTHS,
TRAIN_SIZE, TRAIN_EPOCHS, LR) are unused under `paper` and keep their smoke values there.
Attack budgets are RMSE on [0, 1] pixels (`lib.attacks`).
"""
from __future__ import annotations

from lib.params import Param, Params

_ATTACKS = ("fgsm", "igsm", "deepfool", "jsma", "lbfgs", "cw")
_MODELS = ("resnet20", "vgg_gap", "allconv_bn", "resnet50", "vgg19", "inception_v3")
_BASELINES = ("bitdepth2", "bitdepth5", "median2", "median3", "nlm11-3-2", "nlm13-3-4", "resize_pad", "tvm")

PARAMS = Params(
    # -- data, device, classifiers
    DATA=Param(str, "auto | cifar10 | imagefolder:PATH | imagenet[:PATH] (paper) | synthetic (lib.data)",
               smoke="synthetic", quick="auto", paper="imagenet"),
    DEVICE=Param(str, "auto | cpu | cuda", smoke="auto"),
    NO_CACHE=Param(bool, "True recomputes classifiers, attacks and outcomes", smoke=False),
    MODELS=Param(list[str], "classifiers; CIFAR: resnet20 vgg_gap allconv_bn; ImageNet: resnet50 vgg19 inception_v3",
                 smoke=["vgg_gap", "allconv_bn"], quick=["resnet20", "vgg_gap", "allconv_bn"],
                 paper=["resnet50", "vgg19", "inception_v3"], min_len=1),
    WIDTHS=Param(dict[str, int], "first-layer filters of the CIFAR nets", smoke={"vgg_gap": 8, "allconv_bn": 8},
                 quick={"vgg_gap": 32, "allconv_bn": 32}, paper={"vgg_gap": 8, "allconv_bn": 8}, min=1),
    WEIGHTS=Param(str, "ImageNet models only: pretrained (torchvision files) or random", smoke="pretrained",
                  choices=("pretrained", "random")),
    TRAIN_SIZE=Param(int, "CIFAR training images (stratified subset; 0: the whole training split)", smoke=0, min=0),
    ZOO=Param(bool, "CIFAR classifiers: use the model zoo's reference checkpoint when one matches (architecture, "
                    "width, data content); False, or no match: train TRAIN_EPOCHS here (the report says which)",
              smoke=True),
    TRAIN_EPOCHS=Param(int, "epochs of Adam for each CIFAR classifier trained here (not from the zoo)", smoke=1,
                       quick=2, paper=1, min=1),
    LR=Param(float, "Adam learning rate of the CIFAR classifiers", smoke=0.002, min=0),
    MODEL_SEED=Param(int, "initialisation and batch order of the classifiers", smoke=0, min=0),
    # -- images and attacks
    N_IMAGES=Param(int, "correctly classified test images per classifier (thesis 1,000)", smoke=16, quick=300,
                   paper=1000, min=1),
    N_SEARCH=Param(int, "correctly classified held-out images for the Fig. 4.5 search (thesis 300)", smoke=16,
                   quick=150, paper=300, min=1),
    CHUNK=Param(int, "images per attack call", smoke=100, paper=50, min=1),
    ATTACKS=Param(list[str], "the attacks of Tables 4.1-4.5", smoke=list(_ATTACKS), min_len=1),
    BUDGETS=Param(dict[str, float], "Table 4.1 attack budgets, RMSE on [0, 1]",
                  smoke={"fgsm": 0.05, "igsm": 0.03, "deepfool": 0.02, "jsma": 0.02, "lbfgs": 0.02, "cw": 0.04},
                  min=0),
    LARGE_BUDGETS=Param(dict[str, float], "Table 4.1 large-perturbation budgets, RMSE on [0, 1]",
                        smoke={"fgsm": 0.12, "igsm": 0.09, "deepfool": 0.08, "jsma": 0.05, "lbfgs": 0.04}, min=0),
    ATTACK_OPTIONS=Param(dict[str, dict[str, int | float | str]],
                         "per-attack options of lib.attacks (e.g. max_iter); jsma budget_reading 'l0' bounds JSMA "
                         "as an L0 attack at the RMSE budget, 'scaled' scales its unconstrained result onto it",
                         smoke={"jsma": {"gamma": 0.1, "budget_reading": "l0"},
                                "lbfgs": {"max_iter": 20, "binary_search_steps": 2},
                                "cw": {"max_iter": 20, "binary_search_steps": 2}},
                         quick={"jsma": {"gamma": 0.1, "budget_reading": "l0"},
                                "lbfgs": {"max_iter": 30, "binary_search_steps": 3},
                                "cw": {"max_iter": 30, "binary_search_steps": 3, "initial_const": 0.1,
                                       "learning_rate": 0.01}},
                         paper={"jsma": {"budget_reading": "l0"}}),
    ATTACK_SEED=Param(int, "JSMA's random target classes", smoke=0, min=0),
    ADAPTIVE=Param(dict[str, int | float], "BPDA+EOT attacker: n (images), budget (RMSE), steps (PGD), eot (draws)",
                   smoke={"n": 8, "budget": 0.04, "steps": 2, "eot": 2},
                   quick={"n": 200, "budget": 0.04, "steps": 20, "eot": 5},
                   paper={"n": 500, "budget": 0.04, "steps": 40, "eot": 10}, min=0),
    # -- the defence
    DEFENCE_SEED=Param(int, "the defence's randomness (run r uses a generator derived from it)", smoke=0, min=0),
    RUNS=Param(int, "stochastic runs per image (Ens-10 is their majority vote)", smoke=10, min=1),
    TOP_K=Param(int, "R-CAM classes (thesis 5 of 1000; 2 of 10 here)", smoke=2, paper=5, min=1),
    THESIS_DEFLECTIONS=Param(int, "the thesis's K: deflections per image (search start; used when TUNE is False)",
                             smoke=100, min=0),
    THESIS_WINDOW=Param(int, "the thesis's r: deflection window (pixels)", smoke=10, min=1),
    THESIS_SIGMA=Param(float, "the thesis's sigma: wavelet-denoising noise std ([0, 1] scale)", smoke=0.04, min=0),
    TUNE=Param(bool, "run the Fig. 4.5 search and use its K, r, sigma (False: the THESIS_* values)", smoke=True,
               paper=False),
    BASELINES=Param(list[str], "Table 4.6 baselines re-measured", smoke=list(_BASELINES)),
    # -- Fig. 4.5 search, Tables 4.9-4.11 sweeps
    SEARCH_SIGMA=Param(list[float], "sigma grid of the Fig. 4.5 search", smoke=[0.02, 0.04],
                       quick=[0.01, 0.02, 0.04, 0.08], min=0, min_len=1),
    SEARCH_WINDOW=Param(list[int], "window grid of the search (pixels)", smoke=[2, 10], quick=[1, 2, 3, 5, 10],
                        paper=[2, 5, 10, 20, 50], min=1, min_len=1),
    SEARCH_DEFLECTIONS=Param(list[int], "deflections grid of the search", smoke=[10, 100],
                             quick=[2, 5, 10, 20, 50, 100, 200], paper=[10, 50, 100, 200, 1000], min=0, min_len=1),
    SEARCH_PASSES=Param(int, "coordinate-search passes", smoke=1, quick=2, paper=1, min=1),
    SEARCH_RUNS=Param(int, "runs averaged per search point", smoke=1, quick=2, paper=3, min=1),
    SWEEP_DEFLECTIONS=Param(list[int], "Table 4.9 grid (deflections)", smoke=[1, 10, 100],
                            quick=[1, 3, 10, 30, 100, 300], paper=[10, 100, 1000], min=0, min_len=1),
    SWEEP_WINDOW=Param(list[int], "Tables 4.10 and 4.11 grid (window, pixels)", smoke=[1, 5, 10],
                       quick=[1, 2, 5, 10, 16], paper=[5, 10, 50, 100], min=1, min_len=1),
    SWEEP_RUNS=Param(int, "runs averaged per sweep point", smoke=1, quick=2, paper=1, min=1),
    # -- Figs. 4.1/4.2
    FIG4_2_N=Param(int, "images of Fig. 4.2", smoke=16, quick=300, paper=1000, min=1),
    FIG4_2_DEFLECTIONS=Param(list[int], "K values of Fig. 4.2 (31 is 1% of 3x32x32)",
                             smoke=[0, 3, 10, 31, 100, 300, 1000], paper=[0, 100, 300, 1000, 2682, 10000], min=0,
                             min_len=1),
)
