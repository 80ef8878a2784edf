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
# # Figs 5.7 and 5.8 — learning-rate schedules and dropout
# Prakash, thesis chapter 5, §5.6.4-5.6.5.
#
# > Figure 5.7: Test accuracy [...] Left: Fixed Learning Rate schedule of 0.1, 0.01 and 0.001. Right: Cyclic
# > Learning Rate with periodicity of 50 Epochs, and amplitude of 0.005 and starting LR of 0.001.
# > Figure 5.8: Test accuracy [...] standard scheme, RePr with Oracle and RePr with Ortho. Left: With Dropout of
# > 0.5. Right: No Dropout.

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
LR_SCHEDULES = {"step": {"lr": 0.1}, "cyclic": {"lr": 0.001, "lr_amplitude": 0.005, "lr_period": 2.5}}   # period in epochs (thesis 50 of 100)
DROPOUT = 0.5                     # dropout probability before the classifier (Fig. 5.8)

# %%
import lib
from lib.papers.repr import protocol, render

cfg = lib.config.resolve("repr", globals())

# %% [markdown]
# ## Fig. 5.7

# %%
render.fig5_7(cfg, protocol.run_fig5_7(cfg), protocol.base_run(cfg).schedule)

# %% [markdown]
# ## Fig. 5.8

# %%
render.fig5_8(cfg, protocol.run_fig5_8(cfg), protocol.base_run(cfg).schedule)
