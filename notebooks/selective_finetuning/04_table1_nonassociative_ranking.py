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
# # Table 1 — Non-associative (exemplar) vs associative filter rankings
# Bianchi et al., *Selective CNN-Filters Fine-Tuning*, §3.4 and §5.3.
#
# > Table 1: Comparison of the number of matching convolutional filters, per layer, between the
# > associative ranking and several configurations of the non associative ones [...] All-Conv Net
# > baseline [...] All three convolutional layers have 96 filters each, so the top 25% of each layer
# > only considers 24 filters. The noisy images [...] were perturbed with AWGN with distortion severity
# > σ = 15. Pixels: image pixels used as features for the clustering; FTM: the collapsed feature maps.
#
# Without (clean, noisy) pairs of the same image, each set is represented by its exemplar, the
# 1-medoid (k-medoids with k = 1), and the two exemplars' activation maps are compared by EMD.

# %% tags=["parameters"]
PROFILE = "smoke"                 # smoke | quick | paper; these defaults are the smoke profile
DATA = "synthetic"                # dataset spec: auto | cifar10 | imagefolder:PATH | synthetic
DATA_ALLCONV = None               # All-Conv data; None: same as DATA (paper: cifar100)
DEVICE = "auto"                   # auto | cpu | cuda
SEEDS = [0, 1]                    # repetitions: different clean / noisy halves and noise draws
BASELINE_SEED = 0                 # initialisation / batch order of the clean baseline
MAX_EPOCHS = 3                    # baseline training: epoch cap
PATIENCE = 2                      # baseline early stopping patience, epochs (paper: 15)
BATCH_SIZE = 128                  # baseline batch size
ALLCONV_WIDTH = 8                 # filters in All-Conv's first three layers (paper: 96)
ALLCONV_TRAIN_SIZE = 0            # All-Conv training images (0: the whole training split)
N_RANK = 200                      # (clean, distorted) training pairs of the associative ranking
FRACTION = 0.25                   # top share of filters compared
TABLE1_LEVEL = 15.0               # AWGN σ on 0–255
TABLE1_N = 400                    # training images split into a clean and a noisy half
NO_CACHE = False                  # True recomputes the baseline and rankings

# %%
import lib
from lib.papers.selective_finetuning import protocol, render

cfg = lib.config.resolve("selective_finetuning", globals())

# %% [markdown]
# ## Table 1, paper beside ours

# %%
res = protocol.run_table1(cfg)
render.table1(cfg, res)
