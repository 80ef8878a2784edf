"""RePr (Prakash et al., CVPR 2019; thesis chapter 5): filter ranking, orthogonal re-initialisation and
the train / prune / retrain / re-add schedule.

Vocabulary. A *filter* is one output channel of a conv layer: its weight row `W[f]` (`[C, k, k]`),
its bias `b[f]`, and, when a BatchNorm normalises the layer, that BatchNorm's `gamma[f]`, `beta[f]`
and running statistics. *Dropping* a filter sets all of these to zero (running mean 0, variance 1)
and holds them there; *re-adding* writes new weights (`reinit_orthogonal`), bias 0, gamma 1, beta 0.
The layers considered are `lib.models.prunable_convs(model)` (every conv; the FC is never pruned).

Ranking. `rank_filters` returns one *priority* per filter (higher = dropped first), global across
layers as the thesis prescribes (§5.5). Criteria (`Criterion`, strings accepted):

- `ortho`: the thesis's inter-filter orthogonality (eqs 5.1-5.2, `ortho_scores`), larger = more overlap;
- `oracle`: greedy Oracle: validation-accuracy drop when the filter alone is zeroed; priority = -drop;
- `random`: uniform random priorities;
- `weights`: L1 norm of the filter's weights (Li et al. 2017; magnitude pruning as in [HMD16]); priority = -norm;
- `activations`: mean post-activation value over validation images; priority = -mean;
- `apoz`: average percentage of zeros of the post-ReLU output (Hu et al. 2016); priority = +APoZ;
- `gradients`: mean over validation batches of the L2 norm of dLoss/dW[f]; priority = -that;
- `taylor`: |mean over batch and positions of activation x dLoss/dactivation| (Molchanov et al. 2017),
  averaged over batches and L2-normalised per layer as they do; priority = -that;
- `hessian`: Optimal-Brain-Damage saliency sum_w h_ww w^2 / 2 with the **diagonal of the empirical Fisher**
  (mean squared per-batch gradient) standing in for the Hessian diagonal (LeCun et al. 1989 use the
  exact diagonal); priority = -saliency.

"Activation" of a filter is the output of its conv layer after the nonlinearity that follows (ReLU
for the vanilla nets; for ResNets the BatchNorm output, since the block's ReLU comes after the sum).

The thesis leaves open how the dropped filters are held, how they are re-initialised and what
happens to optimiser state; our choices are in `FilterDropper` and `reinit_orthogonal`.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lib import models

Masks = dict[str, Tensor]   # conv layer name -> bool [J], True = dropped


class Criterion(str, Enum):
    """Filter-ranking criteria of Table 5.1 (plain strings accepted)."""

    ORTHO = "ortho"
    ORTHO_PUBLIC = "ortho_public"
    ORACLE = "oracle"
    RANDOM = "random"
    WEIGHTS = "weights"
    ACTIVATIONS = "activations"
    APOZ = "apoz"
    GRADIENTS = "gradients"
    TAYLOR = "taylor"
    HESSIAN = "hessian"


# ---------------------------------------------------------------------------------------------
# Inter-filter orthogonality


def ortho_scores(weight: Tensor, variant: str = "thesis") -> Tensor:
    """Inter-filter orthogonality score of every filter of one conv layer (thesis eqs 5.1-5.2).

    Args:
        weight: `[J, C, k, k]` conv weight (any float dtype); rows are flattened to `W` `[J, C·k·k]`.
        variant: `"thesis"`: each row L2-normalised (`Ŵ`), `P = |Ŵ Ŵᵀ − I|`, score = row sum of P / J.
            `"public"`: the official TF code's `inter_ortho`: the whole matrix divided by its Frobenius
            norm, Gram matrix with its diagonal zeroed, *signed* row mean (denominator J), then |·|.

    Returns:
        `[J]` float32 scores, >= 0; larger = more overlap with the layer's other filters = dropped
        first. Thesis variant: in [0, (J−1)/J]; a zero filter scores 1/J (its row of `Ŵ` is zero).
    """
    w = weight.detach().flatten(1).double()
    j = w.shape[0]
    if variant == "thesis":
        w_hat = F.normalize(w, dim=1)
        p = (w_hat @ w_hat.T - torch.eye(j, dtype=w.dtype, device=w.device)).abs()
        return (p.sum(1) / j).float()
    if variant == "public":
        w_hat = w / w.norm().clamp_min(1e-12)
        g = w_hat @ w_hat.T
        g = g - torch.diag(torch.diag(g))
        return (g.sum(1) / j).abs().float()
    raise ValueError(f"variant must be 'thesis' or 'public'; got {variant!r}")


def ortho_sum(model: nn.Module) -> float:
    """Ortho-sum of Fig. 5.9: thesis `ortho_scores` summed over all filters of all prunable convs."""
    return float(sum(ortho_scores(conv.weight).sum() for conv, _ in models.prunable_convs(model).values()))


def ortho_loss(model: nn.Module) -> Tensor:
    """The orthogonality regulariser of Table 5.2: sum over conv layers of the sum of |Ŵ Ŵᵀ − I|
    (rows L2-normalised; the thesis does not name the norm, we take the entry-wise L1). Scalar,
    differentiable; multiply by λ (thesis: 0.01) and add to the cross-entropy."""
    total = torch.zeros(())
    for conv, _ in models.prunable_convs(model).values():
        w_hat = F.normalize(conv.weight.flatten(1), dim=1)
        eye = torch.eye(w_hat.shape[0], device=w_hat.device)
        total = total.to(w_hat.device) + (w_hat @ w_hat.T - eye).abs().sum()
    return total


# ---------------------------------------------------------------------------------------------
# Ranking


def _batches(images: Tensor, labels: Tensor, batch_size: int) -> Iterator[tuple[Tensor, Tensor]]:
    for start in range(0, len(labels), batch_size):
        x = images[start:start + batch_size]
        yield (x.float() / 255 if x.dtype == torch.uint8 else x), labels[start:start + batch_size]


def _output_module(model: nn.Module, name: str) -> nn.Module:
    conv, bn = models.prunable_convs(model)[name]
    return bn if bn is not None else conv


def _post_activation(model: nn.Module, out: Tensor) -> Tensor:
    """The filter's 'activation' from its conv/BN output: ReLU for vanilla nets, the BN output otherwise."""
    return out.relu() if isinstance(model, models.VanillaConvNet) else out


