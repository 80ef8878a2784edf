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
# # Table 3.1, Figs. 3.5–3.6 — JPEG, MS-ROI JPEG and Aug-MSROI as defences
# Prakash, PhD thesis (Brandeis 2019), ch. 3, §3.7–3.8.
#
# > Results averaged across 300 images. [...] while JPEG was also able to retrieve the original class, it does so
# > with significantly lower confidence.
#
# Every attack's test images through no defence, JPEG at the searched quality, semantic JPEG with the MS-ROI map
# and with the Aug-MSROI map; image quality against the clean original; an adaptive BPDA + EOT attacker beyond
# the thesis.

# %% tags=["parameters"]
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/aug_msroi/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.aug_msroi import protocol, render

cfg = lib.config.resolve("aug_msroi", globals())

# %%
res = protocol.run_defences(cfg)

# %% [markdown]
# ## Table 3.1 — accuracy and image quality, thesis beside ours

# %%
render.table3_1(cfg, res)

# %% [markdown]
# ## Fig. 3.5 — original, adversarial, JPEG, Aug-MSROI

# %%
render.fig3_5(cfg, res)

# %% [markdown]
# ## Fig. 3.6 — accuracy per attack

# %%
render.fig3_6(cfg, res)
