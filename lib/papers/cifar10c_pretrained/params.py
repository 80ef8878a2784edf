"""Parameters of Rojas-Alvarez et al., pretrained CNNs on CIFAR-10-C: both notebooks share them.

smoke = synthetic data, seconds; quick = real CIFAR-10 on a 2-core CPU (width ¼, 32×32 input, a stratified
test subset, a CIFAR-pretrained stand-in for the ImageNet arm); paper = width 1, 224×224 input, torchvision's
ImageNet weights from a folder, the whole test split corrupted. `quick`/`paper` default to the previous
profile's value. Image counts are images; epochs are passes over the probe-training images.
"""
from __future__ import annotations

from lib.params import Param, Params

_ARCHS = ["resnet18", "resnet50", "resnet101", "vgg16", "vgg19", "alexnet"]

PARAMS = Params(
    # -- data, device, repetitions
    DATA=Param(str, "CIFAR-10 source: auto | cifar10 | imagefolder:PATH | synthetic (lib.data)", smoke="synthetic",
               quick="auto", paper="cifar10"),
    C_DATA=Param(str, "corrupted test set: 'generate' (lib.cifar10c.build_cifar10c on the first C_N test images, "
                      "cached) or the path of a CIFAR-10-C folder (ours or the released one)", smoke="generate"),
    C_N=Param(int, "test images per (corruption, severity) cell of the corrupted set; 0 = all (images)", smoke=10,
              quick=200, paper=0, min=0),
    C_INPUT_SCALE_N=Param(int, "images per cell re-evaluated with unscaled (0–255) corrupted input, the "
                                "diagnosis of the paper's C numbers; 0 = skip (images)", smoke=4, quick=40,
                          paper=500, min=0),
    TEST_SIZE=Param(int, "clean test images; 0 = the whole test split (images)", smoke=100, quick=2000, paper=0,
                    min=0),
    DEVICE=Param(str, "auto | cpu | cuda", smoke="auto"),
    SEEDS=Param(list[int], "head-training repetitions; without pretraining each seed is also a new random "
                           "backbone", smoke=[0, 1], quick=[0, 1, 2], min_len=1, min=0),
    NO_CACHE=Param(bool, "True recomputes the corrupted set, backbones, features and heads", smoke=False),
    # -- networks
    ARCHS=Param(list[str], "architectures (torchvision topology and module names)", smoke=_ARCHS, min_len=1),
    WIDTH=Param(float, "channel / hidden-width multiplier of every network (paper: 1 = torchvision's)",
                smoke=0.0625, quick=0.25, paper=1.0, min=0.01, max=1.0),
    INPUT_SIZE=Param(int, "input side of ResNets and VGG after bilinear resizing (pixels; CIFAR is 32)", smoke=32,
                     paper=224, min=32),
    ALEXNET_INPUT=Param(int, "input side of AlexNet (pixels; its last max-pool needs at least 63)", smoke=64,
                        paper=224, min=63),
    PRETRAINED=Param(str, "the 'with pretraining' arm: 'imagenet' (torchvision IMAGENET1K_V1 checkpoints from "
                          "WEIGHTS_DIR, width 1 only) or 'proxy' (a stand-in: the backbone trained on a disjoint "
                          "pool of CIFAR-10 training images, NOT ImageNet)", smoke="proxy", paper="imagenet"),
    WEIGHTS_DIR=Param(str | None, "folder holding torchvision's checkpoint files (resnet18-f37072fd.pth, …); None = "
                                  "torch.hub's checkpoints folder ($TORCH_HOME/hub/checkpoints)", smoke=None),
    # -- the proxy pretraining (PRETRAINED='proxy')
    PROXY_POOL=Param(int, "source images of the proxy pretraining, disjoint from the probe-training images",
                     smoke=200, quick=20000, min=10),
    PROXY_EPOCHS=Param(int, "proxy pretraining epochs (crop + flip, Adam one-cycle, batch 128)", smoke=1, quick=2,
                       min=1),
    PROXY_LR=Param(dict[str, float], "proxy pretraining peak Adam learning rate per family (resnet | vgg | alexnet); "
                                     "VGG without BatchNorm stalls at chance with 2e-3 in this budget",
                   smoke={"resnet": 0.002, "vgg": 0.0005, "alexnet": 0.001}, min=0),
    PROXY_SEED=Param(int, "initialisation / batch order of the proxy-pretrained backbone (seed s's with "
                          "PROXY_REPLICATES: PROXY_SEED + s)", smoke=0, min=0),
    PROXY_REPLICATES=Param(bool, "one proxy backbone per seed, so the seeds replicate the pretraining as well as "
                                 "the head (the claims compare arms); False: one per architecture for every seed, "
                                 "as the paper's one set of ImageNet weights", smoke=True),
    # -- the paper's fine tuning (frozen backbone, new 10-way head)
    PROBE_TRAIN=Param(int, "training images of the new head; 0 = every training image not in the proxy pool",
                      smoke=200, quick=5000, paper=0, min=0),
    BN_CALIB=Param(int, "training images of the train-mode pass that sets BatchNorm running statistics, as the "
                        "paper's training loop does (images)", smoke=100, quick=2000, paper=10000, min=1),
    EPOCHS=Param(int, "head-training epochs; accuracy and loss are recorded after each (paper: 30)", smoke=3,
                 quick=30, min=1),
    LR=Param(float, "Adam learning rate of the head (PyTorch's default; the paper does not say)", smoke=0.001,
             min=0),
    BATCH=Param(int, "head-training batch size (images; the paper does not say)", smoke=64, quick=128, min=1),
    # -- Fig. 5
    FIG5_IMAGE=Param(int, "index of the test image drawn under every corruption in Fig. 5", smoke=0, min=0),
)
