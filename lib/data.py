"""Datasets as tensors on the compute device, from a dataset *spec* string.

Specs:
    cifar10, cifar100      torchvision layout under `$REPRO_DATA_ROOT` (default `<repo>/data`);
                           downloaded by torchvision when reachable. Official test split.
    imagefolder:PATH       a directory or .tar.gz holding `train/<class>/*` and optionally
                           `test/<class>/*`; without `test/`, a fixed stratified test split is carved
                           from `train/` (the record says so).
    imagenet:PATH          ImageNet validation in ImageFolder layout: a directory or .tar(.gz) holding
                           `val/<wnid>/*.JPEG` (what valprep.sh makes of ILSVRC2012_img_val.tar), optionally
                           under one top folder. The val images, shorter side resized to 342 and
                           centre-cropped to 299×299, are the TEST set; train and val are empty
                           (`[0, 3, 299, 299]`): the models are torchvision's pretrained ones and
                           `train/` is never read. Classes = sorted wnid folder names. A bare
                           `imagenet` means `<data root>/imagenet` (`$REPRO_DATA_ROOT`, default `<repo>/data`).
    cifar10c:PATH[,k=v...] a CIFAR-10-C folder in RobustBench's layout (`<corruption>.npy`, uint8
                           `[5·N, 32, 32, 3]` with severities 1–5 in blocks of N test images, plus
                           `labels.npy`): the released one or `lib.cifar10c.build_cifar10c`'s. Options
                           corruption=NAME (default: every corruption the folder holds), severity=1..5
                           (default: all five), n=N (the first N images of each block). The chosen
                           blocks, concatenated in (corruption, severity) order, are the TEST set;
                           train and val are empty. Classes are CIFAR-10's.
    synthetic[:k=v,...]    the generated stand-in (keys: classes=10|100, n=train+val size, test=N).
    auto                   `$REPRO_DATA` if set (a bare path means imagefolder:PATH), else the CIFAR-10
                           JPEG archive in ../shared/data, else torchvision CIFAR-10, else the synthetic
                           stand-in with a banner saying so.

Pixels are stored as uint8 `[N, 3, H, W]` on the device (4× smaller than float) and converted per
batch with `ImageSet.float(idx)` to float32 in [0, 1]. Splits are stratified and fixed by a seed.
"""
from __future__ import annotations

import hashlib
import io
import os
import tarfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from lib import cache, paths

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".webp")
IMAGENET_CROP = 299   # the thesis's input for ResNet-50, VGG-19 and Inception-v3 (shorter side 342 first)
IMAGENET_LAYOUT = ("Expected the ImageNet validation images in ImageFolder layout, val/<wnid>/*.JPEG (e.g. "
                   "val/n01440764/ILSVRC2012_val_00000293.JPEG; valprep.sh sorts the flat ILSVRC2012_img_val.tar "
                   "into these wnid folders), in a directory or .tar/.tar.gz, passed as "
                   'DATA="imagenet:/path/to/ILSVRC2012" (or --data / REPRO_DATA).')


class DataError(RuntimeError):
    """Data missing, corrupt or inconsistent; the message says what and how to supply it."""


@dataclass(frozen=True)
class ImageSet:
    """Images `[N, 3, H, W]` uint8 (0–255) and labels `[N]` int64, on one device."""

    images: Tensor
    labels: Tensor

    def __len__(self) -> int:
        return len(self.labels)

    def float(self, idx: Tensor | slice | None = None) -> Tensor:
        """Images (all, or `idx`) as float32 in [0, 1], `[n, 3, H, W]`."""
        x = self.images if idx is None else self.images[idx]
        return x.float().div_(255.0)

    def take(self, idx: Tensor) -> "ImageSet":
        """The subset at positions `idx` (int64 `[n]`)."""
        return ImageSet(self.images[idx], self.labels[idx])

    def to(self, device: torch.device | str) -> "ImageSet":
        return ImageSet(self.images.to(device), self.labels.to(device))


