"""Bartschat, Unger, Scherr, Stegmaier, Mikut, Reischl: the paper's own numbers, names and claims.

The paper has no tables and its figures survive only as captions: the only numbers are Fig. 2's weight
counts (printed with German thousands separators: 69.632, 192.512, 70.144, 589.824) and the text's "a change
of 2.5 of the pixel value is only a change of 1% in the 8 bit images". Nothing here is computed.
"""
from __future__ import annotations

ARCH_LABEL = {"resnet": "ResNet", "inception": "Inception", "resnext": "ResNeXt"}
MODULE_LABEL = {**ARCH_LABEL, "conv3x3": "plain 3×3 conv"}

# Fig. 2 / §2.2: weights of the example modules at 256 feature maps (no biases), and of one 3×3 256→256 conv.
FIG2_WEIGHTS = {"resnet": 69632, "inception": 192512, "resnext": 70144, "conv3x3": 589824}
FIG2_WIDTH = 256

LEVELS = (0.0, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0)   # §2.3, both distortions
ONE_PERCENT = 2.55          # §3: "a change of 2.5 of the pixel value is only a change of 1%" (0–255 scale)

CLAIMS = {
    "tv.p1": "TV-P1 (Fig. 2): the example modules have 69,632 (ResNet) and 70,144 (ResNeXt) weights, a plain 3×3 "
             "256→256 convolution 589,824, and the Inception module 192,512.",
    "tv.c1": "TV-C1 (Fig. 4): accuracy and its behaviour across noise levels are similar for all architectures "
             "(|difference| ≤ 3 points in at least 80% of the (train σ, test σ) cells).",
    "tv.c2": "TV-C2 (Fig. 4): a model trained at σ = 0.01 behaves like the noise-free model (|Δacc| ≤ 1 point on "
             "test σ ≤ 0.1), and the test set at σ = 0.01 like the clean one (|Δacc| ≤ 1 point, every model).",
    "tv.c3": "TV-C3 (Fig. 4): from training σ = 0.1 upward, the evaluation set with the same σ gives the model's best "
             "accuracy (ties within 1 point count).",
    "tv.c4": "TV-C4 (Fig. 4): from training σ = 0.1 upward the overall accuracy drops (tested on clean accuracy: lower "
             "than the σ = 0 model's at every σ ≥ 0.1, and decreasing from 0.1 through 0.5 and 1 to 5).",
    "tv.c5": "TV-C5 (Fig. 4): each evaluation noise level is best served by a model trained at a similar level "
             "(the best training σ is within one grid step of the test σ).",
    "tv.c6": "TV-C6 (Fig. 4): a small training noise (σ = 0.1) costs nothing on clean images (≥ −1 point) and raises "
             "accuracy on slightly noisy (σ = 0.1) images.",
    "tv.c7": "TV-C7 (Fig. 5): all architectures are fooled by a similar change (spread across architectures ≤ 20% of "
             "the mean, per training σ, in most cells).",
    "tv.c8": "TV-C8 (Fig. 5): models trained with small noise (σ = 0.1) are more robust: the required change is "
             "higher than for the noise-free model.",
    "tv.c9": "TV-C9 (Fig. 5): for very high training noise (σ = 1, 5) the required change drops below its peak, and "
             "these models are much less accurate on clean images (≥ 10 points).",
    "tv.c10": "TV-C10 (§3): training with σ = 0.1 is beneficial (TV-C6 and TV-C8 at σ = 0.1).",
    "tv.c11": "TV-C11 (§3): all models are easily tricked: the mean required change is at most about 1% of the "
              "8-bit range (2.55 grey levels) for every model.",
    "tv.c12": "TV-C12 (Fig. 6): Inception: up to blur σ = 0.5 clean accuracy is unchanged (within 2 points of the "
              "σ = 0 model); at σ = 1 and 5 it is lower by ≥ 3 points.",
    "tv.c13": "TV-C13 (Fig. 6 caption): ResNet and ResNeXt blur results are similar to Inception's (|difference| ≤ 3 "
              "points in at least 80% of the blur cells).",
    "tv.c14": "TV-C14 (§3): the Inception models are the best-performing (mean accuracy over the blur grid ≥ ResNet's "
              "and ResNeXt's).",
    "tv.c15": "TV-C15 (Fig. 7): blur training up to σ = 0.5 does not change the required adversarial change (within "
              "±10% of the σ = 0 model).",
    "tv.c16": "TV-C16 (Fig. 7): for blur σ = 1 and 5 the required change drops below the σ = 0 model's.",
    "tv.c17": "TV-C17 (conclusion): no significant performance difference between the modules (clean accuracy of the "
              "σ = 0 models within the seed-to-seed variation).",
    "tv.fig3_units": "Suite check (not a paper claim): the Fig. 3 noise has the stated σ on the [−1, 1] scale (the "
                     "measured standard deviation of the added noise is within 5% of σ on every image).",
}

SCALE = ("CIFAR-10, width {WIDTH} (paper: 256 in Fig. 2), {TRAIN_N} training images (0 = all), {EPOCHS} epochs SGD "
         "(paper: 90), training seeds {SEEDS} for every model and {EXTRA_SEEDS} at noise σ {EXTRA_LEVELS}, "
         "{TEST_N} test images per level (0 = all), {ADV_N} attacked images per model (paper: 128)")
