# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Fig. 5.9, Tables 5.2 and 5.3 — knowledge distillation and the orthogonality loss
# Prakash, thesis chapter 5, §5.6.6-5.6.7.
#
# > Figure 5.9: Comparison of orthogonality of filters (Ortho-sum - eq 2) in standard training and RePr
# > training with and without Knowledge Distillation. Lower value signifies less overlapping filters.
# > Table 5.2: Comparison of addition of Orthogonality loss to Standard Training and RePr.
# > Table 5.3: Comparison of Knowledge Distillation with RePr.

# %% tags=["parameters"]
PROFILE = "smoke"                 # smoke | quick | paper; these defaults are the smoke profile
DATA = "synthetic"                # auto | cifar10 | imagefolder:PATH | synthetic
DEVICE = "auto"                   # auto | cpu | cuda
SEEDS = [0, 1]                    # initialisation, batch order, random ranking, re-initialisation
TRAIN_SIZE = 256                  # training images (stratified subset; 0 is the whole training split)
VAL_SIZE = 100                    # held-out images for data-driven rankings (Oracle etc.; thesis 5K)
TEST_SIZE = 200                   # test images for every final accuracy
CURVE_SIZE = 100                  # the first test images of the per-epoch curves (0: all)
DEPTH = 3                         # conv layers n of C^n(X)
WIDTH = 8                         # filters per layer X (thesis 32)
POOL = "thirds"                   # none | each | thirds (2x2 max-pools; the thesis does not say)
EPOCHS = 5                        # total epochs (thesis 100)
S1 = 1                            # epochs of full training before each drop (thesis 20)
S2 = 1                            # epochs of sub-network training (thesis 10)
PRUNE = 0.3                       # fraction of all filters dropped (thesis 30%)
CYCLES = 2                        # RePr iterations N (thesis 3)
OPTIMIZER = "sgd"                 # sgd | momentum | adam | rmsprop
LR = 0.05                         # learning rate (thesis: SGD 0.01)
BATCH_SIZE = 64                   # images per step (not given in the thesis)
NO_CACHE = False                  # True retrains every run
TEACHER_DEPTH = 8                # KD teacher: ResNet-(6n+2) trained the standard way (quick/paper: 20)
RESNET_OPTIMIZER = "momentum"     # ResNets' optimizer
RESNET_LR = 0.05                  # ResNets' learning rate
ORTHO_LAMBDA = 0.01               # weight of the orthogonality loss (thesis 0.01)
KD_TEMPERATURE = 2.0              # distillation temperature T (not given in the thesis)
KD_ALPHA = 0.5                    # weight of the soft-target term, alpha·T²·KL + (1 − alpha)·CE

# %%
import lib
from lib.papers.repr import protocol, render

cfg = lib.config.resolve("repr", globals())

# %% [markdown]
# ## Fig. 5.9

# %%
render.fig5_9(cfg, protocol.run_fig5_9(cfg), protocol.base_run(cfg).schedule)

# %% [markdown]
# ## Tables 5.2 and 5.3

# %%
res = protocol.run_table5_2_5_3(cfg)
render.table5_2(cfg, res)

# %%
render.table5_3(cfg, res)
