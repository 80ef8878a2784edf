"""Model zoo: reference CIFAR-10 classifiers trained once by the suite's own code, committed with cards.

Each entry (`ENTRIES`) names an architecture, its width and a training recipe. `python -m lib.zoo
train NAME` trains it from scratch on the real CIFAR-10 training split (`DATA=auto`, split seed 0:
32,000 train / 8,000 validation / 10,000 test images) and writes, under `zoo/`:

    <name>.pt     the weights (fp16 state dict; integer buffers kept as they are)
    <name>.json   the card: architecture, width, parameter count, data spec and content digest,
                  split seeds, recipe, code digest, test and validation accuracy, training curve,
                  wall time, device, sha256 of the weights file.

`load(name, data, device)` returns the model only if the weights' sha256 equals the card's and the
card's architecture, width and data digest equal what the caller asks for; anything else raises
`ZooError` with the reason (a mismatch is never silently used). `lookup` is the soft variant the
experiments call: it returns None (and the reason) so that they train and cache as before.

Training: `lib.recipes.train_model` with the entry's `Recipe` (uint8 images in memory, batched crop +
flip, channels-last; SGD Nesterov one-cycle with label smoothing, or the paper-000 protocol).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from lib import cache, models, paths, recipes, repro
from lib.data import Dataset
from lib.recipes import Recipe, evaluate, train_model

ZOO_DIR = paths.ROOT / "zoo"
SPLIT_SEED = 0        # lib.data.load's split seed: test carve-out seed 0, train/val seed 1
CARD_SCHEMA = 1


class ZooError(RuntimeError):
    """A zoo checkpoint is missing, corrupt or does not match what was asked for."""


@dataclass(frozen=True)
class Entry:
    """A named zoo checkpoint: what it is and how it is made."""

    name: str
    arch: str                       # lib.models.Arch value
    width: int | None               # lib.models.build's width (None: fixed by the architecture)
    recipe: Recipe
    seed: int = 0
    target_test_acc: float = 0.0    # the acceptance bar of issue 10 (fraction in [0, 1])
    used_by: tuple[str, ...] = ()
    note: str = ""


ENTRIES: dict[str, Entry] = {e.name: e for e in (
    Entry("resnet20", "resnet20", None, Recipe(epochs=80), target_test_acc=0.88,
          used_by=("pixel_deflection", "repr"),
          note="ResNet-20 (He et al. 2016, option-A shortcuts); also RePr's distillation teacher"),
    Entry("vgg_gap", "vgg_gap", 32, Recipe(epochs=50), target_test_acc=0.85, used_by=("pixel_deflection",),
          note="VGG-style plain net with a GAP head (width 32: 32-64-128 filters)"),
    Entry("allconv_bn", "allconv_bn", 32, Recipe(epochs=60), target_test_acc=0.85,
          used_by=("pixel_deflection",), note="All-Conv Net C with BatchNorm, width 32 (paper: 96)"),
    Entry("cifar10_net", "cifar10_net", None,
          Recipe(optimizer="adam", schedule="early_stop", epochs=300, lr=1e-3, weight_decay=0.0,
                 label_smoothing=0.0, augment=False, patience=15),
          used_by=("selective_finetuning",),
          note="the selective fine-tuning paper's CIFAR-10 net with its own protocol: Adam (lr 1e-3), "
               "no augmentation, early stopping on validation loss with patience 15"),
)}


# ---------------------------------------------------------------------------------------------
# Cards and checkpoints


def content_digest(ds: Dataset) -> str:
    """SHA-256 (hex, 16 chars) of the pixels and labels of all three splits: the same data gives the
    same digest whatever file or decoder delivered them (`Dataset.fingerprint` hashes the source file's
    bytes, so it also changes with the archive's encoding)."""
    h = hashlib.sha256()
    for split in (ds.train, ds.val, ds.test):
        h.update(split.images.cpu().contiguous().numpy().tobytes())
        h.update(split.labels.cpu().numpy().astype("int64").tobytes())
    return h.hexdigest()[:16]


def weights_path(name: str) -> Path:
    return ZOO_DIR / f"{name}.pt"


def card_path(name: str) -> Path:
    return ZOO_DIR / f"{name}.json"


def code_digest() -> str:
    """Digest of the code that determines a zoo checkpoint (this module, recipes, models, data, repro)."""
    from lib import data as data_module
    return cache.code_digest([sys.modules[__name__], recipes, models, data_module, repro])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _half(state: dict[str, Tensor]) -> dict[str, Tensor]:
    return {k: v.half() if v.is_floating_point() else v for k, v in state.items()}


def _write_atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def card(name: str) -> dict:
    """The card of `name` (raises ZooError if the entry is unknown or untrained)."""
    if name not in ENTRIES:
        raise ZooError(f"unknown zoo entry {name!r}; valid: {', '.join(ENTRIES)}")
    path = card_path(name)
    if not path.exists():
        raise ZooError(f"zoo entry {name!r} has no card at {path}; train it with `python -m lib.zoo train {name}`")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ZooError(f"zoo card {path} is not valid JSON ({exc}); retrain with "
                       f"`python -m lib.zoo train {name}`") from exc


def train_entry(name: str, data_spec: str = "auto", device: str = "cpu", epochs: int | None = None,
                out_dir: Path | None = None, compile: bool = True) -> dict:
    """Train entry `name` from scratch and write its weights and card (atomically). Returns the card.

    `epochs` overrides the recipe's (for tests and trials; the card records what ran). `compile`: train
    through `torch.compile` (`lib.recipes.train_model`; the card records it).
    """
    from dataclasses import replace

    from lib import data as data_module

    entry = ENTRIES[name]
    recipe = entry.recipe if epochs is None else replace(entry.recipe, epochs=epochs)
    ds = data_module.load(data_spec, device=device, split_seed=SPLIT_SEED, allow_fallback=False)
    repro.seed_everything(entry.seed)
    model = models.build(entry.arch, ds.num_classes, entry.width).to(device)
    t0 = time.perf_counter()
    curve, kept = train_model(model, ds.train, ds.val, recipe, entry.seed,
                              log=lambda m: print(f"[zoo {name}] {m}", flush=True), compile=compile)
    seconds = time.perf_counter() - t0
    state = _half(model.state_dict())
    # evaluate the weights exactly as stored (fp16 -> fp32), not the fp32 training copy
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    _, test_acc = evaluate(model, ds.test)
    _, val_acc = evaluate(model, ds.val)
    out = out_dir or ZOO_DIR
    out.mkdir(parents=True, exist_ok=True)
    wpath = out / f"{name}.pt"
    _write_atomic(wpath, lambda p: torch.save(state, p))
    threads = torch.get_num_threads()
    info = {
        "schema": CARD_SCHEMA, "name": name, "arch": entry.arch, "width": entry.width, "note": entry.note,
        "used_by": list(entry.used_by), "num_classes": ds.num_classes,
        "parameters": sum(p.numel() for p in model.parameters()),
        "data": {"spec": data_spec if data_spec != "auto" else "auto", "resolved": _relative_spec(ds.spec),
                 "content_digest": content_digest(ds), "split_seeds": {"test": SPLIT_SEED, "train_val": SPLIT_SEED + 1},
                 "sizes": {"train": len(ds.train), "val": len(ds.val), "test": len(ds.test)}},
        "recipe": asdict(recipe), "seed": entry.seed, "epoch_kept": kept, "code_digest": code_digest(),
        "test_acc": test_acc, "val_acc": val_acc, "target_test_acc": entry.target_test_acc,
        "curve": asdict(curve), "train_seconds": round(seconds, 1), "compiled": compile,
        "device": f"{device} ({threads} threads, {platform.processor() or platform.machine()})",
        "torch": torch.__version__, "weights": {"file": wpath.name, "dtype": "float16",
                                                "bytes": wpath.stat().st_size, "sha256": _sha256(wpath)},
        "trained": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    _write_atomic(out / f"{name}.json", lambda p: p.write_text(json.dumps(info, indent=1) + "\n"))
    return info


def _relative_spec(spec: str) -> str:
    """A dataset spec with the repository's parent folder written as `..` (no machine paths in cards)."""
    return spec.replace(str(paths.ROOT.parent), "..")


def load(name: str, data: Dataset, device: torch.device | str = "cpu", arch: str | None = None,
         width: int | None = None, zoo_dir: Path | None = None) -> tuple[nn.Module, dict]:
    """The zoo model `name` in eval mode on `device`, and its card.

    Raises ZooError when the entry is unknown or untrained, the weights' sha256 differs from the card,
    the card's architecture/width differ from `arch`/`width` (when given), or its data content digest
    differs from `data`'s.
    """
    zdir = zoo_dir or ZOO_DIR
    info = card(name) if zoo_dir is None else json.loads((zdir / f"{name}.json").read_text())
    if arch is not None and (info["arch"], info["width"]) != (arch, width):
        raise ZooError(f"zoo entry {name!r} is {info['arch']} width {info['width']}, not {arch} width {width}")
    wpath = zdir / info["weights"]["file"]
    if not wpath.exists():
        raise ZooError(f"zoo weights {wpath} missing; retrain with `python -m lib.zoo train {name}`")
    digest = _sha256(wpath)
    if digest != info["weights"]["sha256"]:
        raise ZooError(f"zoo weights {wpath} are corrupt or were changed: sha256 {digest[:12]}… differs from "
                       f"the card's {info['weights']['sha256'][:12]}…; retrain with `python -m lib.zoo train {name}`")
    got = content_digest(data)
    if got != info["data"]["content_digest"]:
        raise ZooError(f"zoo entry {name!r} was trained on data {info['data']['content_digest']} "
                       f"({info['data']['resolved']}), not on this dataset ({got}, {data.spec})")
    model = models.build(info["arch"], info["num_classes"], info["width"])
    state = torch.load(wpath, map_location="cpu", weights_only=True)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return model.to(device).eval(), info


def lookup(arch: str, width: int | None, data: Dataset, device: torch.device | str = "cpu"
           ) -> tuple[nn.Module | None, dict | str]:
    """The zoo model for (`arch`, `width`) trained on `data`, or (None, the reason there is none).

    Unlike `load`, an absent or mismatching entry is not an error (the caller trains instead), but a
    corrupt one is: its ZooError propagates.
    """
    names = [e.name for e in ENTRIES.values() if (e.arch, e.width) == (arch, width)]
    if not names:
        return None, f"no zoo entry for {arch} width {width}"
    name = names[0]
    if not card_path(name).exists():
        return None, f"zoo entry {name!r} not trained"
    info = card(name)
    if info["data"]["content_digest"] != content_digest(data):
        return None, f"zoo entry {name!r} was trained on other data ({info['data']['resolved']})"
    return load(name, data, device, arch, width)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.zoo", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train entries from scratch and write weights + card to zoo/")
    t.add_argument("names", nargs="+", help=f"entries ({', '.join(ENTRIES)}) or 'all'")
    t.add_argument("--data", default="auto", help="dataset spec (default auto: the real CIFAR-10 archive)")
    t.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    t.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs (trials only)")
    t.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    t.add_argument("--no-compile", action="store_true", help="train eagerly (default: through torch.compile)")
    sub.add_parser("list", help="entries, their targets and their cards' accuracies")
    v = sub.add_parser("verify", help="check every trained entry's weights against its card")
    v.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    if args.cmd == "train":
        names = list(ENTRIES) if args.names == ["all"] else args.names
        unknown = [n for n in names if n not in ENTRIES]
        if unknown:
            parser.error(f"unknown entries {unknown}; valid: {', '.join(ENTRIES)} or all")
        if args.threads:
            torch.set_num_threads(args.threads)
        for name in names:
            info = train_entry(name, args.data, args.device, args.epochs, compile=not args.no_compile)
            print(f"[zoo {name}] test acc {100 * info['test_acc']:.2f}% (target {100 * info['target_test_acc']:.0f}%), "
                  f"val acc {100 * info['val_acc']:.2f}%, {info['train_seconds']:.0f} s, "
                  f"{info['weights']['bytes'] / 1e6:.2f} MB")
        return 0
    if args.cmd == "list":
        for name, e in ENTRIES.items():
            status = "not trained"
            if card_path(name).exists():
                c = card(name)
                status = (f"test {100 * c['test_acc']:.2f}%, val {100 * c['val_acc']:.2f}%, "
                          f"{c['train_seconds']:.0f} s on {c['device']}")
            print(f"{name:12s} {e.arch:12s} width {e.width!s:5s} target {100 * e.target_test_acc:.0f}%  {status}")
        return 0
    bad = 0
    for name in args.names or [n for n in ENTRIES if card_path(n).exists()]:
        info = card(name)
        digest = _sha256(weights_path(name)) if weights_path(name).exists() else "missing"
        ok = digest == info["weights"]["sha256"]
        bad += not ok
        print(f"{name}: {'ok' if ok else 'MISMATCH'} ({digest[:12]})")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
