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
# # Figs. 4–5 — training with noise: accuracy and minimal adversarial change
# Bartschat et al., §2.3 and §3.
#
# > Fig. 4: Accuracy of the ResNet (top), Inception (middle) and ResNeXt (bottom) for different noise levels in
# > training data and evaluation data. The number after the evaluation set defines the σ of the noise.
# >
# > Fig. 5: Average required change in pixels to create an adversarial image for different noise levels during
# > training.
#
# Seven noise levels σ ∈ {0, 0.01, 0.05, 0.1, 0.5, 1, 5} on the [−1, 1] scale, added after normalisation without
# rounding; one model per (architecture, training level), each evaluated on all seven levels of the same seeded
# test sets (paired), and attacked on the same 128 clean test images (the smallest gradient-sign step that flips
# the label; DeepFool as a second reading).

# %% tags=["parameters"]
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/training_variation/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.training_variation import protocol, render

cfg = lib.config.resolve("training_variation", globals())

# %% [markdown]
# ## The noise models: train (cached per model), evaluate on every noise level, attack

# %%
res = protocol.run_study(cfg, "noise")

# %% [markdown]
# ## Fig. 4 — accuracy vs training noise level, one line per evaluation level

# %%
render.fig4(cfg, res)

# %% [markdown]
# ## Fig. 5 — mean required change (0–255 scale) vs training noise level

# %%
render.fig5(cfg, res)
