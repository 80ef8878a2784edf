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
# # Figs 5.4-5.6 — pruned percentage, many iterations, optimizers and S1 = S2
# Prakash, thesis chapter 5, §5.6.1-5.6.3.
#
# > Figure 5.4: RePr training with various percentage of filters pruned.
# > Figure 5.5: Marginal returns of multiple iterations of RePR - Training and Test accuracy on CIFAR-10.
# > Figure 5.6: Left: Impact of using various optimizers on RePr training scheme. Right: Results from using
# > different S1/S2 values. For clarity, these experiments only shows results with S1 = S2.

# %% tags=["parameters"]
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/repr/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.repr import protocol, render

cfg = lib.config.resolve("repr", globals())

# %% [markdown]
# ## Fig. 5.4

# %%
render.fig5_4(cfg, protocol.run_fig5_4(cfg))

# %% [markdown]
# ## Fig. 5.5

# %%
render.fig5_5(cfg, protocol.run_fig5_5(cfg))

# %% [markdown]
# ## Fig. 5.6

# %%
render.fig5_6(cfg, protocol.run_fig5_6(cfg))