@torch.no_grad()
def _accuracy(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int) -> float:
    correct = sum((model(x).argmax(1) == y).sum().item() for x, y in _batches(images, labels, batch_size))
    return correct / len(labels)


@torch.no_grad()
def oracle_drops(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int = 1000,
                 progress: Callable[[Iterator], Iterator] | None = None) -> dict[str, Tensor]:
    """Greedy Oracle: accuracy drop (fraction of `images`, in [-1, 1]) when each filter alone is zeroed.

    Zeroing a filter's output channel equals zeroing its weights, bias and BatchNorm gamma/beta.

    Args:
        model: in eval mode; images `[N, 3, H, W]` uint8 or float in [0, 1] on its device; labels `[N]`.

    Returns:
        {layer: `[J]` float32 drops}; positive = the filter helps.
    """
    was = model.training
    model.eval()
    base = _accuracy(model, images, labels, batch_size)
    units = [(name, f) for name, (conv, _) in models.prunable_convs(model).items() for f in range(conv.out_channels)]
    drops = {name: torch.zeros(conv.out_channels) for name, (conv, _) in models.prunable_convs(model).items()}
    for name, f in (progress(iter(units)) if progress else units):
        def zero(_m, _i, o, f=f):
            o = o.clone()
            o[:, f] = 0
            return o
        hook = _output_module(model, name).register_forward_hook(zero)
        try:
            drops[name][f] = base - _accuracy(model, images, labels, batch_size)
        finally:
            hook.remove()
    model.train(was)
    return drops


