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
# # Fig. 5.10, Tables 5.4-5.9 — depth, ResNets, DSD and BAN; the tables we cannot run
# Prakash, thesis chapter 5, §5.7-5.8.
#
# > Table 5.4: Comparison of test error from using various techniques.
# > Table 5.5: Comparison of test error on Cifar-10 & Cifar-100 of various ConvNets using Standard training vs
# > RePr Training.
# > Figure 5.10: Accuracy improvement using RePr over standard training on Vanilla ConvNets across many layered
# > networks [C^n(32)].
#
# Tables 5.6-5.9 (ImageNet, VQA, COCO) are shown with the thesis's numbers and what they would need.

# %% tags=["parameters"]
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/repr/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.repr import protocol, render

cfg = lib.config.resolve("repr", globals())

# %% [markdown]
# ## Table 5.4

# %%
render.table5_4(cfg, protocol.run_table5_4(cfg))

# %% [markdown]
# ## Table 5.5 and Fig. 5.10

# %%
res = protocol.run_table5_5_fig5_10(cfg)
render.table5_5(cfg, res)

# %%
render.fig5_10(cfg, res)

# %% [markdown]
# ## Tables 5.6-5.9

# %%
render.tables5_6_9(cfg)
