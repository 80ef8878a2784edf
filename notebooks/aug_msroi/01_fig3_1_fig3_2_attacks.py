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
# # Figs. 3.1–3.2 — adversarial noise, and JPEG quality as a defence
# Prakash, PhD thesis (Brandeis 2019), ch. 3 "Semantic JPEG as an adversarial defence", §3.3–3.4.
#
# > Classification accuracy on adversarial images is recovered as quantization increases, but drops when
# > quantization becomes too aggressive. [...] Note that noise intensity is not concentrated in salient regions.
#
# Six white-box attacks (FGSM, IGSM, DeepFool, JSMA, L-BFGS and the single-step L2 gradient attack GA) at RMSE 0.02
# on the classifier; a held-out search split chooses the JPEG quality, the MS-ROI level shift and the Aug-MSROI
# noise scales (never the test images).

# %% tags=["parameters"]
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/aug_msroi/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.aug_msroi import protocol, render

cfg = lib.config.resolve("aug_msroi", globals())

# %% [markdown]
# ## The search split: JPEG quality sweep, MS-ROI level shift, Aug-MSROI noise (attacks cached)

# %%
search = protocol.run_search(cfg)
attacks = protocol.run_attacks(cfg)

# %% [markdown]
# ## Fig. 3.1 — original, perturbation, adversarial image

# %%
render.fig3_1(cfg, attacks)

# %% [markdown]
# ## Fig. 3.2 — (a) accuracy vs JPEG quality, (b) mean saliency vs mean perturbation

# %%
render.fig3_2(cfg, search, attacks)
