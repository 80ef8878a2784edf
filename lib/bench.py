"""Benchmarks (not tests): `python -m lib.bench [--only emd|train|all]`.

Each `bench_<name>()` measures one hot path against baselines run in the same process on the same
data, prints a small table (time, throughput, ratio to the baseline) and returns its numbers as a
dict. `main()` runs every `bench_<name>` defined in this module that `--only` selects.

    emd    lib.methods.selective_finetuning.emd_per_filter vs a loop of
           scipy.stats.wasserstein_distance and vs a plain batched torch.sort; then the whole
           associative ranking of one layer over 40,000 (clean, AWGN) pairs
    train  lib.train.fit (uint8 data on the device, channels-last, no DataLoader) vs a plain
           torch DataLoader loop over float tensors, same network, optimiser, batch and steps
"""
from __future__ import annotations

import argparse
import os
import platform
import time
from typing import Any, Callable

import numpy as np
import torch
from torch import Tensor


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall-clock seconds of one call of `fn` and its result."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _header() -> str:
    """One line naming the device, threads and library versions the numbers were taken with."""
    load = ", load avg %.1f" % os.getloadavg()[0] if hasattr(os, "getloadavg") else ""
    return (f"device cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores"
            f"{load}), torch {torch.__version__} with {torch.get_num_threads()} threads, "
            f"numpy {np.__version__}")


def _table(rows: list[tuple[str, float, str, str, str]]) -> None:
    """Print rows of (case, seconds, throughput, ratio, note) as a fixed-width table."""
    print(f"  {'case':<42} {'time':>9} {'throughput':>18} {'ratio':>8}  note")
    for case, seconds, rate, ratio, note in rows:
        print(f"  {case:<42} {seconds:>8.3f}s {rate:>18} {ratio:>8}  {note}")


def _conv_act_fn(n_filters: int = 32, seed: int = 0) -> Callable[[Tensor], Tensor]:
    """Conv2d(3, F, 3, padding=1) + ReLU with random weights, on uint8 images scaled to [0, 1]."""
    torch.manual_seed(seed)
    layer = torch.nn.Sequential(torch.nn.Conv2d(3, n_filters, 3, padding=1), torch.nn.ReLU()).eval()
    return lambda images: layer(images.float() / 255.0)


def _awgn_pairs(n: int, size: int = 32, sigma: float = 15.0,
                seed: int = 0) -> tuple[Tensor, Tensor]:
    """`[n, 3, size, size]` uint8 random images and their AWGN copies (sigma in 0-255 units)."""
    g = torch.Generator().manual_seed(seed)
    clean = torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=g)
    noise = torch.randn(clean.shape, generator=g).mul_(sigma)
    return clean, (clean.float() + noise).round_().clamp_(0, 255).to(torch.uint8)


def _torch_sort_emd(clean: Tensor, distorted: Tensor) -> Tensor:
    """Baseline: `[N, F]` 1-D EMD by a plain batched `torch.sort` of all maps at once."""
    a = torch.sort(clean.flatten(2), dim=-1).values
    b = torch.sort(distorted.flatten(2), dim=-1).values
    return (a.double() - b.double()).abs().mean(-1).float()


def _scipy_emd_loop(clean: Tensor, distorted: Tensor, n_pairs: int) -> np.ndarray:
    """Baseline: the first `n_pairs` maps of the `[N*F]` flattening, one SciPy call each."""
    from scipy.stats import wasserstein_distance

    a = clean.flatten(2).flatten(0, 1)[:n_pairs].double().numpy()
    b = distorted.flatten(2).flatten(0, 1)[:n_pairs].double().numpy()
    return np.array([wasserstein_distance(u, v) for u, v in zip(a, b)])


def bench_emd(n: int = 500, n_filters: int = 32, size: int = 32, scipy_pairs: int = 2000,
              n_ranking: int = 40_000, batch_size: int = 500, seed: int = 0) -> dict[str, float]:
    """Benchmark the selective fine-tuning EMD and the associative ranking of one layer.

    (a) `emd_per_filter` on `[n, F, size, size]` post-ReLU maps (a random conv layer on random
    images and their AWGN sigma=15 copies) vs a loop of `scipy.stats.wasserstein_distance`
    over the first `scipy_pairs` maps, extrapolated linearly to all n*F maps, and vs a plain
    batched `torch.sort`. (b) `associative_ranking_streamed` over `n_ranking` pairs with the
    conv layer as `act_fn`, vs the conv forward passes alone (the floor).

    Returns:
        Seconds, rates and ratios by name.
    """
    from lib.methods import selective_finetuning as sf

    act_fn = _conv_act_fn(n_filters, seed)
    clean_img, noisy_img = _awgn_pairs(n, size, seed=seed)
    with torch.no_grad():
        clean, noisy = act_fn(clean_img), act_fn(noisy_img)
    pairs = n * n_filters
    sf.emd_per_filter(clean[:8], noisy[:8]), _scipy_emd_loop(clean, noisy, 8)   # warm-up, imports
    t_ours, ours = _timed(lambda: sf.emd_per_filter(clean, noisy))
    t_sort, via_sort = _timed(lambda: _torch_sort_emd(clean, noisy))
    t_sub, ref = _timed(lambda: _scipy_emd_loop(clean, noisy, scipy_pairs))
    t_scipy = t_sub * pairs / scipy_pairs
    diff = float(np.abs(ours.reshape(-1)[:scipy_pairs].double().numpy() - ref).max())
    print(f"\n[emd] (a) {n} images x {n_filters} filters x {size}x{size} maps = {pairs} map pairs, "
          f"{float((clean == 0).float().mean()):.0%} zeros; {_header()}")
    _table([
        ("scipy wasserstein_distance loop", t_scipy, f"{pairs / t_scipy:,.0f} pairs/s", "1.0x",
         f"timed on {scipy_pairs} pairs ({t_sub:.2f}s), extrapolated x{pairs / scipy_pairs:.0f}"),
        ("batched torch.sort (baseline)", t_sort, f"{pairs / t_sort:,.0f} pairs/s",
         f"{t_scipy / t_sort:.1f}x",
         f"max|diff| vs ours {float((via_sort - ours).abs().max()):.1e}"),
        ("emd_per_filter", t_ours, f"{pairs / t_ours:,.0f} pairs/s", f"{t_scipy / t_ours:.1f}x",
         f"max|diff| vs scipy {diff:.1e} (on the {scipy_pairs} timed pairs)"),
    ])
    result = {"emd_s": t_ours, "torch_sort_s": t_sort, "scipy_s_extrapolated": t_scipy,
              "speedup_vs_scipy": t_scipy / t_ours, "max_abs_diff_vs_scipy": diff}
    result.update(_bench_ranking(sf, act_fn, n_ranking, n_filters, size, batch_size, seed))
    return result


