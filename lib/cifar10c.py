"""Build and read CIFAR-10-C folders in the layout of the released data set (Hendrycks & Dietterich).

Layout (the one `robustbench.data.load_cifar10c(data_dir=...)` reads from `<data_dir>/CIFAR-10-C/`):

- `<corruption>.npy`: uint8 `[5*N, 32, 32, 3]` (HWC, RGB, 0-255): severity 1 images `[0, N)`, severity 2
  `[N, 2N)`, ..., each block in the order of the source images ("test order");
- `labels.npy`: uint8 `[5*N]`, the source labels repeated 5 times (the same for every corruption;
  the released file is uint8 too);
- `spec.json` (ours): what the folder was built from (source fingerprint, seed, code digest), so a
  rebuild with another spec is refused instead of silently mixing files.

Files are written to a temporary name and renamed, so an interrupted build leaves whole files only;
`build_cifar10c` skips corruptions already present with the same spec.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from lib import cache, corruptions, imagemagick_motion, opencv_ports, paths
from lib.progress import headless

CHUNK = 1000   # images per corrupt() call; results do not depend on it (per-image seeding)


def _as_nhwc_u8(images: Any) -> np.ndarray:
    """uint8 `[N, 32, 32, 3]` from a NumPy array or torch tensor, NHWC or NCHW."""
    arr = images.detach().cpu().numpy() if hasattr(images, "detach") else np.asarray(images)
    if arr.dtype != np.uint8:
        raise TypeError(f"images must be uint8 (0-255), got {arr.dtype}")
    if arr.ndim == 4 and arr.shape[1] == 3 and arr.shape[-1] != 3:
        arr = arr.transpose(0, 2, 3, 1)
    if arr.ndim != 4 or arr.shape[1:] != (32, 32, 3):
        raise ValueError(f"images must be [N, 32, 32, 3] or [N, 3, 32, 32], got {list(arr.shape)}")
    return np.ascontiguousarray(arr)


def source_spec(images: np.ndarray, labels: np.ndarray, seed: int) -> dict[str, Any]:
    """The spec that determines every file of a folder: source fingerprint, seed, code digest."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(images).tobytes())
    h.update(np.ascontiguousarray(labels).astype(np.int64).tobytes())
    return {
        "kind": "cifar10c", "n": len(images), "source_sha256": h.hexdigest()[:16], "seed": int(seed),
        "severities": list(corruptions.SEVERITIES),
        "code": cache.code_digest([corruptions, opencv_ports, imagemagick_motion]),
    }


def cache_folder(images: Any, labels: Any, seed: int = 0) -> Path:
    """`<cache>/cifar10c/<spec key>`: the folder `build_cifar10c` would fill for these inputs."""
    x = _as_nhwc_u8(images)
    y = np.asarray(labels.cpu() if hasattr(labels, "cpu") else labels)
    return paths.cache_dir() / "cifar10c" / cache.spec_key(source_spec(x, y, seed))


