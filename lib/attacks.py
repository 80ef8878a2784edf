"""White-box, untargeted adversarial attacks of the thesis (Prakash, Ch. 3 §3.3 and Ch. 4 §4.2).

FGSM, IGSM, DeepFool, JSMA, L-BFGS and Carlini–Wagner L2, on images `[N, 3, H, W]` float32 in
[0, 1] (the suite's pixel convention), against a model that maps such images to logits `[N, K]`
(it normalises internally, see `lib.models`).

Budget ("|L2|" in the thesis's tables)
    The thesis reports each attack's size as a "normalized RMSE (|L2|)" of 0.02–0.04 without
    saying what is normalised. We read it as the root-mean-square pixel difference on the [0, 1]
    scale, per image::

        rmse(x, x') = sqrt(mean over C·H·W of (x − x')²)        (one number per image)

    so |L2| = 0.02 is an RMS change of 0.02 · 255 ≈ 5 grey levels, and for an L∞ (sign) step of
    size ε without clipping rmse = ε. (The other reading, ‖δ‖₂ / ‖x‖₂, is *not* used.) The
    thesis's per-attack |L2| is the mean of this quantity over the attacked images.

How `budget` is honoured (`attack(..., budget=b)`)
    fgsm   per image, ε_i is solved (bisection, exact to float32 rounding) so that
           rmse(x, clip(x + ε_i·sign(∇)) ) = b: ε_i = b unless clipping to [0, 1] bites (or some
           gradients are exactly 0), then ε_i > b.
           `eps=` instead gives one fixed ε (the thesis picks one ε "by trial and error").
    igsm   ε_i is calibrated as for FGSM at the clean image; the iterate is clipped to the ε_i-ball
           and to [0, 1] and stops per image once adversarial (thesis eq. 4.2). If the final
           perturbation's RMSE exceeds b (possible only when clipping made ε_i > b) it is scaled
           down onto b. Hence rmse ≤ b for every image: images stopped early end below b; the
           others end close to b (every pixel within the ε_i-ball, most on its surface; pixels whose
           gradient sign keeps flipping stay inside, ~0.95 b in our tests). `eps=` gives a fixed L∞
           ball instead.
    deepfool, jsma, lbfgs, cw (minimal-perturbation attacks)
           run unconstrained to find each image's minimal adversarial; then, if `budget` is given,
           a perturbation with rmse > b is **scaled down onto b** (`scale_to_budget`, which never
           clips when shrinking) and `success` is re-evaluated by the model on that image (so it
           almost always fails, as it must for that budget); perturbations already ≤ b are kept as
           found (not scaled up). `params["min_rmse"]` keeps the unconstrained minimal RMSE.
    `scale_to_budget(x, x_adv, b)` rescales any perturbation to RMSE b exactly (clipped to [0, 1];
    when clipping binds the scale is found by bisection, so b is still hit where attainable).

Labels and already-misclassified images
    `success[i]` is `model(x_adv[i]).argmax() != labels[i]`. Images the model already
    misclassifies are left unperturbed by every attack except FGSM (a single step is applied to all
    images) and IGSM with `early_stop=False`, and count as successes — evaluate on correctly classified images as the thesis does.

Libraries (see `LIBRARIES` and `NON_PAPER_DEFAULTS`)
    fgsm, igsm, deepfool, lbfgs, cw   written here in PyTorch (+ SciPy L-BFGS-B for lbfgs)
    jsma                              own: ART 1.20.1 `SaliencyMapMethod`'s algorithm on the softmax
                                      output, batched (`impl="art"` runs ART; tests compare the two)
    cw with `impl="art"`              ART `CarliniL2Method` (for comparison only: see its caveats)
ART (`adversarial-robustness-toolbox`) is imported lazily, only by the attacks that use it.

Model handling: every attack puts the model in eval mode (restoring each module's mode after),
never changes its parameters or buffers, and turns off `requires_grad` on the parameters while it
runs (restoring flags and any `.grad` afterwards), so no gradient reaches them; gradients are taken
w.r.t. the input only. The whole `images` batch is processed at once (attack a large set in chunks).
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn


class Attack(str, Enum):
    """Attack names (plain strings are accepted wherever an `Attack` is)."""

    FGSM = "fgsm"          # fast gradient sign, thesis eq. 4.1 [GSS14]
    IGSM = "igsm"          # iterative FGSM clipped to an ε-ball, eq. 4.2 [KGB16]
    DEEPFOOL = "deepfool"  # iterative linearisation, L2 [MDFF16]
    JSMA = "jsma"          # Jacobian saliency map, L0 [Pap+16c]
    LBFGS = "lbfgs"        # box-constrained L-BFGS [Sze+13a]
    CW = "cw"              # Carlini–Wagner L2, eq. 4.3


MINIMAL: frozenset[Attack] = frozenset({Attack.DEEPFOOL, Attack.JSMA, Attack.LBFGS, Attack.CW})
"""Minimal-perturbation attacks: `budget` caps their result instead of setting their size."""

DEFAULTS: dict[str, dict[str, Any]] = {
    "fgsm": {"eps": None},
    "igsm": {"eps": None, "alpha": 1.0 / 255.0, "steps": None, "early_stop": True},
    "deepfool": {"overshoot": 0.02, "max_iter": 50, "candidates": 10},
    "jsma": {"theta": 1.0, "gamma": 1.0, "target": "random", "batch_size": 128, "impl": "own",
             "budget_reading": "l0"},
    "lbfgs": {"loss": "runner_up", "binary_search_steps": 5, "max_iter": 1000, "initial_const": 1e-2,
              "maxcor": 10},
    "cw": {"binary_search_steps": 5, "max_iter": 1000, "learning_rate": 5e-3, "initial_const": 1e-2,
           "confidence": 0.0, "abort_early": True, "impl": "own"},
}
"""Options of each attack (`attack(..., **options)`) and their defaults."""

LIBRARIES: dict[str, str] = {
    "fgsm": "own (PyTorch)",
    "igsm": "own (PyTorch)",
    "deepfool": "own (PyTorch), after the authors' LTS4/DeepFool code",
    "jsma": "own (PyTorch), ART 1.20.1 SaliencyMapMethod's algorithm batched; impl='art': ART itself",
    "lbfgs": "own (PyTorch + scipy.optimize.minimize L-BFGS-B), after cleverhans 3 LBFGS",
    "cw": "own (PyTorch, Adam in tanh space), after Carlini & Wagner's nn_robust_attacks / cleverhans 3"
          "; impl='art': ART CarliniL2Method",
}

NON_PAPER_DEFAULTS: dict[str, dict[str, str]] = {
    "all": {
        "budget reading": "|L2| = sqrt(mean((x-x')^2)) per image on [0,1] pixels (thesis: 'normalized RMSE', "
                          "normalisation unstated)",
        "budget on minimal attacks": "a minimal perturbation with RMSE > budget is scaled down onto the budget "
                                     "and success re-evaluated (the thesis just reports mean |L2|)",
        "misclassified inputs": "left unperturbed (except FGSM) and counted as successes; the thesis attacks "
                                "only correctly classified images",
        "library": "cleverhans 3 (TF1) in the thesis; here PyTorch code and ART 1.20.1 (see LIBRARIES)",
    },
    "fgsm": {
        "eps": "solved per image so that RMSE = budget (the thesis picks one eps by trial and error); "
               "eps= gives one fixed eps",
        "loss": "cross-entropy w.r.t. the true label (eq. 4.1 writes l(F(x), x)); result clipped to [0,1]",
    },
    "igsm": {
        "alpha, steps": "alpha = 1/255, steps = ceil(min(255*eps + 4, 1.25*255*eps)) with the largest eps of "
                        "the batch (Kurakin et al.'s rule; the thesis only says alpha is small)",
        "eps": "per image, calibrated as FGSM at the clean image; final perturbation scaled down if its "
               "RMSE exceeds the budget",
        "early_stop": "per image, once adversarial (thesis eq. 4.2); cleverhans 3 BIM does not stop early",
    },
    "deepfool": {
        "overshoot, max_iter, candidates": "0.02, 50, 10 most likely classes: the authors' code (LTS4); "
                                           "ART's default overshoot is 1e-6",
        "clipping": "each iterate x0 + (1+overshoot)*r_tot is clipped to [0,1] (LTS4 does not clip)",
        "reference class": "the true label (LTS4 uses the clean prediction: same on correct images)",
        "batching": "all images at once, one backward pass per candidate class (LTS4: one image per call)",
    },
    "jsma": {
        "target": "untargeted = a random class != label, seeded by `seed` (cleverhans 3 rule; ART would draw "
                  "unseeded); target='runner_up' uses the clean runner-up class",
        "theta, gamma": "1.0, 1.0 (cleverhans 3 defaults; Papernot et al. used gamma = 14.5% on MNIST; "
                        "ART's default theta is 0.1)",
        "saliency": "ART scores pairs by the gradient of the target *probability* only; on the softmax "
                    "output sum_{i!=t} dF_i = -dF_t, so this equals the thesis's pairwise S(x, t) "
                    "(as cleverhans 3 computes it on probabilities)",
        "budget (budget_reading='l0', default)": "an RMSE budget bounds JSMA as an L0 attack: an image stops before "
                    "the step that would take its RMSE change past the budget, so the share of features it may "
                    "change is set by the budget; 'scaled' instead scales an unconstrained result onto the budget "
                    "(which mostly undoes an L0 attack)",
        "stopping": "an image stops when the target class is reached (as in cleverhans), not at the first "
                    "misclassification",
    },
    "lbfgs": {
        "objective": "minimise c*CE(x', t) + ||x'-x||_2^2 on the box [0,1] with t = the clean runner-up class "
                     "(cleverhans 3's untargeted rule; Szegedy et al. is targeted). loss='true_class' minimises "
                     "c*(-CE(x', label)) instead, but on confidently classified images its gradient (1-p_y)*... "
                     "vanishes, c must grow to 10-1000 and the found perturbations are ~10x larger",
        "search over c": "c starts at 1e-2, x10 until success then bisection, 5 steps, max_iter 1000 "
                         "(cleverhans 3 defaults; the thesis says 'line search')",
        "batching": "one joint L-BFGS-B problem per batch; the objective is a sum of independent per-image "
                    "terms, but the memory, line search and stopping rule are shared (cleverhans 3: batch 1)",
        "success": "prediction != label (cleverhans with runner-up target requires prediction == target)",
    },
    "cw": {
        "implementation": "own: ART 1.20.1 CarliniL2Method aliases c_old = c_current (carlini.py), so its "
                          "lower bound takes the *updated* c and c can never decrease after the first success; "
                          "it also uses gradient descent with line search, not Adam, and max_iter=10",
        "binary_search_steps, max_iter, learning_rate, initial_const": "5, 1000, 5e-3, 1e-2 (cleverhans 3 "
                          "defaults; Carlini's reference code: 9, 10000, 1e-2, 1e-3)",
        "abort_early": "stop a c-step when the batch loss has not fallen by 0.01% over max_iter/10 iterations "
                       "(reference code)",
        "confidence": "kappa = 0 (eq. 4.3 leaves kappa open)",
    },
}
"""Every choice kept that the thesis does not fix, per attack (and "all"), as one-line notes."""


def non_paper_defaults_rows(kind: Attack | str | None = None) -> list[tuple[str, str, str]]:
    """`NON_PAPER_DEFAULTS` flattened to (attack, item, note) rows for a report table.

    `kind` limits the rows to that attack plus the "all" rows; None gives every attack.
    """
    keys = ["all"] + ([_parse_kind(kind).value] if kind is not None else [a.value for a in Attack])
    return [(k, item, note) for k in keys for item, note in NON_PAPER_DEFAULTS[k].items()]


@dataclass
class AttackResult:
    """What `attack` returns.

    Attributes:
        images: adversarial images `[N, 3, H, W]` float32 in [0, 1], same device as the input.
        success: bool `[N]`, the model's prediction on `images` differs from the label.
        rmse: float32 `[N]`, normalised RMSE sqrt(mean((x − x')²)) per image on [0, 1] pixels.
        params: what was used: attack, library (+version), options, budget, seed, per-image values
            (e.g. `eps`, `min_rmse`, `found`, `over_budget`) as Python lists, and the attack's
            `non_paper_defaults`.
    """

    images: Tensor
    success: Tensor
    rmse: Tensor
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def success_rate(self) -> float:
        """Fraction of images for which the attack succeeded."""
        return float(self.success.float().mean()) if self.success.numel() else float("nan")


# ---------------------------------------------------------------------------------------- helpers


def rmse(x: Tensor, x_adv: Tensor) -> Tensor:
    """Normalised RMSE per image: sqrt(mean over C·H·W of (x − x_adv)²), on the [0, 1] pixel scale.

    Args:
        x, x_adv: `[N, C, H, W]` (any trailing shape), same shape, pixel values in [0, 1].

    Returns:
        float32 `[N]` (computed in float64), the thesis's "|L2|" under our reading.
    """
    if x.shape != x_adv.shape:
        raise ValueError(f"shapes differ: {tuple(x.shape)} vs {tuple(x_adv.shape)}")
    d = (x_adv.double() - x.double()).flatten(1)
    return d.pow(2).mean(1).sqrt().float()


def _scale_for_rmse(x: Tensor, d: Tensor, target: float, iters: int = 100) -> Tensor:
    """Per image, the step t ≥ 0 with rmse(x, clip(x + t·d, 0, 1)) = target.

    `x`, `d`: `[N, ...]`. Returns float64 `[N]` on x's device. Without clipping t = target / rmse(d);
    otherwise bisection on the non-decreasing map t -> rmse(clip(x + t·d)) up to the step where all
    nonzero components saturate (returned when the target is unattainable). Rows with d = 0 get 0.
    """
    xd, dd = x.double().flatten(1), d.double().flatten(1)
    r = dd.pow(2).mean(1).sqrt()
    nonzero = r > 0
    t = torch.where(nonzero, target / r.clamp_min(1e-300), torch.zeros_like(r))

    def size(rows: Tensor, step: Tensor) -> Tensor:
        xr = xd[rows]
        return (xr + step[:, None] * dd[rows]).clamp(0.0, 1.0).sub(xr).pow(2).mean(1).sqrt()

    need = nonzero & (size(torch.ones_like(nonzero), t) < target * (1 - 1e-12))
    if need.any():
        rows = need.nonzero().squeeze(1)
        room = torch.where(dd[rows] > 0, 1.0 - xd[rows], xd[rows])
        sat = torch.where(dd[rows] != 0, room / dd[rows].abs().clamp_min(1e-300), torch.zeros_like(room))
        lo, hi = t[rows].clone(), torch.maximum(sat.amax(1), t[rows])
        for _ in range(iters):
            mid = 0.5 * (lo + hi)
            below = size(rows, mid) < target
            lo, hi = torch.where(below, mid, lo), torch.where(below, hi, mid)
        t[rows] = hi
    return t


def scale_to_budget(x: Tensor, x_adv: Tensor, budget: float) -> Tensor:
    """Rescale each perturbation δ = x_adv − x so that its normalised RMSE equals `budget`.

    Args:
        x, x_adv: `[N, C, H, W]` float in [0, 1].
        budget: target normalised RMSE (sqrt(mean((x − x')²)) on [0, 1] pixels), 0 < budget ≤ 1.

    Returns:
        `[N, C, H, W]` (dtype of x_adv) = clip(x + t_i·δ_i, 0, 1) with t_i per image chosen so the
        RMSE is `budget`: t_i = budget / rmse_i when no clipping binds (always so when shrinking,
        t_i ≤ 1), otherwise found by bisection. Images with δ = 0 are returned unchanged; if even
        full saturation of δ's direction cannot reach `budget` the saturated image is returned.
    """
    _check_budget(budget)
    if x.shape != x_adv.shape:
        raise ValueError(f"shapes differ: {tuple(x.shape)} vs {tuple(x_adv.shape)}")
    d = x_adv.double() - x.double()
    t = _scale_for_rmse(x, d, budget)
    out = (x.double() + t.view(-1, *([1] * (x.dim() - 1))) * d).clamp(0.0, 1.0)
    return out.to(x_adv.dtype)


def _check_budget(budget: float) -> None:
    if not (isinstance(budget, (int, float)) and math.isfinite(budget) and 0.0 < budget <= 1.0):
        raise ValueError(f"budget must be a normalised RMSE in (0, 1], got {budget!r}")


def _parse_kind(kind: Attack | str) -> Attack:
    try:
        return Attack(kind)
    except ValueError:
        valid = ", ".join(a.value for a in Attack)
        raise ValueError(f"unknown attack {kind!r}; valid attacks: {valid}") from None


def _check_inputs(images: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    if not isinstance(images, Tensor) or images.dim() != 4 or not images.is_floating_point():
        raise ValueError("images must be a float tensor [N, C, H, W] with pixel values in [0, 1]")
    if images.numel() and not torch.isfinite(images).all():
        raise ValueError("images contain NaN or inf")
    if images.numel() and (images.min() < 0 or images.max() > 1):
        raise ValueError(f"images must lie in [0, 1], got range [{images.min().item():.4g}, "
                         f"{images.max().item():.4g}] (pass [0, 1] pixels; the model normalises internally)")
    labels = torch.as_tensor(labels, device=images.device)
    if labels.dim() != 1 or labels.shape[0] != images.shape[0] or labels.is_floating_point():
        raise ValueError(f"labels must be integer class indices [N] with N = {images.shape[0]}")
    return images.detach().to(torch.float32), labels.long()


def _resolve_options(kind: Attack, options: dict[str, Any]) -> dict[str, Any]:
    allowed = DEFAULTS[kind.value]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for attack {kind.value!r}; valid: {sorted(allowed)}")
    return {**allowed, **options}


@contextlib.contextmanager
def _frozen(model: nn.Module) -> Iterator[None]:
    """Eval mode + parameters without grad for the duration; restores modes, flags and `.grad`."""
    modes = [(m, m.training) for m in model.modules()]
    params = list(model.parameters())
    flags = [p.requires_grad for p in params]
    grads = [p.grad for p in params]
    model.eval()
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag, grad in zip(params, flags, grads):
            p.requires_grad_(flag)
            p.grad = grad
        for m, mode in modes:
            m.train(mode)


@torch.no_grad()
def _logits(model: nn.Module, x: Tensor) -> Tensor:
    return model(x)


def _input_grad(model: nn.Module, x: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    """Gradient of the summed cross-entropy w.r.t. the input (per image) and the logits."""
    with torch.enable_grad():
        xi = x.detach().clone().requires_grad_(True)
        out = model(xi)
        loss = F.cross_entropy(out, labels, reduction="sum")
        (g,) = torch.autograd.grad(loss, xi)
    return g, out.detach()


def _bview(v: Tensor, like: Tensor) -> Tensor:
    """Per-image `[n]` values viewed to broadcast against `like` `[n, ...]`."""
    return v.view(-1, *([1] * (like.dim() - 1))).to(like.dtype)


def _others_argmax(logits: Tensor, labels: Tensor) -> Tensor:
    """Index of the largest logit other than the label's, `[N]`."""
    return logits.scatter(1, labels[:, None], float("-inf")).argmax(1)


def _floats(v: Tensor) -> list[float]:
    return [float(a) for a in v.detach().cpu().double()]


# ---------------------------------------------------------------------------------------- attacks


def _fgsm(model: nn.Module, x: Tensor, y: Tensor, budget: float | None, o: dict) -> tuple[Tensor, dict]:
    g, _ = _input_grad(model, x, y)
    s = g.sign()
    if o["eps"] is not None:
        eps = torch.full((len(x),), float(o["eps"]), dtype=torch.float64, device=x.device)
    else:
        eps = _scale_for_rmse(x, s, budget)
    x_adv = (x.double() + _bview(eps, s) * s.double()).clamp(0.0, 1.0).float()
    return x_adv, {"eps": _floats(eps)}


def _igsm(model: nn.Module, x: Tensor, y: Tensor, budget: float | None, o: dict) -> tuple[Tensor, dict]:
    if o["eps"] is not None:
        eps = torch.full((len(x),), float(o["eps"]), dtype=torch.float64, device=x.device)
    else:
        g0, _ = _input_grad(model, x, y)
        eps = _scale_for_rmse(x, g0.sign(), budget)
    alpha = float(o["alpha"])
    eps_max = float(eps.max()) if len(x) else 0.0
    steps = o["steps"]
    if steps is None:   # Kurakin et al.: min(eps + 4, 1.25 eps) steps of 1 grey level (eps on 0..255)
        steps = int(math.ceil(min(255.0 * eps_max + 4.0, 1.25 * 255.0 * eps_max)))
    lo = (x - _bview(eps, x)).clamp_min(0.0)
    hi = (x + _bview(eps, x)).clamp_max(1.0)
    x_adv = x.clone()
    active = torch.ones(len(x), dtype=torch.bool, device=x.device)
    used = torch.zeros(len(x), dtype=torch.long, device=x.device)
    for _ in range(steps):
        idx = active.nonzero().squeeze(1)
        if idx.numel() == 0:
            break
        g, out = _input_grad(model, x_adv[idx], y[idx])
        if o["early_stop"]:
            still = out.argmax(1) == y[idx]
            active[idx[~still]] = False
            idx, g = idx[still], g[still]
            if idx.numel() == 0:
                break
        step = x_adv[idx] + alpha * g.sign()
        x_adv[idx] = torch.minimum(torch.maximum(step, lo[idx]), hi[idx])
        used[idx] += 1
    params: dict[str, Any] = {"eps": _floats(eps), "alpha": alpha, "steps": steps, "steps_used": used.tolist()}
    if budget is not None:
        over = rmse(x, x_adv) > budget
        if over.any():
            x_adv[over] = scale_to_budget(x[over], x_adv[over], budget)
        params["scaled_down"] = over.tolist()
    return x_adv, params


def _deepfool(model: nn.Module, x: Tensor, y: Tensor, o: dict) -> tuple[Tensor, dict]:
    overshoot, max_iter = float(o["overshoot"]), int(o["max_iter"])
    logits0 = _logits(model, x)
    n_cls = logits0.shape[1]
    k = max(1, min(int(o["candidates"]), n_cls) - 1)          # candidate classes besides the label
    cand = logits0.scatter(1, y[:, None], float("-inf")).topk(k, dim=1).indices   # [N, k]
    r_tot = torch.zeros_like(x)
    x_adv = x.clone()
    active = logits0.argmax(1) == y
    iters = torch.zeros(len(x), dtype=torch.long, device=x.device)
    for it in range(max_iter + 1):
        idx = active.nonzero().squeeze(1)
        if idx.numel() == 0:
            break
        with torch.enable_grad():
            xi = x_adv[idx].clone().requires_grad_(True)
            out = model(xi)
            still = out.argmax(1) == y[idx]
            if it == max_iter or not still.any():
                active[idx[~still]] = False
                break
            z_y = out.gather(1, y[idx, None])                             # [n, 1]
            f = out.gather(1, cand[idx]) - z_y                            # [n, k]
            w = torch.stack([torch.autograd.grad(f[:, j].sum(), xi, retain_graph=j < k - 1)[0]
                             for j in range(k)], 1)                       # [n, k, C, H, W]
        f = f.detach()
        wn = w.flatten(2).norm(dim=2)                                     # [n, k]
        pert = f.abs() / wn.clamp_min(1e-12)
        best = pert.argmin(1)
        sel = torch.arange(len(idx), device=x.device)
        w_l, p_l, n_l = w[sel, best], pert[sel, best], wn[sel, best].clamp_min(1e-12)
        r_i = _bview((p_l + 1e-4) / n_l, w_l) * w_l
        upd = idx[still]                                                  # only the not-yet-adversarial
        r_tot[upd] += r_i[still]
        x_adv[upd] = (x[upd] + (1 + overshoot) * r_tot[upd]).clamp(0.0, 1.0)
        iters[upd] += 1
        active[idx[~still]] = False
    return x_adv, {"iterations": iters.tolist(), "candidates": k + 1}


def _art_classifier(model: nn.Module, x: Tensor, n_cls: int):
    try:
        from art.estimators.classification import PyTorchClassifier
    except ImportError as e:   # pragma: no cover - depends on the environment
        raise ImportError("this attack needs ART: pip install adversarial-robustness-toolbox==1.20.1") from e
    device = next(iter(model.parameters()), x).device
    return PyTorchClassifier(model=model, loss=nn.CrossEntropyLoss(), input_shape=tuple(x.shape[1:]),
                             nb_classes=n_cls, clip_values=(0.0, 1.0),
                             device_type="gpu" if device.type == "cuda" else "cpu")


def _art_version() -> str:
    import art
    return str(art.__version__)


def _jsma_targets(logits0: Tensor, y: Tensor, target: str, seed: int) -> Tensor:
    n, n_cls = logits0.shape
    if target == "random":   # uniform over the other classes, drawn for every image (seeded)
        offset = np.random.default_rng(seed).integers(1, n_cls, size=n)
        return (y + torch.as_tensor(offset, device=y.device)) % n_cls
    if target == "runner_up":
        return _others_argmax(logits0, y)
    raise ValueError(f"jsma target must be 'random' or 'runner_up', got {target!r}")


def _jsma(model: nn.Module, x: Tensor, y: Tensor, o: dict, seed: int,
          max_rmse: float | None = None) -> tuple[Tensor, dict]:
    """JSMA with ART 1.20.1's `SaliencyMapMethod` semantics, batched in PyTorch (`impl="art"` runs ART itself).

    `max_rmse` bounds it as an L0 attack is bounded: an image stops before the step (two features)
    that would take its normalised RMSE change past `max_rmse`, so the share of features it may change
    is whatever that budget allows (own implementation only).

    Per iteration and still-active image: the gradient of the target class's softmax probability;
    the two features with the largest gradient among those not yet at the clip bound (theta > 0) are
    increased by theta and clipped; an image stops when it is classified as the target, when the
    share of features it has touched exceeds gamma, or when no feature is left. One forward/backward
    pass per iteration for all active images (ART: one gradient call per iteration per batch of 128,
    through its generic class-gradient wrapper, ~20× slower on CPU here).
    """
    logits0 = _logits(model, x)
    targets = _jsma_targets(logits0, y, o["target"], seed)
    x_adv = x.clone()
    idx = (logits0.argmax(1) == y).nonzero().squeeze(1)
    if idx.numel() and o["impl"] == "art":
        from art.attacks.evasion import SaliencyMapMethod

        clf = _art_classifier(nn.Sequential(model, nn.Softmax(dim=1)), x, logits0.shape[1])
        jsma = SaliencyMapMethod(clf, theta=float(o["theta"]), gamma=float(o["gamma"]),
                                 batch_size=int(o["batch_size"]), verbose=False)
        adv = jsma.generate(x[idx].cpu().numpy(), y=targets[idx].cpu().numpy())
        x_adv[idx] = torch.as_tensor(adv, dtype=torch.float32, device=x.device).clamp(0.0, 1.0)
    elif idx.numel():
        theta, gamma = float(o["theta"]), float(o["gamma"])
        flat = x_adv[idx].flatten(1).clone()                       # [M, D]
        x0 = flat.clone()
        max_sq = None if max_rmse is None else max_rmse ** 2 * flat.shape[1]   # budget on the summed squares
        sq = torch.zeros(len(idx), device=x.device)
        tgt = targets[idx]
        d = flat.shape[1]
        space = flat < 1.0 if theta > 0 else flat > 0.0
        touched = torch.zeros_like(space)
        active = torch.ones(len(idx), dtype=torch.bool, device=x.device)
        with torch.enable_grad():
            while active.any():
                a = active.nonzero().squeeze(1)
                xa = flat[a].detach().requires_grad_(True)
                prob = torch.softmax(model(xa.view(-1, *x.shape[1:])), 1).gather(1, tgt[a, None]).sum()
                (g,) = torch.autograd.grad(prob, xa)
                g = g.masked_fill(~space[a], float("-inf") if theta > 0 else float("inf"))
                feats = (g if theta > 0 else -g).topk(2, dim=1).indices      # [A, 2]
                new = flat[a[:, None], feats] + theta
                new = new.clamp(max=1.0) if theta > 0 else new.clamp(min=0.0)
                within = torch.ones(len(a), dtype=torch.bool, device=x.device)
                if max_sq is not None:   # L0 reading of an RMSE budget: stop before the step that exceeds it
                    step_sq = (new - x0[a[:, None], feats]).pow(2) - (flat[a[:, None], feats] - x0[a[:, None], feats]).pow(2)
                    within = sq[a] + step_sq.sum(1) <= max_sq * (1 + 1e-6)   # float32 sums: no spurious stop
                    sq[a[within]] += step_sq[within].sum(1)
                a, feats, new = a[within], feats[within], new[within]
                rows = a[:, None].expand(-1, 2)
                touched[rows, feats] = True
                flat[rows, feats] = new
                space[rows, feats] &= (flat[rows, feats] < 1.0) if theta > 0 else (flat[rows, feats] > 0.0)
                active[active.clone()] = within
                if not len(a):
                    break
                with torch.no_grad():
                    pred = model(flat[a].view(-1, *x.shape[1:])).argmax(1)
                keep = (pred != tgt[a]) & (touched[a].sum(1).float() / d <= gamma) & space[a].any(1)
                active[a] = keep
        x_adv[idx] = flat.view(-1, *x.shape[1:]).detach()
    return x_adv, {"targets": targets.tolist(), "features_changed": (x_adv != x).flatten(1).sum(1).tolist()}


def _cw_own(model: nn.Module, x: Tensor, y: Tensor, o: dict) -> tuple[Tensor, dict]:
    steps, max_iter = int(o["binary_search_steps"]), int(o["max_iter"])
    lr, kappa = float(o["learning_rate"]), float(o["confidence"])
    x_adv = x.clone()
    logits0 = _logits(model, x)
    idx = (logits0.argmax(1) == y).nonzero().squeeze(1)
    consts = torch.full((len(x),), float("nan"), dtype=torch.float64)
    if idx.numel():
        xs, ys = x[idx], y[idx]
        m = len(idx)
        w0 = torch.atanh((2 * xs - 1) * 0.999999)
        x0 = (torch.tanh(w0) + 1) / 2                  # the image as the tanh box sees it
        onehot = F.one_hot(ys, logits0.shape[1]).bool()
        c = torch.full((m,), float(o["initial_const"]), dtype=torch.float64)
        lower, upper = torch.zeros(m, dtype=torch.float64), torch.full((m,), 1e10, dtype=torch.float64)
        best_l2 = torch.full((m,), float("inf"), device=x.device)
        best = xs.clone()
        check_every = max(max_iter // 10, 1)
        for step in range(steps):
            if steps >= 10 and step == steps - 1:        # reference code: last step retries the upper bound
                c = upper.clone()
            cc = c.to(x.device, torch.float32)
            mod = torch.zeros_like(xs, requires_grad=True)
            opt = torch.optim.Adam([mod], lr=lr)
            succeeded = torch.zeros(m, dtype=torch.bool, device=x.device)
            prev = float("inf")
            for it in range(max_iter):
                with torch.enable_grad():
                    xa = (torch.tanh(w0 + mod) + 1) / 2
                    z = model(xa)
                    real = z[onehot]
                    other = z.masked_fill(onehot, float("-inf")).amax(1)
                    l2 = (xa - x0).pow(2).flatten(1).sum(1)
                    loss = (l2 + cc * (real - other + kappa).clamp_min(0)).sum()
                    opt.zero_grad()
                    loss.backward()
                opt.step()
                with torch.no_grad():
                    if o["abort_early"] and it % check_every == 0:
                        if loss.item() > prev * 0.9999:
                            break
                        prev = loss.item()
                    zc = z.detach().clone()
                    zc[onehot] += kappa
                    adv = zc.argmax(1) != ys
                    succeeded |= adv
                    better = adv & (l2.detach() < best_l2)
                    best_l2[better] = l2.detach()[better]
                    best[better] = xa.detach()[better]
            s = succeeded.cpu()
            upper = torch.where(s, torch.minimum(upper, c), upper)
            lower = torch.where(s, lower, torch.maximum(lower, c))
            c = torch.where(upper < 1e9, (lower + upper) / 2, torch.where(s, c, c * 10))
        found = torch.isfinite(best_l2)
        x_adv[idx[found]] = best[found].clamp(0.0, 1.0)
        consts[idx.cpu()] = torch.where(upper < 1e9, upper, torch.full_like(upper, float("nan")))
    return x_adv, {"const": [float(v) for v in consts]}


def _cw_art(model: nn.Module, x: Tensor, y: Tensor, o: dict) -> tuple[Tensor, dict]:
    from art.attacks.evasion import CarliniL2Method

    logits0 = _logits(model, x)
    x_adv = x.clone()
    idx = (logits0.argmax(1) == y).nonzero().squeeze(1)
    if idx.numel():
        clf = _art_classifier(model, x, logits0.shape[1])
        cw = CarliniL2Method(clf, confidence=float(o["confidence"]), targeted=False,
                             learning_rate=float(o["learning_rate"]),
                             binary_search_steps=int(o["binary_search_steps"]), max_iter=int(o["max_iter"]),
                             initial_const=float(o["initial_const"]), batch_size=len(idx), verbose=False)
        adv = cw.generate(x[idx].cpu().numpy(), y=y[idx].cpu().numpy())
        x_adv[idx] = torch.as_tensor(adv, dtype=torch.float32, device=x.device).clamp(0.0, 1.0)
    return x_adv, {}


def _one_blas_thread() -> contextlib.AbstractContextManager:
    """Limit BLAS to one thread if threadpoolctl (a scikit-learn dependency, so there with ART) exists."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:   # pragma: no cover - depends on the environment
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _lbfgs(model: nn.Module, x: Tensor, y: Tensor, o: dict) -> tuple[Tensor, dict]:
    from scipy.optimize import Bounds, minimize

    if o["loss"] not in ("true_class", "runner_up"):
        raise ValueError(f"lbfgs loss must be 'true_class' or 'runner_up', got {o['loss']!r}")
    logits0 = _logits(model, x)
    x_adv = x.clone()
    idx = (logits0.argmax(1) == y).nonzero().squeeze(1)
    consts = torch.full((len(x),), float("nan"), dtype=torch.float64)
    targets = _others_argmax(logits0, y)
    if idx.numel():
        xs, ys, ts = x[idx], y[idx], targets[idx]
        m, shape = len(idx), xs.shape
        v0 = xs.double().flatten().cpu().numpy()
        bounds = Bounds(np.zeros_like(v0), np.ones_like(v0))
        c = torch.full((m,), float(o["initial_const"]), dtype=torch.float64)
        lower, upper = torch.zeros(m, dtype=torch.float64), torch.full((m,), 1e10, dtype=torch.float64)
        best_l2 = torch.full((m,), float("inf"), device=x.device)
        best = xs.clone()

        def objective(v: np.ndarray, cc: Tensor) -> tuple[float, np.ndarray]:
            with torch.enable_grad():
                xa = torch.as_tensor(v, device=x.device).view(shape).float().requires_grad_(True)
                z = model(xa)
                if o["loss"] == "true_class":   # maximise the true class's cross-entropy
                    term = -F.cross_entropy(z, ys, reduction="none")
                else:                           # minimise the cross-entropy toward the runner-up
                    term = F.cross_entropy(z, ts, reduction="none")
                loss = (cc * term).sum() + (xa - xs).pow(2).sum()
                (g,) = torch.autograd.grad(loss, xa)
            return float(loss.detach()), g.double().flatten().cpu().numpy()

        for _step in range(int(o["binary_search_steps"])):
            cc = c.to(x.device, torch.float32)
            with _one_blas_thread():   # L-BFGS-B's vector ops: threaded OpenBLAS is ~50x slower on a busy CPU
                res = minimize(objective, v0, args=(cc,), jac=True, method="L-BFGS-B", bounds=bounds,
                               options={"maxiter": int(o["max_iter"]), "maxcor": int(o["maxcor"])})
            xa = torch.as_tensor(np.clip(res.x, 0.0, 1.0), device=x.device).view(shape).float()
            adv = _logits(model, xa).argmax(1) != ys
            l2 = (xa - xs).pow(2).flatten(1).sum(1)
            better = adv & (l2 < best_l2)
            best_l2[better], best[better] = l2[better], xa[better]
            s = adv.cpu()
            upper = torch.where(s, torch.minimum(upper, c), upper)
            lower = torch.where(s, lower, torch.maximum(lower, c))
            c = torch.where(upper < 1e9, (lower + upper) / 2, torch.where(s, c, c * 10))
        found = torch.isfinite(best_l2)
        x_adv[idx[found]] = best[found]
        consts[idx.cpu()] = torch.where(upper < 1e9, upper, torch.full_like(upper, float("nan")))
    return x_adv, {"const": [float(v) for v in consts], "targets": targets.tolist() if o["loss"] == "runner_up"
                   else None}


# ---------------------------------------------------------------------------------------- entry point


def attack(model: nn.Module, images: Tensor, labels: Tensor, kind: Attack | str, budget: float | None = None,
           *, seed: int = 0, **options: Any) -> AttackResult:
    """Run one untargeted white-box attack on a batch.

    Args:
        model: maps `[N, 3, H, W]` float32 in [0, 1] to logits `[N, K]` (normalising inside). Put in
            eval mode for the attack and restored afterwards; parameters and buffers are not changed.
        images: `[N, 3, H, W]` float in [0, 1] (ValueError otherwise), on the model's device.
        labels: int `[N]`, true classes in 0..K-1.
        kind: an `Attack` or its name: fgsm, igsm, deepfool, jsma, lbfgs, cw (ValueError otherwise).
        budget: target normalised RMSE sqrt(mean((x − x')²)) per image on [0, 1] pixels (the
            thesis's |L2|, e.g. 0.02–0.04). fgsm / igsm: sets ε (see the module docstring); required
            unless `eps=` is given. Minimal attacks: optional cap (over-budget perturbations are
            scaled down onto it and re-evaluated).
        seed: seeds the attack's randomness (only JSMA's random target classes draw any).
        **options: per-attack options, defaults in `DEFAULTS[kind]` (unknown ones: ValueError):
            fgsm  eps (fixed L∞ step on [0, 1], instead of `budget`)
            igsm  eps, alpha (step, default 1/255), steps (default Kurakin's rule), early_stop
            deepfool  overshoot, max_iter, candidates (classes considered, incl. the label)
            jsma  theta (feature increment), gamma (max fraction of features), target
                  ('random' | 'runner_up'), batch_size (ART's)
            lbfgs loss ('runner_up' | 'true_class'), binary_search_steps, max_iter (L-BFGS-B
                  iterations per c), initial_const, maxcor (L-BFGS memory)
            cw    binary_search_steps, max_iter, learning_rate, initial_const, confidence (κ),
                  abort_early, impl ('own' | 'art')

    Returns:
        `AttackResult` with adversarial `images` `[N, 3, H, W]` float32 in [0, 1], `success` bool
        `[N]`, `rmse` float32 `[N]` and `params` (see `AttackResult`).
    """
    kind = _parse_kind(kind)
    x, y = _check_inputs(images, labels)
    o = _resolve_options(kind, options)
    if budget is not None:
        _check_budget(budget)
    if kind in (Attack.FGSM, Attack.IGSM):
        if (budget is None) == (o["eps"] is None):
            raise ValueError(f"{kind.value} needs exactly one of budget= (target RMSE) or eps= (L∞ step)")
        if o["eps"] is not None and not 0 <= float(o["eps"]) <= 1:
            raise ValueError(f"eps must be in [0, 1] (pixel scale), got {o['eps']!r}")
    if kind in (Attack.CW, Attack.JSMA) and o["impl"] not in ("own", "art"):
        raise ValueError(f"{kind.value} impl must be 'own' or 'art', got {o['impl']!r}")

    library = LIBRARIES[kind.value]
    version = f"torch {torch.__version__}"
    with _frozen(model):
        if kind is Attack.FGSM:
            x_adv, extra = _fgsm(model, x, y, budget, o)
        elif kind is Attack.IGSM:
            x_adv, extra = _igsm(model, x, y, budget, o)
        elif kind is Attack.DEEPFOOL:
            x_adv, extra = _deepfool(model, x, y, o)
        elif kind is Attack.JSMA:
            l0 = budget is not None and o["budget_reading"] == "l0"
            if l0 and o["impl"] != "own":
                raise ValueError("jsma budget_reading='l0' needs impl='own' (ART cannot stop at an RMSE budget)")
            x_adv, extra = _jsma(model, x, y, o, seed, max_rmse=budget if l0 else None)
            if o["impl"] == "art":
                library, version = "ART SaliencyMapMethod", version + f", adversarial-robustness-toolbox {_art_version()}"
        elif kind is Attack.LBFGS:
            import scipy
            x_adv, extra = _lbfgs(model, x, y, o)
            version += f", scipy {scipy.__version__}"
        elif o["impl"] == "art":
            x_adv, extra = _cw_art(model, x, y, o)
            library, version = "ART CarliniL2Method", version + f", adversarial-robustness-toolbox {_art_version()}"
        else:
            x_adv, extra = _cw_own(model, x, y, o)

        if kind in MINIMAL:
            found = _logits(model, x_adv).argmax(1) != y
            r_min = rmse(x, x_adv)
            extra["found"] = found.tolist()
            extra["min_rmse"] = [v if f else float("nan") for v, f in zip(_floats(r_min), found.tolist())]
            if budget is not None:
                over = r_min.to(x.device) > budget
                if over.any():
                    x_adv[over] = scale_to_budget(x[over], x_adv[over], budget)
                extra["over_budget"] = over.tolist()
        success = _logits(model, x_adv).argmax(1) != y

    params = {"attack": kind.value, "library": library, "versions": version, "budget": budget, "seed": seed,
              "options": o, **extra,
              "non_paper_defaults": {**NON_PAPER_DEFAULTS["all"], **NON_PAPER_DEFAULTS[kind.value]}}
    return AttackResult(images=x_adv, success=success, rmse=rmse(x, x_adv).to(x.device), params=params)


def bpda_eot(model: nn.Module, images: Tensor, labels: Tensor, defence: Callable[[Tensor], Tensor], budget: float,
             steps: int = 20, eot: int = 5, step_size: float | None = None) -> Tensor:
    """Adaptive attack on a randomised input defence: BPDA + EOT (Athalye, Carlini, Wagner 2018).

    Untargeted PGD in the L2 ball of normalised RMSE `budget` (radius budget·sqrt(C·H·W)) around
    each image, intersected with [0, 1]. At every step the loss gradient is averaged over `eot`
    draws of the defence (Expectation over Transformation), and the defence is treated as the
    identity on the backward pass (Backward Pass Differentiable Approximation: pixel deflection and
    wavelet shrinkage are not usefully differentiable): grad = mean_e ∇_{t} CE(model(t), y) at
    t = defence(x). Step: x <- proj(x + α·g/‖g‖₂), α = `step_size` (default 2.5·radius/steps, the
    usual PGD rule). Starts at the clean image; returns the last iterate.

    Args:
        model: logits model on [0, 1] images (eval mode is set and restored; parameters untouched).
        images: `[N, 3, H, W]` float in [0, 1]; labels `[N]` int64.
        defence: `[N, 3, H, W] -> [N, 3, H', W']`, stochastic (draws its own randomness).
        budget: normalised RMSE in (0, 1].

    Returns:
        `[N, 3, H, W]` float32 adversarial images in [0, 1] with rmse <= budget.
    """
    _check_budget(budget)
    x0, y = _check_inputs(images, labels)
    radius = budget * math.sqrt(x0[0].numel())
    alpha = step_size if step_size is not None else 2.5 * radius / max(steps, 1)
    x = x0.clone()
    with _frozen(model), torch.enable_grad():
        for _ in range(steps):
            grad = torch.zeros_like(x)
            for _ in range(eot):
                with torch.no_grad():
                    t = defence(x)
                t = t.detach().requires_grad_(True)
                loss = F.cross_entropy(model(t), y, reduction="sum")
                g, = torch.autograd.grad(loss, t)
                if g.shape != x.shape:   # a defence that resizes: bring the gradient back (BPDA as resize)
                    g = F.interpolate(g, size=x.shape[-2:], mode="bilinear", align_corners=False)
                grad += g
            norm = grad.flatten(1).norm(dim=1).clamp_min(1e-12)
            x = x + alpha * grad / _bview(norm, x)
            delta = x - x0
            dn = delta.flatten(1).norm(dim=1)
            delta = delta * _bview(torch.clamp(radius / dn.clamp_min(1e-12), max=1.0), delta)
            x = (x0 + delta).clamp(0.0, 1.0).detach()
    return x.float()
