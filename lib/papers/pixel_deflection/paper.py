"""Pixel Deflection (Prakash thesis ch. 4): the thesis's own numbers and the names it prints.

The thesis's tables (ResNet-50 / VGG-19 / Inception-v3 on ImageNet, 299x299) that `render` sets beside
ours, and the labels of attacks and classifiers. Nothing here is computed.
"""
from __future__ import annotations

ATTACKS = ("fgsm", "igsm", "deepfool", "jsma", "lbfgs", "cw")
LABEL = {"clean": "Clean", "fgsm": "FGSM", "igsm": "IGSM", "deepfool": "DFool", "jsma": "JSMA", "lbfgs": "LBFGS",
         "cw": "C&W", "bpda": "BPDA+EOT (adaptive)"}
MODEL_LABEL = {"resnet20": "ResNet-20", "vgg_gap": "VGG-style (GAP)", "allconv_bn": "All-Conv+BN",
               "resnet50": "ResNet-50", "vgg19": "VGG-19", "inception_v3": "Inception-v3"}

ATTACK_ROWS = ["clean", "fgsm", "igsm", "deepfool", "jsma", "lbfgs", "cw"]
# Thesis Tables 4.1/4.3 (ResNet-50), 4.4 (VGG-19), 4.5 (Inception-v3), 4.2: attack -> (|L2|, no def, single, ens-10)
PAPER_T4_1 = {"clean": (0.00, 100, 98.3, 98.9), "fgsm": (0.05, 20.0, 79.9, 81.5), "igsm": (0.03, 14.1, 83.7, 83.7),
              "deepfool": (0.02, 26.3, 86.3, 90.3), "jsma": (0.02, 25.5, 91.5, 97.0), "lbfgs": (0.02, 12.1, 88.0, 91.6),
              "cw": (0.04, 4.8, 92.7, 98.0)}
PAPER_T4_1_LARGE = {"fgsm": (0.12, 11.1, 61.5, 70.4), "igsm": (0.09, 11.1, 62.5, 72.5), "deepfool": (0.08, 8.0, 82.4, 88.9),
                    "jsma": (0.05, 22.1, 88.9, 92.1), "lbfgs": (0.04, 12.1, 77.0, 89.0)}
PAPER_T4_2 = {"clean": (0.00, 100, 98.1, 98.9), "fgsm": (0.04, 19.2, 79.7, 81.2), "igsm": (0.03, 11.8, 81.7, 82.4),
              "deepfool": (0.02, 18.0, 87.7, 92.4), "jsma": (0.02, 24.9, 93.0, 98.1), "lbfgs": (0.02, 11.6, 90.3, 93.6),
              "cw": (0.04, 5.2, 93.1, 98.3)}
PAPER_T4_4 = {"clean": (0.00, 100, 99.8, 99.8), "fgsm": (0.05, 12.2, 79.3, 81.3), "igsm": (0.04, 9.79, 79.2, 81.6),
              "deepfool": (0.01, 23.7, 83.9, 91.6), "jsma": (0.01, 29.1, 95.8, 98.5), "lbfgs": (0.03, 13.8, 83.0, 93.9),
              "cw": (0.04, 0.00, 93.1, 97.6)}
PAPER_T4_5 = {"clean": (0.00, 100, 98.1, 98.5), "fgsm": (0.05, 22.1, 85.8, 87.1), "igsm": (0.04, 15.5, 89.7, 89.1),
              "deepfool": (0.02, 27.2, 82.6, 85.3), "jsma": (0.02, 24.2, 93.7, 98.6), "lbfgs": (0.02, 12.5, 87.1, 91.0),
              "cw": (0.04, 7.1, 93.9, 98.5)}
# Clean top-1 accuracy (%) of the thesis's pretrained ImageNet classifiers (captions of Tables 4.3-4.5)
THESIS_TOP1 = {"resnet50": 76, "vgg19": 71, "inception_v3": 78}
# Fig. 4.6: share (%) of adversarial images whose class is the clean image's second choice ("38% of the
# time", section 4.2; "nearly 40%", section 4.4)
THESIS_SECOND_CHOICE_PCT = (38, 40)
PAPER_PER_MODEL = [("Table 4.3 (ResNet-50, 76%)", PAPER_T4_1), ("Table 4.4 (VGG-19, 71%)", PAPER_T4_4),
                   ("Table 4.5 (Inception-v3, 78%)", PAPER_T4_5)]
