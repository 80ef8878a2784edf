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
# # Table 2.1, Figs. 2.1, 2.4, 2.5 — semantic JPEG at the size of standard JPEG
# Prakash, PhD thesis (Brandeis 2019), ch. 2, §2.4–2.6.
#
# > the file size of the standard JPEG image and the JPEG obtained from our model were kept within ±1% of each
# > other. [...] It is evident from the results that the salient objects have significantly higher PSNR-S, yet
# > maintains overall PSNR and the file size.
#
# Every image is compressed by three encoders (the thesis's Algorithm 1, the public code's model 6, and true
# per-block quantisation; `lib.jpeg`) at the size of Pillow's JPEG at Q50 (±1%, enforced by bisection), once with
# the oracle map (the paste masks: the encoder alone) and once with the learned MS-ROI map (end to end), and
# compared with the Q50 JPEG and with a standard JPEG at exactly our size. Metrics on luma as the thesis's tool
# computed them (`lib.iqa`).

# %% tags=["parameters"]
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/msroi/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.msroi import protocol, render

cfg = lib.config.resolve("msroi", globals())

# %% [markdown]
# ## Compress every image set (map network from notebook 01's cache; results cached per set)

# %%
res = protocol.run_compression(cfg)

# %% [markdown]
# ## Table 2.1 — results across datasets, thesis beside ours

# %%
render.table2_1(cfg, res)

# %% [markdown]
# ## Fig. 2.1 — a salient object in standard JPEG and in ours

# %%
render.fig2_1(cfg, res)

# %% [markdown]
# ## Fig. 2.4 — ΔPSNR-HVS across image sizes

# %%
render.fig2_4(cfg, res)

# %% [markdown]
# ## Fig. 2.5 — ΔPSNR-HVS across categories

# %%
render.fig2_5(cfg, res)