def _activation_stats(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int,
                      need_grads: bool) -> dict[str, dict[str, Tensor]]:
    """Per filter: mean activation, APoZ, and (with `need_grads`) gradient norm, Taylor, Fisher-OBD."""
    convs = models.prunable_convs(model)
    stats = {name: {k: torch.zeros(conv.out_channels, dtype=torch.float64, device=conv.weight.device)
                    for k in ("act", "apoz", "grad", "taylor", "obd")} for name, (conv, _) in convs.items()}
    acts: dict[str, Tensor] = {}

    def keep(name: str):
        def hook(_m, _i, o):
            a = _post_activation(model, o)
            if need_grads:
                a.retain_grad()
            acts[name] = a
            return a   # vanilla: relu(conv) replaces the conv output; the ReLU after it is then a no-op
        return hook

    hooks = [_output_module(model, name).register_forward_hook(keep(name)) for name in convs]
    was = model.training
    model.eval()
    batches = 0
    try:
        for x, y in _batches(images, labels, batch_size):
            batches += 1
            with torch.set_grad_enabled(need_grads):
                loss = F.cross_entropy(model(x), y)
                if need_grads:
                    model.zero_grad(set_to_none=True)
                    loss.backward()
            for name, (conv, _) in convs.items():
                a, s = acts[name].detach(), stats[name]
                s["act"] += a.mean((0, 2, 3)).double()
                s["apoz"] += (a <= 0).float().mean((0, 2, 3)).double()
                if need_grads:
                    g = conv.weight.grad.detach().flatten(1)
                    s["grad"] += g.norm(dim=1).double()
                    s["obd"] += 0.5 * (g.pow(2) * conv.weight.detach().flatten(1).pow(2)).sum(1).double()
                    s["taylor"] += (acts[name] * acts[name].grad).detach().mean((0, 2, 3)).abs().double()
    finally:
        for h in hooks:
            h.remove()
        model.zero_grad(set_to_none=True)
        model.train(was)
    return {name: {k: (v / batches).float() for k, v in s.items()} for name, s in stats.items()}


def rank_filters(model: nn.Module, criterion: Criterion | str, images: Tensor | None = None,
                 labels: Tensor | None = None, generator: torch.Generator | None = None,
                 batch_size: int = 500) -> dict[str, Tensor]:
    """Prune priority of every filter (higher = less important = dropped first); module docstring.

    Args:
        model: the network (its mode is restored).
        criterion: a `Criterion`.
        images, labels: held-out validation images `[N, 3, H, W]` (uint8 or [0, 1] float) and labels
            `[N]` on the model's device; needed by every data-driven criterion (not ortho/weights/random).
        generator: CPU generator for `random`.

    Returns:
        {layer: `[J]` float32 priorities} on the CPU, comparable across layers (global ranking).
    """
    criterion = Criterion(criterion)
    convs = models.prunable_convs(model)
    if criterion in (Criterion.ORTHO, Criterion.ORTHO_PUBLIC):
        variant = "thesis" if criterion is Criterion.ORTHO else "public"
        return {n: ortho_scores(c.weight, variant).cpu() for n, (c, _) in convs.items()}
    if criterion is Criterion.RANDOM:
        return {n: torch.rand(c.out_channels, generator=generator) for n, (c, _) in convs.items()}
    if criterion is Criterion.WEIGHTS:
        return {n: -c.weight.detach().flatten(1).abs().sum(1).float().cpu() for n, (c, _) in convs.items()}
    if images is None or labels is None:
        raise ValueError(f"criterion {criterion.value!r} needs validation images and labels")
    if criterion is Criterion.ORACLE:
        return {n: -d for n, d in oracle_drops(model, images, labels).items()}
    need_grads = criterion in (Criterion.GRADIENTS, Criterion.TAYLOR, Criterion.HESSIAN)
    stats = _activation_stats(model, images, labels, batch_size, need_grads)
    key = {Criterion.ACTIVATIONS: "act", Criterion.APOZ: "apoz", Criterion.GRADIENTS: "grad",
           Criterion.TAYLOR: "taylor", Criterion.HESSIAN: "obd"}[criterion]
    out = {}
    for name, s in stats.items():
        v = s[key].cpu()
        if criterion is Criterion.TAYLOR:
            v = v / v.norm().clamp_min(1e-12)
        out[name] = v if criterion is Criterion.APOZ else -v
    return out