PAPER_T4_6 = {  # destruction rates, FGSM / IGSM / DFool / C&W (None = not reported)
    "Bit depth (2 bit)": (0.132, 0.511, 0.286, 0.170), "Bit depth (5 bit)": (0.057, 0.022, 0.310, 0.957),
    "Median smoothing (2x2)": (0.358, 0.422, 0.714, 0.894), "Median smoothing (3x3)": (0.264, 0.444, 0.500, 0.723),
    "Non-local means (11-3-2)": (0.113, 0.156, 0.357, 0.936), "Non-local means (13-3-4)": (0.226, 0.444, 0.548, 0.936),
    "Feature squeezing best (b)+(c)+(f)": (0.434, 0.644, 0.786, 0.915),
    "Pixel padding": (0.050, None, 0.972, 0.698), "Pixel resizing": (0.360, None, 0.974, 0.971),
    "Random resizing + padding": (0.478, None, 0.983, 0.969),
    "Quilting": (0.611, 0.862, 0.858, 0.843), "TVM + Quilting": (0.619, 0.866, 0.866, 0.841),
    "Cropping + TVM + Quilting": (0.629, 0.882, 0.883, 0.859),
    "PD": (0.735, 0.880, 0.914, 0.931), "PD + R-CAM": (0.746, 0.912, 0.911, 0.952),
    "PD + R-CAM + DCT": (0.737, 0.906, 0.874, 0.930), "PD + R-CAM + DWT": (0.769, 0.927, 0.948, 0.981)}
PAPER_T4_7 = {"JPEG": (96.1, 49.1, 49.1, 67.8, 91.6, 71.8, 85.5), "WD": (98.7, 40.6, 31.2, 61.1, 89.1, 67.2, 95.4),
              "PD": (97.4, 79.7, 82.4, 86.3, 95.7, 90.3, 95.4), "PD+JPG": (96.1, 81.1, 82.4, 86.3, 93.0, 89.1, 94.1),
              "PD+WD+JPG": (96.1, 78.8, 79.7, 86.3, 93.0, 88.9, 93.4), "PD+WD": (98.9, 81.5, 83.7, 90.3, 97.0, 91.6, 98.0)}
PAPER_T4_8 = {"Hard": (39.5, 35.9, 42.5, 37.2, 39.9, 37.2, 36.8), "VISU": (96.1, 63.8, 67.8, 78.4, 93.0, 81.1, 93.4),
              "SURE": (92.1, 79.7, 81.1, 87.7, 93.0, 90.4, 92.8), "Bayes": (98.9, 81.5, 83.7, 90.3, 97.0, 91.6, 98.0)}
PAPER_T4_9 = {"K=10": (98.4, 75.7, 78.4, 83.7, 91.7, 85.0, 89.4), "K=100": (98.1, 79.7, 81.7, 87.7, 93.0, 90.3, 93.1),
              "K=1K": (94.7, 71.7, 75.2, 81.0, 87.7, 82.4, 86.8)}
PAPER_T4_10 = {"r=5": (98.6, 79.7, 81.0, 86.4, 92.3, 89.4, 91.8), "r=10": (98.1, 79.7, 81.7, 87.7, 93.0, 90.3, 93.1),
               "r=50": (96.4, 78.4, 79.7, 87.7, 91.7, 89.0, 90.5), "r=100": (94.4, 76.7, 78.4, 85.0, 90.3, 88.1, 89.2)}
PAPER_T4_11_SAMPLING = {"uniform": (86.7, 87.5, 86.1, 84.6), "gaussian": (80.0, 81.4, 79.0, 76.4)}   # r = 5/10/50/100
PAPER_T4_11_REPLACEMENT = {"min": (73.0, 64.4, 49.1, 44.3), "max": (69.7, 63.8, 51.9, 45.4),
                           "mean": (83.6, 72.3, 57.2, 49.1), "random": (86.7, 87.5, 86.1, 84.6)}
