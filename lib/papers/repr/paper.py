"""RePr (Prakash thesis ch. 5): the thesis's own numbers and the names it prints.

What `render` sets beside our results (Tables 5.1, 5.4, 5.5) and the ranking criteria's names.
Nothing here is computed.
"""
from __future__ import annotations

import pandas as pd

CRITERION_LABEL = {"random": "Random", "activations": "Activations", "apoz": "APoZ [Hu+16]",
                   "gradients": "Gradients [LDS89]", "taylor": "Taylor [Mol+17]", "hessian": "Hessian [LDS89]",
                   "weights": "Weights [HMD16]", "oracle": "Oracle", "ortho": "Ortho", "ortho_public": "Ortho (public code's score)",
                   "ortho:public": "Ortho (public code's score)*", "ortho:skip_first": "Ortho, conv1 not ranked*"}
PAPER_TABLE5_1 = {"Standard": 72.1, "random": 73.4, "activations": 74.1, "apoz": 74.3, "gradients": 74.3,
                  "taylor": 74.3, "hessian": 74.4, "weights": 74.6, "oracle": 76.0, "ortho": 76.4}
PAPER_TABLE5_4 = {"Original [He+16b]": 8.7, "Our Impl": 8.4, "DSD": 7.8, "BAN": 8.2, "RePr (Weights)": 7.7, "RePr (Ortho)": 6.9}
PAPER_TABLE5_5 = pd.DataFrame(
    [["vanilla", 3, 20, 1.0, 27.9, 23.6, 52.8, 41.8], ["vanilla", 8, 66, 1.7, 26.8, 19.5, 50.9, 36.8],
     ["vanilla", 13, 113, 2.5, 26.6, 20.6, 51.0, 37.9], ["vanilla", 18, 159, 3.3, 28.2, 22.5, 51.9, 39.5],
     ["densenet", 5, 1.7, 0.9, 39.4, 36.2, 43.5, 40.9], ["densenet", 40, 1016, 8.0, 6.8, 6.2, 26.4, 25.2],
     ["densenet", 100, 6968, 43.9, 5.3, 5.6, 22.2, 22.1], ["resnet", 20, 269, 1.7, 8.4, 6.9, 32.6, 31.1],
     ["resnet", 32, 464, 2.2, 7.4, 6.1, 31.4, 30.1], ["resnet", 110, 1727, 7.1, 6.3, 5.4, 27.5, 26.4],
     ["resnet", 182, 2894, 11.7, 5.6, 5.1, 26.0, 25.3]],
    columns=["family", "layers", "params_k", "inf_time_rel", "C10 Std", "C10 RePr", "C100 Std", "C100 RePr"])
