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
# # Fig. 5.1, Table 5.1, Fig. 5.3 — RePr vs standard training; ranking criteria
# Prakash, thesis chapter 5 (RePr; Prakash et al., CVPR 2019), §5.4-5.5.
#
# > Figure 5.1: Performance of a three layer ConvNet with 32 filters each over 100 epochs using standard scheme
# > and our method - RePr on CIFAR-10. The shaded regions denote periods when only part of the network is trained.
#
# Fig. 5.1 uses the greedy Oracle ranking (we add Ortho); Table 5.1 trains RePr with each ranking criterion;
# Fig. 5.3 correlates each criterion with the Oracle on the standard network at the first drop point and at
# the end. Every run is cached and shared with the other notebooks.

# %% tags=["parameters"]
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/repr/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.repr import protocol, render

cfg = lib.config.resolve("repr", globals())

# %% [markdown]
# ## Fig. 5.1

# %%
render.fig5_1(cfg, protocol.run_fig5_1(cfg))

# %% [markdown]
# ## Table 5.1

# %%
render.table5_1(cfg, protocol.run_table5_1(cfg))

# %% [markdown]
# ## Fig. 5.3

# %%
render.fig5_3(cfg, protocol.run_fig5_3(cfg))
