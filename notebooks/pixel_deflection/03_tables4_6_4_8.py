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
# # Tables 4.6-4.8 — destruction rates, JPEG / wavelet combinations, thresholding
# Prakash, thesis chapter 4, §4.10.
#
# > Table 4.6: Destruction rate of various defense techniques.
# > Table 4.7: Ablation of pixel deflection with wavelet denoising and JPEG.
# > Table 4.8: Effect of various thresholding methods after pixel deflection.

# %% tags=["parameters"]
PROFILE = "smoke"                 # smoke | quick | paper; these defaults are the smoke profile
DATA = "synthetic"                # auto | cifar10 | imagefolder:PATH | imagenet:PATH (paper) | synthetic
DEVICE = "auto"                   # auto | cpu | cuda
MODELS = ["vgg_gap", "allconv_bn"]   # CIFAR: resnet20 vgg_gap allconv_bn; ImageNet: resnet50 vgg19 inception_v3
WIDTHS = {"vgg_gap": 8, "allconv_bn": 8}         # first-layer filters of the CIFAR nets (quick: 32 and 32)
WEIGHTS = "pretrained"            # ImageNet models only: pretrained (torchvision files) or random
TRAIN_SIZE = 0                    # CIFAR training images (stratified subset; 0 is the whole training split)
TRAIN_EPOCHS = 1                  # epochs of Adam for each CIFAR classifier
LR = 0.002                        # Adam learning rate of the classifiers
MODEL_SEED = 0                    # initialisation and batch order of the classifiers
N_IMAGES = 16                     # correctly classified test images per classifier (thesis 1,000)
N_SEARCH = 16                     # correctly classified held-out validation images for the Fig. 4.5 search (thesis 300)
CHUNK = 100                       # images per attack call
ATTACKS = ["fgsm", "igsm", "deepfool", "jsma", "lbfgs", "cw"]
BUDGETS = {"fgsm": 0.05, "igsm": 0.03, "deepfool": 0.02, "jsma": 0.02, "lbfgs": 0.02, "cw": 0.04}   # RMSE on [0, 1], Table 4.1
LARGE_BUDGETS = {"fgsm": 0.12, "igsm": 0.09, "deepfool": 0.08, "jsma": 0.05, "lbfgs": 0.04}          # Table 4.1, large
ATTACK_OPTIONS = {"jsma": {"gamma": 0.1}, "lbfgs": {"max_iter": 20, "binary_search_steps": 2}, "cw": {"max_iter": 20, "binary_search_steps": 2}}
ATTACK_SEED = 0                   # JSMA's random target classes
DEFENCE_SEED = 0                  # the defence's randomness (run r uses a generator derived from it)
RUNS = 10                         # stochastic runs per image (Ens-10 is their majority vote)
TOP_K = 2                         # R-CAM classes (thesis 5 of 1000; 2 of 10 here)
TUNE = True                       # run the Fig. 4.5 search and use its K, r, sigma (False: the thesis values)
SEARCH_SIGMA = [0.02, 0.04]       # sigma grid of the search
SEARCH_WINDOW = [2, 10]           # window grid
SEARCH_DEFLECTIONS = [10, 100]    # deflections grid
SEARCH_PASSES = 1                 # coordinate-search passes
SEARCH_RUNS = 1                   # runs averaged per search point
SWEEP_DEFLECTIONS = [1, 10, 100]  # Table 4.9 grid
SWEEP_WINDOW = [1, 5, 10]         # Tables 4.10 and 4.11 grid
SWEEP_RUNS = 1                    # runs averaged per sweep point
BASELINES = ["bitdepth2", "bitdepth5", "median2", "median3", "nlm11-3-2", "nlm13-3-4", "resize_pad", "tvm"]
ADAPTIVE = {"n": 8, "budget": 0.04, "steps": 2, "eot": 2}   # BPDA+EOT: images, RMSE budget, PGD steps, EOT draws
FIG4_2_N = 16                     # images of Fig. 4.2
FIG4_2_DEFLECTIONS = [0, 3, 10, 31, 100, 300, 1000]   # K values of Fig. 4.2 (31 is 1% of 3x32x32)
NO_CACHE = False                  # True recomputes classifiers, attacks and outcomes

# %%
import lib
from lib.papers.pixel_deflection import protocol, render

cfg = lib.config.resolve("pixel_deflection", globals())

# %% [markdown]
# ## Table 4.6

# %%
render.table4_6(cfg, protocol.run_table4_6(cfg))

# %% [markdown]
# ## Table 4.7

# %%
render.table4_7(cfg, protocol.run_table4_7(cfg))

# %% [markdown]
# ## Table 4.8

# %%
render.table4_8(cfg, protocol.run_table4_8(cfg))
