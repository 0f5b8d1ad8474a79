"""BatchNorm after training: population statistics, and folding into the convolutions for inference.

Population statistics ("precise BN", Wu & Johnson 2021, Rethinking BatchNorm).

BatchNorm's running statistics are an exponential average over the last few dozen training batches. With
the metal window, a batch's feature variance depends on whether it holds an implant, so the average the run
happened to end on can be far from the population: a regression baseline trained with it scored test MAE
1.65 in eval mode, 0.41 with each test batch's own statistics, and 0.42 after this recomputation
(docs/iqagpt-experiments.md, "Experiment: a metal window").
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from radscribe.iqagpt.models.encoder import CNNEncoder
from radscribe.iqagpt.preprocess import to_model_input


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, images_uint8: np.ndarray, *, n: int = 2048, batch_size: int = 32,
                          seed: int = 0) -> int:
    """Replace every BatchNorm's running mean/var by their average over random batches of ``n`` training
    images (a fixed, seeded draw, so reruns agree); weights are untouched. Returns the number of images used."""
    layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not layers:
        return 0
    was_training = model.training
    momenta = [m.momentum for m in layers]
    for m in layers:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over every batch below
    encoder = next(m for m in model.modules() if isinstance(m, CNNEncoder))  # every BatchNorm lives in it
    model.train()
    # random batches, as in training: the average of per-batch variances is the population's only when each
    # batch is a random draw (consecutive records are one patient and one matrix size, and read ~3x too low)
    pick = np.random.default_rng(seed).permutation(len(images_uint8))[:n]
    for start in range(0, len(pick), batch_size):
        x = to_model_input(images_uint8[np.sort(pick[start:start + batch_size])])
        encoder(x)
    for m, momentum in zip(layers, momenta):
        m.momentum = momentum
    model.train(was_training)
    return int(len(pick))


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """An inference copy of ``model`` with every BatchNorm that follows a convolution folded into it.

    In eval mode a BatchNorm is a fixed per-channel scale and shift, so ``conv -> bn`` is one convolution with
    rescaled weights and a bias: the same function (to float rounding) without a pass over each feature map.
    The copy is for inference only (training it would train without BatchNorm); ``model`` is untouched.
    """
    folded = copy.deepcopy(model).eval()
    for module in folded.modules():
        if not isinstance(module, nn.Sequential):
            continue
        names = list(module._modules)
        for first, second in zip(names, names[1:]):
            conv, bn = module._modules[first], module._modules[second]
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                module._modules[first] = fuse_conv_bn_eval(conv, bn)
                module._modules[second] = nn.Identity()
    return folded