def _save_atomic(array: np.ndarray, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        np.save(f, array)
    os.replace(tmp, path)


def _corrupt_chunk(args: tuple[np.ndarray, str, int, int, int]) -> np.ndarray:
    images, name, severity, seed, first = args
    return corruptions.corrupt(images, name, severity, seed, first_index=first)


def build_cifar10c(images: Any, labels: Any, out_dir: str | Path | None = None,
                   names: Sequence[str] = corruptions.CORRUPTIONS, seed: int = 0, progress: bool = True,
                   workers: int = 1, chunk: int = CHUNK) -> Path:
    """Write a CIFAR-10-C folder for `images` (module docstring) and return its path.

    Args:
        images: uint8 `[N, 32, 32, 3]` (or `[N, 3, 32, 32]`, NumPy or torch), 0-255: the clean
            "test" images, in the order the blocks will have.
        labels: integer `[N]`, values 0..255 (stored as uint8).
        out_dir: target folder; None = `cache_folder(images, labels, seed)` (keyed by the spec hash).
        names: corruptions to write, from `corruptions.CORRUPTIONS`.
        seed: base seed; image i of severity s of corruption c draws from its own stream
            (`corruptions.image_rngs`), so the bytes do not depend on `chunk` or `workers`.
        progress: show a tqdm bar (one step per chunk).
        workers: processes for the corruption work (1 = in this process; more are spawned, each
            importing the library, which pays off from a few thousand images on).
        chunk: images per call.

    Returns:
        The folder, containing `<name>.npy` for every requested name, `labels.npy` and `spec.json`.
    """
    x = _as_nhwc_u8(images)
    y = np.asarray(labels.cpu() if hasattr(labels, "cpu") else labels)
    if y.shape != (len(x),):
        raise ValueError(f"labels must be [N] = [{len(x)}], got {list(y.shape)}")
    if y.size and (y.min() < 0 or y.max() > 255):
        raise ValueError("labels must be in 0..255 (stored as uint8, like the released labels.npy)")
    unknown = [n for n in names if n not in corruptions.CORRUPTIONS]
    if unknown:
        raise KeyError(f"unknown corruptions {unknown}; expected names from {corruptions.CORRUPTIONS}")
    spec = source_spec(x, y, seed)
    key = cache.spec_key(spec)
    folder = Path(out_dir) if out_dir is not None else paths.cache_dir() / "cifar10c" / key
    folder.mkdir(parents=True, exist_ok=True)
    spec_path = folder / "spec.json"
    if spec_path.exists():
        old = json.loads(spec_path.read_text())
        if old.get("key") != key:
            raise ValueError(f"{folder} holds a CIFAR-10-C build of another spec ({old.get('key')} != {key}: "
                             "other images, seed or code); use another folder or empty it")
    else:
        spec_path.write_text(json.dumps({**spec, "key": key}, indent=1, sort_keys=True))
    expected_labels = np.tile(y.astype(np.uint8), len(corruptions.SEVERITIES))
    labels_path = folder / "labels.npy"
    if not labels_path.exists() or not np.array_equal(np.load(labels_path), expected_labels):
        _save_atomic(expected_labels, labels_path)

    todo = [n for n in names if not (folder / f"{n}.npy").exists()]
    n = len(x)
    starts = list(range(0, n, chunk))
    jobs = [(name, s, a) for name in todo for s in corruptions.SEVERITIES for a in starts]
    bar = None
    if progress and jobs:
        if headless():   # the runner's logs: sparse plain-text lines, as lib.progress does
            from tqdm import tqdm
            bar = tqdm(total=len(jobs), desc="CIFAR-10-C", unit="chunk", mininterval=30, ascii=True,
                       file=sys.__stderr__)
        else:
            from tqdm.auto import tqdm
            bar = tqdm(total=len(jobs), desc="CIFAR-10-C", unit="chunk", leave=False)
    # spawn, not fork: the caller may hold torch/OpenMP threads, which a forked child can deadlock on
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) if workers > 1 else None
    try:
        for name in todo:
            out = np.empty((len(corruptions.SEVERITIES) * n, 32, 32, 3), dtype=np.uint8)
            tasks = [(x[a:a + chunk], name, s, seed, a) for s in corruptions.SEVERITIES for a in starts]
            results = pool.map(_corrupt_chunk, tasks) if pool else map(_corrupt_chunk, tasks)
            for (_, _, s, _, a), block in zip(tasks, results):
                off = (s - 1) * n + a
                out[off:off + len(block)] = block
                if bar is not None:
                    bar.set_postfix_str(f"{name} s{s}")
                    bar.update(1)
            _save_atomic(out, folder / f"{name}.npy")
    finally:
        if pool is not None:
            pool.shutdown()
        if bar is not None:
            bar.close()
    return folder


def _resolve_folder(path: str | Path) -> Path:
    p = Path(path)
    if not (p / "labels.npy").exists() and (p / "CIFAR-10-C" / "labels.npy").exists():
        return p / "CIFAR-10-C"   # RobustBench's data_dir convention
    return p


def load_cifar10c(path: str | Path, name: str, severity: int) -> tuple[np.ndarray, np.ndarray]:
    """Read one (corruption, severity) block of a CIFAR-10-C folder (ours or the released one).

    Args:
        path: the folder with `<name>.npy` and `labels.npy`, or its parent holding `CIFAR-10-C/`.
        name: one of `corruptions.CORRUPTIONS`.
        severity: 1..5.

    Returns:
        images uint8 `[N, 32, 32, 3]` (HWC, 0-255) and labels int64 `[N]`, N = rows / 5.
    """
    if name not in corruptions.CORRUPTIONS:
        raise KeyError(f"unknown corruption {name!r}; expected one of {', '.join(corruptions.CORRUPTIONS)}")
    if severity not in corruptions.SEVERITIES:
        raise ValueError(f"severity must be one of {corruptions.SEVERITIES}, got {severity!r}")
    folder = _resolve_folder(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"CIFAR-10-C folder {folder} does not exist")
    data_path, labels_path = folder / f"{name}.npy", folder / "labels.npy"
    missing = [p.name for p in (data_path, labels_path) if not p.exists()]
    if missing:
        present = sorted(p.stem for p in folder.glob("*.npy") if p.stem in corruptions.CORRUPTIONS)
        raise FileNotFoundError(f"{folder} lacks {', '.join(missing)}; corruptions present: "
                                f"{', '.join(present) or 'none'} (build them with lib.cifar10c.build_cifar10c)")
    data = np.load(data_path, mmap_mode="r")
    labels = np.load(labels_path, mmap_mode="r")
    blocks = len(corruptions.SEVERITIES)
    if data.dtype != np.uint8 or data.ndim != 4 or data.shape[1:] != (32, 32, 3) or data.shape[0] % blocks:
        raise ValueError(f"{data_path} must be uint8 [5*N, 32, 32, 3], got {data.dtype} {list(data.shape)}")
    if labels.shape != (data.shape[0],):
        raise ValueError(f"{labels_path} has shape {list(labels.shape)}, expected [{data.shape[0]}] to match {data_path.name}")
    n = data.shape[0] // blocks
    rows = slice((severity - 1) * n, severity * n)
    return np.array(data[rows]), np.array(labels[rows]).astype(np.int64)
