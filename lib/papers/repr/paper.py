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

# Quoted in the text: C^3(32) "achieves test accuracy of 73%" (section 5.4, Fig. 5.1); C^2(32) reaches 58.2%
# (section 5.1, Fig. 5.2); Ortho's correlation with the greedy Oracle, 0.38 on values (Pearson) and 0.58 on
# ranks (Fig. 5.3)
THESIS_FIG5_1_TEST_ACC = 73.0
THESIS_C2_TEST_ACC = 58.2
THESIS_FIG5_3_ORTHO = {"pearson": 0.38, "spearman": 0.58}
# Thesis Table 5.2: scheme -> (C10 accuracy %, C100 accuracy %)
PAPER_TABLE5_2 = {"Std": (72.1, 47.2), "Std+OL": (72.8, 48.3), "RePr": (76.4, 58.2), "RePr+OL": (76.7, 58.6)}
# Thesis Table 5.3: scheme -> (C10 accuracy %, C100 accuracy %)
PAPER_TABLE5_3 = {"Std": (72.1, 47.2), "KD": (74.8, 56.5), "RePr": (76.4, 58.2), "KD+RePr": (83.1, 64.1)}
# Thesis Tables 5.6-5.9 (ImageNet, VQA, COCO; not run here)
PAPER_TABLE5_6 = pd.DataFrame([["ResNet-18", 30.41, 28.68, 27.87, 27.31, -11.35], ["ResNet-34", 27.50, 26.49, 26.06, 25.80, -6.59],
                               ["ResNet-50", 23.67, 22.79, 22.51, 22.37, -5.81], ["ResNet-101", 22.40, 21.70, 21.51, 21.40, -4.67],
                               ["ResNet-152", 21.51, 20.99, 20.79, 20.71, -3.86], ["VGG-16", 31.30, 27.76, 26.45, 25.50, -22.75],
                               ["Inception v1", 31.11, 29.41, 28.47, 28.01, -11.07], ["Inception v2", 27.60, 27.15, 26.95, 26.80, -2.99]],
                              columns=["Model", "Standard", "N=1", "N=2", "N=3", "Relative change (%)"]).set_index("Model")
PAPER_TABLE5_7 = pd.DataFrame({"Standard": ["0.4 Soccer ball, 0.3 Frisbee, 0.2 Soccer", "0.6 Donkey, 0.3 Dog, 0.1 No"],
                               "RePr": ["0.7 Frisbee, 0.2 Soccer ball, 0.1 Baseball", "0.5 Dog, 0.3 Donkey, 0.1 Cow"]},
                              index=pd.Index(["What are they playing with?", "What animal is in the picture?"], name="Question"))
PAPER_TABLE5_8 = pd.DataFrame({"All": [60.3, 64.6], "Yes/No": [81.4, 83.4], "Other": [47.6, 54.5], "Number": [37.2, 37.2]},
                              index=pd.Index(["Standard", "RePr (Ortho)"], name="scheme"))
PAPER_TABLE5_9 = pd.DataFrame({"R-50 RPN": [38.1, 41.1], "R-50 FPN": [38.2, 42.3], "R-101 RPN": [40.7, 43.5], "R-101 FPN": [41.7, 44.5]},
                              index=pd.Index(["Standard", "RePr (Ortho)"], name="scheme"))


# The claims each artefact tests, as the paper states them (render computes the verdicts): id -> text.
CLAIMS = {
    "repr.fig5_1.train_below_test_above":
        "RePr's training accuracy ends below standard training's while its test accuracy ends above (Oracle "
        "ranking, as Fig. 5.1).",
    "repr.fig5_1.jump_after_readd":
        "Test accuracy a couple of epochs after the dropped filters return ([E]) is clearly above the accuracy "
        "at the first drop ([C]), while standard training is flat over the same epochs.",
    "repr.table5_1.ortho_beats_standard":
        "RePr with the Ortho ranking beats standard training on C^3(32) (thesis 72.1 → 76.4).",
    "repr.table5_1.ortho_near_oracle_above_others":
        "Ortho is close to the Oracle (within 1 point) and above the other criteria.",
    "repr.fig5_3.ortho_best_rank_correlation":
        "Among the cheap criteria, Ortho's filter ranks correlate best with the Oracle's (thesis: 0.58).",
    "repr.fig5_2.most_removals_cheap": "Most single-filter removals in the second layer cost under 1% accuracy.",
    "repr.fig5_2.many_correlated_pairs":
        "Standard training leaves many strongly correlated filter pairs: most layer-2 pairs exceed 0.3, the "
        "thesis's anomaly level for a random orthogonal matrix.",
    "repr.fig5_11.repr_reduces_correlation":
        "RePr reduces the correlation between filters' activations (thesis: clearly in layer 2, less in layer "
        "1).",
    "repr.fig5_4.rise_then_flatten": "Gains rise with the pruned percentage up to about 30% and then flatten.",
    "repr.fig5_5.diminishing_returns":
        "Returns diminish after 2-3 iterations: most of the gain over standard training comes in the first 3.",
    "repr.fig5_5.gap_narrows": "RePr narrows the train-test gap.",
    "repr.fig5_6.helps_each_optimizer": "RePr improves on standard training under each optimizer.",
    "repr.fig5_6.s_values": "RePr helps for each S1 = S2 value large enough to converge temporarily.",
    "repr.fig5_7.helps_each_schedule":
        "RePr improves on standard training under both the step and the cyclic schedule.",
    "repr.fig5_8.dropout_hurts": "Dropout lowers the final accuracy of this small network.",
    "repr.fig5_8.repr_helps_both": "RePr helps with and without dropout.",
    "repr.fig5_9.repr_lowers_overlap":
        "RePr lowers the Ortho-sum below standard training, with the Ortho ranking and also with the Oracle.",
    "repr.fig5_9.kd_raises_overlap": "With knowledge distillation all three have a larger Ortho-sum.",
    "repr.table5_2.ol_adds_little":
        "The orthogonality loss adds little (thesis: +0.3 to +1.1 points): its gain is at most 1.5 points.",
    "repr.table5_3.kd_and_repr_add_up": "Distillation and RePr add up: KD+RePr beats both KD and RePr alone.",
    "repr.table5_4.ortho_lowest_error": "RePr (Ortho) gives ResNet-20 the lowest test error of all schemes.",
    "repr.table5_5.lower_error_every_depth": "RePr lowers the test error of vanilla ConvNets at every depth.",
    "repr.fig5_10.more_for_deeper": "RePr's gain is larger for deeper vanilla nets.",
    "repr.table5_6.imagenet_diminishing_gains":
        "On ImageNet every RePr round lowers the error, with diminishing returns, most for nets without skip "
        "connections.",
    "repr.tables5_8_5_9.vqa_detection_gains":
        "RePr features improve VQA (+4.3 overall) and detection (+2.8 to +4.1 mAP).",
}

# One line of scale for the reports (lib.report formats it with the run's parameters, lib.index shows it;
# a renderer may set `Record.scale` to add measured numbers such as our baseline accuracy).
SCALE = ("CIFAR-10, {TRAIN_SIZE} training images (thesis: 50,000), {EPOCHS} epochs (thesis: 100), {TEST_SIZE} test "
         "images, seeds {SEEDS}; thesis baseline C^3(32) 72.1% accuracy, ResNet-20 error 8.4%")
