"""Dodge & Karam, *Quality Resilient Deep Neural Networks*: the paper's own numbers, captions and claims.

Tables 1–7 copied as printed (Table 5 rebuilt from a garbled extraction; its `M_mix` row is missing from
the text and stays missing). Nothing here is computed; `render` sets these beside our results.
Units: AUC normalised so that 1.00 is 100% accuracy at every level; parameters in millions.
"""
from __future__ import annotations

import pandas as pd

MODELS = ("M_clean", "M_noise", "M_blur", "M_all", "M_avg", "M_max", "M_hardmix", "M_mix")
DATASETS = ("Caltech101", "Caltech256", "Scene67", "ImageNet-50")
CLASSES = {"Caltech101": 101, "Caltech256": 256, "Scene67": 67, "ImageNet-50": 50}   # 101/256/67 inferred
GATE_PARAMS = 98_531          # Table 1 with biases and no BN ("98.5 thousand")
LAMBDA = 0.01                 # Eq. 5
NOISE_MAX = 100.0             # AWGN σ range 0–100 (0–255 scale)
BLUR_MAX = 10.0               # blur σ range 0–10 px (224×224 crops)
TEST_LEVELS = 10              # "we test 10 levels of distortions for each testing image"

TABLE1 = pd.DataFrame(
    [("Input", "224 × 224 pixels"), ("Conv-1", "16 (3 × 3) filters"), ("Pool-1", "2 × 2 max pooling"),
     ("Conv-2", "32 (3 × 3) filters"), ("Pool2", "2 × 2 max pooling"), ("Conv3", "64 (3 × 3) filters"),
     ("Pool3", "2 × 2 max pooling"), ("Conv-4", "64 (3 × 3) filters"), ("Pool4", "2 × 2 max pooling"),
     ("Conv-5", "64 (3 × 3) filters"), ("Conv-6", "16 (1 × 1) filters"), ("Conv-7", "3 (1 × 1) filters"),
     ("Global Average Pooling", "")], columns=["Layer", "Hyper parameters"])


