"""Train the captioner: a loop you can read top to bottom.

Resumable: after every epoch ``OUT/train_state.pt`` holds model, optimiser, epoch and RNG state;
running the same command again continues from there. The best epoch (by validation loss) is
written as a self-describing checkpoint folder (``radscribe.iqagpt.checkpoint``).
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch

from radscribe.errors import ConfigError
from radscribe.iqagpt.checkpoint import save_captioner
from radscribe.iqagpt.data import CTIQAData, canonical_captions, load_splits
from radscribe.iqagpt.ema import WeightEMA
from radscribe.iqagpt.models.captioner import Captioner, CaptionerConfig
from radscribe.iqagpt.models.encoder import EncoderConfig
from radscribe.iqagpt.models.ring import NEUTRAL as RING_NEUTRAL
from radscribe.iqagpt.models.ring import ring_maps
from radscribe.iqagpt.precision import autocast, memory_format, resolve_precision
from radscribe.iqagpt.preprocess import AIR_HU, WINDOWS, preprocess_uint8, split_channel, to_model_input
from radscribe.iqagpt.score import gaussian_rows, score_number_tokens
from radscribe.iqagpt.tokenizer import WordTokenizer

log = logging.getLogger(__name__)
STATE = "train_state.pt"


@dataclass
class TrainConfig:
    epochs: int = 20
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 0.05
    warmup_steps: int = 100
    grad_clip: float = 1.0
    seed: int = 0
    threads: int = 2
    widths: tuple[int, ...] = (16, 32, 64, 128)
    stem_stride: int = 2  # 2: the first conv sees 3x3 pixel neighbourhoods at full resolution (noise texture, thin streaks)
    n_layers: int = 2
    n_heads: int = 4
    max_len: int = 72
    shift_px: int = 8  # random translation (air-padded): quality does not depend on where the body sits
    flips: bool = True  # random up-down and left-right flips (left-right only where the caption names no side)
    # random transposes (with the flips: every 90-degree turn): a captioner trained without them read 5 of 8 clean
    # phantoms turned 90 degrees as degraded (benchmarks/ctiqa_clean_scans.py anatomy); only where the caption
    # names no side
    transposes: bool = False
    ring_channel: bool = False  # the fixed ring map as one more input channel (models/ring.py)
    windows: tuple[str, ...] = WINDOWS  # display windows, one input channel each (iqagpt/preprocess.py)
    limit: int | None = None  # use only the first N training records (quick experiments)
    aux_weight: float = 1.0  # auxiliary score/aspect heads on the image encoder (see CaptionerConfig)
    caption_seed: int | None = 0  # re-describe annotations with this template seed (one wording); None = stored captions
    # validate and save an exponential moving average of the weights (iqagpt/ema.py); None = the weights as trained
    ema_decay: float | None = None
    # bf16 autocast where the CPU has it natively (about 1.9x faster steps with channels-last memory,
    # iqagpt/precision.py); resolved and recorded in the manifest, "fp32" reproduces checkpoints made before it
    precision: str = "auto"
    # > 0: the score-number word is learnt against a Gaussian over neighbouring values (this SD, score units)
    # instead of one-hot, so the decoder's score distribution is ordinal; None = plain cross-entropy
    score_sigma: float | None = None
    # > 0: the encoder's auxiliary aspect head weighs each severity by (the aspect's commonest count / its count)
    # to this power, so a rare mild artefact shapes the image features as much as the many "none"; the caption
    # decoder still learns the data's own frequencies. None = plain cross-entropy
    aspect_balance: float | None = None


#: Named configs: ``small`` is the shipped checkpoint's; ``tiny`` runs in seconds (tests, smoke checks).
CONFIGS: dict[str, TrainConfig] = {
    # 22 epochs fit the 30-minute budget on 2 cores only under bf16 (26-28 min; float32, 105 s an epoch: ~39);
    # the ordinal score target (score_sigma) lifted the synthetic split in both seeds tried; the metal window
    # (an implant brighter than bone) fixed most missed metal; the pixel size (mm:*) fixed small fields read as blurred
    # (docs/iqagpt-experiments.md). Every training slice needs its spacing: make-ctiqa records it, importers
    # take --pixel-spacing.
    "small": TrainConfig(epochs=22, transposes=True, ring_channel=True, score_sigma=0.3,
                         windows=("ldct", "lung", "metal", "mm:input", "mm:native")),
    "tiny": TrainConfig(epochs=2, batch_size=8, widths=(8, 16, 16), stem_stride=4, n_layers=1, n_heads=2, warmup_steps=2),
}


def get_config(name: str, **overrides) -> TrainConfig:
    if name not in CONFIGS:
        raise ConfigError(f"unknown training config {name!r}; choose one of {', '.join(CONFIGS)}")
    return replace(CONFIGS[name], **{k: v for k, v in overrides.items() if v is not None})


def score_soft_targets(tokenizer: WordTokenizer, sigma: float | None) -> torch.Tensor | None:
    """(V, V) next-word targets: identity, except score numbers spread as N(value, sigma) over the score words."""
    if not sigma:
        return None
    ids, values = score_number_tokens(tokenizer)
    targets = torch.eye(len(tokenizer))
    if ids:
        index = torch.tensor(ids)
        targets[index[:, None], index[None, :]] = gaussian_rows(values, values, sigma)
    return targets


def aspect_class_weights(aspects: np.ndarray, power: float | None) -> torch.Tensor | None:
    """(n_aspects, 4) cross-entropy weights for the auxiliary aspect head from the training labels (-1 = unknown)."""
    if not power:
        return None
    counts = np.stack([np.bincount(column[column >= 0], minlength=4) for column in aspects.T]).astype(np.float64)
    weights = (counts.max(1, keepdims=True) / np.maximum(counts, 1.0)) ** power
    return torch.tensor(weights, dtype=torch.float32)


def encode_captions(tokenizer: WordTokenizer, captions: list[str], max_len: int) -> torch.Tensor:
    ids = [tokenizer.encode(c, max_len) for c in captions]
    out = torch.full((len(ids), max(len(i) for i in ids)), tokenizer.pad_id, dtype=torch.long)
    for row, seq in enumerate(ids):
        out[row, : len(seq)] = torch.tensor(seq)
    return out


def random_shift(images: torch.Tensor, max_px: int, gen: torch.Generator,
                 windows: tuple[str, ...] = WINDOWS) -> torch.Tensor:
    """Translate each image by up to ``max_px`` pixels; uncovered pixels become air (its value in each window)."""
    if max_px <= 0:
        return images
    out = air_like(images, windows)
    n = images.shape[-1]
    for i, (dy, dx) in enumerate(torch.randint(-max_px, max_px + 1, (images.shape[0], 2), generator=gen).tolist()):
        ys, yd = (slice(0, n - dy), slice(dy, n)) if dy >= 0 else (slice(-dy, n), slice(0, n + dy))
        xs, xd = (slice(0, n - dx), slice(dx, n)) if dx >= 0 else (slice(-dx, n), slice(0, n + dx))
        out[i, :, yd, xd] = images[i, :, ys, xs]
    return out


SIDE_WORDS = re.compile(r"\b(left|right)\b", re.IGNORECASE)


def mirror_ok(captions: list[str]) -> torch.Tensor:
    """Per caption: may its image be mirrored left-right? Not when the text names a side ("left hip")."""
    return torch.tensor([SIDE_WORDS.search(c) is None for c in captions], dtype=torch.bool)


@lru_cache(maxsize=8)
def _air_values(windows: tuple[str, ...]) -> torch.Tensor:
    """Air in each window channel, [0, 1] (cached: asked for every training batch)."""
    air_hu = np.full((1, 1), AIR_HU, np.float32)
    return torch.from_numpy(preprocess_uint8(air_hu, size=1, windows=windows, spacing_mm=1.0)[:, 0, 0]).float() / 255.0


def air_like(images: torch.Tensor, windows: tuple[str, ...] = WINDOWS) -> torch.Tensor:
    """A batch shaped like ``images`` filled with air as the model sees it in each window channel (a pixel-size
    channel keeps each image's own constant: shifting the body does not change the pixel size)."""
    air = _air_values(tuple(windows))
    extra = images.shape[1] - len(air)  # the ring map's channel: no ring
    air = torch.cat([air, torch.full((max(extra, 0),), RING_NEUTRAL)])
    out = air.to(images.dtype)[None, :, None, None].expand_as(images).clone()
    for c, spec in enumerate(windows):
        if split_channel(spec)[1] == "mm":
            out[:, c] = images[:, c, :1, :1]
    return out


def augment(images: torch.Tensor, cfg, gen: torch.Generator, mirror: torch.Tensor | None = None) -> torch.Tensor:
    """Training-time augmentation shared by the captioner and the baselines: shift, flips, transposes.

    Image quality does not depend on where the body sits or which way up it lies; flips and transposes
    multiply the views of each slice without changing any label (a side-naming caption is never
    mirrored or turned).
    """
    images = random_shift(images, cfg.shift_px, gen, tuple(cfg.windows))
    if not cfg.flips:
        return images
    if cfg.shift_px <= 0:
        images = images.clone()  # random_shift returned the caller's batch; the flips below work in place
    transposes = cfg.transposes
    coin = torch.rand(images.shape[0], 3 if transposes else 2, generator=gen) < 0.5
    # in place on the chosen rows only (random_shift made a new batch): 3x faster than torch.where over all
    images[coin[:, 0]] = images[coin[:, 0]].flip(-2)
    left_right = coin[:, 1] if mirror is None else coin[:, 1] & mirror
    images[left_right] = images[left_right].flip(-1)
    if transposes:
        turn = coin[:, 2] if mirror is None else coin[:, 2] & mirror
        images[turn] = images[turn].transpose(-2, -1)
    return images


def model_input(images_uint8: np.ndarray, idx: torch.Tensor, rings: torch.Tensor | None) -> torch.Tensor:
    """A training batch before augmentation, with its ring maps when the encoder takes them: added before
    the shift, because rings are circles about the image centre and must move with the image."""
    x = to_model_input(images_uint8[idx.numpy()])
    return x if rings is None else torch.cat([x, rings[idx]], dim=1)


def lr_at(step: int, total: int, cfg: TrainConfig) -> float:
    """Linear warm-up (at most a tenth of the run), then cosine decay to 5% of the peak."""
    warmup = max(1, min(cfg.warmup_steps, total // 10))
    if step < warmup:
        return cfg.lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


@torch.no_grad()
def caption_loss(model: Captioner, data: CTIQAData, tokens: torch.Tensor, batch_size: int = 64) -> float:
    model.eval()
    total, n = 0.0, 0
    for start in range(0, len(data), batch_size):
        x = to_model_input(data.images[start:start + batch_size])
        t = tokens[start:start + batch_size]
        total += float(model.loss(x, t)) * len(t)
        n += len(t)
    return total / max(1, n)


def train_captioner(data_dir: str | Path, out_dir: str | Path, cfg: TrainConfig, *, command: str = "",
                    progress: Callable[[Iterable, int, str], Iterable] | None = None) -> dict:
    """Train on ``split == "train"``, select on ``"val"``; returns a summary (also in the manifest)."""
    torch.set_num_threads(cfg.threads)
    cfg = replace(cfg, precision=resolve_precision(cfg.precision))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    wrap = progress or (lambda it, total, desc: it)
    started = time.time()
    windows = tuple(cfg.windows)
    train = load_splits(data_dir, ["train"], limit=cfg.limit, windows=windows,
                        progress=lambda it: wrap(it, len(it), "preprocessing train"))
    val = load_splits(data_dir, ["val"], windows=windows, progress=lambda it: wrap(it, len(it), "preprocessing val"))
    if cfg.caption_seed is not None:
        for split in (train, val):
            canonical_captions(split, cfg.caption_seed)
    tokenizer = WordTokenizer.build(train.captions)
    encoder = EncoderConfig(widths=tuple(cfg.widths), stem_stride=cfg.stem_stride, ring_channel=cfg.ring_channel,
                            windows=windows)
    model_cfg = CaptionerConfig(vocab_size=len(tokenizer), encoder=encoder,
                                n_layers=cfg.n_layers, n_heads=cfg.n_heads, max_len=cfg.max_len, aux_weight=cfg.aux_weight)
    torch.manual_seed(cfg.seed)
    model = Captioner(model_cfg).to(memory_format=memory_format(cfg.precision))
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    ema = WeightEMA(model, cfg.ema_decay) if cfg.ema_decay else None
    train_tokens = encode_captions(tokenizer, train.captions, cfg.max_len)
    soft_targets = score_soft_targets(tokenizer, cfg.score_sigma)
    aspect_weights = aspect_class_weights(train.aspects, cfg.aspect_balance)
    val_tokens = encode_captions(tokenizer, val.captions, cfg.max_len)
    train_scores, train_aspects = torch.from_numpy(train.scores), torch.from_numpy(train.aspects)
    train_mirror = mirror_ok(train.captions)
    steps_per_epoch = math.ceil(len(train) / cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    gen = torch.Generator().manual_seed(cfg.seed)
    rings = ring_maps(train.images) if cfg.ring_channel else None
    history: list[dict] = []
    epoch0, best = 0, float("inf")

    state_file = out / STATE
    if state_file.is_file():
        state = torch.load(state_file, weights_only=False)
        if (state["model_config"] != model_cfg.to_dict() or state["tokenizer"] != tokenizer.words
                or (ema is not None) != ("ema" in state) or state.get("precision", "fp32") != cfg.precision):
            raise ConfigError(f"{state_file}: made with another config or data; use a new --out or delete it")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        gen.set_state(state["generator"])
        if "torch_rng" in state:  # dropout draws from the global generator; without it a resumed run drifts
            torch.set_rng_state(state["torch_rng"])
        if ema is not None:
            ema.load_state_dict(state["ema"])
        epoch0, best, history = state["epoch"], state["best"], state["history"]
        log.info("resuming at epoch %d", epoch0 + 1)

    for epoch in range(epoch0, cfg.epochs):
        model.train()
        order = torch.randperm(len(train), generator=gen)
        running, seen = 0.0, 0
        t0 = time.time()
        batches = range(steps_per_epoch)
        for b in wrap(batches, steps_per_epoch, f"epoch {epoch + 1}/{cfg.epochs}"):
            idx = order[b * cfg.batch_size:(b + 1) * cfg.batch_size]
            x = augment(model_input(train.images, idx, rings), cfg, gen, train_mirror[idx])
            x = x.contiguous(memory_format=memory_format(cfg.precision))
            step = epoch * steps_per_epoch + b
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step, total_steps, cfg)
            with autocast(cfg.precision):
                loss = model.loss(x, train_tokens[idx], scores=train_scores[idx], aspects=train_aspects[idx],
                                  soft_targets=soft_targets, aspect_weights=aspect_weights)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()
            if ema is not None:
                ema.update(model)
            running += loss.item() * len(idx)
            seen += len(idx)
        kept = ema.shadow if ema is not None else model  # the weights validated and saved
        val_loss = caption_loss(kept, val, val_tokens)
        record = {"epoch": epoch + 1, "train_loss": round(running / seen, 4), "val_loss": round(val_loss, 4),
                  "seconds": round(time.time() - t0, 1)}
        if ema is not None:  # what averaging bought, epoch by epoch
            record["val_loss_live_weights"] = round(caption_loss(model, val, val_tokens), 4)
        history.append(record)
        log.info("epoch %s", record)
        if val_loss < best:
            best = val_loss
            save_captioner(out, kept, tokenizer, manifest={"status": "training", "best_epoch": epoch + 1})
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "generator": gen.get_state(),
                    "torch_rng": torch.get_rng_state(),
                    "epoch": epoch + 1, "best": best, "precision": cfg.precision, "history": history, "model_config": model_cfg.to_dict(),
                    "tokenizer": tokenizer.words, **({"ema": ema.state_dict()} if ema is not None else {})}, state_file)

    summary = {
        "name": "ctiqa-captioner",
        "status": "trained",
        "command": command,
        "train_config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(cfg).items()},
        "data": _data_summary(data_dir, train, val),
        "history": history,
        "best_val_loss": round(best, 4),
        "train_seconds_this_run": round(time.time() - started, 1),
        "threads": cfg.threads,
    }
    from radscribe.iqagpt.checkpoint import update_manifest  # manifest already has the weights' sha256

    update_manifest(out, **summary)
    return summary


def _data_summary(data_dir, train: CTIQAData, val: CTIQAData) -> dict:
    protocols = sorted({str(r.get("protocol_version")) for r in train.records})
    return {"dir": str(data_dir), "n_train": len(train), "n_val": len(val), "protocol_versions": protocols,
            "synthetic": train.synthetic, "score_mean_train": round(float(np.mean(train.scores)), 3)}
