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
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/selective_finetuning/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.selective_finetuning import protocol, render

cfg = lib.config.resolve("selective_finetuning", globals())

# %% [markdown]
# ## Table 1, paper beside ours

# %%
res = protocol.run_table1(cfg)
render.table1(cfg, res)
