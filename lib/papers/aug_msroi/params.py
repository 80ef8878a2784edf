"""Parameters of Prakash thesis ch. 3 (semantic JPEG with MS-ROI as an adversarial defence, Aug-MSROI).

smoke = synthetic data, the whole paper in about a minute; quick = real CIFAR-10 on a 2-core CPU (the zoo's
ResNet-20, 300 test images, the MS-ROI map network of `msroi` shared through the cache); paper = ImageNet
validation images and torchvision's ResNet-50 (local checkpoint file), the map network trained on a
Caltech-256 image folder at 224 px, for a GPU. Attack budgets are normalised RMSE on [0, 1] pixels
(`lib.attacks`); qualities are IJG 1–100; noise scales are on [0, 1] pixels (input) or in units of each
activation's standard deviation (activations).

The map network's parameters (SHARED_MAP_PARAMS) are `msroi`'s own declarations, imported, so that
`lib.papers.msroi.protocol.MapNetSpec.from_params` gives the same spec and the cached network is shared.
"""
from __future__ import annotations

from lib.papers.msroi.params import PARAMS as MSROI
from lib.params import Param, Params

# msroi's parameters that define the map network (lib.papers.msroi.protocol.MapNetSpec.from_params)
SHARED_MAP_PARAMS = ("MAP_FOLDER", "MAP_TRAIN", "MAP_SIZE", "MAP_WIDTHS", "MAP_POOLS", "MAP_PER_CLASS",
                     "MAP_RANK_WEIGHTS", "MAP_SCENES", "MAP_EPOCHS", "MAP_BATCH", "MAP_LR", "MAP_SEED",
                     "TRAIN_OBJECTS", "OBJECT_FRAC", "TEXTURE", "CAM_FEATURES", "CAM_EPOCHS")

_ATTACKS = ["fgsm", "igsm", "deepfool", "jsma", "lbfgs", "ga"]

