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
# # Figs. 6–9, Tables 2–3 — frozen CNNs with a new head, clean CIFAR-10 vs CIFAR-10-C
# Rojas-Alvarez, Reyes-Amezcua, Mendez-Vazquez, §5.3 and §6.
#
# > Cada arquitectura se entrenó primero, sin pesos, con un conjunto de datos basado en CIFAR-10, para luego
# > evaluarse en CIFAR-10-C [...] evaluando la precisión y la pérdida en cada una de las 30 épocas, con Adam
# > como optimizador y Entropía Cruzada como función de pérdida. En segundo lugar, lo mismo con el modelo
# > preentrenado en ImageNet. En tercer lugar, ambos con el conjunto de prueba de CIFAR-10 sin corrupciones.
#
# ResNet18/50/101, VGG16/19 and AlexNet with torchvision's topology; every parameter frozen except a new
# 10-way last layer, trained 30 epochs with Adam; accuracy and loss on the clean test set and on
# CIFAR-10-C (all 19 corruptions × 5 severities pooled) after every epoch. Without pretraining the
# backbone keeps torchvision's random initialisation; with pretraining it holds ImageNet weights (paper
# profile) or, in the quick profile, a **stand-in**: the backbone trained on a disjoint pool of CIFAR-10
# training images. That arm is labelled on every page and claim: it is not ImageNet.

# %% tags=["parameters"]
PROFILE = "smoke"   # smoke | quick | paper. Every parameter, its meaning and its value per profile:
                    # lib/papers/cifar10c_pretrained/params.py; override one with papermill / runall.py -p NAME VALUE

# %%
import lib
from lib.papers.cifar10c_pretrained import protocol, render

cfg = lib.config.resolve("cifar10c_pretrained", globals())

# %% [markdown]
# ## The study: every architecture × arm × seed (cached per architecture and arm)

# %%
res = protocol.run_study(cfg)

# %% [markdown]
# ## Fig. 6 — ResNets without pretraining

# %%
render.fig6(cfg, res)

# %% [markdown]
# ## Fig. 7 — ResNets with pretraining

# %%
render.fig7(cfg, res)

# %% [markdown]
# ## Fig. 8 — VGG16 and VGG19, (a) without and (b) with pretraining

# %%
render.fig8(cfg, res)

# %% [markdown]
# ## Fig. 9 — AlexNet without and with pretraining

# %%
render.fig9(cfg, res)

# %% [markdown]
# ## Table 2 — relative accuracy drop, paper beside ours

# %%
render.table2(cfg, res)

# %% [markdown]
# ## Table 3 — loss and accuracy, paper beside ours (with per-corruption and per-severity tables)

# %%
render.table3(cfg, res)

# %% [markdown]
# ## Diagnosis — were the paper's CIFAR-10-C images fed unscaled?

# %%
render.diag_scale(cfg, res)