def select_dropped(priority: dict[str, Tensor], fraction: float, generator: torch.Generator | None = None) -> Masks:
    """The `fraction` of all filters with the highest priority (global ranking), as masks.

    round(fraction · total) filters are dropped; each layer keeps at least one filter (a layer with
    no filter would cut the network). Ties are broken at random (`generator`).

    Returns:
        {layer: bool `[J]`}, True = dropped.
    """
    if not 0 <= fraction < 1:
        raise ValueError(f"fraction must be in [0, 1); got {fraction}")
    names = list(priority)
    flat = torch.cat([priority[n].float().cpu() for n in names])
    layer_of = torch.cat([torch.full((len(priority[n]),), i) for i, n in enumerate(names)])
    jitter = torch.rand(len(flat), generator=generator) * 1e-9 * (flat.abs().max().clamp_min(1e-12))
    order = torch.argsort(flat + jitter, descending=True)
    budget = math.floor(fraction * len(flat) + 0.5)
    left = {i: len(priority[n]) for i, n in enumerate(names)}
    chosen = torch.zeros(len(flat), dtype=torch.bool)
    for idx in order.tolist():
        if budget == 0:
            break
        layer = int(layer_of[idx])
        if left[layer] > 1:
            chosen[idx] = True
            left[layer] -= 1
            budget -= 1
    masks, start = {}, 0
    for n in names:
        masks[n] = chosen[start:start + len(priority[n])].clone()
        start += len(priority[n])
    return masks


# ---------------------------------------------------------------------------------------------
# Re-initialisation


def reinit_orthogonal(weight: Tensor, dropped: Tensor, std: float | None = None,
                      generator: torch.Generator | None = None) -> Tensor:
    """New values for the dropped filters of one conv layer, orthogonal to the layer's other filters.

    Rows are flattened filters (dimension d = C·k·k). New rows are Gaussian draws projected onto the
    orthogonal complement of a constraint set and orthonormalised among themselves (QR), then scaled
    to norm `std`·sqrt(d), the expected norm of a fresh He-normal filter. The constraint set is, as
    far as the dimension allows (r = rank of the kept rows, r_old = rank of the dropped rows' old
    values, m = number dropped):

    1. r + r_old + m <= d: orthogonal to the kept filters **and** to their own previous values;
    2. else r + m <= d: orthogonal to the kept filters only (old values cannot also be avoided);
    3. else: the first d − r new filters orthogonal to the kept ones, the rest plain Gaussian draws at
       the same scale (e.g. a first layer with 27-dim filters and 32 of them: d < J).

    Args:
        weight: `[J, C, k, k]` current weights (dropped rows may be zero or hold old values).
        dropped: bool `[J]` (True = write new values) or an index tensor.
        std: initialisation std; default sqrt(2 / d) (He-normal, fan-in = d).
        generator: CPU generator for the draws.

    Returns:
        A new `[J, C, k, k]` tensor (same dtype/device): kept rows unchanged, dropped rows written.
    """
    j = weight.shape[0]
    dropped = torch.as_tensor(dropped).cpu()
    if dropped.dtype == torch.bool:
        mask = dropped.clone()
    else:
        mask = torch.zeros(j, dtype=torch.bool)
        mask[dropped] = True
    m = int(mask.sum())
    out = weight.detach().clone()
    if m == 0:
        return out
    w = weight.detach().flatten(1).double().cpu()
    d = w.shape[1]
    std = math.sqrt(2.0 / d) if std is None else std
    kept, old = w[~mask], w[mask]

    def basis(rows: Tensor) -> Tensor:   # orthonormal basis [d, r] of the span of `rows`
        if rows.numel() == 0:
            return torch.zeros(d, 0, dtype=w.dtype)
        u, s, _ = torch.linalg.svd(rows.T, full_matrices=False)
        return u[:, s > s.max() * 1e-8] if s.numel() and s.max() > 0 else torch.zeros(d, 0, dtype=w.dtype)

    q_kept = basis(kept)
    q_both = basis(torch.cat([kept, old]))
    q = q_both if q_both.shape[1] + m <= d else q_kept
    n_orth = min(m, d - q.shape[1])
    draws = torch.randn(m, d, generator=generator, dtype=torch.float64)
    new = draws.clone()
    if n_orth > 0:
        v = draws[:n_orth].T
        v = v - q @ (q.T @ v)
        v = v - q @ (q.T @ v)                  # second pass: numerically orthogonal
        qv, r = torch.linalg.qr(v)
        qv = qv * torch.sign(torch.diagonal(r)).where(torch.diagonal(r) != 0, torch.ones(()))
        new[:n_orth] = qv.T
    new = new / new.norm(dim=1, keepdim=True).clamp_min(1e-12) * std * math.sqrt(d)
    flat = out.flatten(1)
    flat[mask.to(out.device)] = new.to(out.dtype).to(out.device)
    return flat.view_as(out)


# ---------------------------------------------------------------------------------------------
# Holding dropped filters at zero


