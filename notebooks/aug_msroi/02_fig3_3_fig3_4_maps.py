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
# # Figs. 3.3–3.4 — MS-ROI and Aug-MSROI maps of adversarial images
# Prakash, PhD thesis (Brandeis 2019), ch. 3, §3.6.
#
# > Most of the head of the baby elephant is retrieved in the Aug-MSROI heat map but not in the standard MSROI.
#
# Aug-MSROI averages the MS-ROI map over randomly perturbed passes of the map network (noise on the input and on
# the activations, random one-pixel translations undone on the map). The MS-ROI network is `msroi`'s, shared
# through the cache.

# %% tags=["parameters"]
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/aug_msroi/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.aug_msroi import protocol, render

cfg = lib.config.resolve("aug_msroi", globals())

# %%
maps = protocol.run_maps(cfg)

# %% [markdown]
# ## Fig. 3.3 — MS-ROI on the original, MS-ROI and Aug-MSROI on the adversarial image

# %%
render.fig3_3(cfg, maps)

# %% [markdown]
# ## Fig. 3.4 — the jittered passes and their average

# %%
render.fig3_4(cfg, maps)