def _bench_ranking(sf: Any, act_fn: Callable[[Tensor], Tensor], n: int, n_filters: int,
                   size: int, batch_size: int, seed: int) -> dict[str, float]:
    """Part (b) of `bench_emd`: one layer's associative ranking over n pairs, streamed."""
    clean_img, noisy_img = _awgn_pairs(n, size, seed=seed + 1)

    def forward_only() -> None:
        with torch.no_grad():
            for i in range(0, n, batch_size):
                act_fn(clean_img[i:i + batch_size]), act_fn(noisy_img[i:i + batch_size])

    t_fwd, _ = _timed(forward_only)
    t_rank, (points, ranking) = _timed(
        lambda: sf.associative_ranking_streamed(act_fn, clean_img, noisy_img, batch_size))
    print(f"\n[emd] (b) associative ranking, one layer Conv2d(3,{n_filters},3,p=1)+ReLU, {n} "
          f"(clean, AWGN sigma=15) pairs of {size}x{size}, batch {batch_size}; {_header()}")
    _table([
        ("act_fn forward passes only (floor)", t_fwd, f"{2 * n / t_fwd:,.0f} images/s", "1.0x",
         f"{2 * n} images"),
        ("associative_ranking_streamed", t_rank, f"{n / t_rank:,.0f} pairs/s",
         f"{t_rank / t_fwd:.1f}x", f"{n * n_filters / t_rank:,.0f} map pairs/s; EMD + Borda "
         f"~{t_rank - t_fwd:.1f}s; top-8 {sorted(ranking[:8].tolist())}; target < 60 s"),
    ])
    assert int(points.sum()) == n * sum(range(1, 11))
    return {"ranking_s": t_rank, "forward_only_s": t_fwd, "ranking_pairs_per_s": n / t_rank}


def bench_train(steps: int = 100, batch_size: int = 128, seed: int = 0) -> dict[str, float]:
    """Training throughput of the CIFAR-10 net: `lib.train.fit` vs a plain DataLoader loop.

    Both train a fresh `cifar10_net` (same seed) with Adam for `steps` steps of `batch_size`
    random 32×32 images; `fit` runs one validation pass on 256 images at the end (included). Both
    are warmed up once, then timed twice; the better time of each counts.
    """
    from torch.utils.data import DataLoader, TensorDataset

    from lib import models, train
    from lib.data import ImageSet

    n = steps * batch_size
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g)
    labels = torch.randint(0, 10, (n,), generator=g)

    def plain_loop() -> None:
        torch.manual_seed(seed)
        model = models.build("cifar10_net", 10)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loader = DataLoader(TensorDataset(images.float() / 255.0, labels), batch_size=batch_size, shuffle=True)
        model.train()
        for x, y in loader:
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()

    def suite_fit() -> None:
        torch.manual_seed(seed)
        model = models.build("cifar10_net", 10)
        config = train.TrainConfig(max_epochs=1, patience=1, batch_size=batch_size, max_steps=steps)
        train.fit(model, ImageSet(images, labels), ImageSet(images[:256], labels[:256]), config, seed)

    plain_loop(), suite_fit()  # warm-up: first Adam step imports torch._dynamo, oneDNN builds its kernels
    t_plain = min(_timed(plain_loop)[0] for _ in range(2))   # best of 2: the machine may be shared
    t_fit = min(_timed(suite_fit)[0] for _ in range(2))
    print(f"\n[train] CIFAR-10 net (Bianchi et al. Fig. 3 top), {steps} steps of {batch_size} images; {_header()}")
    _table([
        ("plain DataLoader loop (float NCHW)", t_plain, f"{n / t_plain:,.0f} images/s", "1.0x", "baseline"),
        ("lib.train.fit (uint8 on device, NHWC)", t_fit, f"{n / t_fit:,.0f} images/s",
         f"{t_plain / t_fit:.2f}x", "target >= 1.5x"),
    ])
    return {"plain_images_per_s": n / t_plain, "fit_images_per_s": n / t_fit, "speedup": t_plain / t_fit}


def main(argv: list[str] | None = None) -> None:
    """Run the benchmarks `--only` selects: every `bench_<name>` defined in this module."""
    benches = {name[len("bench_"):]: fn for name, fn in globals().items()
               if name.startswith("bench_") and callable(fn)}
    parser = argparse.ArgumentParser(prog="python -m lib.bench",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["emd", "train", "all"], default="all")
    args = parser.parse_args(argv)
    for name in (["emd", "train"] if args.only == "all" else [args.only]):
        if name in benches:
            benches[name]()
        else:
            print(f"\n[{name}] not implemented yet (define bench_{name} in lib/bench.py)")


if __name__ == "__main__":
    main()
