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
# # Figs 5.7 and 5.8 — learning-rate schedules and dropout
# Prakash, thesis chapter 5, §5.6.4-5.6.5.
#
# > Figure 5.7: Test accuracy [...] Left: Fixed Learning Rate schedule of 0.1, 0.01 and 0.001. Right: Cyclic
# > Learning Rate with periodicity of 50 Epochs, and amplitude of 0.005 and starting LR of 0.001.
# > Figure 5.8: Test accuracy [...] standard scheme, RePr with Oracle and RePr with Ortho. Left: With Dropout of
# > 0.5. Right: No Dropout.

# %% tags=["parameters"]
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/repr/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.repr import protocol, render

cfg = lib.config.resolve("repr", globals())

# %% [markdown]
# ## Fig. 5.7

# %%
render.fig5_7(cfg, protocol.run_fig5_7(cfg))

# %% [markdown]
# ## Fig. 5.8

# %%
render.fig5_8(cfg, protocol.run_fig5_8(cfg))
