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
# # Fig. 5.9, Tables 5.2 and 5.3 — knowledge distillation and the orthogonality loss
# Prakash, thesis chapter 5, §5.6.6-5.6.7.
#
# > Figure 5.9: Comparison of orthogonality of filters (Ortho-sum - eq 2) in standard training and RePr
# > training with and without Knowledge Distillation. Lower value signifies less overlapping filters.
# > Table 5.2: Comparison of addition of Orthogonality loss to Standard Training and RePr.
# > Table 5.3: Comparison of Knowledge Distillation with RePr.

# %% tags=["parameters"]
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/repr/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.repr import protocol, render

cfg = lib.config.resolve("repr", globals())

# %% [markdown]
# ## Fig. 5.9

# %%
render.fig5_9(cfg, protocol.run_fig5_9(cfg))

# %% [markdown]
# ## Tables 5.2 and 5.3

# %%
res = protocol.run_table5_2_5_3(cfg)
render.table5_2(cfg, res)

# %%
render.table5_3(cfg, res)
