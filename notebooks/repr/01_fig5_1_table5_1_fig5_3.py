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
# # Fig. 5.1, Table 5.1, Fig. 5.3 — RePr vs standard training; ranking criteria
# Prakash, thesis chapter 5 (RePr; Prakash et al., CVPR 2019), §5.4-5.5.
#
# > Figure 5.1: Performance of a three layer ConvNet with 32 filters each over 100 epochs using standard scheme
# > and our method - RePr on CIFAR-10. The shaded regions denote periods when only part of the network is trained.
#
# Fig. 5.1 uses the greedy Oracle ranking (we add Ortho); Table 5.1 trains RePr with each ranking criterion;
# Fig. 5.3 correlates each criterion with the Oracle on the standard network at the first drop point and at
# the end. Every run is cached and shared with the other notebooks.

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
CRITERIA = ["random", "activations", "apoz", "gradients", "taylor", "hessian", "weights", "oracle", "ortho"]   # Table 5.1 rows
ORTHO_VARIANTS = ["public", "skip_first"]   # extra rows beyond the thesis: the public code's score; conv1 not ranked

# %%
import lib
from lib.papers.repr import protocol, render

cfg = lib.config.resolve("repr", globals())

# %% [markdown]
# ## Fig. 5.1

# %%
render.fig5_1(cfg, protocol.run_fig5_1(cfg))

# %% [markdown]
# ## Table 5.1

# %%
render.table5_1(cfg, protocol.run_table5_1(cfg))

# %% [markdown]
# ## Fig. 5.3

# %%
render.fig5_3(cfg, protocol.run_fig5_3(cfg))
