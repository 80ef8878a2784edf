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
# # Fig. 6 — Are fine-tuned activations invariant to noise?
# Bianchi et al., *Selective CNN-Filters Fine-Tuning*, §5.2 ("Reducing the covariate shift effects").
#
# > Fig. 6: Disparity between corresponding layer activations on sharp and noisy versions of an example
# > image. Each heat-map represents the Hamming distance between binarized feature vectors (i.e., if each
# > channel is positive or zero) at corresponding locations in the sharp and Gaussian distorted inputs
# > [...] for the first three convolutional layers in the All-Conv Net: (a) Baseline; (b) all the filters
# > in the first three layers fine-tuned with 5000 Gaussian distorted training images; (c) only the top
# > 25% most susceptible filters fine-tuned. The numbers between brackets are each heat-map's sum.
#
# The paper does not give the noise level of Fig. 6; we use `FIG6_LEVEL` (AWGN σ = 15, as in Table 1).
# Beyond the single example, the sums are averaged over `FIG6_EVAL` test images and over seeds.

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
FIG6_LEVEL = 15.0                 # AWGN σ on 0–255
FIG6_N = 200                      # distorted training images used for fine-tuning (paper: 5000)
FIG6_EVAL = 100                   # test images whose map sums are averaged
FIG6_EXAMPLE = 0                  # which of them is drawn

# %%
import lib
from lib.papers.selective_finetuning import protocol, render

cfg = lib.config.resolve("selective_finetuning", globals())

# %% [markdown]
# ## Fig. 6

# %%
res = protocol.run_fig6(cfg)
render.fig6(cfg, res)
