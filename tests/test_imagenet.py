"""ImageNet path of Pixel Deflection's `paper` profile, offline: `lib.data`'s `imagenet:PATH` on a tiny
synthetic `val/<wnid>/*.JPEG` tree, and `lib.papers.pixel_deflection.pretrained`'s three torchvision classifiers with random
weights (forward, CAM parts, equivalence with torchvision's own forward) and with missing or fake
checkpoints under a temporary TORCH_HOME (downloads are patched to fail, never attempted for real).
"""
from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import lib.data
from lib.data import DataError
from lib.papers.pixel_deflection.method import CamParts, cam_parts, robust_cam
from lib.papers.pixel_deflection.pretrained import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    ImageNetClassifier,
    ImageNetModel,
    WeightsMissing,
    build_torchvision,
    checkpoint_path,
    load_imagenet_model,
)

# creation order differs from sorted order: label = index in the *sorted* wnid list is pinned
WNIDS = {"n03000003": 200, "n01000001": 40, "n02000002": 120}   # wnid -> red value of its images
SIZES = {"landscape": (400, 300), "portrait": (300, 420)}        # PIL (width, height), odd aspect ratios


def _jpeg(path: Path, red: int, size: tuple[int, int]) -> None:
    """Solid red `red`; green 0 in the first half along the long side, 255 in the second half."""
    from PIL import Image

    w, h = size
    arr = np.zeros((h, w, 3), dtype=np.uint8)
    arr[..., 0], arr[..., 2] = red, 60
    if w >= h:
        arr[:, w // 2:, 1] = 255
    else:
        arr[h // 2:, :, 1] = 255
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path, quality=95)


def _write_imagenet(root: Path) -> Path:
    for wnid, red in WNIDS.items():
        for i, (kind, size) in enumerate(SIZES.items()):
            _jpeg(root / "val" / wnid / f"ILSVRC2012_val_{red:05d}{i}_{kind}.JPEG", red, size)
    (root / "train" / "n01000001").mkdir(parents=True)   # present but never read
    (root / "train" / "n01000001" / "broken.JPEG").write_bytes(b"not an image")
    return root


@pytest.fixture
def imagenet_cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("REPRO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


# ------------------------------------------------------------------------------------ data


def test_imagenet_val_is_the_test_set_at_299(tmp_path, imagenet_cache) -> None:
    ds = lib.data.load(f"imagenet:{_write_imagenet(tmp_path / 'ILSVRC2012')}")
    assert ds.classes == sorted(WNIDS) and ds.source == "real"
    assert ds.test.images.shape == (6, 3, 299, 299) and ds.test.images.dtype == torch.uint8
    assert ds.test.labels.dtype == torch.int64
    red = ds.test.images[:, 0, 20, 20].int()                       # away from the green split (JPEG chroma)
    expected = torch.tensor([ds.classes.index(w) for r in red.tolist() for w, v in WNIDS.items() if abs(v - r) <= 4])
    assert torch.equal(expected, ds.test.labels)                    # every image matched exactly one class
    assert torch.bincount(ds.test.labels).tolist() == [2, 2, 2]
    for part in (ds.train, ds.val):
        assert part.images.shape == (0, 3, 299, 299) and part.images.dtype == torch.uint8
        assert part.labels.shape == (0,) and part.labels.dtype == torch.int64
    assert "299×299" in ds.description and "342" in ds.description
    assert any("3 of ImageNet's 1000 classes" in n for n in ds.notes)
    assert list(imagenet_cache.glob("datasets/*.pt"))               # decoded once, cached


def test_imagenet_resize_keeps_aspect_and_crops_the_centre(tmp_path, imagenet_cache) -> None:
    ds = lib.data.load(f"imagenet:{_write_imagenet(tmp_path / 'inet')}")
    green = ds.test.images[:, 1].int()
    landscape = ["landscape" in p.name for p in sorted((tmp_path / "inet" / "val").rglob("*.JPEG"))]
    for img, is_landscape in zip(green, landscape):
        line = img[149, :] if is_landscape else img[:, 149]         # across the half-way split
        assert line[:135].max() < 30 and line[164:].min() > 225       # split at the crop's centre ±15 px


def test_imagenet_archive_with_top_folder_matches_directory(tmp_path, imagenet_cache) -> None:
    root = _write_imagenet(tmp_path / "inet")
    archive = tmp_path / "ILSVRC2012_val.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for f in sorted(root.rglob("*.JPEG"), reverse=True):         # member order != sorted order
            tar.add(f, arcname=f"ILSVRC2012/{f.relative_to(root).as_posix()}")
    from_dir, from_tar = lib.data.load(f"imagenet:{root}"), lib.data.load(f"imagenet:{archive}")
    assert from_tar.classes == from_dir.classes
    order_dir = torch.argsort(from_dir.test.images[:, :, 149, 149].int().sum(1) * 10 + from_dir.test.labels)
    order_tar = torch.argsort(from_tar.test.images[:, :, 149, 149].int().sum(1) * 10 + from_tar.test.labels)
    assert torch.equal(from_dir.test.images[order_dir], from_tar.test.images[order_tar])
    assert torch.equal(from_dir.test.labels[order_dir], from_tar.test.labels[order_tar])


def test_imagenet_missing_root_says_how_to_supply_it(tmp_path, imagenet_cache) -> None:
    with pytest.raises(DataError) as err:
        lib.data.load(f"imagenet:{tmp_path / 'nowhere'}")
    msg = str(err.value)
    assert "does not exist" in msg and "val/<wnid>/*.JPEG" in msg and 'DATA="imagenet:' in msg


@pytest.mark.parametrize("layout", ["no-val", "empty-wnids", "flat"])
def test_imagenet_empty_val_says_what_layout_is_expected(tmp_path, imagenet_cache, layout: str) -> None:
    root = tmp_path / "inet"
    (root / "train" / "n01000001").mkdir(parents=True)
    if layout == "empty-wnids":
        (root / "val" / "n01000001").mkdir(parents=True)
    if layout == "flat":                                              # raw ILSVRC2012_img_val.tar, unsorted
        _jpeg(root / "val" / "ILSVRC2012_val_00000001.JPEG", 10, (40, 30))
    with pytest.raises(DataError) as err:
        lib.data.load(f"imagenet:{root}")
    msg = str(err.value)
    assert "val/<wnid>/*.JPEG" in msg and "valprep.sh" in msg and 'DATA="imagenet:' in msg
    assert ("no val/ folder" in msg) == (layout == "no-val")
    assert ("1 files lie directly in val/" in msg) == (layout == "flat")


# ------------------------------------------------------------------------------------ models
# A forward of 2 images costs ~1-5 s per network on 2 busy cores: each network runs 3-4 of them in all.

NATIVE = {ImageNetModel.RESNET50: 224, ImageNetModel.VGG19: 224, ImageNetModel.INCEPTION_V3: 299}
FEATURES = {ImageNetModel.RESNET50: (2048, 7, 7), ImageNetModel.VGG19: (512, 14, 14),
            ImageNetModel.INCEPTION_V3: (2048, 8, 8)}


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    """`[2, 3, 299, 299]` float in [0, 1]."""
    return torch.rand(2, 3, 299, 299, generator=torch.Generator().manual_seed(1))


@pytest.fixture(scope="module")
def random_models(images) -> dict[ImageNetModel, tuple[ImageNetClassifier, torch.Tensor, torch.Tensor]]:
    """Per network (random weights, seed 0): the model, its logits on `images` and the trunk's output
    during that forward (captured by a hook)."""
    out = {}
    for name in ImageNetModel:
        torch.manual_seed(0)
        model = load_imagenet_model(name, weights="random")
        seen = []
        hook = model.trunk.register_forward_hook(lambda module, args, output, seen=seen: seen.append(output))
        with torch.no_grad():
            logits = model(images)
        hook.remove()
        out[name] = (model, logits, seen[0])
    return out


@pytest.mark.parametrize("name", list(ImageNetModel))
def test_random_model_forward_at_299_and_64(random_models, images, name: ImageNetModel) -> None:
    model, logits, feats = random_models[name]
    assert not model.training and model.size == NATIVE[name]
    assert logits.shape == (2, 1000) and logits.dtype == torch.float32 and logits.isfinite().all()
    assert feats.shape == (2, *FEATURES[name]) and feats.min() >= 0          # after the last ReLU
    with torch.no_grad():
        small = model(F.interpolate(images, size=(64, 64), mode="area"))
    assert small.shape == (2, 1000) and small.isfinite().all()
    with pytest.raises(TypeError, match="float"):
        model((images * 255).to(torch.uint8))


@pytest.mark.parametrize("name", list(ImageNetModel))
def test_wrapper_equals_torchvision_on_resized_normalised_input(random_models, images, name: ImageNetModel) -> None:
    """Same seed -> same weights; torchvision's own forward on the input resized to the native size and
    ImageNet-normalised (Inception-v3 then applies its transform_input) gives the wrapper's logits."""
    logits = random_models[name][1]
    torch.manual_seed(0)
    net = build_torchvision(name, weights="random")
    size = NATIVE[name]
    x = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False, antialias=False)
    x = (x - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = net(x)
    atol = 1e-4 * expected.abs().max().item()
    assert (expected[0] - expected[1]).abs().max() > 20 * atol    # the logits do depend on the input
    torch.testing.assert_close(logits, expected, rtol=1e-4, atol=atol)


@pytest.mark.parametrize("name", [ImageNetModel.RESNET50, ImageNetModel.INCEPTION_V3])
def test_robust_cam_on_gap_models(random_models, images, name: ImageNetModel) -> None:
    model, logits, feats = random_models[name]
    parts = cam_parts(model)
    assert parts.linear is model.classifier and isinstance(model.classifier, torch.nn.Linear)
    torch.testing.assert_close(model.classifier(feats.mean((2, 3))), logits)   # GAP + linear, as CAM assumes
    cam = robust_cam(model, images, top_k=5)                                    # calls model.features
    assert cam.shape == (2, 299, 299) and cam.min() >= 0 and cam.max() <= 1
    assert all(m == 1 or m == 0 for m in cam.amax((1, 2)).tolist())
    torch.testing.assert_close(cam, robust_cam(CamParts(lambda x: feats, model.classifier), images, top_k=5))


def test_vgg19_has_no_cam(random_models, images) -> None:
    model = random_models[ImageNetModel.VGG19][0]
    assert not hasattr(model, "classifier")
    with pytest.raises(TypeError, match="classifier"):
        cam_parts(model)
    with pytest.raises(TypeError):
        robust_cam(model, images, top_k=5)


# ------------------------------------------------------------------------------------ weights


@pytest.fixture
def downloads(tmp_path, monkeypatch) -> list[str]:
    """An empty TORCH_HOME (`tmp_path/torch`); download attempts are recorded and fail at once."""
    attempts: list[str] = []

    def no_download(url, *args, **kwargs):
        attempts.append(url)
        raise AssertionError(f"download attempted: {url}")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(torch.hub, "download_url_to_file", no_download)
    return attempts


@pytest.mark.parametrize("name,file", [("resnet50", "resnet50-0676ba61.pth"), ("vgg19", "vgg19-dcbb9e9d.pth"),
                                       ("inception_v3", "inception_v3_google-0cc3c7bd.pth")])
def test_missing_pretrained_weights_name_file_url_and_folder(tmp_path, downloads, name: str, file: str) -> None:
    folder = tmp_path / "torch" / "hub" / "checkpoints"
    assert checkpoint_path(name) == folder / file
    with pytest.raises(WeightsMissing) as err:
        load_imagenet_model(name)
    msg = str(err.value)
    assert file in msg and f"https://download.pytorch.org/models/{file}" in msg
    assert str(folder) in msg and "TORCH_HOME" in msg and "not found" in msg
    assert downloads == []


def test_pretrained_weights_are_read_from_the_checkpoint_folder(downloads) -> None:
    torch.manual_seed(3)
    state = build_torchvision("resnet50", weights="random").state_dict()
    path = checkpoint_path("resnet50")
    path.parent.mkdir(parents=True)
    torch.save(state, path)
    model = load_imagenet_model("resnet50", weights="pretrained")
    assert torch.equal(model.classifier.weight, state["fc.weight"])
    assert torch.equal(model.trunk[0].weight, state["conv1.weight"])
    path.write_bytes(b"truncated download")
    with pytest.raises(WeightsMissing, match="cannot be loaded"):
        load_imagenet_model("resnet50")
    assert downloads == []


def test_bad_name_or_weights_are_refused() -> None:
    with pytest.raises(ValueError):
        load_imagenet_model("resnet18", weights="random")
    with pytest.raises(ValueError, match="pretrained' or 'random"):
        load_imagenet_model("resnet50", weights="imagenet")
