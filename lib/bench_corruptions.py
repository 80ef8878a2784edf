"""Speed of the CIFAR-10-C generator: images/s per corruption (`python -m lib.bench_corruptions`).

Times `lib.corruptions.corrupt` on 1,000 CIFAR-like images (`lib.data.synthetic_images`) per
severity, in this process, after a small warm-up call (frost file reads, imports). Use
`OMP_NUM_THREADS=1` for the single-core figure: the corruptions are NumPy/SciPy code, so threads
matter only through BLAS-free SciPy filters (little).
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import numpy as np

from lib import corruptions
from lib.data import synthetic_images


def bench_corruptions(n: int = 1000, names: Sequence[str] = corruptions.CORRUPTIONS,
                      severities: Sequence[int] = corruptions.SEVERITIES, seed: int = 0) -> dict[str, float]:
    """Images per second of each corruption, over `n` images at each of `severities`.

    Returns:
        {name: images/s} (total images / total seconds over the severities); names whose inputs
        are missing (frost without its images) are reported as NaN.
    """
    images = synthetic_images(n, 10, seed=seed).images.permute(0, 2, 3, 1).numpy().copy()
    rates: dict[str, float] = {}
    for name in names:
        try:
            corruptions.corrupt(images[:8], name, 1, seed)   # warm-up
        except corruptions.FrostImagesMissing:
            rates[name] = float("nan")
            continue
        start = time.perf_counter()
        for s in severities:
            corruptions.corrupt(images, name, s, seed)
        rates[name] = n * len(severities) / (time.perf_counter() - start)
    return rates


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="images per severity (default 1000)")
    parser.add_argument("--severities", type=int, nargs="+", default=list(corruptions.SEVERITIES))
    args = parser.parse_args(argv)
    rates = bench_corruptions(args.n, severities=args.severities)
    print(f"{'corruption':18s} {'images/s':>9s}")
    for name, rate in rates.items():
        print(f"{name:18s} {rate:9.0f}")
    finite = [r for r in rates.values() if np.isfinite(r)]
    total = 1.0 / sum(1.0 / r for r in finite)
    print(f"{'all (sequential)':18s} {total:9.1f}  images/s through all {len(finite)} corruptions at one severity")


if __name__ == "__main__":
    main()
