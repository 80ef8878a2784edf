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
# # Figs. 2.2–2.3 — the MS-ROI map: multi-structure regions of interest
# Prakash, PhD thesis (Brandeis 2019), ch. 2 "Semantic image compression", §2.3–2.5.
#
# > Only our model identifies the face of the boy on the right as well the hands of both children at the bottom.
# > [...] the first four show typical results which strongly capture the salient content of the images, while the
# > fifth is a rare case of partial failure, in which the heatmap does not fully capture all salient regions.
#
# A multi-label network with a separate set of feature maps per class (eqs 2.4–2.6) is trained on composites of
# CIFAR objects pasted on backgrounds (the suite's stand-in for Caltech-256); its map M̂ combines the top five
# classes' maps by rank. It is compared with CAM and with spectral-residual saliency on held-out scenes whose
# object masks are known. The network is cached and shared with `aug_msroi` (thesis ch. 3).

# %% tags=["parameters"]
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/msroi/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.msroi import protocol, render

cfg = lib.config.resolve("msroi", globals())

# %% [markdown]
# ## The map network, CAM and spectral residual on held-out scenes (networks cached)

# %%
res = protocol.run_maps(cfg)

# %% [markdown]
# ## Fig. 2.2 — MS-ROI vs CAM vs saliency

# %%
render.fig2_2(cfg, res)

# %% [markdown]
# ## Fig. 2.3 — our map for five scenes

# %%
render.fig2_3(cfg, res)
