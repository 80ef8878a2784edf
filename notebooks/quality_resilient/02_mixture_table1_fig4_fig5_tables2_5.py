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
# # Table 1, Figs. 4–5, Tables 2–5 — The mixture of experts
# Dodge & Karam, *Quality Resilient Deep Neural Networks*, Section 3.
#
# > Figure 4: Optimal weights. We compute the optimal weighting function of the three models to achieve the
# > minimum categorical crossentropy. These optimal weights are used as the target to train a gating network
# > that can predict weights for an image with unknown distortion type and level.
#
# Eq. 4 is solved per distortion type and level on the validation set (SLSQP, cross-checked by EM); the
# gating network of Table 1 regresses these weights (Eq. 5, λ = 0.01); M_mix mixes the experts' softmax
# outputs with the gate's weights.

# %% tags=["parameters"]
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/quality_resilient/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.quality_resilient import protocol, render

cfg = lib.config.resolve("quality_resilient", globals())

# %% [markdown]
# ## Table 1: the gating network (98,531 parameters)

# %%
render.table1(cfg, protocol.run_table1(cfg))

# %% [markdown]
# ## Fig. 4: optimal weights vs level

# %%
render.fig4(cfg, protocol.run_fig4(cfg))

# %% [markdown]
# ## Fig. 5: M_mix vs M_avg vs M_all

# %%
curves = protocol.run_curves(cfg)
render.fig5(cfg, curves)

# %% [markdown]
# ## Tables 2–5: AUC of every model, ours beside each of the paper's four datasets

# %%
render.tables2_5(cfg, curves)