class FilterDropper:
    """Drops filters of a model and holds them at exactly zero while the sub-network trains.

    `drop(masks)` zeroes the dropped filters' weights, bias, BatchNorm gamma/beta (running mean 0,
    variance 1) and every optimiser-state tensor shaped like those parameters (SGD momentum, Adam
    moments, RMSprop averages). During training call `mask_grads()` after `backward()` and `hold()`
    after `optimizer.step()`: with zero value, zero gradient and zero state, SGD, momentum, Adam,
    AdamW and RMSprop leave the entries at zero (weight decay of a zero is zero); `hold()` re-zeroes
    anyway. `readd(generator)` writes orthogonal new weights (`reinit_orthogonal`), bias 0, gamma 1,
    beta 0, and leaves the (zero) optimiser state of those entries as a fresh start. Adam's step
    counter is per tensor and is not reset (its bias correction is ~1 by then).
    """

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer | None = None):
        self.model, self.optimizer = model, optimizer
        self.convs = models.prunable_convs(model)
        self.masks: Masks = {}

    def _entries(self) -> Iterator[tuple[Tensor, Tensor]]:
        """(parameter, bool mask of its dropped entries, broadcastable) for every affected parameter."""
        for name, mask in self.masks.items():
            conv, bn = self.convs[name]
            m = mask.to(conv.weight.device)
            yield conv.weight, m.view(-1, 1, 1, 1)
            for p in (conv.bias, bn.weight if bn is not None else None, bn.bias if bn is not None else None):
                if p is not None:
                    yield p, m

    @property
    def active(self) -> bool:
        return any(bool(m.any()) for m in self.masks.values())

    @torch.no_grad()
    def drop(self, masks: Masks) -> None:
        unknown = set(masks) - set(self.convs)
        if unknown:
            raise ValueError(f"unknown layers {sorted(unknown)}; valid: {list(self.convs)}")
        self.masks = {n: m.bool().cpu() for n, m in masks.items() if m.any()}
        self.hold()
        for name, mask in self.masks.items():
            bn = self.convs[name][1]
            if bn is not None:
                bn.running_mean[mask.to(bn.running_mean.device)] = 0.0
                bn.running_var[mask.to(bn.running_var.device)] = 1.0
        if self.optimizer is not None:
            for p, m in self._entries():
                for value in self.optimizer.state.get(p, {}).values():
                    if torch.is_tensor(value) and value.shape == p.shape:
                        value.masked_fill_(m.expand_as(value), 0.0)

    def mask_grads(self) -> None:
        for p, m in self._entries():
            if p.grad is not None:
                p.grad.masked_fill_(m.expand_as(p.grad), 0.0)

    @torch.no_grad()
    def hold(self) -> None:
        for p, m in self._entries():
            p.masked_fill_(m.expand_as(p), 0.0)

    @torch.no_grad()
    def readd(self, generator: torch.Generator | None = None, orthogonal: bool = True) -> None:
        """Re-add the dropped filters (orthogonal re-init, or left at zero with `orthogonal=False`,
        as DSD re-adds pruned weights) and stop holding them."""
        for name, mask in self.masks.items():
            conv, bn = self.convs[name]
            m = mask.to(conv.weight.device)
            if orthogonal:
                conv.weight.copy_(reinit_orthogonal(conv.weight, mask, generator=generator))
            if conv.bias is not None:
                conv.bias[m] = 0.0
            if bn is not None:
                bn.weight[m], bn.bias[m] = 1.0, 0.0
        self.masks = {}


class WeightDropper(FilterDropper):
    """DSD's sparse phase (Han et al. 2016): drop the smallest-magnitude fraction of each conv layer's
    individual weights, hold them at zero with their optimiser state, re-add them at zero."""

    def drop_smallest(self, fraction: float) -> None:
        self.weight_masks = {}
        for name, (conv, _) in self.convs.items():
            w = conv.weight.detach().abs().flatten()
            k = math.floor(fraction * w.numel() + 0.5)
            mask = torch.zeros_like(w, dtype=torch.bool)
            if k:
                mask[torch.topk(w, k, largest=False).indices] = True
            self.weight_masks[name] = mask.view_as(conv.weight)
        self.masks = {n: torch.ones(1, dtype=torch.bool) for n in self.weight_masks}   # 'active'
        self.hold()
        if self.optimizer is not None:
            for p, m in self._entries():
                for value in self.optimizer.state.get(p, {}).values():
                    if torch.is_tensor(value) and value.shape == p.shape:
                        value.masked_fill_(m, 0.0)

    def _entries(self) -> Iterator[tuple[Tensor, Tensor]]:
        for name in self.masks:
            yield self.convs[name][0].weight, self.weight_masks[name]

    @torch.no_grad()
    def readd(self, generator: torch.Generator | None = None, orthogonal: bool = False) -> None:
        self.masks = {}


