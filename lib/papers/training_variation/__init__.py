"""Bartschat et al., robustness of deep learning architectures with respect to training data variation (issue 14).

archs (the skeleton and the three modules of Fig. 2), method (distortions on the [−1, 1] scale, training,
evaluation), adversarial (the minimal change), params, protocol, results, paper, render.
"""
