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
# # Tables 4.1-4.5 — accuracy under six attacks, with and without the defence
# Prakash, thesis chapter 4, §4.10.
#
# > Table 4.1: Top-1 accuracy of our model on various attack models (ResNet-50; normal and large perturbations).
# > Tables 4.3-4.5: the same for ResNet-50, VGG-19 and Inception-v3.
#
# Beyond the thesis, Table 4.1 gains an adaptive attacker (BPDA + EOT) and the thesis's own K, r, sigma.

# %% tags=["parameters"]
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/pixel_deflection/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.pixel_deflection import protocol, render

cfg = lib.config.resolve("pixel_deflection", globals())

# %%
res = protocol.run_tables4_1_4_5(cfg)
render.table4_1(cfg, res)

# %%
render.tables4_2_4_5(cfg, res)
