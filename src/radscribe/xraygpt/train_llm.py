"""Radiology-tune the LLM: LoRA on SmolLM2 over real report summaries in the chat format (no image).

XrayGPT fine-tuned Vicuna on medical and radiology conversations before training its linear layer;
this is the small-scale counterpart: ``###Patient: {instruction} ###Doctor: {summary}###`` with the
loss on the summary. Only summaries of training-split reports are used (test reports never leak in).

Grounded tuning (with finding tokens, ``finding_prefix``): each summary is preceded by the 14 finding tokens
made from its own report's labels, in the projection stages' two forms (no prompt; an instruction or a label
question). Tuned on plain summaries, SmolLM2 wrote a normal report even when told the findings; tuned
this way its answers depend on the tokens before any image is involved, though greedy decoding still needs
image guidance to write the findings out (measured in docs/xraygpt.md).
"""

from __future__ import annotations

import logging
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Sequence

import torch

from radscribe.xraygpt.conversation import SUMMARY_INSTRUCTIONS, Turn, build_prompt
from radscribe.xraygpt.lora import LoRAConfig, add_lora, lora_parameters
from radscribe.xraygpt.model import build_batch, lm_loss
from radscribe.xraygpt.training import Dist, init_distributed, run_loop, smoothed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LLMTuneConfig:
    lora: LoRAConfig = field(default_factory=LoRAConfig)
    steps: int = 150
    batch_size: int = 8
    lr: float = 1e-3
    final_lr: float = 1e-4
    warmup: int = 10
    max_answer_tokens: int = 64
    seed: int = 0
    # grounded tuning only: summaries with a finding appear this many times per pass. About 38% of IU-Xray
    # summaries have one; with 1, SmolLM2 learned to write the normal report whatever the finding tokens said.
    abnormal_repeat: int = 1
    # grounded tuning only: a summary is shown at least ceil(finding_balance / n) times per pass (at most 10), n the
    # number of tuning summaries with its rarest finding; 0 = off. Tried because effusion (88 of 2,691) and
    # atelectasis (139) were almost never written even from true-label tokens; run 6's LoRA resumed 400 steps at
    # 500 fell from 0.408 to 0.298 validation macro-F1 (it wrote rare sentences into normal reports), so it is off.
    finding_balance: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def text_only_prompt(rng: random.Random) -> str:
    return build_prompt([Turn(rng.choice(SUMMARY_INSTRUCTIONS))])


def tune_llm(llm, tokenizer, summaries: Sequence[str], config: LLMTuneConfig, out_dir: Path, *,
             resume: bool = True, d: Dist | None = None, device: torch.device | None = None,
             labels: Sequence[dict[str, int]] | None = None,
             finding_prefix: Callable[[torch.Tensor], torch.Tensor] | None = None) -> dict:
    """Add LoRA adapters to ``llm`` in place (on its device) and train them; returns metrics.

    With ``finding_prefix`` ((B, 14) probabilities -> (B, 14, hidden) tokens) and each summary's ``labels``,
    the tuning is grounded (module docstring).
    """
    from radscribe.xraygpt.finding_tokens import label_probabilities
    from radscribe.xraygpt.train_projection import stage_texts, with_abnormal_repeated

    if finding_prefix is not None and (labels is None or len(labels) != len(summaries)):
        raise ValueError("grounded tuning needs one label dict per summary")
    if (config.abnormal_repeat != 1 or config.finding_balance) and finding_prefix is None:
        raise ValueError("abnormal_repeat and finding_balance need grounded tuning (labels and finding tokens)")
    d = d or init_distributed()
    torch.manual_seed(config.seed)
    add_lora(llm, config.lora)
    params = lora_parameters(llm)
    for p in params:
        p.requires_grad_(True)
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.0)
    order = with_abnormal_repeated(range(len(summaries)), config.abnormal_repeat, lambda i: labels[i])
    if config.finding_balance:
        order = with_rare_findings_repeated(order, labels, config.finding_balance)
    texts = [summaries[i] for i in order]
    labels = [labels[i] for i in order] if labels is not None else None

    def step_fn(idx: list[int], step: int) -> torch.Tensor:
        llm.train()
        rng = random.Random(config.seed * 7919 + step)
        if finding_prefix is None:
            prompts, answers, prefix = [text_only_prompt(rng) for _ in idx], [texts[i] for i in idx], None
        else:  # the projection stages' forms, alternating: no prompt / instruction or label question
            chosen = [SimpleNamespace(summary=texts[i], labels=labels[i]) for i in idx]
            prompts, answers = stage_texts(chosen, 1 + step % 2, rng, p_label=0.5)
            gen = torch.Generator().manual_seed(config.seed * 7919 + step)
            with torch.no_grad():
                prefix = finding_prefix(label_probabilities([c.labels for c in chosen], gen))
        batch = build_batch(llm, tokenizer, prefix, prompts, answers, config.max_answer_tokens)
        return lm_loss(llm, batch)

    result = run_loop(name="llm-lora", steps=config.steps, step_fn=step_fn, params=params, optimizer=optimizer,
                      lr=(config.lr, config.final_lr), warmup=config.warmup, batch_size=min(config.batch_size, len(texts)),
                      n_examples=len(texts), seed=config.seed, out_dir=out_dir, modules={"llm": _LoRAView(llm)},
                      d=d, resume=resume, device=device)
    llm.eval()
    return {"steps": result.steps, "train_seconds": round(result.seconds, 1), "n_texts": len(summaries),
            "n_per_pass": len(texts),
            "first_loss": round(result.losses[0], 4) if result.losses else None, "final_loss": smoothed(result.losses),
            "trainable_parameters": sum(p.numel() for p in params), "grounded": finding_prefix is not None}


