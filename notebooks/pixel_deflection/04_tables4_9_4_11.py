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
# # Tables 4.9-4.11 — deflections, window, sampling, replacement and denoiser
# Prakash, thesis chapter 4, §4.10.
#
# > Table 4.9: number of deflections. Table 4.10: window size. Table 4.11: sampling technique,
# > replacement technique and denoiser, averaged over the six attacks.

# %% tags=["parameters"]
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/pixel_deflection/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.pixel_deflection import protocol, render

cfg = lib.config.resolve("pixel_deflection", globals())

# %%
res = protocol.run_tables4_9_4_11(cfg)
render.table4_9(cfg, res)

# %%
render.table4_10(cfg, res)

# %%
render.table4_11(cfg, res)