# ---------------------------------------------------------------------------------------------
# Schedules


@dataclass(frozen=True)
class Schedule:
    """The RePr schedule in epochs (thesis: S1 = 20, S2 = 10, p = 30%, N = 3, 100 epochs).

    Cycle i (0-based) trains the full net for S1 epochs, drops p of the filters at epoch
    i·(S1+S2)+S1, trains the sub-network S2 epochs, re-adds them at (i+1)·(S1+S2). After N cycles the
    full net trains on up to `epochs` (thesis: 3·30 = 90, then 10 standard epochs, INFERRED); at least one
    such epoch is required, so that re-added filters are trained before the end.
    `fraction = 0` or `cycles = 0` is standard training for the same number of epochs.
    """

    epochs: int
    s1: int = 20
    s2: int = 10
    fraction: float = 0.3
    cycles: int = 3

    def __post_init__(self):
        if not self.standard and self.cycles * (self.s1 + self.s2) >= self.epochs:
            raise ValueError(f"{self.cycles} cycles of S1+S2 = {self.s1 + self.s2} epochs need at least one more epoch "
                             f"of full training after the last re-add; got {self.epochs} epochs")
        if self.s1 < 1 or self.s2 < 0 or not 0 <= self.fraction < 1:
            raise ValueError(f"need S1 >= 1, S2 >= 0 and 0 <= p < 1; got {self.s1}, {self.s2}, {self.fraction}")

    @property
    def standard(self) -> bool:
        return self.fraction == 0 or self.cycles == 0 or self.s2 == 0

    def drop_epochs(self) -> list[int]:
        """Epochs (count of completed epochs) at which filters are dropped."""
        return [] if self.standard else [i * (self.s1 + self.s2) + self.s1 for i in range(self.cycles)]

    def readd_epochs(self) -> list[int]:
        return [] if self.standard else [(i + 1) * (self.s1 + self.s2) for i in range(self.cycles)]

    def sub_network(self, epoch: int) -> bool:
        """Is epoch `epoch` (0-based) trained as a sub-network?"""
        return any(d <= epoch < r for d, r in zip(self.drop_epochs(), self.readd_epochs()))


def learning_rate(kind: str, base: float, epoch: float, epochs: int, *, amplitude: float = 0.005,
                  period: float = 50.0) -> float:
    """Learning rate at (fractional) `epoch`.

    kinds: `constant` (base); `step`: base, base/10, base/100 over the first half, the next quarter
    and the last quarter (thesis Fig. 5.7: 0.1, 0.01, 0.001; boundaries not given); `cyclic`:
    triangular (Smith 2017) from `base` up to `base + amplitude` and back every `period` epochs
    (thesis: base 0.001, amplitude 0.005, period 50 of 100 epochs).
    """
    if kind == "constant":
        return base
    if kind == "step":
        return base * (1.0 if epoch < epochs / 2 else 0.1 if epoch < 3 * epochs / 4 else 0.01)
    if kind == "cyclic":
        phase = (epoch % period) / period
        return base + amplitude * (1 - abs(2 * phase - 1))
    raise ValueError(f"learning-rate schedule must be constant, step or cyclic; got {kind!r}")


# ---------------------------------------------------------------------------------------------
# Training with the RePr schedule


