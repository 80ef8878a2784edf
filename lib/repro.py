"""Seeding and determinism. The same seed on the same machine gives the same numbers."""
from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def setup(seed: int, deterministic: bool = True) -> None:
    """Seed everything and ask torch for deterministic kernels.

    `CUBLAS_WORKSPACE_CONFIG` must exist before CUDA starts; the runner sets it for its kernels, this
    sets it for interactive sessions that have not touched CUDA yet.
    """
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    seed_everything(seed)
    torch.use_deterministic_algorithms(deterministic, warn_only=True)
    torch.backends.cudnn.benchmark = False


def generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A fresh `torch.Generator` on `device`, seeded with `seed`."""
    return torch.Generator(device=device).manual_seed(int(seed))


def derive_seed(*parts: object) -> int:
    """A stable 63-bit seed from any parts (names, ints), independent of PYTHONHASHSEED."""
    import hashlib

    digest = hashlib.sha256(repr(parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1