PAPER_T4_11_DENOISER = {"bilateral": 78.1, "anisotropic": 84.1, "tvm": 77.26, "deconv": 85.12, "wavelet": 87.5}

# The thesis's setup, as the scale note of every record states it.
THESIS_SETUP = ("Thesis: ImageNet 299x299, 1,000 images, ResNet-50 / VGG-19 / Inception-v3, K=100, r=10, sigma=0.04, "
                "R-CAM top-5.")


# The claims each artefact tests, as the paper states them (render computes the verdicts): id -> text.
CLAIMS = {
    "pd.t4_1.attacks_below_50": "At these budgets every attack cuts accuracy far below 50% (no defence).",
    "pd.t4_1.recovers_most":
        "PD+R-CAM+WD recovers most of the accuracy (single run above 50% for every attack) while clean accuracy"
        " drops only a few points (at most 5).",
    "pd.t4_1.ens_ge_single": "Ens-10 is at least as accurate as a single run.",
    "pd.t4_2_5.similar_across_classifiers":
        "Recovery is similar across classifiers (mean defended single-run accuracy over the attacks within ±10 "
        "points for every pair).",
    "pd.t4_2_5.attacks_below_50_all": "Every attack cuts every classifier's accuracy below 50%.",
    "pd.t4_6.dwt_highest": ("Among our rows PD + R-CAM + DWT has the highest destruction rate "
                            "(read as: typically, over the attack × row comparisons)."),
    "pd.t4_6.rcam_helps": ("R-CAM-guided deflection destroys more adversarials than uniform deflection "
                           "(read as: typically, i.e. for most attacks and significantly against none)."),
    "pd.t4_7.pd_wd_beats_jpeg_wd": "PD+WD beats JPEG alone and WD alone on attacked images.",
    "pd.t4_7.jpeg_hurts": "Adding JPEG on top of PD+WD lowers accuracy.",
    "pd.t4_8.bayes_best": "BayesShrink beats hard thresholding, VisuShrink and SUREShrink.",
    "pd.t4_11.uniform_beats_gaussian": "Uniform neighbour sampling beats Gaussian sampling.",
    "pd.t4_11.random_replacement_best": "Random replacement beats min, max and mean replacement.",
    "pd.t4_11.wavelet_best":
        "Wavelet denoising beats bilateral, anisotropic diffusion, TV and Wiener deconvolution after "
        "deflection.",
    "pd.fig4_2.one_percent_harmless":
        "Deflecting about 1% of the pixel values leaves clean predictions unchanged (≥ 95% agree).",
    "pd.fig4_2.adversarial_class_falls":
        "On adversarial images the adversarial class's probability falls and the true class's rises as "
        "deflections grow.",
    "pd.fig4_3.not_on_object":
        "Perturbations are not concentrated on the object: the share of perturbation energy in the top-quarter "
        "R-CAM region is at most 1.25× its area share (0.25).",
    "pd.fig4_4.rcam_robust":
        "The robust activation map changes less under attack than the top-class CAM (correlation of the clean "
        "and adversarial maps).",
    "pd.fig4_5.one_setting":
        "One setting serves all attacks: for each attack it is within 5 points of the best setting the search "
        "met for that attack.",
    "pd.fig4_6.second_choice": "The adversarial class is most often the clean image's second choice.",
    "pd.t4_1.adaptive_beyond_thesis":
        "Beyond the thesis: the defence keeps most accuracy (single run above 50%) against an adaptive attacker"
        " (BPDA + EOT) at the C&W budget.",
    "pd.t4_6.beats_baselines": ("PD + R-CAM + DWT beats the other input transformations (re-measured here; "
                                "read as: typically, over the attack × transformation comparisons)."),
}

# One line of scale for the reports (lib.report formats it with the run's parameters, lib.index shows it;
# a renderer may set `Record.scale` to add measured numbers such as our classifiers' clean accuracy).
SCALE = ("CIFAR-10 32x32 (thesis: ImageNet 299x299); {N_IMAGES} attacked test images per classifier (thesis: "
         "1,000), {RUNS} defence runs per image; CIFAR-10 classifiers (thesis: pretrained ImageNet classifiers, "
         "71-78% top-1)")