@dataclass(frozen=True)
class Dataset:
    """Train / validation / test splits plus where they came from."""

    spec: str                 # the resolved spec, e.g. "imagefolder:/…/cifar10-train-jpeg.tar.gz"
    source: str               # "real" or "synthetic"
    classes: list[str]
    train: ImageSet
    val: ImageSet
    test: ImageSet
    fingerprint: str          # identifies the underlying files/generator (cache keys use it)
    description: str          # one sentence for the report: origin, split sizes and seeds
    banner: str | None = None  # set when the synthetic stand-in replaced real data
    notes: list[str] = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def record(self) -> dict:
        """The `data` entry of an artefact record."""
        return {"spec": paths.relative_text(self.spec), "source": self.source,
                "description": paths.relative_text(self.description),
                "banner": self.banner, "sizes": {"train": len(self.train), "val": len(self.val),
                                                 "test": len(self.test)}}


# ---------------------------------------------------------------------------------------------
# Splits


def _class_ranks(labels: Tensor, g: torch.Generator) -> tuple[Tensor, Tensor]:
    """A random order grouped by class, and each position's rank within its class (CPU int64)."""
    perm = torch.randperm(len(labels), generator=g)
    order = perm[torch.argsort(labels[perm], stable=True)]
    counts = torch.bincount(labels[order])
    return order, torch.arange(len(order)) - (torch.cumsum(counts, 0) - counts)[labels[order]]


def stratified_split(labels: Tensor, fractions: list[float], seed: int) -> list[Tensor]:
    """Split indices into parts with the given fractions within every class.

    Args:
        labels: `[N]` int64.
        fractions: fractions of each class for each part except the last, which takes the rest.
        seed: fixes the permutation (CPU generator, so results do not depend on the device).

    Returns:
        One sorted int64 index tensor per part (`len(fractions) + 1` parts), on `labels`' device.
    """
    labels_cpu = labels.cpu()
    order, rank = _class_ranks(labels_cpu, torch.Generator().manual_seed(seed))
    rel = rank.double() / torch.bincount(labels_cpu)[labels_cpu[order]].double()
    bounds = np.cumsum([0.0, *fractions, 2.0])
    parts = [order[(rel >= lo) & (rel < hi)] for lo, hi in zip(bounds[:-1], bounds[1:])]
    return [p.sort().values.to(labels.device) for p in parts]


def stratified_subset(images: ImageSet, n: int, seed: int) -> ImageSet:
    """Exactly `n` images (all if `n >= len(images)`), taken class by class in turn.

    Images are ranked at random within their class; the subset takes every class's rank-0 image,
    then rank 1, and so on (classes in random order within a rank), so class counts differ by at most
    one for balanced data.
    """
    if n >= len(images):
        return images
    g = torch.Generator().manual_seed(seed)
    order, rank = _class_ranks(images.labels.cpu(), g)
    tie_break = torch.rand(len(order), generator=g, dtype=torch.float64)   # classes in random turn
    chosen = order[torch.argsort(rank.double() + tie_break)[:n]]
    return images.take(chosen.sort().values.to(images.labels.device))


# ---------------------------------------------------------------------------------------------
# Synthetic stand-in


