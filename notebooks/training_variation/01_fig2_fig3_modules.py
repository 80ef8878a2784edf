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
# # Figs. 2–3 — the three modules and a noisy image
# Bartschat, Unger, Scherr, Stegmaier, Mikut, Reischl: *Robustness of Deep Learning Architectures with Respect to
# Training Data Variation*, §2.2–2.3.
#
# > Fig. 2: Visualisation of the modules: left ResNet, middle Inception, right ResNeXt. The second line defines
# > the number of feature maps produced by the module.
# >
# > Fig. 3: The left images show the original images, the right ones the same images with added noise of σ = 1.
#
# One skeleton (two convolution modules, three residual modules each followed by max-pooling, a convolution
# module, a dense layer with 10 outputs) with three module types. The weight counts are the paper's only
# numbers; the Inception widths are not given in the text (our split: four paths of width/4).

# %% tags=["parameters"]
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/training_variation/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.training_variation import protocol, render

cfg = lib.config.resolve("training_variation", globals())
protocol.data(cfg)   # load the data first, so every record names it (Fig. 2 itself needs none)

# %% [markdown]
# ## Fig. 2 — weights of the modules at width 256, paper beside ours

# %%
render.fig2(cfg, protocol.run_modules(cfg))

# %% [markdown]
# ## Fig. 3 — a frog and a truck, clean and with noise σ = 1 on the [−1, 1] scale

# %%
render.fig3(cfg, protocol.run_fig3(cfg))
