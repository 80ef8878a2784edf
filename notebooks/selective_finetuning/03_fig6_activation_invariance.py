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
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/selective_finetuning/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.selective_finetuning import protocol, render

cfg = lib.config.resolve("selective_finetuning", globals())

# %% [markdown]
# ## Fig. 6

# %%
res = protocol.run_fig6(cfg)
render.fig6(cfg, res)
