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
# # Figs. 4.1-4.4 and 4.6 — what deflection does, where attacks perturb, CAM vs R-CAM, class ranks
# Prakash, thesis chapter 4, §4.5-4.6 and §4.10.2.

# %% tags=["parameters"]
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/pixel_deflection/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.pixel_deflection import protocol, render

cfg = lib.config.resolve("pixel_deflection", globals())

# %% [markdown]
# ## Figs. 4.1 and 4.2

# %%
render.fig4_1_4_2(cfg, protocol.run_fig4_1(cfg), protocol.run_fig4_2(cfg))

# %% [markdown]
# ## Fig. 4.3

# %%
render.fig4_3(cfg, protocol.run_fig4_3(cfg))

# %% [markdown]
# ## Fig. 4.4

# %%
render.fig4_4(cfg, protocol.run_fig4_4(cfg))

# %% [markdown]
# ## Fig. 4.6

# %%
render.fig4_6(cfg, protocol.run_fig4_6(cfg))
