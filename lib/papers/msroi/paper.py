"""Prakash thesis ch. 2 (Semantic Perceptual Image Compression, DCC 2017): the thesis's own numbers, names and
claims. Nothing here is computed.

Table 2.1 is copied in full. The public per-image logs of the authors' code (inventory B.3) show that its Kodak
row is the KODAK log's mean *truncated* to the printed digits, produced with the code's 'model 6' (Q80/Q100
mosaic), with files 0.9–2.0% *larger* than the reference JPEG; the MIT row has no public log; the resized-image
row matches its log in 11 of 12 cells (MS-SSIM 'ours' is printed 0.991, the log gives 0.98961).
"""
from __future__ import annotations

import pandas as pd

METRICS = ["PSNR-S", "PSNR", "PSNR-HVS", "PSNR-HVSM", "SSIM", "MS-SSIM", "VIFP"]
DB_METRICS = ["PSNR-S", "PSNR", "PSNR-HVS", "PSNR-HVSM"]
SETS = {"kodak": "Kodak PhotoCD [24 images]", "mit": "MIT Saliency Benchmark [Outdoor Man-made + Natural, 200 images]",
        "large": "Re-sized images of a very large image [20 images]"}
ROWS = {"jpeg": "Std JPEG", "ours": "Our model"}

_T21 = {
    ("kodak", "jpeg"): [33.91, 34.70, 34.92, 42.19, 0.969, 0.991, 0.626],
    ("kodak", "ours"): [39.16, 34.82, 35.05, 42.33, 0.969, 0.991, 0.629],
    ("mit", "jpeg"): [36.9, 31.84, 35.91, 45.37, 0.893, 0.982, 0.521],
    ("mit", "ours"): [40.8, 32.16, 36.32, 45.62, 0.917, 0.990, 0.529],
    ("large", "jpeg"): [35.4, 27.46, 33.12, 43.26, 0.912, 0.988, 0.494],
    ("large", "ours"): [39.6, 28.67, 34.63, 44.89, 0.915, 0.991, 0.522],
}
TABLE2_1 = pd.DataFrame([{"set": s, "row": r, **dict(zip(METRICS, v))} for (s, r), v in _T21.items()])

# Fig. 2.4: ΔPSNR-HVS (dB, ours − JPEG) per rescaled image, from the authors' public log (inventory B.3); the
# pixel sizes are not recoverable (the suffix is the log file's). All 19 distinct values are positive.
FIG2_4_LOG = {1: 1.329, 2: 1.405, 3: 1.755, 4: 1.801, 5: 1.519, 6: 1.574, 7: 1.543, 8: 1.330, 9: 1.547, 10: 1.507,
              20: 1.556, 30: 1.506, 40: 1.180, 50: 1.532, 60: 1.506, 70: 1.543, 80: 1.478, 90: 1.550, 100: 1.505}

# §2.5's settings and quoted numbers
LEVELS, Q_LOW, Q_HIGH = 5, 30, 70          # five levels, Q in increments of ten from 30 to 70
REFERENCE_Q = 50                            # standard JPEG Q
MEAN_FINAL_Q = 55                           # "the average Q for the final image generated using our model was 55"
SIZE_TOLERANCE = 0.01                       # "kept within ±1% of each other"
SPEED = 60.0                                # "over 60 images per second for 1920x1080 using a Titan X Maxwell GPU"

# Fig. 2.5 categories named in §2.6
STRONG = ["Outdoor Natural", "Outdoor Man Made", "Action", "Object"]
WEAK = ["Line Drawing", "Fractal", "Low Resolution"]
NO_GAIN = "Pattern"

# Claim margins (inventory B.5)
C1_EFFECT = 3.0          # dB of ΔPSNR-S for "reproduces the size of the effect" (thesis: +3.9 … +5.25)
C2_MARGIN_DB = 0.05      # "maintained": mean Δ ≥ −0.05 dB for the PSNR family
C2_MARGIN_SSIM = 0.002   # … and ≥ −0.002 for SSIM, MS-SSIM, VIFP
C3_MOST = 0.8            # "consistently": ΔSSIM > 0 and ΔMS-SSIM > 0 on more than 80% of images
C6_SPREAD = 1.0          # dB, max − min of ΔPSNR-HVS over sizes for "consistent"
C10_FAIL = 20.0          # %: "partial failure is rare (1 in 5)"

CLAIMS = {
    "ms.c1": "MS-C1: at equal file size (±1%) vs standard JPEG at Q = 50, MS-ROI JPEG has much higher PSNR-S "
             "(thesis: +3.9 to +5.25 dB); tested: mean ΔPSNR-S > 0 on every image set, and ≥ 3 dB for the size "
             "of the effect.",
    "ms.c2": "MS-C2: … while PSNR, PSNR-HVS, PSNR-HVS-M, SSIM, MS-SSIM and VIFP are maintained or improved "
             "(\"without sacrificing overall image quality\"; tested: mean Δ ≥ −0.05 dB / −0.002 on every set).",
    "ms.c3": "MS-C3: \"Our model consistently outperforms standard JPEG on SSIM and MS-SSIM\" (tested: ΔSSIM > 0 and "
             "ΔMS-SSIM > 0 on more than 80% of images, Wilson interval).",
    "ms.c4": "MS-C4: the file sizes of ours and of the standard JPEG are within ±1% (every image).",
    "ms.c5": "MS-C5: at equal size the final re-encoding quality is above the reference's (thesis: 55 vs 50; "
             "tested: mean Q_f > 50).",
    "ms.c6": "MS-C6: ΔPSNR-HVS > 0 at every tested image size, and consistent across sizes (max − min ≤ 1 dB).",
    "ms.c7": "MS-C7: ΔPSNR-HVS > 0 in every object category; 'Pattern' (no semantic objects) is the only category "
             "without improvement.",
    "ms.c8": "MS-C8: gains are strongest for multi-object natural scenes (the 'MIT outdoor' set) and weakest where "
             "semantic content is absent ('Pattern'); only partly mappable to composites.",
    "ms.c9": "MS-C9: the MS-ROI map captures more of the objects of a multi-object image than CAM, and more than "
             "saliency (spectral residual stands in for eye fixations); tested: object recall, paired over scenes.",
    "ms.c10": "MS-C10: maps strongly capture the salient content of most images; partial failure is rare (1 in 5; "
              "tested: share of scenes with an object missed ≤ 20%).",
    "ms.c11": "MS-C11: one inference per image: over 60 maps per second at 1920×1080 (Titan X Maxwell).",
}

SCALE = ("CIFAR composites instead of Caltech-256 / Kodak / MIT: map network at {MAP_SIZE} px trained on {MAP_SCENES} "
         "scenes for {MAP_EPOCHS} epochs (thesis: Caltech-256 at 224 px), {N_MAP_EVAL} held-out map-evaluation "
         "scenes; compression at {EVAL_SIZE} px on {N_KODAK} 'Kodak' and {N_MIT} 'MIT outdoor' composites "
         "(thesis: 24 Kodak and 200 MIT images), {N_PER_CATEGORY} scenes per Fig. 2.5 category, sizes {SIZES} "
         "(count, smallest, largest; thesis: 20 sizes of one 8705×8400 image); encoders {VARIANTS}, reference "
         "JPEG Q{REFERENCE_Q}")
