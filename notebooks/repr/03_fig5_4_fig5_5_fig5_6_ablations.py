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
# # Figs 5.4-5.6 — pruned percentage, many iterations, optimizers and S1 = S2
# Prakash, thesis chapter 5, §5.6.1-5.6.3.
#
# > Figure 5.4: RePr training with various percentage of filters pruned.
# > Figure 5.5: Marginal returns of multiple iterations of RePR - Training and Test accuracy on CIFAR-10.
# > Figure 5.6: Left: Impact of using various optimizers on RePr training scheme. Right: Results from using
# > different S1/S2 values. For clarity, these experiments only shows results with S1 = S2.

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
PRUNE_FRACTIONS = [0.0, 0.1, 0.3, 0.5]   # Fig. 5.4 x-axis (0 is standard training)
MANY_CYCLES = 3                   # Fig. 5.5: RePr iterations (thesis text: N is 28)
OPTIMIZERS = {"sgd": 0.05, "adam": 0.001}   # Fig. 5.6 left: optimizer -> learning rate
S_VALUES = [1, 2]                 # Fig. 5.6 right: S1 is S2 values (epochs)

# %%
import lib
from lib.papers.repr import protocol, render

cfg = lib.config.resolve("repr", globals())

# %% [markdown]
# ## Fig. 5.4

# %%
render.fig5_4(cfg, protocol.run_fig5_4(cfg))

# %% [markdown]
# ## Fig. 5.5

# %%
render.fig5_5(cfg, protocol.run_fig5_5(cfg))

# %% [markdown]
# ## Fig. 5.6

# %%
render.fig5_6(cfg, protocol.run_fig5_6(cfg))
