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
# # Fig. 5.10, Tables 5.4-5.9 — depth, ResNets, DSD and BAN; the tables we cannot run
# Prakash, thesis chapter 5, §5.7-5.8.
#
# > Table 5.4: Comparison of test error from using various techniques.
# > Table 5.5: Comparison of test error on Cifar-10 & Cifar-100 of various ConvNets using Standard training vs
# > RePr Training.
# > Figure 5.10: Accuracy improvement using RePr over standard training on Vanilla ConvNets across many layered
# > networks [C^n(32)].
#
# Tables 5.6-5.9 (ImageNet, VQA, COCO) are shown with the thesis's numbers and what they would need.

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
DEPTHS = [2, 3, 4]                # vanilla C^n depths (thesis Table 5.5: 3, 8, 13, 18)
RESNET_DEPTHS = [8]               # ResNets in Table 5.5 (thesis: 20, 32, 110, 182)
RESNET_TABLE_DEPTH = 8            # the ResNet of Table 5.4 (thesis: 20)
RESNET_SEEDS = [0]                # seeds of the ResNet runs
RESNET_OPTIMIZER = "momentum"     # ResNets' optimizer
RESNET_LR = 0.05                  # ResNets' learning rate
BAN_GENERATIONS = 1               # born-again generations (thesis: N is 3)

# %%
import lib
from lib.papers.repr import protocol, render

cfg = lib.config.resolve("repr", globals())

# %% [markdown]
# ## Table 5.4

# %%
render.table5_4(cfg, protocol.run_table5_4(cfg))

# %% [markdown]
# ## Table 5.5 and Fig. 5.10

# %%
res = protocol.run_depth(cfg)
render.table5_5(cfg, res)

# %%
render.fig5_10(cfg, res)

# %% [markdown]
# ## Tables 5.6-5.9

# %%
render.tables5_6_9(cfg)