def synthetic_images(n: int, classes: int, seed: int, size: int = 32) -> ImageSet:
    """Deterministic, learnable CIFAR-shaped images.

    Each class owns a smooth random colour template (a sum of 4 random 2-D sinusoids per channel);
    an image is its class template, randomly shifted by up to ±4 px, with random contrast and
    brightness, plus a smooth distractor pattern and pixel noise. Labels are balanced.

    Returns:
        `ImageSet` with images `[n, 3, size, size]` uint8 and labels `[n]` int64, on the CPU.
    """
    g = torch.Generator().manual_seed(seed)
    coords = torch.linspace(0, 2 * torch.pi, size + 8)
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")

    def patterns(count: int) -> Tensor:  # [count, 3, size+8, size+8] in [-1, 1]
        freq = torch.randint(1, 4, (count, 3, 4, 2), generator=g).float()
        phase = torch.rand(count, 3, 4, 1, 1, generator=g) * 2 * torch.pi
        waves = torch.sin(freq[..., 0, None, None] * xx + freq[..., 1, None, None] * yy + phase)
        return waves.mean(2) * 2

    templates = patterns(classes)
    labels = torch.arange(n) % classes
    labels = labels[torch.randperm(n, generator=g)]
    shift = torch.randint(0, 9, (n, 2), generator=g)
    rows = (shift[:, 0, None] + torch.arange(size))[:, None, :, None].expand(n, 3, size, size)
    cols = (shift[:, 1, None] + torch.arange(size))[:, None, None, :].expand(n, 3, size, size)
    c_idx = torch.arange(3)[None, :, None, None]
    base = templates[labels[:, None, None, None], c_idx, rows, cols]   # shifted crop of the template
    contrast = 0.6 + 0.4 * torch.rand(n, 1, 1, 1, generator=g)
    brightness = 0.15 * (torch.rand(n, 1, 1, 1, generator=g) - 0.5)
    distractor = patterns(n)[..., :size, :size]
    noise = 0.08 * torch.randn(n, 3, size, size, generator=g)
    x = 0.5 + 0.25 * (contrast * base + 0.6 * distractor) + brightness + noise
    return ImageSet((x.clamp(0, 1) * 255).round().to(torch.uint8), labels.long())


SYNTHETIC_OPTIONS = ("classes", "n", "test")


def _synthetic_options(arg: str) -> dict[str, str]:
    """`classes=10,n=2000` -> {"classes": "10", "n": "2000"}; unknown or malformed keys are errors."""
    options: dict[str, str] = {}
    for kv in filter(None, arg.split(",")):
        key, eq, value = kv.partition("=")
        if not eq or key not in SYNTHETIC_OPTIONS or not value.isdigit():
            raise DataError(f"synthetic: bad option {kv!r}; valid: classes=10|100, n=N, test=N "
                            "(e.g. synthetic:classes=100,n=2000)")
        options[key] = value
    return options


