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
# # Fig. 5 — the 19 CIFAR-10-C corruptions at five severities
# Rojas-Alvarez, Reyes-Amezcua, Mendez-Vazquez, *Análisis de impacto en clasificadores CNNs ante la
# evaluación de imágenes con perturbaciones naturales*, §4.
#
# > Figura 5: Ejemplos de corrupciones aplicadas a imágenes, obtenido de [5].
# > (Examples of corruptions applied to images, from Hendrycks & Dietterich.)
#
# The paper borrows this figure; ours shows one test image through our own generator (`lib.corruptions`,
# the CIFAR constants of `make_cifar_c.py`), the one that builds the CIFAR-10-C set of the study.

# %% tags=["parameters"]
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/cifar10c_pretrained/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.cifar10c_pretrained import protocol, render

cfg = lib.config.resolve("cifar10c_pretrained", globals())

# %% [markdown]
# ## Fig. 5

# %%
render.fig5(cfg, protocol.run_fig5(cfg))