@dataclass(frozen=True)
class TrainSpec:
    """How one network is trained (everything but the data, the schedule and the seed).

    optimizer: `sgd` (plain), `momentum` (SGD, momentum 0.9), `adam`, `rmsprop`; lr: base learning
    rate, shaped by `lr_schedule` (`learning_rate`); batch_size in images; criterion: RePr ranking;
    kd_temperature / kd_alpha: knowledge distillation, loss = alpha·T²·KL(teacher_T || student_T) +
    (1 − alpha)·CE (Hinton et al. 2015; only with teacher logits); ortho_lambda: weight of
    `ortho_loss` (Table 5.2); sparsify: `filters` (RePr) or `weights` (DSD: smallest-magnitude weights
    of each layer, re-added at zero); reinit: `orthogonal` or `zero` re-addition of filters;
    rank_layers: `all` (the thesis: every conv layer competes in one global ranking) or `skip_first`
    (the first conv layer is never dropped and p is taken of the other layers' filters; reportedly the
    author's advice to users of the public code, not in the thesis).
    """

    optimizer: str = "sgd"
    lr: float = 0.01
    lr_schedule: str = "constant"
    lr_amplitude: float = 0.005
    lr_period: float = 50.0
    weight_decay: float = 0.0
    batch_size: int = 64
    criterion: str = "ortho"
    kd_temperature: float = 4.0
    kd_alpha: float = 0.9
    ortho_lambda: float = 0.0
    sparsify: str = "filters"
    reinit: str = "orthogonal"
    rank_layers: str = "all"


def make_optimizer(name: str, params, lr: float, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """`sgd`, `momentum` (0.9), `adam` (betas 0.9/0.999) or `rmsprop` (alpha 0.99)."""
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"optimizer must be sgd, momentum, adam or rmsprop; got {name!r}")


def _as_input(x: Tensor) -> Tensor:
    x = x.float().div_(255.0) if x.dtype == torch.uint8 else x
    return x.contiguous(memory_format=torch.channels_last)


@torch.no_grad()
def test_accuracy(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int = 1000) -> float:
    """Top-1 accuracy (fraction) in eval mode; images uint8 or [0, 1] float on the model's device."""
    was = model.training
    model.eval()
    correct = sum((model(_as_input(x)).argmax(1) == y).sum().item()
                  for x, y in zip(images.split(batch_size), labels.split(batch_size)))
    model.train(was)
    return correct / max(len(labels), 1)


