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
# # Figs 5.2 and 5.11 — filter correlations (CCA) and the greedy Oracle
# Prakash, thesis chapter 5, §5.3 and §5.6.
#
# > Figure 5.2: Left: Canonical Correlation Analysis of activations from two layers of a ConvNet trained on
# > CIFAR-10. Right: Distribution of change in accuracy when the model is evaluated by dropping one filter at a time.
# >
# > Figure 5.11: Canonical Correlation Analysis of activations from the 1st and 2nd layer of a C2(32) ConvNet.
#
# The thesis does not say what exactly is correlated; `lib.cca` documents our reading (each filter's map
# over images, positions as variables, SVCCA-reduced; the top canonical correlation of each pair).

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
CCA_IMAGES = 100                 # test images whose activations are correlated
CCA_DIMS = 4                      # SVD dimensions kept per filter (at most; 99% of variance)
CCA_METHOD = "cca"                # cca | pearson (|Pearson| over images and positions)

# %%
import lib
from lib.papers.repr import protocol, render

cfg = lib.config.resolve("repr", globals())

# %% [markdown]
# ## Fig. 5.2 and Fig. 5.11

# %%
res = protocol.run_cca(cfg)
render.fig5_2(cfg, res)

# %%
render.fig5_11(cfg, res)
