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
# # Tables 4.6-4.8 — destruction rates, JPEG / wavelet combinations, thresholding
# Prakash, thesis chapter 4, §4.10.
#
# > Table 4.6: Destruction rate of various defense techniques.
# > Table 4.7: Ablation of pixel deflection with wavelet denoising and JPEG.
# > Table 4.8: Effect of various thresholding methods after pixel deflection.

# %% tags=["parameters"]
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/pixel_deflection/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.pixel_deflection import protocol, render

cfg = lib.config.resolve("pixel_deflection", globals())

# %% [markdown]
# ## Table 4.6

# %%
render.table4_6(cfg, protocol.run_table4_6(cfg))

# %% [markdown]
# ## Table 4.7

# %%
render.table4_7(cfg, protocol.run_table4_7(cfg))

# %% [markdown]
# ## Table 4.8

# %%
render.table4_8(cfg, protocol.run_table4_8(cfg))
