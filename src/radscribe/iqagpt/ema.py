"""An exponential moving average of a model's weights, for validation and for the saved checkpoint.

Tried because four trainings of the same recipe differed by up to 0.9 |PLCC|+|SROCC|+|KROCC| on real
scans none of them had seen (docs/iqagpt-experiments.md, "Training variance"), in case the last epochs' weight
noise was the cause. Measured against the same run's own weights it was not (docs/iqagpt-experiments.md,
"Experiment: weight averaging"), so it is off by default; it costs one copy of a small model, updated after
each optimiser step.
"""

from __future__ import annotations

import copy

import torch


class WeightEMA:
    """``shadow = d * shadow + (1 - d) * weights`` after each step, with ``d = min(decay, (1 + n) / (10 + n))``
    so that the first steps (random weights) are forgotten quickly. Floating-point buffers (BatchNorm's
    running statistics) are averaged the same way; integer ones are copied."""

    def __init__(self, model: torch.nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must lie in (0, 1), got {decay}")
        self.decay = decay
        self.updates = 0
        self.shadow = copy.deepcopy(model).eval()
        for p in self.shadow.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        live = model.state_dict()
        seen: set[int] = set()
        for name, value in self.shadow.state_dict().items():
            if value.data_ptr() in seen:  # a tied weight (the decoder's output layer is its embedding): once
                continue
            seen.add(value.data_ptr())
            if value.dtype.is_floating_point:
                value.mul_(d).add_(live[name].detach(), alpha=1 - d)
            else:
                value.copy_(live[name])

    def state_dict(self) -> dict:
        return {"decay": self.decay, "updates": self.updates, "shadow": self.shadow.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.decay, self.updates = state["decay"], state["updates"]
        self.shadow.load_state_dict(state["shadow"])
