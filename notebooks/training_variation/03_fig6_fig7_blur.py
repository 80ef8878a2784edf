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
# # Figs. 6–7 — training with blur: accuracy and minimal adversarial change
# Bartschat et al., §2.3 and §3.
#
# > Fig. 6: Accuracy of the Inception models for different blur levels in training data and different noise
# > level for evaluation. The results for ResNet and ResNeXt are similar (data not shown).
# >
# > Fig. 7: Average required change in pixels to create an adversarial image for different blur levels during
# > training.
#
# Gaussian blur with σ ∈ {0, 0.01, 0.05, 0.1, 0.5, 1, 5} pixels (scipy's kernel rule: at σ ≤ 0.1 the kernel has
# radius 0, so those "blurred" images are the clean ones). All three architectures are shown. The σ = 0 models
# are the ones of the noise notebook (cached).

# %% tags=["parameters"]
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/training_variation/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.training_variation import protocol, render

cfg = lib.config.resolve("training_variation", globals())

# %% [markdown]
# ## The blur models: train (cached per model), evaluate on every blur level, attack

# %%
res = protocol.run_study(cfg, "blur")

# %% [markdown]
# ## Fig. 6 — accuracy vs training blur level, one line per evaluation level

# %%
render.fig6(cfg, res)

# %% [markdown]
# ## Fig. 7 — mean required change (0–255 scale) vs training blur level

# %%
render.fig7(cfg, res)
