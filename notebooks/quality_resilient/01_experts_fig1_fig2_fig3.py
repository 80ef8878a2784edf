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
# # Figs. 1–3 — Experts fine-tuned on one distortion
# Dodge & Karam, *Quality Resilient Deep Neural Networks*, Section 2.
#
# > Figure 2: Fine-tuning results. Models trained with different types of distortions are tested on noisy
# > images (a), and blurred images (b). M_noise performs well on noisy images, but performs poorly on
# > blurred images. Similarly, M_blur performs well on blurry images but poorly on noisy images.
#
# M_clean is trained on clean images; M_noise and M_blur start from it, with half of every batch distorted,
# each image at its own random level (AWGN σ ~ U(0, NOISE_MAX) on 0–255, blur σ ~ U(0, BLUR_MAX) px).

# %% tags=["parameters"]
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/quality_resilient/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.quality_resilient import protocol, render

cfg = lib.config.resolve("quality_resilient", globals())

# %% [markdown]
# ## Fig. 2: accuracy vs level (the AUCs of these curves are the first rows of Tables 2–5)

# %%
curves = protocol.run_curves(cfg)
render.fig2(cfg, curves)

# %% [markdown]
# ## Fig. 1: one test image, clean and distorted, with each model's prediction

# %%
render.fig1(cfg, protocol.run_fig1(cfg), curves)

# %% [markdown]
# ## Fig. 3: Conv5_1 neurons (activation maximisation) and the share of channels that stop firing

# %%
render.fig3(cfg, protocol.run_fig3(cfg))
