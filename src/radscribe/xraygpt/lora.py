"""A small LoRA of our own: low-rank adapters on chosen nn.Linear layers of a frozen model.

``W x + (alpha / r) * B A x`` with ``B`` starting at zero, so an adapted model starts exactly equal to the
base model. Only the adapter tensors are saved (a few MB), never the base weights.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class LoRAConfig:
    rank: int = 8
    alpha: float = 16.0
    targets: tuple[str, ...] = ("q_proj", "v_proj")  # attribute names of the Linear layers to adapt

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "LoRAConfig":
        return cls(**{**data, "targets": tuple(data["targets"])})


class LoRALinear(nn.Module):
    """Wraps a frozen Linear and adds the trainable low-rank update."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float):
        super().__init__()
        self.base = base
        device = base.weight.device  # adapters live beside the layer they adapt (CPU or GPU)
        self.lora_a = nn.Parameter(torch.empty(rank, base.in_features, device=device))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank, device=device))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
        self.scale = alpha / rank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.lora_a.T @ self.lora_b.T) * self.scale


def add_lora(model: nn.Module, config: LoRAConfig) -> list[str]:
    """Replace every Linear named in ``config.targets`` by a LoRALinear; returns the adapted module names."""
    adapted = []
    for name, module in list(model.named_modules()):
        for attr in config.targets:
            child = getattr(module, attr, None)
            if isinstance(child, nn.Linear):
                setattr(module, attr, LoRALinear(child, config.rank, config.alpha))
                adapted.append(f"{name}.{attr}")
    return adapted


def lora_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """Only the adapter tensors (``...lora_a`` / ``...lora_b``)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items() if k.endswith(("lora_a", "lora_b"))}


def lora_parameters(model: nn.Module) -> list[nn.Parameter]:
    return [p for n, p in model.named_parameters() if n.endswith(("lora_a", "lora_b"))]
