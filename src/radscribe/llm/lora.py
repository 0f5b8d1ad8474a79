"""A small LoRA (low-rank adaptation) for the torch backends, written here in plain torch (no peft).

Training wraps chosen ``nn.Linear`` layers as ``W x + (alpha / r) * B A x`` with only A and B trainable.
An adapter is saved as ``adapter.safetensors`` (A and B per layer) plus ``manifest.json`` (base model,
rank, alpha, targets, training command, data, metrics, sha256). Loading *merges* ``(alpha / r) B A`` into
W, so inference costs nothing extra.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any, Iterable, Sequence

import torch
from torch import nn

from radscribe.llm.errors import LLMError

ADAPTER_FILE = "adapter.safetensors"
MANIFEST_FILE = "manifest.json"
DEFAULT_TARGETS = ("q_proj", "v_proj", "o_proj")


class LoRALinear(nn.Module):
    """``base(x) + scale * (x @ A.T @ B.T)``; B starts at zero so the wrapped layer starts unchanged."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float):
        super().__init__()
        self.base = base
        self.scale = alpha / rank
        self.lora_a = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.lora_a.T @ self.lora_b.T) * self.scale

    def delta(self) -> torch.Tensor:
        return (self.lora_b @ self.lora_a) * self.scale


def _targets(model: nn.Module, targets: Sequence[str]) -> Iterable[tuple[nn.Module, str, nn.Linear, str]]:
    for parent_name, parent in list(model.named_modules()):
        for child_name, child in list(parent.named_children()):
            if child_name in targets and isinstance(child, nn.Linear):
                yield parent, child_name, child, f"{parent_name}.{child_name}" if parent_name else child_name


def _layer_index(name: str) -> int | None:
    match = re.search(r"\blayers\.(\d+)\.", name)
    return int(match.group(1)) if match else None


def apply_lora(model: nn.Module, *, rank: int = 8, alpha: float = 16.0, targets: Sequence[str] = DEFAULT_TARGETS,
               last_layers: int | None = None) -> list[str]:
    """Freeze ``model`` and wrap every Linear named in ``targets``; returns the wrapped layer names.

    ``last_layers=k`` adapts only the last k transformer blocks: backward then stops there, which makes
    CPU training several times faster (the frozen blocks below run without building a graph).
    """
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    n_blocks = int(getattr(getattr(model, "config", None), "num_hidden_layers", 0) or 0)
    first = n_blocks - last_layers if last_layers and n_blocks else 0
    names = []
    for parent, child_name, child, full in _targets(model, targets):
        index = _layer_index(full + ".")
        if index is not None and index < first:
            continue
        setattr(parent, child_name, LoRALinear(child, rank, alpha))
        names.append(full)
    if not names:
        raise LLMError(f"no Linear layers named {', '.join(targets)} in the model")
    return names


def lora_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The trainable tensors only, keyed ``<layer>.lora_a`` / ``<layer>.lora_b``."""
    return {name: p.detach().contiguous() for name, p in model.named_parameters() if "lora_" in name}


def merge_lora(model: nn.Module) -> int:
    """Fold every LoRALinear back into a plain Linear (W += scale B A); returns how many were merged."""
    merged = 0
    for parent_name, parent in list(model.named_modules()):
        for child_name, child in list(parent.named_children()):
            if isinstance(child, LoRALinear):
                with torch.no_grad():
                    child.base.weight += child.delta()
                setattr(parent, child_name, child.base)
                merged += 1
    return merged


def save_adapter(model: nn.Module, folder: Path, manifest: dict[str, Any]) -> Path:
    """Write adapter.safetensors and manifest.json (with the adapter's sha256) into ``folder``."""
    from safetensors.torch import save_file

    from radscribe.io.writers import atomic_write_json

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(lora_state(model), str(folder / ADAPTER_FILE))
    digest = hashlib.sha256((folder / ADAPTER_FILE).read_bytes()).hexdigest()
    atomic_write_json(folder / MANIFEST_FILE, {**manifest, "files": {ADAPTER_FILE: {"sha256": digest}}})
    return folder


def load_adapter(model: nn.Module, folder: Path) -> dict[str, Any]:
    """Merge the adapter in ``folder`` into ``model`` (checked against its manifest); returns the manifest."""
    from safetensors.torch import load_file

    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text())
        data = (folder / ADAPTER_FILE).read_bytes()
    except (OSError, ValueError) as error:
        raise LLMError(f"{folder}: not a LoRA adapter folder ({error})") from None
    expected = manifest.get("files", {}).get(ADAPTER_FILE, {}).get("sha256")
    if expected and hashlib.sha256(data).hexdigest() != expected:
        raise LLMError(f"{folder / ADAPTER_FILE}: sha256 does not match the manifest; the file is damaged")
    tensors = load_file(str(folder / ADAPTER_FILE))
    modules = dict(model.named_modules())
    rank, alpha = int(manifest["rank"]), float(manifest["alpha"])
    with torch.no_grad():
        for key, lora_a in tensors.items():
            if not key.endswith(".lora_a"):
                continue
            layer = key[: -len(".lora_a")]
            target = modules.get(layer)
            lora_b = tensors.get(layer + ".lora_b")
            if not isinstance(target, nn.Linear) or lora_b is None:
                raise LLMError(f"{folder}: adapter layer {layer!r} does not fit this model")
            target.weight += (lora_b @ lora_a) * (alpha / rank)
    return manifest