def _synthetic(options: dict[str, str], split_seed: int) -> Dataset:
    classes = int(options.get("classes", 10))
    if classes not in (10, 100):
        raise DataError(f"synthetic: classes must be 10 or 100, got {classes}")
    n = int(options.get("n", 2000))
    n_test = int(options.get("test", max(n // 4, classes * 5)))
    pool = synthetic_images(n + n_test, classes, seed=1234 + classes)
    test_idx, rest_idx = stratified_split(pool.labels, [n_test / (n + n_test)], split_seed)
    rest = pool.take(rest_idx)
    train_idx, val_idx = stratified_split(rest.labels, [0.8], split_seed + 1)
    return Dataset(
        spec=f"synthetic:classes={classes},n={n},test={n_test}", source="synthetic",
        classes=[f"class{i:02d}" for i in range(classes)], train=rest.take(train_idx),
        val=rest.take(val_idx), test=pool.take(test_idx), fingerprint=f"synthetic-v1-{classes}-{n}-{n_test}",
        description=(f"synthetic stand-in ({classes} classes, 32×32×3, generated by lib.data), "
                     f"{len(train_idx)}/{len(val_idx)}/{n_test} train/val/test, split seed {split_seed}"))


# ---------------------------------------------------------------------------------------------
# Image folders (directories or .tar.gz)


def _decode(blob: bytes, name: str, resize: int | None) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(blob)) as im:
            im = im.convert("RGB")
            if resize is not None:
                im = _resize_centre_crop(im, resize)
            return np.asarray(im, dtype=np.uint8)
    except Exception as exc:
        raise DataError(f"corrupt image {name!r}: {exc}") from exc


def _resize_centre_crop(im, crop: int):
    """Resize the shorter side to round(crop*8/7) (256 for 224, 342 for 299; PIL bilinear) and centre-crop
    `crop`×`crop`, as torchvision's ImageNet presets (`transforms.Resize` + `CenterCrop`) do."""
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms import functional as TF

    im = TF.resize(im, round(crop * 8 / 7), interpolation=InterpolationMode.BILINEAR)
    return TF.center_crop(im, [crop, crop])


Files = Iterable[tuple[str, Callable[[], bytes] | None]]   # (relative posix path, read its bytes now | None for a folder)


def _iter_files(root: Path) -> Iterator[tuple[str, Callable[[], bytes] | None]]:
    """(relative posix path, reader) of every file under a directory or inside a .tar(.gz), and
    (path + "/", None) for every folder (so that an empty class folder can be reported).

    A reader is only valid during its own iteration step (archives are read as a stream); files that are
    not read are skipped without loading them. A truncated or corrupt archive raises `DataError`, also
    when the damage is found while a member is read.
    """
    if root.is_dir():
        for p in sorted(root.rglob("*")):
            if p.is_file():
                yield p.relative_to(root).as_posix(), p.read_bytes
            elif p.is_dir():
                yield p.relative_to(root).as_posix() + "/", None
        return

    def corrupt(exc: BaseException) -> DataError:
        return DataError(f"cannot read archive {root}: {type(exc).__name__}: {exc} (corrupt or truncated "
                         "download? check its size and sha256, or download it again)")

    def reader(tar: tarfile.TarFile, member: tarfile.TarInfo) -> Callable[[], bytes]:
        def read() -> bytes:
            try:
                return tar.extractfile(member).read()
            except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
                raise corrupt(exc) from exc
        return read

    try:
        with tarfile.open(root, "r:*") as tar:
            for member in tar:
                if member.isfile():
                    yield member.name, reader(tar, member)
                elif member.isdir():
                    yield member.name.rstrip("/") + "/", None
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise corrupt(exc) from exc


def _read_folder(files: Files, split_names: tuple[str, ...], resize: int | None) -> dict[str, tuple[list[str], list[np.ndarray]]]:
    """{split: (class names per image, arrays)} for the `<split>/<class>/<image>` files among `files`.

    Raises `DataError` when a `<split>/<class>/` folder holds no image while others do: a class that vanished
    would shift every label after it.
    """
    found: dict[str, tuple[list[str], list[np.ndarray]]] = {}
    folders: dict[str, set[str]] = {}
    for name, read in files:
        parts = [p for p in name.split("/") if p not in ("", ".")]
        # accept an optional single top folder (e.g. cifar10/train/cat/1.jpg)
        depth = 2 if read is None else 3
        while len(parts) > depth:
            parts = parts[1:]
        if len(parts) != depth or parts[0] not in split_names:
            continue
        if read is None:
            folders.setdefault(parts[0], set()).add(parts[1])
            continue
        if not parts[2].lower().endswith(IMAGE_SUFFIXES):
            continue
        split, cls, _ = parts
        found.setdefault(split, ([], []))
        found[split][0].append(cls)
        found[split][1].append(_decode(read(), name, resize))
    for split, classes in folders.items():
        if split not in found:   # no image at all: the caller explains the expected layout
            continue
        empty = sorted(classes - set(found[split][0]))
        if empty:
            raise DataError(f"class folder(s) {', '.join(f'{split}/{c}/' for c in empty[:5])} hold no image "
                            f"({', '.join(IMAGE_SUFFIXES)}); remove the empty folders or add their images")
    return found


def _stack(arrays: list[np.ndarray], where: str) -> Tensor:
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise DataError(f"{where}: images have different sizes {sorted(shapes)[:4]}; resize them first")
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()


def _fingerprint(path: Path) -> str:
    """SHA-256 (hex, 16 chars) of what `path` holds: a file's bytes, or a folder's files (relative names
    and bytes, in sorted order). Content only: copying or re-creating the data (a new modification
    time, another folder) keeps every cache key that uses it.

    Reading gigabytes on every call would be slow, so the digest is memoised under
    `<cache>/fingerprints/`, keyed by the resolved path, size(s) and modification time(s): a file is
    hashed again only when one of those changes.
    """
    path = path.resolve()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    stats = [(str(f.relative_to(path)) if path.is_dir() else "", f.stat().st_size, f.stat().st_mtime_ns) for f in files]
    memo = paths.cache_dir() / "fingerprints" / f"{hashlib.sha256(repr((str(path), stats)).encode()).hexdigest()[:24]}.txt"
    if memo.is_file():
        return memo.read_text().strip()
    h = hashlib.sha256()
    for f, (name, _, _) in zip(files, stats):
        h.update(name.encode() + b"\0")
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                h.update(block)
        h.update(b"\0")
    digest = h.hexdigest()[:16]
    memo.parent.mkdir(parents=True, exist_ok=True)
    tmp = memo.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(digest + "\n")
    os.replace(tmp, memo)
    return digest


def read_image_folder(path: Path, train_name: str = "train", test_name: str = "test",
                      resize: int | None = None) -> dict:
    """Decode an image-folder tree once; the decoded tensors are cached by the file's fingerprint.

    Returns:
        {"classes": [str], "train": (uint8 [N,3,H,W], int64 [N]), "test": same or None}.
    """
    if not path.exists():
        raise DataError(f"image folder {path} does not exist: pass imagefolder:PATH with a directory or "
                        f".tar.gz holding {train_name}/<class>/<image> (and optionally {test_name}/<class>/…)")

    def decode() -> dict:
        found = _read_folder(_iter_files(path), (train_name, test_name), resize)
        if train_name not in found:
            raise DataError(f"{path}: no images under '{train_name}/<class>/' (expected layout "
                            f"{train_name}/<class>/<image>, optionally {test_name}/<class>/<image>)")
        classes = sorted(set(found[train_name][0]))
        index = {c: i for i, c in enumerate(classes)}
        out: dict = {"classes": classes, "test": None}
        for split, (names, arrays) in found.items():
            unknown = sorted(set(names) - set(classes))
            if unknown:
                raise DataError(f"{path}: '{split}/' has classes absent from '{train_name}/': {unknown[:5]}")
            key = "train" if split == train_name else "test"
            out[key] = (_stack(arrays, f"{path}/{split}"), torch.tensor([index[c] for c in names]))
        if out["test"] is not None and out["test"][0].shape[1:] != out["train"][0].shape[1:]:
            raise DataError(f"{path}: '{test_name}/' images are {tuple(out['test'][0].shape[2:])} but "
                            f"'{train_name}/' images are {tuple(out['train'][0].shape[2:])}; resize them first")
        return out

    spec = {"path": str(path.resolve()), "fingerprint": _fingerprint(path), "train": train_name,
            "test": test_name, "resize": resize}
    return cache.cached("datasets", spec, decode, thread_dependent=False)   # decoding is exact


def _imagefolder(path: Path, split_seed: int, test_fraction: float) -> Dataset:
    test_name = "test"
    raw = read_image_folder(path, test_name=test_name)
    pool = ImageSet(*raw["train"])
    counts = torch.bincount(pool.labels, minlength=len(raw["classes"]))
    if counts.min() < 5:
        raise DataError(f"{path}: class '{raw['classes'][int(counts.argmin())]}' has {int(counts.min())} "
                        "training images; need at least 5 per class")
    notes = []
    if raw["test"] is not None:
        test, rest = ImageSet(*raw["test"]), pool
        test_desc = f"'{test_name}/' of the archive as test set"
    else:
        test_idx, rest_idx = stratified_split(pool.labels, [test_fraction], split_seed)
        test, rest = pool.take(test_idx), pool.take(rest_idx)
        test_desc = (f"no '{test_name}/' split in the data: a fixed stratified {test_fraction:.0%} of "
                     f"'train/' (split seed {split_seed}) is the test set")
        notes.append(test_desc)
    train_idx, val_idx = stratified_split(rest.labels, [0.8], split_seed + 1)
    return Dataset(
        spec=f"imagefolder:{path}", source="real", classes=raw["classes"], train=rest.take(train_idx),
        val=rest.take(val_idx), test=test, fingerprint=_fingerprint(path),
        description=(f"{path.name}: {len(train_idx)}/{len(val_idx)}/{len(test)} train/val/test "
                     f"(80/20 train/val split of the rest, seed {split_seed + 1}); {test_desc}"),
        notes=notes)


# ---------------------------------------------------------------------------------------------
# ImageNet validation (val/<wnid>/*.JPEG)


def _imagenet_val_dir(root: Path) -> Path | None:
    """`root/val` or `root/<one folder>/val` of a directory root, if it is a directory."""
    candidates = [root / "val", *(d / "val" for d in sorted(root.iterdir()) if d.is_dir())]
    return next((c for c in candidates if c.is_dir()), None)


def read_imagenet_val(path: Path, crop: int = IMAGENET_CROP) -> dict:
    """Decode `val/<wnid>/<image>` of an ImageNet root (directory or archive) once; cached by fingerprint.

    Only `val/` is read (a directory root's `train/` is not even listed). Images are resized (shorter side
    round(crop*8/7), 342 for 299) and centre-cropped to `crop`×`crop`.

    Returns:
        {"classes": sorted wnids, "test": (uint8 `[N, 3, crop, crop]`, int64 `[N]` index into classes),
         "fingerprint": of the val/ folder (directory root) or of the archive}.

    Raises:
        DataError: `path` missing, or no image in any `val/<wnid>/` folder (the message gives the layout).
    """
    if not path.exists():
        raise DataError(f"ImageNet root {path} does not exist. {IMAGENET_LAYOUT}")
    val_dir = _imagenet_val_dir(path) if path.is_dir() else None
    if path.is_dir() and val_dir is None:
        raise DataError(f"{path}: no val/ folder. {IMAGENET_LAYOUT}")
    source = val_dir if val_dir is not None else path
    fingerprint = _fingerprint(source)

    def decode() -> dict:
        files = ((f"val/{name}", read) for name, read in _iter_files(val_dir)) if val_dir else _iter_files(path)
        found = _read_folder(files, ("val",), crop)
        if "val" not in found:
            loose = 0 if val_dir is None else sum(1 for p in val_dir.iterdir() if p.is_file())
            flat = f" ({loose} files lie directly in val/: sort them into wnid folders)" if loose else ""
            raise DataError(f"{source}: no images under val/<wnid>/{flat}. {IMAGENET_LAYOUT}")
        names, arrays = found["val"]
        classes = sorted(set(names))
        index = {c: i for i, c in enumerate(classes)}
        return {"classes": classes, "test": (_stack(arrays, f"{source}"), torch.tensor([index[c] for c in names])),
                "fingerprint": fingerprint}

    spec = {"path": str(source.resolve()), "fingerprint": fingerprint, "kind": "imagenet-val",
            "crop": crop}
    return cache.cached("datasets", spec, decode, thread_dependent=False)   # decoding is exact


def _imagenet(path: Path) -> Dataset:
    raw = read_imagenet_val(path)
    test = ImageSet(*raw["test"])
    empty = ImageSet(torch.empty(0, *test.images.shape[1:], dtype=torch.uint8), torch.empty(0, dtype=torch.int64))
    k = len(raw["classes"])
    notes = ["ImageNet: the validation images are the test set; train and val are empty (pretrained models)"]
    if k != 1000:
        notes.append(f"only {k} of ImageNet's 1000 classes are present: labels index these {k} sorted wnids, "
                     "not a 1000-way model's outputs; map them through `classes` first")
    return Dataset(
        spec=f"imagenet:{path}", source="real", classes=raw["classes"], train=empty, val=empty, test=test,
        fingerprint=raw["fingerprint"],
        description=(f"{path.name}: ImageNet validation, {len(test)} images of {k} classes (val/<wnid>/), shorter "
                     f"side resized to {round(IMAGENET_CROP * 8 / 7)} and centre-cropped to "
                     f"{IMAGENET_CROP}×{IMAGENET_CROP}, as test set; no train/val split"),
        notes=notes)


# ---------------------------------------------------------------------------------------------
# torchvision CIFAR


def _cifar(name: str, split_seed: int) -> Dataset:
    import torchvision

    cls = {"cifar10": torchvision.datasets.CIFAR10, "cifar100": torchvision.datasets.CIFAR100}[name]
    root = paths.data_root()
    try:
        train = cls(root, train=True, download=False)
        test = cls(root, train=False, download=False)
    except RuntimeError:  # not on disk: try torchvision's download
        try:
            train = cls(root, train=True, download=True)
            test = cls(root, train=False, download=True)
        except Exception as exc:
            raise DataError(
                f"{name} is not under {root} and could not be downloaded ({type(exc).__name__}: {exc}). "
                f"Put the torchvision '{cls.base_folder}' folder (the python pickles) under {root} "
                f"(or set REPRO_DATA_ROOT), or pass imagefolder:PATH.") from exc

    def as_set(ds) -> ImageSet:
        return ImageSet(torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous(), torch.tensor(ds.targets))

    pool, test_set = as_set(train), as_set(test)
    train_idx, val_idx = stratified_split(pool.labels, [0.8], split_seed + 1)
    return Dataset(
        spec=name, source="real", classes=list(train.classes), train=pool.take(train_idx), val=pool.take(val_idx),
        test=test_set, fingerprint=f"torchvision-{name}",
        description=f"{name} (torchvision): {len(train_idx)}/{len(val_idx)}/{len(test_set)} train/val/test, "
                    f"80/20 train/val split seed {split_seed + 1}, official test set")


CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
CIFAR10C_OPTIONS = ("corruption", "severity", "n")


def _cifar10c(arg: str) -> Dataset:
    """`cifar10c:PATH[,corruption=NAME][,severity=S][,n=N]` (module docstring) as a test-only Dataset."""
    from lib import cifar10c, corruptions  # heavy (SciPy, scikit-image): only when this spec is used

    path, *opts = arg.split(",")
    if not path:
        raise DataError("cifar10c: needs a folder, e.g. cifar10c:/data/CIFAR-10-C,corruption=fog,severity=3")
    options: dict[str, str] = {}
    for kv in opts:
        key, eq, value = kv.partition("=")
        if not eq or key not in CIFAR10C_OPTIONS or not value:
            raise DataError(f"cifar10c: bad option {kv!r}; valid: corruption=NAME, severity=1..5, n=N")
        options[key] = value
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise DataError(f"cifar10c: folder {folder} does not exist. Supply the released CIFAR-10-C "
                        "(zenodo record 2535967, unpacked) or build ours with lib.cifar10c.build_cifar10c.")
    held = [c for c in corruptions.CORRUPTIONS if (cifar10c._resolve_folder(folder) / f"{c}.npy").exists()]
    names = [options["corruption"]] if "corruption" in options else held
    if not names:
        raise DataError(f"cifar10c: {folder} holds no <corruption>.npy of {', '.join(corruptions.CORRUPTIONS)}")
    severity = options.get("severity")
    if severity is not None and (not severity.isdigit() or int(severity) not in corruptions.SEVERITIES):
        raise DataError(f"cifar10c: severity must be one of {corruptions.SEVERITIES}, got {severity!r}")
    severities = [int(severity)] if severity else list(corruptions.SEVERITIES)
    n = options.get("n")
    if n is not None and (not n.isdigit() or int(n) < 1):
        raise DataError(f"cifar10c: n must be a positive integer, got {n!r}")
    images, labels = [], []
    try:
        for name in names:
            for sev in severities:
                x, y = cifar10c.load_cifar10c(folder, name, sev)
                images.append(x[: int(n)] if n else x)
                labels.append(y[: int(n)] if n else y)
    except (KeyError, ValueError, OSError) as exc:
        raise DataError(f"cifar10c: {exc}") from exc
    x = torch.from_numpy(np.concatenate(images)).permute(0, 3, 1, 2).contiguous()
    test = ImageSet(x, torch.from_numpy(np.concatenate(labels)))
    empty = ImageSet(torch.zeros(0, 3, 32, 32, dtype=torch.uint8), torch.zeros(0, dtype=torch.int64))
    chosen = f"corruption={','.join(names) if len(names) < len(held) or 'corruption' in options else 'all'}"
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(test.labels.numpy()).tobytes())
    digest.update(np.ascontiguousarray(x[:: max(1, len(x) // 64)].numpy()).tobytes())   # a sample of the pixels
    return Dataset(
        spec=f"cifar10c:{folder}" + "".join(f",{k}={v}" for k, v in options.items()), source="real",
        classes=list(CIFAR10_CLASSES), train=empty, val=empty, test=test,
        fingerprint=f"cifar10c-{digest.hexdigest()[:16]}",
        description=(f"CIFAR-10-C from {folder}: {len(names)} corruption(s) × severities "
                     f"{','.join(map(str, severities))}, {len(test) // (len(names) * len(severities))} images "
                     f"per block, {len(test)} test images ({chosen}); no train or val split"))


# ---------------------------------------------------------------------------------------------
# Spec resolution


def resolve_auto() -> str:
    """The spec `auto` stands for, without loading anything (see the module docstring)."""
    env = os.environ.get("REPRO_DATA")
    if env:
        return env if ":" in env.split("/")[0] or env in ("cifar10", "cifar100", "synthetic") else f"imagefolder:{env}"
    if paths.CIFAR10_JPEG_ARCHIVE.exists():
        return f"imagefolder:{paths.CIFAR10_JPEG_ARCHIVE}"
    return "cifar10"


def load(spec: str, *, device: torch.device | str = "cpu", split_seed: int = 0, test_fraction: float = 0.2,
         allow_fallback: bool = True) -> Dataset:
    """Load a dataset spec (module docstring) as tensors on `device`.

    Args:
        spec: dataset spec.
        device: where the uint8 tensors live.
        split_seed: fixes every split (test carve-out uses it, train/val uses split_seed + 1).
        test_fraction: share of `train/` held out as test set when the data has no test split.
        allow_fallback: for `auto` only: fall back to the synthetic stand-in (with a banner) when no
            real data can be found. The `paper` profile passes False.

    Raises:
        DataError: unknown spec, missing or corrupt data (the message says how to supply it).
    """
    kind, _, arg = spec.partition(":")
    if kind == "auto":
        resolved = resolve_auto()
        try:
            return load(resolved, device=device, split_seed=split_seed, test_fraction=test_fraction)
        except DataError as exc:
            if not allow_fallback or os.environ.get("REPRO_DATA"):   # data named explicitly: never fall back
                raise
            ds = load("synthetic", device=device, split_seed=split_seed)
            return replace(ds, banner=(f"Real data unavailable ({exc}); these results use the SYNTHETIC "
                                       "stand-in and say nothing about the paper's claims."))
    if kind == "synthetic":
        ds = _synthetic(_synthetic_options(arg), split_seed)
    elif kind == "imagefolder":
        if not arg:
            raise DataError("imagefolder: needs a path, e.g. imagefolder:/data/my-images.tar.gz")
        ds = _imagefolder(Path(arg).expanduser(), split_seed, test_fraction)
    elif kind == "imagenet":
        arg = arg or str(paths.data_root() / "imagenet")   # bare `imagenet`: <data root>/imagenet
        ds = _imagenet(Path(arg).expanduser())
    elif kind == "cifar10c":
        ds = _cifar10c(arg)
    elif kind in ("cifar10", "cifar100") and not arg:
        ds = _cifar(kind, split_seed)
    else:
        raise DataError(f"unknown dataset spec {spec!r}; valid: auto, cifar10, cifar100, imagefolder:PATH, "
                        "imagenet:PATH, cifar10c:PATH[,corruption=NAME,severity=S,n=N], "
                        "synthetic[:classes=10|100,n=N,test=N]")
    return replace(ds, train=ds.train.to(device), val=ds.val.to(device), test=ds.test.to(device),
                   fingerprint=f"{ds.fingerprint}-split{split_seed}")
