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
