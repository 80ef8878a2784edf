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
# # Figs 5.2 and 5.11 — filter correlations (CCA) and the greedy Oracle
# Prakash, thesis chapter 5, §5.3 and §5.6.
#
# > Figure 5.2: Left: Canonical Correlation Analysis of activations from two layers of a ConvNet trained on
# > CIFAR-10. Right: Distribution of change in accuracy when the model is evaluated by dropping one filter at a time.
# >
# > Figure 5.11: Canonical Correlation Analysis of activations from the 1st and 2nd layer of a C2(32) ConvNet.
#
# The thesis does not say what exactly is correlated; `lib.cca` documents our reading (each filter's map
# over images, positions as variables, SVCCA-reduced; the top canonical correlation of each pair).

# %% tags=["parameters"]
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/repr/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.repr import protocol, render

cfg = lib.config.resolve("repr", globals())

# %% [markdown]
# ## Fig. 5.2 and Fig. 5.11

# %%
res = protocol.run_fig5_2_fig5_11(cfg)
render.fig5_2(cfg, res)

# %%
render.fig5_11(cfg, res)