def with_rare_findings_repeated(order: list[int], labels: Sequence[dict[str, int]], balance: int,
                                most: int = 10) -> list[int]:
    """``order`` (indices into ``labels``, possibly repeated) with each index shown ``ceil(balance / n)`` times in all
    when that is more (capped at ``most``), n the number of labels with its rarest positive finding."""
    from radscribe.cxr.labeler import NO_FINDING

    counts: dict[str, int] = {}
    for row in labels:
        for name, value in row.items():
            if value == 1 and name != NO_FINDING:
                counts[name] = counts.get(name, 0) + 1
    shown: dict[int, int] = {}
    for i in order:
        shown[i] = shown.get(i, 0) + 1
    extra = []
    for i, times in shown.items():
        rarest = min((counts[n] for n, v in labels[i].items() if v == 1 and n != NO_FINDING), default=0)
        if rarest:
            extra += [i] * max(0, min(most, -(-balance // rarest)) - times)
    return list(order) + extra


class _LoRAView(torch.nn.Module):
    """Saves and restores only the LoRA tensors of the wrapped LLM (the base weights are never written)."""

    def __init__(self, llm):
        super().__init__()
        self.__dict__["llm"] = llm  # not a submodule: state_dict() below decides what is saved

    def state_dict(self, *args, **kwargs):
        from radscribe.xraygpt.lora import lora_state_dict

        return lora_state_dict(self.llm)

    def load_state_dict(self, state, strict: bool = False, assign: bool = False):
        return self.llm.load_state_dict(state, strict=False)

    def named_parameters(self, *args, **kwargs):
        return ((n, p) for n, p in self.llm.named_parameters() if n.endswith(("lora_a", "lora_b")))


@torch.no_grad()
def answer_perplexity(llm, tokenizer, summaries: Sequence[str], seed: int = 0, batch_size: int = 8,
                      max_answer_tokens: int = 64) -> float:
    """Perplexity of held-out summaries after a summary instruction (text only): frozen vs LoRA comparison."""
    rng = random.Random(seed)
    total, count = 0.0, 0
    for start in range(0, len(summaries), batch_size):
        chunk = list(summaries[start:start + batch_size])
        batch = build_batch(llm, tokenizer, None, [text_only_prompt(rng) for _ in chunk], chunk, max_answer_tokens)
        n = int((batch.labels[:, 1:] != -100).sum())
        total += float(lm_loss(llm, batch)) * n
        count += n
    return round(float(torch.tensor(total / max(count, 1)).exp()), 3)
