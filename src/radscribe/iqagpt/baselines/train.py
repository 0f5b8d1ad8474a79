"""Train and run the baselines on the same preprocessed data as the captioner.

``BASELINES`` is the registry: name -> factory(encoder config, tokenizer). Every entry trains with
:func:`fit` and predicts (score, aspect severities) with :func:`predict`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch

from radscribe.iqagpt.baselines.classical import NoiseSigmaIQA
from radscribe.iqagpt.baselines.clip_iqa import ClipIQA
from radscribe.iqagpt.baselines.heads import MultitaskClassifier, MultitaskRegressor
from radscribe.iqagpt.data import CTIQAData
from radscribe.iqagpt.models.batchnorm import fold_batchnorm
from radscribe.iqagpt.models.encoder import EncoderConfig
from radscribe.iqagpt.models.ring import ring_maps
from radscribe.iqagpt.precision import autocast, memory_format, resolve_precision
from radscribe.iqagpt.preprocess import to_model_input
from radscribe.iqagpt.tokenizer import WordTokenizer
from radscribe.iqagpt.train import CONFIGS, augment, lr_at, mirror_ok, model_input, TrainConfig

#: the score-target SD of the ordinal classifier: the shipped captioner's (``small``) ``score_sigma``
ORDINAL_SIGMA = CONFIGS["small"].score_sigma

BASELINES: dict[str, Callable[[EncoderConfig, WordTokenizer], object]] = {
    "multitask_classification": lambda enc, tok: MultitaskClassifier(enc),
    "multitask_classification_ordinal": lambda enc, tok: MultitaskClassifier(enc, score_sigma=ORDINAL_SIGMA),
    "multitask_regression": lambda enc, tok: MultitaskRegressor(enc),
    "clip_iqa": lambda enc, tok: ClipIQA(enc, tok),
    "noise_sigma": lambda enc, tok: NoiseSigmaIQA(),
}


@dataclass
class BaselineConfig:
    """Defaults are the captioner's (``TrainConfig``): same epochs, optimiser, encoder and augmentation,
    so the benchmark compares "write a caption" with "predict numbers" and nothing else."""

    epochs: int = TrainConfig.epochs
    batch_size: int = TrainConfig.batch_size
    lr: float = TrainConfig.lr
    weight_decay: float = TrainConfig.weight_decay
    seed: int = TrainConfig.seed
    widths: tuple[int, ...] = TrainConfig.widths
    stem_stride: int = TrainConfig.stem_stride
    shift_px: int = TrainConfig.shift_px
    flips: bool = TrainConfig.flips
    transposes: bool = TrainConfig.transposes
    ring_channel: bool = TrainConfig.ring_channel
    windows: tuple[str, ...] = TrainConfig.windows
    precision: str = TrainConfig.precision


def fit(model, data: CTIQAData, cfg: BaselineConfig,
        progress: Callable[[Iterable, int, str], Iterable] | None = None, name: str = "") -> dict:
    """Train one baseline; returns {'seconds', 'last_loss'}."""
    t0 = time.time()
    if isinstance(model, NoiseSigmaIQA):
        model.fit(data.images, data.scores)
        return {"seconds": round(time.time() - t0, 1), "last_loss": None}
    wrap = progress or (lambda it, total, desc: it)
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    precision = resolve_precision(cfg.precision)
    model.to(memory_format=memory_format(precision))
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = math.ceil(len(data) / cfg.batch_size)
    schedule = TrainConfig(lr=cfg.lr, warmup_steps=min(100, steps))
    scores = torch.from_numpy(data.scores)
    aspects = torch.from_numpy(data.aspects)
    mirror = mirror_ok(data.captions)
    rings = ring_maps(data.images) if cfg.ring_channel else None
    last = float("nan")
    model.train()
    for epoch in range(cfg.epochs):
        order = torch.randperm(len(data), generator=gen)
        for b in wrap(range(steps), steps, f"{name} epoch {epoch + 1}/{cfg.epochs}"):
            idx = order[b * cfg.batch_size:(b + 1) * cfg.batch_size]
            x = augment(model_input(data.images, idx, rings), cfg, gen, mirror[idx])
            x = x.contiguous(memory_format=memory_format(precision))
            for group in optimizer.param_groups:
                group["lr"] = lr_at(epoch * steps + b, cfg.epochs * steps, schedule)
            with autocast(precision):
                if isinstance(model, ClipIQA):
                    loss = model.loss(x, [data.captions[i] for i in idx.tolist()])
                else:
                    loss = model.loss(x, scores[idx], aspects[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            last = loss.item()
    model.eval()
    return {"seconds": round(time.time() - t0, 1), "last_loss": round(last, 4)}


@torch.no_grad()
def predict(model, images_uint8: np.ndarray, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(scores (N,), aspect severities (N, 6); -1 where a model has no aspect output)."""
    if isinstance(model, NoiseSigmaIQA):
        return model.predict(images_uint8), np.full((len(images_uint8), 6), -1, dtype=np.int64)
    model = fold_batchnorm(model)  # an eval copy; the captioner's inference gets the same (a fair slices/s)
    scores, aspects = [], []
    for start in range(0, len(images_uint8), batch_size):
        s, a = model.predict(to_model_input(images_uint8[start:start + batch_size]))
        scores.append(s.numpy())
        aspects.append(a.numpy())
    return np.concatenate(scores).astype(np.float64), np.concatenate(aspects).astype(np.int64)


def save_baseline(model, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(model, NoiseSigmaIQA):
        np.savez(path.with_suffix(".npz"), knots_x=model.knots_x, knots_y=model.knots_y)
    else:
        torch.save(model.state_dict(), path.with_suffix(".pt"))


def load_baseline(model, path: Path) -> bool:
    """Load saved weights into ``model`` if present; True when loaded."""
    if isinstance(model, NoiseSigmaIQA):
        f = path.with_suffix(".npz")
        if f.is_file():
            d = np.load(f)
            model.knots_x, model.knots_y = d["knots_x"], d["knots_y"]
            return True
        return False
    f = path.with_suffix(".pt")
    if f.is_file():
        model.load_state_dict(torch.load(f, weights_only=True))
        model.eval()
        return True
    return False