PARAMS = Params(
    # -- data, device, classifier
    DATA=Param(str, "images attacked and defended: auto | cifar10 | imagenet[:PATH] (paper) | synthetic (lib.data)",
               smoke="synthetic", quick="auto", paper="imagenet"),
    DEVICE=Param(str, "auto | cpu | cuda", smoke="auto"),
    NO_CACHE=Param(bool, "True recomputes the classifier, the map network, attacks and defences", smoke=False),
    MODEL=Param(str, "the attacked classifier: resnet20 (CIFAR, lib.zoo / lib.train) or resnet50 (ImageNet, "
                     "torchvision checkpoint on disk)", smoke="resnet20", paper="resnet50",
                choices=("resnet20", "resnet50")),
    WEIGHTS=Param(str, "ImageNet model only: pretrained (torchvision file) or random", smoke="pretrained",
                  choices=("pretrained", "random")),
    ZOO=Param(bool, "CIFAR: use the model zoo's ResNet-20 when it was trained on the same data; otherwise (or "
                    "False) train TRAIN_EPOCHS here", smoke=True),
    TRAIN_EPOCHS=Param(int, "epochs of Adam for a classifier trained here (not from the zoo)", smoke=1, quick=5,
                       min=1),
    LR=Param(float, "Adam learning rate of a classifier trained here", smoke=0.002, min=0),
    MODEL_SEED=Param(int, "initialisation and batch order of a classifier trained here", smoke=0, min=0),
    # -- images and attacks
    N_IMAGES=Param(int, "correctly classified test images (thesis: 300)", smoke=12, quick=300, paper=300, min=1),
    N_SEARCH=Param(int, "correctly classified held-out (validation) images of the search split: JPEG Q, the "
                        "MS-ROI level shift and the Aug-MSROI noise scales are chosen on them, never on the test "
                        "images", smoke=12, quick=150, paper=150, min=1),
    CHUNK=Param(int, "images per attack call", smoke=100, paper=25, min=1),
    ATTACKS=Param(list[str], "attacks (lib.attacks + 'ga', the single-step L2 gradient attack of §3.3)",
                  smoke=_ATTACKS, min_len=1),
    SEARCH_ATTACKS=Param(list[str], "attacks run on the search split (the selection objective pools them)",
                         smoke=_ATTACKS, min_len=1),
    BUDGET=Param(float, "every attack's size: normalised RMSE on [0, 1] (thesis: 0.02); FGSM, IGSM, GA are run "
                        "at it, DeepFool and L-BFGS are capped onto it, JSMA stops at it (L0 reading)",
                 smoke=0.02, min=0, max=1),
    ATTACK_OPTIONS=Param(dict[str, dict[str, int | float | str]], "per-attack options of lib.attacks",
                         smoke={"jsma": {"gamma": 0.1, "budget_reading": "l0"},
                                "lbfgs": {"max_iter": 15, "binary_search_steps": 2}},
                         quick={"jsma": {"gamma": 0.1, "budget_reading": "l0"},
                                "lbfgs": {"max_iter": 30, "binary_search_steps": 3}},
                         paper={"jsma": {"budget_reading": "l0"}}),
    ATTACK_SEED=Param(int, "JSMA's random target classes", smoke=0, min=0),
    ADAPTIVE=Param(dict[str, int | float], "BPDA+EOT attacker against JPEG and Aug-MSROI: n (images), budget "
                                           "(RMSE), steps (PGD), eot (draws of the defence per step)",
                   smoke={"n": 6, "budget": 0.02, "steps": 2, "eot": 2},
                   quick={"n": 100, "budget": 0.02, "steps": 10, "eot": 3},
                   paper={"n": 100, "budget": 0.02, "steps": 40, "eot": 5}, min=0),
    # -- defences
    SUBSAMPLING=Param(str, "chroma subsampling of every JPEG (4:4:4: 8×8 luma and chroma blocks coincide)",
                      smoke="4:4:4", choices=("4:4:4", "4:2:0")),
    JPEG_QS=Param(list[int], "Fig. 3.2a / search grid of standard JPEG qualities", smoke=[10, 30, 50, 70, 90],
                  quick=list(range(5, 100, 5)), min=1, max=100, min_len=1),
    LEVELS=Param(int, "MS-ROI saliency levels k (thesis ch. 2: 5)", smoke=5, min=1),
    Q_RANGE=Param(list[float], "(Q_l, Q_h) of the levels before the shift (thesis ch. 2: 30, 70)",
                  smoke=[30.0, 70.0], min_len=2, min=1, max=100),
    LEVEL_SHIFTS=Param(list[float], "shifts added to every level (and to Q_f = the top level's Q) searched so "
                                    "that MS-ROI's mean PSNR on the search split is closest to JPEG(Q*)'s",
                       smoke=[-20.0, -10.0, 0.0], quick=[-25.0, -20.0, -15.0, -10.0, -5.0, 0.0, 5.0, 10.0],
                       min_len=1),
    AUG_N=Param(int, "perturbations averaged by Aug-MSROI (thesis timing: 5)", smoke=5, min=1),
    AUG_SIGMA_IN=Param(list[float], "search grid: std of the Gaussian input noise ([0, 1] pixels)",
                       smoke=[0.01, 0.1], quick=[0.01, 0.03, 0.1], min=0, min_len=1),
    AUG_ACT=Param(list[float], "search grid: std of the activation noise in units of each activation's std",
                  smoke=[0.0, 0.2], quick=[0.0, 0.05, 0.1, 0.2], min=0, min_len=1),
    AUG_SHIFT=Param(int, "random integer translation of the map network's input (pixels of the image), undone "
                         "on the map ('jittered inputs')", smoke=1, paper=8, min=0),
    DEFENCE_SEED=Param(int, "Aug-MSROI's random perturbations", smoke=0, min=0),
    # -- the MS-ROI map network (msroi's names and values: shared through the cache)
    MAP_DATA=Param(str, "MAP_TRAIN='composites': the CIFAR object / background images of the map network's "
                        "training scenes (msroi's DATA; lib.data)", smoke="synthetic", quick="auto", paper="cifar10"),
    # -- the MS-ROI map network: msroi's own declarations (names, meanings, values per profile), so that
    #    MapNetSpec.from_params gives the same spec and the cached network is shared; declared once, there
    **{name: MSROI[name] for name in SHARED_MAP_PARAMS},
    # -- figures and claims
    EXAMPLES=Param(int, "images shown in Figs. 3.1, 3.3, 3.5", smoke=3, quick=4, min=1),
    TIMING=Param(int, "AM-C13: images encoded by Aug-MSROI in the timing run", smoke=8, quick=300, min=1),
)
