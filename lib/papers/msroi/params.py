"""Parameters of Prakash thesis ch. 2 (semantic JPEG with MS-ROI): every notebook of `msroi` shares them.

smoke = synthetic data, the whole paper in about a minute; quick = real CIFAR-10 composites on a 2-core CPU
(map network at 64 px, compression at 256 px); paper = the thesis's data read from image folders (Caltech-256
for the map network, Kodak / CAT2000 / one large image for compression), 224-px maps, for a GPU. Sizes are in
pixels, fractions of the canvas side where said, qualities on the IJG 1–100 scale.
"""
from __future__ import annotations

from lib.params import Param, Params

PARAMS = Params(
    # -- data, device
    DATA=Param(str, "source of the CIFAR object / background images of the composite scenes: auto | cifar10 | "
                    "imagefolder:PATH | synthetic (lib.data)", smoke="synthetic", quick="auto", paper="cifar10"),
    MAP_FOLDER=Param(str | None, "MAP_TRAIN='images': the folder (or .tar.gz) of train/<class>/<image> the map network "
                                 "trains on (Caltech-256; any image sizes, resized to MAP_SIZE; a relative path is under the "
                                 "data root, $REPRO_DATA_ROOT or <repo>/data)", smoke=None, paper="caltech256"),
    DEVICE=Param(str, "auto | cpu | cuda", smoke="auto"),
    NO_CACHE=Param(bool, "True recomputes scenes, networks and compression results", smoke=False),
    # -- the map network (shared with aug_msroi through protocol.map_network_spec / load_map_network)
    MAP_TRAIN=Param(str, "training data of the map network: 'composites' (CIFAR objects pasted on backgrounds, "
                         "multi-hot labels) or 'images' (the MAP_FOLDER images, resized to MAP_SIZE, one label "
                         "each, as the thesis trained on Caltech-256)", smoke="composites", paper="images",
                    choices=("composites", "images")),
    MAP_SIZE=Param(int, "input side of the map network (pixels; the thesis: 224)", smoke=48, quick=64, paper=224,
                   min=16),
    MAP_WIDTHS=Param(list[int], "channels of each [conv 3×3 → ReLU]² block of the trunk (thesis: five blocks, "
                                "sizes not given)", smoke=[8, 16, 16], quick=[16, 32, 48],
                     paper=[64, 128, 256, 512, 512], min_len=1, min=1),
    MAP_POOLS=Param(int, "blocks followed by a 2×2 max-pool (the first ones; thesis: 5)", smoke=2, paper=5, min=0),
    MAP_PER_CLASS=Param(int, "feature maps per class d of the MS-ROI head (eq 2.4)", smoke=4, quick=8, min=1),
    MAP_RANK_WEIGHTS=Param(list[float], "weights of the top-k classes' maps, top-1 first (eq 2.5's 'sum weighted by "
                                        "rank'; default: the public code's 0.5, 0.25, 0.125, 0.0625, 0.075)",
                           smoke=[0.5, 0.25, 0.125, 0.0625, 0.075], min_len=1, min=0),
    MAP_SCENES=Param(int, "training scenes (MAP_TRAIN='composites') or the cap on training images ('images'; "
                          "0 = all)", smoke=400, quick=6000, paper=0, min=0),
    MAP_EPOCHS=Param(int, "training epochs of the map network (Adam)", smoke=2, quick=6, paper=30, min=1),
    MAP_BATCH=Param(int, "batch size (images)", smoke=64, paper=32, min=1),
    MAP_LR=Param(float, "Adam learning rate", smoke=0.003, paper=0.001, min=0),
    MAP_SEED=Param(int, "initialisation, scenes and batch order of the map network", smoke=0, min=0),
    CAM_FEATURES=Param(int, "feature maps of the CAM baseline before global average pooling", smoke=16, quick=64,
                       paper=1024, min=1),
    CAM_EPOCHS=Param(int, "training epochs of the CAM baseline (same scenes, softmax on the largest object's class)",
                     smoke=1, quick=3, paper=30, min=1),
    # -- scenes
    TRAIN_OBJECTS=Param(list[int], "(min, max) objects per training scene", smoke=[1, 4], min_len=2, min=0, max=4),
    OBJECT_FRAC=Param(list[float], "(min, max) object side as a fraction of the canvas side, training scenes "
                                   "(0.25–0.5 = 16–32 px at 64)", smoke=[0.25, 0.5], min_len=2, min=0.01, max=0.5),
    EVAL_OBJECT_FRAC=Param(list[float], "(min, max) object side, evaluation scenes (0.25–0.375 = 64–96 px at 256)",
                           smoke=[0.25, 0.375], min_len=2, min=0.01, max=0.5),
    TEXTURE=Param(float, "amplitude of the smooth colour texture on backgrounds (0–1 pixel units)", smoke=0.06,
                  min=0),
    N_MAP_EVAL=Param(int, "held-out scenes (2–4 objects) on which maps are scored (Figs. 2.2, 2.3)", smoke=40,
                     quick=300, min=2),
    HIT=Param(float, "an object counts as captured when the map's mean over its pixels is at least this", smoke=0.5,
              min=0, max=1),
    SR_SIDE=Param(int, "spectral-residual saliency: side the grey image is resized to (pixels)", smoke=64, min=8),
    SR_SIGMA=Param(float, "spectral-residual saliency: Gaussian smoothing (pixels at SR_SIDE)", smoke=2.5, min=0),
    # -- compression (Table 2.1, Figs. 2.1, 2.4, 2.5)
    EVAL_SIZE=Param(int, "side of the composite scenes that are compressed (pixels; multiple of 16, >= 176 for "
                         "5-scale MS-SSIM)", smoke=176, quick=256, min=16),
    EVAL_SETS=Param(dict[str, str], "image sets of Table 2.1: name -> 'composites' (generated) or an image folder "
                                    "path (any sizes; relative: under the data root; paper profile)",
                    smoke={"kodak": "composites", "mit": "composites"},
                    paper={"kodak": "kodak", "mit": "cat2000/outdoor"}),
    N_KODAK=Param(int, "composite scenes of the 'Kodak' set (2–4 objects; thesis: 24 Kodak images)", smoke=3,
                  quick=24, min=1),
    N_MIT=Param(int, "composite scenes of the 'MIT outdoor' set (3–4 objects; thesis: 200 images)", smoke=3,
                quick=60, min=1),
    N_PER_CATEGORY=Param(int, "scenes per category of Fig. 2.5 (10 dominant-object classes + 'pattern')", smoke=1,
                         quick=8, min=1),
    CATEGORY_FOLDER=Param(str | None, "paper profile: a CAT2000-style folder (<category>/<image>) for Fig. 2.5; "
                                      "None = composites", smoke=None, paper="cat2000"),
    SIZES=Param(list[int], "Fig. 2.4: (number of sizes, smallest side, largest side), geometric, rounded to "
                           "multiples of 16 (thesis: 20 sizes of one 8705×8400 image)", smoke=[2, 176, 208],
                quick=[10, 176, 640], paper=[20, 176, 2048], min_len=3, min=1),
    LARGE_IMAGE=Param(str | None, "paper profile: the file of Fig. 2.4's large image; None = one composite",
                      smoke=None),
    VARIANTS=Param(list[str], "encoders (lib.msroi_jpeg): thesis (Algorithm 1, two passes), code (the public "
                              "code's model 6), dct (per-block quantisation)", smoke=["thesis", "code", "dct"],
                   min_len=1),
    HEADLINE=Param(str, "the encoder whose rows fill Table 2.1 beside the thesis's (every encoder is in the "
                        "detail table and has its own verdicts)", smoke="thesis", choices=("thesis", "code", "dct")),
    REFERENCE_Q=Param(int, "quality of the standard JPEG reference (thesis: 50)", smoke=50, min=1, max=100),
    ORACLE_DECAY=Param(float, "oracle map given to the encoders: 1 on the objects, exp(−d / (ORACLE_DECAY · side)) "
                              "at distance d from them (fraction of the image side)", smoke=0.0625, min=0.001),
    SALIENT=Param(float, "PSNR-S: pixels whose map value is >= this quantile of the map (0.5 = the code's median "
                         "split) count as salient", smoke=0.5, min=0, max=1),
    TIMING=Param(list[int], "MS-C11: (height, width, repeats) of the map-speed measurement (thesis: 1080×1920)",
                 smoke=[108, 192, 2], quick=[1080, 1920, 3], min_len=3, min=1),
)