def train(model: nn.Module, train_images: Tensor, train_labels: Tensor, test_images: Tensor, test_labels: Tensor,
          schedule: Schedule, spec: TrainSpec, seed: int, val_images: Tensor | None = None,
          val_labels: Tensor | None = None, teacher_logits: Tensor | None = None,
          snapshots: tuple[int, ...] = (), curve_size: int = 0,
          progress: Callable[[Iterator], Iterator] | None = None) -> dict:
    """Train `model` in place under `schedule` (standard training when `schedule.standard`).

    Each epoch is one pass over a fresh permutation of the training images in batches of
    `spec.batch_size` (the last partial batch is dropped). At every drop epoch the filters are ranked
    by `spec.criterion` on the validation images and the top `schedule.fraction` dropped
    (`FilterDropper`); at every re-add epoch they are re-initialised. Everything random (batch order,
    dropout, random ranking, re-initialisation) follows `seed`.

    Args:
        model: on the compute device, freshly initialised (or a teacher's copy).
        train_images: `[N, 3, H, W]` uint8 on the device; train_labels `[N]` int64.
        test_images, test_labels: evaluated after every epoch (test accuracy curve).
        val_images, val_labels: the held-out split for data-driven rankings (Oracle etc.).
        teacher_logits: `[N, classes]` float, the teacher's logits on `train_images` (KD), or None.
        snapshots: epochs after which a CPU copy of the weights is kept (`snapshots` in the result).
        curve_size: per-epoch curves and drop / re-add events use the first `curve_size` test images
            (0 = all); `final_test_acc` always uses all of them.

    Returns:
        A dict of lists per epoch (`epoch` 1..E, `train_acc` running accuracy over the epoch's
        batches, `train_loss`, `test_acc` on the curve images, `ortho_sum` at the epoch's end, `lr`,
        `sub_network`), the
        drop / re-add `events` (test accuracy just before and after, filters dropped per layer),
        `final_test_acc`, `seconds` and `images_per_s` (training steps only).
    """
    device = train_images.device
    curve_x, curve_y = (test_images[:curve_size], test_labels[:curve_size]) if curve_size else (test_images, test_labels)
    gen_cpu = torch.Generator().manual_seed(int(seed))
    gen_dev = torch.Generator(device=device).manual_seed(int(seed))
    torch.manual_seed(int(seed))
    model.to(memory_format=torch.channels_last).train()
    opt = make_optimizer(spec.optimizer, model.parameters(), spec.lr, spec.weight_decay)
    dropper = (WeightDropper if spec.sparsify == "weights" else FilterDropper)(model, opt)
    n, bs = len(train_labels), spec.batch_size
    steps = max(1, n // bs)
    hist: dict = {k: [] for k in ("epoch", "train_acc", "train_loss", "test_acc", "ortho_sum", "lr", "sub_network")}
    hist["events"], hist["snapshots"] = [], {}
    hist["ortho_sum_start"] = ortho_sum(model)
    drops, readds = set(schedule.drop_epochs()), set(schedule.readd_epochs())
    train_seconds = 0.0
    epochs = progress(iter(range(schedule.epochs))) if progress else range(schedule.epochs)


    for epoch in epochs:
        if epoch in readds:
            before = test_accuracy(model, curve_x, curve_y)
            dropper.readd(gen_cpu, orthogonal=spec.reinit == "orthogonal")
            hist["events"].append({"epoch": epoch, "kind": "readd", "test_acc_before": before,
                                   "test_acc_after": test_accuracy(model, curve_x, curve_y)})
        if epoch in drops:
            before = test_accuracy(model, curve_x, curve_y)
            if spec.sparsify == "weights":
                dropper.drop_smallest(schedule.fraction)
                counts = {}
            else:
                priority = rank_filters(model, spec.criterion, val_images, val_labels, generator=gen_cpu)
                if spec.rank_layers == "skip_first":
                    priority.pop(next(iter(priority)))
                elif spec.rank_layers != "all":
                    raise ValueError(f"rank_layers must be 'all' or 'skip_first'; got {spec.rank_layers!r}")
                masks = select_dropped(priority, schedule.fraction, generator=gen_cpu)
                dropper.drop(masks)
                counts = {k: int(v.sum()) for k, v in masks.items()}
            hist["events"].append({"epoch": epoch, "kind": "drop", "test_acc_before": before,
                                   "test_acc_after": test_accuracy(model, curve_x, curve_y),
                                   "dropped": counts})
        model.train()
        perm = torch.randperm(n, generator=gen_dev, device=device)
        correct = torch.zeros((), device=device)
        loss_sum = torch.zeros((), device=device)
        t0 = time.perf_counter()
        for step in range(steps):
            lr = learning_rate(spec.lr_schedule, spec.lr, epoch + step / steps, schedule.epochs,
                               amplitude=spec.lr_amplitude, period=spec.lr_period)
            for group in opt.param_groups:
                group["lr"] = lr
            idx = perm[step * bs:(step + 1) * bs]
            x, y = _as_input(train_images[idx]), train_labels[idx]
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            if teacher_logits is not None:
                t = spec.kd_temperature
                soft = F.kl_div(F.log_softmax(logits / t, 1), F.log_softmax(teacher_logits[idx] / t, 1),
                                log_target=True, reduction="batchmean")
                loss = spec.kd_alpha * t * t * soft + (1 - spec.kd_alpha) * loss
            if spec.ortho_lambda:
                loss = loss + spec.ortho_lambda * ortho_loss(model)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"training diverged: loss {loss.item()} at epoch {epoch + 1}, step {step + 1} "
                                         f"(lr {lr:g}, optimizer {spec.optimizer}); lower the learning rate")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if dropper.active:
                dropper.mask_grads()
            opt.step()
            if dropper.active:
                dropper.hold()
            correct += (logits.detach().argmax(1) == y).sum()
            loss_sum += loss.detach() * len(y)
        train_seconds += time.perf_counter() - t0
        hist["epoch"].append(epoch + 1)
        hist["train_acc"].append(float(correct) / (steps * bs))
        hist["train_loss"].append(float(loss_sum) / (steps * bs))
        hist["test_acc"].append(test_accuracy(model, curve_x, curve_y))
        hist["ortho_sum"].append(ortho_sum(model))
        hist["lr"].append(lr)
        hist["sub_network"].append(dropper.active)
        if epoch + 1 in snapshots:
            hist["snapshots"][epoch + 1] = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    model.eval()
    hist["final_test_acc"] = test_accuracy(model, test_images, test_labels)
    hist["seconds"] = train_seconds
    hist["images_per_s"] = steps * bs * schedule.epochs / max(train_seconds, 1e-9)
    return hist