def _auc_table(rows: list[tuple[float | None, float | None, float | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, index=pd.Index(MODELS, name="Model"), columns=["Noise AUC", "Blur AUC", "Average"])


# Tables 2–5: AUC per model; None = missing in the extraction
AUC_TABLES: dict[str, pd.DataFrame] = {
    "Caltech101": _auc_table([(0.58, 0.35, 0.46), (0.79, 0.40, 0.59), (0.58, 0.71, 0.64), (0.80, 0.68, 0.74),
                              (0.78, 0.66, 0.72), (0.78, 0.69, 0.73), (0.79, 0.71, 0.75), (0.80, 0.72, 0.76)]),
    "Caltech256": _auc_table([(0.34, 0.20, 0.27), (0.54, 0.19, 0.36), (0.37, 0.40, 0.38), (0.52, 0.35, 0.44),
                              (0.55, 0.34, 0.44), (0.54, 0.34, 0.44), (0.54, 0.40, 0.47), (0.57, 0.41, 0.49)]),
    "Scene67": _auc_table([(0.20, 0.14, 0.17), (0.49, 0.17, 0.33), (0.22, 0.35, 0.28), (0.46, 0.35, 0.41),
                           (0.37, 0.23, 0.30), (0.40, 0.27, 0.33), (0.49, 0.35, 0.42), (0.50, 0.36, 0.43)]),
    "ImageNet-50": _auc_table([(0.52, 0.28, 0.40), (0.77, 0.30, 0.54), (0.49, 0.67, 0.58), (0.77, 0.63, 0.70),
                               (0.72, 0.60, 0.66), (0.73, 0.63, 0.67), (0.77, 0.67, 0.72), (None, None, None)]),
}
AUC_TABLE_NUMBER = {"Caltech101": 2, "Caltech256": 3, "Scene67": 4, "ImageNet-50": 5}

_BRANCH_COLUMNS = ["branch", "Caltech101", "Caltech256", "Scene67", "params"]
# Table 6 (TreeNet) and Table 7 (Inverted-TreeNet): mean of noise and blur AUC per dataset, average
# parameters over the three datasets (millions, gate included); branch "M_mix" = no sharing.
TABLE6 = pd.DataFrame([("M_mix", 0.76, 0.49, 0.43, 404.62), ("conv2_1", 0.77, 0.49, 0.43, 404.39),
                       ("conv3_1", 0.75, 0.48, 0.43, 404.10), ("conv4_1", 0.74, 0.47, 0.44, 401.15),
                       ("conv5_1", 0.72, 0.45, 0.38, 389.35), ("fc6", 0.64, 0.42, 0.32, 375.19),
                       ("fc7", 0.60, 0.40, 0.31, 169.66), ("fc8", 0.58, 0.39, 0.30, 136.10)], columns=_BRANCH_COLUMNS)
TABLE7 = pd.DataFrame([("conv2_1", 0.55, 0.34, 0.29, 135.01), ("conv3_1", 0.66, 0.41, 0.40, 135.46),
                       ("conv4_1", 0.73, 0.47, 0.45, 138.41), ("conv5_1", 0.76, 0.51, 0.48, 150.21),
                       ("fc6", 0.77, 0.52, 0.47, 164.37), ("fc7", 0.78, 0.47, 0.47, 369.90),
                       ("fc8", 0.77, 0.50, 0.45, 403.46), ("M_mix", 0.76, 0.49, 0.43, 404.62)], columns=_BRANCH_COLUMNS)
BRANCH_LABEL = {"conv2_1": "Conv2_1", "conv3_1": "Conv3_1", "conv4_1": "Conv4_1", "conv5_1": "Conv5_1",
                "fc6": "FC6", "fc7": "FC7", "fc8": "FC8", "M_mix": "M_mix"}

CAPTIONS = {
    "fig1": "Example performance of quality resilient networks on various quality distortions (clean, Gaussian "
            "noise, Gaussian blur): M_clean fails on distorted images, each fine-tuned network works on its own "
            "distortion only, M_mix performs well on all.",
    "fig2": "Fine-tuning results. Models trained with different types of distortions are tested on noisy images "
            "(a), and blurred images (b).",
    "fig3": "Visualizations of neurons in the Conv5_1 layer: some unchanged (a), some adapted (b), some "
            "effectively 'turned off' by fine-tuning (c, d).",
    "table1": "Parameters of the gating network.",
    "fig4": "Optimal weights: the weighting of the three models with minimum categorical cross-entropy, the "
            "targets of the gating network.",
    "fig5": "Performance of ensemble methods: M_mix vs an averaging ensemble (M_avg) and a single model trained "
            "on both distortions (M_all).",
    "fig6": "Structures of ensemble methods: (a) M_avg, (b) M_mix, (c) TreeNet with gating unit, "
            "(d) Inverted-TreeNet. Grey: layers trained on one distortion type; green: shared layers.",
    "tables2_5": "AUC of the accuracy curves per distortion type (1.00 = 100% at all levels) and their mean.",
    "table6": "TreeNet branch point vs average AUC and number of unique parameters (averaged across 3 datasets); "
              "layers below the branch point are shared.",
    "table7": "Inverted-TreeNet branch point vs average AUC and number of unique parameters (averaged across 3 "
              "datasets); layers below the branch point are not shared.",
}

# The claims (inventory A.3, phrased testably), id -> text; render computes the verdicts.
CLAIMS = {
    "QR-1": "Fine-tuning on a distortion raises AUC on that distortion: noise AUC of M_noise > M_clean, blur AUC "
            "of M_blur > M_clean.",
    "QR-2": "Specialists do not transfer: the cross gain (M_noise on blur, M_blur on noise, over M_clean) is below "
            "a quarter of the matched gain.",
    "QR-3": "Each specialist is worse than the other specialist on the other's distortion.",
    "QR-4": "M_clean has the lowest average AUC of all models.",
    "QR-5": "M_all is not better than the specialist on the specialist's own distortion (tolerance 0.01 AUC).",
    "QR-6": "A simple averaging ensemble beats the single-distortion models: average AUC of M_avg > M_noise and "
            "> M_blur (the paper's Table 4 contradicts this).",
    "QR-7": "M_mix has the highest average AUC of all models.",
    "QR-8": "M_mix is at least as good as every other model on noise AUC and on blur AUC separately (ties allowed).",
    "QR-9": "M_mix > M_all on average AUC.",
    "QR-10": "M_mix > M_hardmix > max(M_avg, M_max) on average AUC.",
    "QR-11": "M_max ≥ M_avg on average AUC.",
    "QR-12": "Optimal weights are near uniform at low levels (max |w − 1/3| < 0.2 at the lowest non-zero level) "
             "and favour the matching expert at the top level (argmax and weight > 0.5).",
    "QR-13": "M_mix is the best of {M_mix, M_avg, M_all} at most (type, level) points; within 1 pp of M_avg at "
             "level 0 and within 2 pp of the matching specialist at the top level.",
    "QR-14": "The gating network has 98.5 thousand parameters.",
    "QR-15": "Inverted-TreeNet beats TreeNet at a similar parameter budget: AUC(Inverted@FC6) > AUC(TreeNet@FC7).",
    "QR-16": "Inverted-TreeNet@FC6 has about 40% of M_mix's parameters and a higher mean AUC than M_mix.",
    "QR-17": "TreeNet's AUC falls as more layers are shared; Inverted-TreeNet's AUC rises as fewer are shared "
             "(Conv2_1 … FC6).",
    "QR-18": "Most parameter savings come from sharing the FC layers: FC6 + FC7 hold about 89% of VGG-16's "
             "parameters.",
    "QR-19": "The Avg Params column follows from VGG-16's layer sizes (TreeNet: below + 3 × above + gate; "
             "Inverted: 3 × below + above + gate).",
    "QR-F1": "Fig. 1's reading, at the figure's level on the whole test set: M_clean fails on distorted images "
             "(accuracy more than 5 pp below its clean accuracy on noise and on blur), each fine-tuned network "
             "works on its own distortion (beats M_clean there) and only there (below the other specialist on the "
             "other distortion), and M_mix performs well on all three conditions (within 2 pp of the best of "
             "M_clean, M_noise, M_blur on clean, noise and blur).",
    "QR-F6": "Fig. 6's structures as drawn: the networks built for (c) TreeNet and (d) Inverted-TreeNet share exactly "
             "the green layers, so their unique parameters equal below + 3 × above + gate (TreeNet) and 3 × below + "
             "above + gate (Inverted-TreeNet), counted from the built modules.",
    "QR-20": "Fine-tuning 'turns off' Conv5_1 neurons: more Conv5_1 channels never fire in M_noise/M_blur than "
             "in M_clean.",
}

# One line of scale (lib.report fills it with the run's parameters)
SCALE = ("{DATA}: {TRAIN_SIZE} training / {VAL_SIZE} validation / {TEST_SIZE} test images, vgg16_slim width "
         "{WIDTH} fc {FC} (paper: VGG-16 ImageNet-pretrained on Caltech/Scene67/ImageNet-50), M_clean "
         "{CLEAN_EPOCHS} epochs, experts ≤ {EXPERT_EPOCHS} epochs, {LEVELS} test levels to AWGN σ {NOISE_MAX} and "
         "blur σ {BLUR_MAX} px (paper: 10 levels to 100 and 10 px at 224²), seeds {SEEDS}")
