"""Parameters of RePr (Prakash thesis ch. 5): the six notebooks share them.

smoke = synthetic data, seconds per notebook; quick = real CIFAR-10 on a 2-core CPU, minutes;
paper = the thesis's settings. `quick`/`paper` default to the previous profile's value.
"""
from __future__ import annotations

from lib.params import Param, Params

_OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop")
_CRITERIA = ["random", "activations", "apoz", "gradients", "taylor", "hessian", "weights", "oracle", "ortho"]

PARAMS = Params(
    # -- data, device, repetitions
    DATA=Param(str, "auto | cifar10 | imagefolder:PATH | synthetic (lib.data)", smoke="synthetic", quick="auto",
               paper="cifar10"),
    DEVICE=Param(str, "auto | cpu | cuda", smoke="auto"),
    SEEDS=Param(list[int], "seeds: initialisation, batch order, random ranking, re-initialisation", smoke=[0, 1],
                quick=[0, 1, 2], min_len=1, min=0),
    NO_CACHE=Param(bool, "True retrains every run", smoke=False),
    TRAIN_SIZE=Param(int, "training images (stratified subset; 0: the whole training split)", smoke=256, quick=3000,
                     paper=0, min=0),
    VAL_SIZE=Param(int, "held-out images for data-driven rankings (Oracle etc.; thesis 5K)", smoke=100, quick=300,
                   paper=5000, min=1),
    TEST_SIZE=Param(int, "test images for every final accuracy (0: all)", smoke=200, quick=1500, paper=0, min=0),
    CURVE_SIZE=Param(int, "the first test images of the per-epoch curves (0: all)", smoke=100, quick=500, paper=0,
                     min=0),
    # -- the network C^n(X) and its training
    DEPTH=Param(int, "conv layers n of C^n(X)", smoke=3, min=1),
    WIDTH=Param(int, "filters per layer X (thesis 32)", smoke=8, quick=32, min=1),
    POOL=Param(str, "2x2 max-pools: none | each | thirds (the thesis does not say)", smoke="thirds", paper="none",
               choices=("none", "each", "thirds")),
    EPOCHS=Param(int, "total epochs (thesis 100)", smoke=5, quick=17, paper=100, min=1),
    OPTIMIZER=Param(str, "optimizer", smoke="sgd", choices=_OPTIMIZERS),
    LR=Param(float, "learning rate (thesis: SGD 0.01)", smoke=0.05, paper=0.01, min=0),
    BATCH_SIZE=Param(int, "images per step (not given in the thesis)", smoke=64, min=1),
    # -- the RePr schedule
    S1=Param(int, "epochs of full training before each drop (thesis 20)", smoke=1, quick=3, paper=20, min=1),
    S2=Param(int, "epochs of sub-network training (thesis 10)", smoke=1, quick=2, paper=10, min=1),
    PRUNE=Param(float, "fraction of all filters dropped (thesis 30%)", smoke=0.3, min=0, max=1),
    CYCLES=Param(int, "RePr iterations N (thesis 3)", smoke=2, quick=3, min=1),
    # -- Table 5.1, Figs. 5.2/5.11 (CCA)
    CRITERIA=Param(list[str], "Table 5.1 rows: filter-ranking criteria", smoke=_CRITERIA, min_len=1),
    ORTHO_VARIANTS=Param(list[str], "extra rows beyond the thesis: the public code's score; conv1 not ranked",
                         smoke=["public", "skip_first"]),
    CCA_IMAGES=Param(int, "test images whose activations are correlated", smoke=100, quick=1500, paper=10000, min=1),
    CCA_DIMS=Param(int, "SVD dimensions kept per filter (at most; 99% of variance)", smoke=4, quick=16, min=1),
    CCA_METHOD=Param(str, "cca | pearson (|Pearson| over images and positions)", smoke="cca",
                     choices=("cca", "pearson")),
    # -- Figs. 5.4-5.8 ablations
    PRUNE_FRACTIONS=Param(list[float], "Fig. 5.4 x axis: fractions dropped (0 is standard training)",
                          smoke=[0.0, 0.1, 0.3, 0.5], paper=[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], min=0, max=1,
                          min_len=1),
    MANY_CYCLES=Param(int, "Fig. 5.5: RePr iterations (thesis text: N is 28)", smoke=3, quick=4, paper=28, min=1),
    OPTIMIZERS=Param(dict[str, float], "Fig. 5.6 left: optimizer -> learning rate",
                     smoke={"sgd": 0.05, "adam": 0.001}, quick={"sgd": 0.05, "momentum": 0.005, "adam": 0.001},
                     paper={"sgd": 0.01, "momentum": 0.001, "adam": 0.001}, min=0),
    S_VALUES=Param(list[int], "Fig. 5.6 right: S1 = S2 values (epochs)", smoke=[1, 2], quick=[2], paper=[5, 10, 20],
                   min=1, min_len=1),
    LR_SCHEDULES=Param(dict[str, dict[str, float]], "Fig. 5.7: schedule -> lr, lr_amplitude, lr_period (epochs; "
                       "thesis 50 of 100)",
                       smoke={"step": {"lr": 0.1}, "cyclic": {"lr": 0.001, "lr_amplitude": 0.005, "lr_period": 2.5}},
                       quick={"step": {"lr": 0.1}, "cyclic": {"lr": 0.001, "lr_amplitude": 0.005, "lr_period": 8.5}},
                       paper={"step": {"lr": 0.1}, "cyclic": {"lr": 0.001, "lr_amplitude": 0.005, "lr_period": 50.0}}),
    DROPOUT=Param(float, "Fig. 5.8: dropout probability before the classifier", smoke=0.5, min=0, max=1),
    # -- Fig. 5.9, Tables 5.2/5.3 (KD, orthogonality loss)
    TEACHER_DEPTH=Param(int, "KD teacher: ResNet-(6n+2) trained the standard way", smoke=8, quick=20, min=8),
    ZOO_TEACHER=Param(bool, "KD teacher from the model zoo (ResNet-20 trained on the whole training split) when "
                            "TEACHER_DEPTH is 20 and the zoo's checkpoint matches the data; else trained here on "
                            "the students' images", smoke=True),
    RESNET_OPTIMIZER=Param(str, "ResNets' optimizer", smoke="momentum", choices=_OPTIMIZERS),
    RESNET_LR=Param(float, "ResNets' learning rate", smoke=0.05, paper=0.1, min=0),
    ORTHO_LAMBDA=Param(float, "weight of the orthogonality loss (thesis 0.01)", smoke=0.01, min=0),
    KD_TEMPERATURE=Param(float, "distillation temperature T (not given in the thesis)", smoke=2.0, min=0),
    KD_ALPHA=Param(float, "weight of the soft-target term: alpha·T²·KL + (1 − alpha)·CE", smoke=0.5, min=0, max=1),
    # -- Fig. 5.10, Tables 5.4-5.9 (depth, ResNets)
    DEPTHS=Param(list[int], "vanilla C^n depths (thesis Table 5.5: 3, 8, 13, 18)", smoke=[2, 3, 4], quick=[2, 3, 5],
                 paper=[3, 8, 13, 18], min=1, min_len=1),
    RESNET_DEPTHS=Param(list[int], "ResNets in Table 5.5 (thesis: 20, 32, 110, 182)", smoke=[8], quick=[20],
                        paper=[20, 32], min=8),
    RESNET_TABLE_DEPTH=Param(int, "the ResNet of Table 5.4 (thesis: 20)", smoke=8, quick=20, min=8),
    RESNET_SEEDS=Param(list[int], "seeds of the ResNet runs", smoke=[0], paper=[0, 1, 2], min=0, min_len=1),
    BAN_GENERATIONS=Param(int, "born-again generations (thesis: N is 3)", smoke=1, paper=3, min=1),
)
