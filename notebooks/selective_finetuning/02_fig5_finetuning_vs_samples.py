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
# # Fig. 5 — Fine-tuning the most / least / all 25% of filters vs training-set size
# Bianchi et al., *Selective CNN-Filters Fine-Tuning*, §3.3 and §5.2.
#
# > Fig. 5: Fine-tuning effects on the classification performance of noisy inputs, as a function of the
# > number of training distorted images used to perform such fine-tuning. (1) most: fine-tuning only the
# > 25% of the layer convolutional filters most susceptible to image distortion; (2) least: the 25% least
# > susceptible; (3) all: all convolutional filters of the layer. CIFAR-10 baseline: filters of both
# > convolutional layers; All-Conv Net: only the first three convolutional layers.
#
# The paper plots the moderate and strongest levels and describes the mildest in the text
# ("an ideal 2% margin"); we run the levels listed in `FIG5_LEVELS`. Note that the paper's kernel
# rule (size 4σ) makes the mildest blur (σ = 0.25, kernel 1) the identity.

# %% tags=["parameters"]
PROFILE = "smoke"                 # smoke | quick | paper; these defaults are the smoke profile
DATA = "synthetic"                # CIFAR-10 net's data: auto | cifar10 | imagefolder:PATH | synthetic
DATA_ALLCONV = None               # All-Conv data; None: same as DATA (paper: cifar100)
DEVICE = "auto"                   # auto | cpu | cuda
SEEDS = [0, 1]                    # fine-tuning repetitions: image subsets, noise draws, batch order
BASELINE_SEED = 0                 # initialisation / batch order of the clean baselines
MAX_EPOCHS = 3                    # baseline training: epoch cap
PATIENCE = 2                      # baseline early stopping patience, epochs (paper: 15)
BATCH_SIZE = 128                  # baseline batch size
ALLCONV_WIDTH = 8                 # filters in All-Conv's first three layers (paper: 96)
ALLCONV_TRAIN_SIZE = 0            # All-Conv training images (0: the whole training split)
N_RANK = 200                      # (clean, distorted) training pairs that vote in the rankings
FRACTION = 0.25                   # share of each layer's filters fine-tuned ("most" / "least")
TEST_SIZE = 500                   # distorted test images per accuracy
FT_STEPS = 8                      # fine-tuning: optimiser steps at most
FT_EVAL_EVERY = 4                 # fine-tuning: steps between validation checks
FT_PATIENCE = 2                   # fine-tuning: checks without improvement before stopping
FT_BATCH = 32                     # fine-tuning batch size
FT_LR = 0.001                     # fine-tuning Adam learning rate (Adam's default)
FT_VAL_SIZE = 200                 # distorted validation images for early stopping
NO_CACHE = False                  # True recomputes baselines, rankings and fine-tuned models
NETS = ["cifar10_net", "allconv_bn"]  # baselines to fine-tune
FT_SIZES = [50, 200]              # numbers of distorted training images (x axis)
FIG5_LEVELS = {"cifar10_net": {"awgn": [15.0], "blur": [1.25]},
               "allconv_bn": {"awgn": [15.0], "blur": [1.25]}}  # AWGN σ (0–255), blur σ (px)

# %%
import lib
from lib.papers.selective_finetuning import protocol, render

cfg = lib.config.resolve("selective_finetuning", globals())

# %% [markdown]
# ## Fine-tuning runs (cached per configuration) and Fig. 5

# %%
res = protocol.run_fig5(cfg)
render.fig5(cfg, res)
