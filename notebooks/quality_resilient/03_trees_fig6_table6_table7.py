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
# # Fig. 6, Tables 6–7 — Sharing parameters: TreeNet and Inverted-TreeNet
# Dodge & Karam, *Quality Resilient Deep Neural Networks*, Section 4.
#
# > Table 6: TreeNet branch point vs average AUC and number of unique parameters (averaged across 3
# > datasets). Layers below the branch point are shared and layers including and above the branch point
# > are not shared. Table 7: Inverted-TreeNet [...] layers below the branch point are not shared and layers
# > including and above the branch point are shared.

# %% tags=["parameters"]
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/quality_resilient/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.quality_resilient import protocol, render

cfg = lib.config.resolve("quality_resilient", globals())

# %% [markdown]
# ## Tables 6–7: AUC and parameters per branch point (with VGG-16's analytic parameter column)

# %%
trees = protocol.run_trees(cfg)
render.table6(cfg, trees)

# %%
render.table7(cfg, trees)

# %% [markdown]
# ## Fig. 6: the structures (a schematic)

# %%
render.fig6(cfg, trees)
