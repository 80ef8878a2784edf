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
# # Fig. 4 — Which first-layer filters does distortion disturb most?
# Bianchi, Vendra, Protopapas, Brambilla, *Improving Image Classification Robustness through Selective
# CNN-Filters Fine-Tuning*, §3.2 and §5.1.
#
# > Fig. 4: Distortion susceptibility of convolutional filters in the first convolutional layer of both
# > baseline models, when tested on clean and blurred image pairs respectively from CIFAR-10 and
# > CIFAR-100. Similar results can be observed in case of AWGN distortion.
#
# For every (clean, distorted) training pair, each filter's activation map is compared by the Earth
# mover's distance (1-D Wasserstein-1 over the map's activation values); each image then votes with a
# Borda count (10 points for the most changed filter … 1 for the 10th) and the points are summed.
# The paper also reports how many of the top-25% filters the blur and AWGN rankings share
# (6/8 for CIFAR-10, 19/24 for CIFAR-100).

# %% tags=["parameters"]
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/selective_finetuning/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.selective_finetuning import protocol, render

cfg = lib.config.resolve("selective_finetuning", globals())

# %% [markdown]
# ## Baselines (trained on clean images, cached)

# %%
print({(net, seed): f"{protocol.baseline(cfg, net, seed)[1]['test_acc']:.1%} clean test accuracy"
       for net in cfg.p.NETS for seed in cfg.p.SEEDS})

# %% [markdown]
# ## Fig. 4 and the blur/AWGN overlap

# %%
res = protocol.run_fig4(cfg)
render.fig4(cfg, res)

# %% [markdown]
# ## Check: does the reading of "EMD" matter?
# The paper does not say over what its EMD is computed. We use the 1-D distance between activation
# values; here the spatial EMD (mass over pixel positions) ranks the same pairs on a small subset.

# %%
res_emd = protocol.run_emd_readings(cfg)
render.emd_readings(cfg, res_emd)
