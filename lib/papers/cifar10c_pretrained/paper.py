"""Rojas-Alvarez, Reyes-Amezcua, Mendez-Vazquez: the paper's own numbers, names and claims.

Table 3 (loss and accuracy of the fine-tuned CNNs) and Table 2 (accuracy difference between the
CIFAR-10-C-based and the clean test set) as printed; Table 3's last block is labelled "ResNet50" a second
time in the paper and is AlexNet (Table 2's AlexNet column and §6's 23.81% come from it). Nothing here
is computed.
"""
from __future__ import annotations

import pandas as pd

ARCH_LABEL = {"resnet18": "ResNet18", "resnet50": "ResNet50", "resnet101": "ResNet101", "vgg16": "VGG16",
              "vgg19": "VGG19", "alexnet": "AlexNet"}
ARM_LABEL = {"np": "no pretraining", "p": "with pretraining"}
PROXY_LABEL = "stand-in: CIFAR-pretrained, not ImageNet"
RESNETS = ("resnet18", "resnet50", "resnet101")
VGGS = ("vgg16", "vgg19")
# weight layers (conv + linear) along each network: the depth of §7's "fewer layers → more robust"
DEPTH = {"alexnet": 8, "vgg16": 16, "resnet18": 18, "vgg19": 19, "resnet50": 50, "resnet101": 101}

# Table 3: (arch, test set, pretrained) -> (loss, accuracy %); test set "c" = CIFAR-10-C, "clean" = CIFAR-10.
_T3 = {
    "resnet18": [(4426.91, 13.28), (780.97, 11.24), (2.91, 31.2), (3.74, 75.13)],
    "resnet50": [(7065.52, 11.22), (6799.6, 14.57), (17, 26.87), (3.68, 74.8)],
    "resnet101": [(3415399, 10.01), (1017160, 10.78), (19.22, 20.31), (14.33, 76.25)],
    "vgg16": [(434.53, 14.44), (9047.64, 12.91), (2.52, 22.12), (8.93, 68.55)],
    "vgg19": [(375.85, 12.37), (843.24, 16.85), (2.62, 19.6), (9.32, 68.46)],
    "alexnet": [(2.96, 13.01), (26.98, 23.81), (2.92, 13.37), (11.44, 64.98)],
}
_T3_ROWS = [("c", "np"), ("c", "p"), ("clean", "np"), ("clean", "p")]
TABLE3 = pd.DataFrame(
    [{"arch": a, "test": t, "arm": arm, "loss": float(v[0]), "acc": float(v[1])}
     for a, vals in _T3.items() for (t, arm), v in zip(_T3_ROWS, vals)])

# Table 2: relative accuracy drop (%) printed as integers, arm -> arch -> drop.
TABLE2 = {"np": {"resnet18": 57, "resnet50": 58, "resnet101": 51, "vgg16": 35, "vgg19": 37, "alexnet": 3},
          "p": {"resnet18": 85, "resnet50": 81, "resnet101": 86, "vgg16": 81, "vgg19": 75, "alexnet": 63}}

# §6 / §7 numbers the claims quote.
MEAN_P_RESNET_CLEAN = 75.39     # §6: mean clean accuracy of the pretrained ResNets (%)
RESNET_MEAN_DROP = {"np": 55.0, "p": 86.0}   # §7 (the pretrained 86 is ResNet101's alone; Table 2 gives 83.8)
CITED_DROP = (30.0, 40.0)       # §1, citing [2]: corruptions cost about 30–40% of accuracy

CLAIMS = {
    "cc.cc1": "CC-1: for every architecture, pretraining raises clean accuracy (final epoch).",
    "cc.cc2": "CC-2: for every architecture, the relative accuracy drop under corruption (Table 2) is larger with "
              "pretraining than without.",
    "cc.cc3": "CC-3: without pretraining, ResNet18 has the highest CIFAR-10-C accuracy of the ResNets and ResNet101 "
              "the lowest.",
    "cc.cc4": "CC-4: with pretraining, ResNet50 has the highest CIFAR-10-C accuracy of the ResNets.",
    "cc.cc5": "CC-5: for the ResNets, pretraining improves CIFAR-10-C accuracy (§6; the paper's own Table 3 "
              "contradicts it for ResNet18: 13.28% → 11.24%).",
    "cc.cc6": "CC-6: pretrained ResNets reach about 75.39% mean clean accuracy (§6; tested as: within ±10 points).",
    "cc.cc7": "CC-7: VGG without pretraining shows a small CIFAR-10-C vs clean gap (≤ 8 points); with pretraining "
              "the gap is large (≥ 50 points).",
    "cc.cc8": "CC-8: AlexNet without pretraining: CIFAR-10-C accuracy ≈ clean accuracy (|gap| ≤ 1 point).",
    "cc.cc9": "CC-9: pretrained AlexNet has the highest CIFAR-10-C accuracy of all 12 configurations.",
    "cc.cc10": "CC-10: AlexNet has the lowest CIFAR-10-C loss in each arm.",
    "cc.cc11": "CC-11: the ResNets' relative drop barely depends on depth: spread (max − min over ResNet18/50/101) "
               "≤ 10 points in each arm (§7: around 55% without, 86% with pretraining).",
    "cc.cc12": "CC-12: fewer layers → more robust: AlexNet has the smallest relative drop in each arm, and the drop "
               "rises with depth (Spearman ρ over weight-layer depths 8/16/18/19/50/101 > 0).",
    "cc.cc13": "CC-13 (context, §1 citing [2]): corruptions cost about 30–40% of accuracy (mean relative drop over "
               "the six networks within [30, 40]%).",
    "cc.fig5_severity": "Suite check (not a paper claim): on the drawn image, most corruptions (Wilson interval above "
                        "50%) change it more at severity 5 than at severity 1 (mean absolute pixel difference).",
    "cc.diag_scale": "Diagnosis (suite hypothesis, not a paper claim): feeding the corrupted images unscaled (0–255) "
                     "to networks trained on [0, 1] input reproduces the paper's pattern: CIFAR-10-C accuracy near "
                     "chance (≤ 20%) and mean loss far above the clean loss (> 10×) for the BatchNorm ResNets.",
}

SCALE = ("CIFAR-10, width {WIDTH} of torchvision's networks (paper: 1), input {INPUT_SIZE} px (AlexNet "
         "{ALEXNET_INPUT}; paper: 224 presumably), head trained {EPOCHS} epochs on {PROBE_TRAIN} images "
         "(0 = all), clean test {TEST_SIZE} images (0 = all), CIFAR-10-C {C_N} images per corruption × severity "
         "(0 = all 10,000), pretrained arm: {PRETRAINED}")
