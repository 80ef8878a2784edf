"""Bianchi et al., selective CNN-filter fine-tuning: the paper's own numbers and the names it prints.

What `render` sets beside our results (Fig. 4's blur/AWGN overlaps, Table 1) and the networks' names.
Nothing here is computed.
"""
from __future__ import annotations

import pandas as pd

NET_LABEL = {"cifar10_net": "CIFAR-10 net", "allconv_bn": "All-Conv Net"}
PAPER_FIG4_OVERLAP = {"cifar10_net": (6, 8), "allconv_bn": (19, 24)}
PAPER_TABLE1 = pd.DataFrame(
    {("Layer 1", "Pixels"): ["18/24", "-"], ("Layer 1", "FTM"): ["14/24", "13/24"],
     ("Layer 2", "Pixels"): ["13/24", "-"], ("Layer 2", "FTM"): ["13/24", "11/24"],
     ("Layer 3", "Pixels"): ["19/24", "-"], ("Layer 3", "FTM"): ["19/24", "17/24"]},
    index=pd.Index(["Euclidean", "Hamming"], name="Distance"))


# The claims each artefact tests, as the paper states them (render computes the verdicts): id -> text.
CLAIMS = {
    "sf.fig4.few_susceptible":
        "A few first-layer filters are far more susceptible to distortion than the rest: the top 25% collect "
        "more than half of all Borda points (25% if all filters were equally susceptible).",
    "sf.fig4.type_independent":
        "The set of most susceptible filters barely depends on the distortion type (paper: 6/8 top-25% filters "
        "shared by blur and AWGN for CIFAR-10, 19/24 for CIFAR-100).",
    "sf.fig5.most_beats_least":
        "Fine-tuning the 25% most susceptible filters beats the 25% least susceptible in every configuration.",
    "sf.fig6.finetuned_more_invariant":
        "Fine-tuned models' activations are more invariant to the noise than the baseline's (smaller Hamming "
        "distance between sharp and noisy activations) in each of the first three layers.",
    "sf.fig6.most_slightly_more_invariant":
        "The model fine-tuned on the most susceptible filters is (slightly) more invariant than the one "
        "fine-tuned on all filters (read as: in each of the first three layers; one layer against fails it).",
    "sf.table1.above_chance":
        "Non-associative (exemplar) rankings match the associative top-25% far above chance, in most of the "
        "layer × feature × distance cells (here: exact hypergeometric test pooled over seeds, p < 0.01).",
    "sf.table1.pixels_closest":
        "Exemplars found on image pixels give the ranking closest to the associative one (more matches than "
        "feature-map exemplars under the same Euclidean distance, averaged over layers).",
    "sf.check.emd_reading":
        "Suite check (not a paper claim): the 1-D and the spatial EMD select largely the same top-25% filters "
        "(more than half shared).",
    "sf.fig5.mild_level_small_gain":
        "At the mildest distortion level fine-tuning gains about 2 points or less over the baseline.",
}

# One line of scale for the reports (lib.report formats it with the run's parameters, lib.index shows it;
# a renderer may set `Record.scale` to add measured numbers such as our baselines' accuracy).
SCALE = ("CIFAR-10, rankings from {N_RANK} (clean, distorted) pairs, {TEST_SIZE} distorted test images per "
         "accuracy, fine-tuning at most {FT_STEPS} steps (early stop every {FT_EVAL_EVERY}), All-Conv width "
         "{ALLCONV_WIDTH} (paper: 96)")
