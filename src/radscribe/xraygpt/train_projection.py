"""Stages 1 and 2: train the one linear projection; the encoder and the LLM (with its LoRA) stay frozen.

* Stage 1: ``[image tokens][summary###]``, no prompt (XrayGPT's MIMIC stage).
* Stage 2: ``[image tokens]{system}###Patient: {instruction} ###Doctor: {answer}###``, instructions
  drawn from the XrayGPT-like list plus label questions answered from the CheXpert labels.
"""

from __future__ import annotations

import logging
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import torch

from radscribe.xraygpt.conversation import LABEL_QUESTIONS, Turn, build_prompt, sample_instruction_pair
from radscribe.xraygpt.data import CxrExample, load_image_batch
from radscribe.xraygpt.encoder import augment
from radscribe.xraygpt.lora import lora_parameters
from radscribe.xraygpt.model import XrayGPT
from radscribe.xraygpt.reliance import image_reliance, label_question_auc
from radscribe.xraygpt.training import Dist, Selection, init_distributed, run_loop, smoothed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProjectionTrainConfig:
    stage1_steps: int = 120
    stage2_steps: int = 120
    batch_size: int = 8
    stage1_lr: tuple[float, float] = (1e-3, 2e-4)
    stage2_lr: tuple[float, float] = (3e-4, 1e-4)
    warmup: int = 10
    max_answer_tokens: int = 64  # XrayGPT: 32 in stage 1, 160 in stage 2; our summaries are short
    p_label_question: float = 0.35
    augment: bool = True
    seed: int = 0
    # Keep the projection from the best check on validation studies, every select_every steps (0: keep the
    # last). select_on: "val_loss" (answer loss with the study's own image, lower is better), "label_questions"
    # (mean ROC AUC of the yes/no answer margin to the label questions, reliance.label_question_auc) or "image_gap"
    # (another study's image minus its own: how much the answer depends on the image). A GPU run that kept
    # its last state had memorised its training summaries (docs/xraygpt.md, third training run).
    select_every: int = 0
    select_on: str = "val_loss"
    select_examples: int = 48
    # Both off by default (the paper's recipe). train_lora: the LLM's LoRA adapters train with the projection
    # on image-conditioned answers (LLaVA-style; XrayGPT keeps the LLM frozen here); no effect on a base LLM
    # without adapters. abnormal_repeat: studies with a finding appear this many times per pass (the
    # training split is ~60% normal, and a frozen-prior LLM then writes "normal" for every image).
    train_lora: bool = False
    abnormal_repeat: int = 1
    # With finding tokens: the projection's finding columns and its bias stay at their word start, which is
    # exactly what the grounded LoRA was tuned to read (only the grid columns train). Tried because the LoRA
    # alone wrote findings from true labels at macro-F1 0.574 and run 6's trained projection at 0.444; frozen,
    # the validation macro-F1 fell (0.408 -> 0.354 at guidance 3; docs/xraygpt.md), so it is off.
    freeze_finding_words: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def train_projection(model: XrayGPT, train: Sequence[CxrExample], config: ProjectionTrainConfig, out_dir: Path,
                     *, resume: bool = True, d: Dist | None = None, device: torch.device | None = None,
                     val: Sequence[CxrExample] = ()) -> dict:
    """Run stage 1 then stage 2 on ``model.projection``; returns the metrics of both.

    The model moves to ``device`` (default: where it is); images are augmented on the CPU. With
    ``config.select_every`` and ``val``, each stage keeps its best-scoring projection (see the config).
    """
    d = d or init_distributed()
    if device is not None:
        model.to(device)
    torch.manual_seed(config.seed)
    train = with_abnormal_repeated(train, config.abnormal_repeat)
    images = load_image_batch(train, model.encoder.config.image_size)
    lora = lora_parameters(model.llm) if config.train_lora else []
    for p in lora_parameters(model.llm):
        p.requires_grad_(bool(lora))
    params = list(model.projection.parameters()) + lora
    hooks = _freeze_finding_words(model) if config.freeze_finding_words else []
    modules = {"projection": model.projection} | ({"lora": model.llm} if lora else {})  # saves trainable tensors only
    metrics = {}
    for stage, steps, lr in ((1, config.stage1_steps, config.stage1_lr), (2, config.stage2_steps, config.stage2_lr)):
        if steps <= 0:
            continue
        optimizer = torch.optim.AdamW(params, lr=lr[0], weight_decay=0.0)

        def step_fn(idx: list[int], step: int, stage: int = stage) -> torch.Tensor:
            model.train()
            gen = torch.Generator().manual_seed(config.seed * 1009 + stage * 100003 + step)
            batch_images = augment(images[idx], gen) if config.augment else images[idx]
            prompts, answers = stage_texts([train[i] for i in idx], stage, random.Random(config.seed + stage * 7 + step),
                                           config.p_label_question)
            return model.loss(model.make_batch(batch_images, prompts, answers, config.max_answer_tokens))

        result = run_loop(name=f"projection stage {stage}", steps=steps, step_fn=step_fn, params=params,
                          optimizer=optimizer, lr=lr, warmup=config.warmup, batch_size=min(config.batch_size, len(train)),
                          n_examples=len(train), seed=config.seed + stage, out_dir=out_dir / f"stage{stage}",
                          modules=modules, d=d, resume=resume, device=device,
                          selection=_selection(model, val, config))
        metrics[f"stage{stage}"] = {"steps": result.steps, "train_seconds": round(result.seconds, 1),
                                    "first_loss": round(result.losses[0], 4) if result.losses else None,
                                    "final_loss": smoothed(result.losses)}
        if result.evaluations:
            metrics[f"stage{stage}"] |= {"selected_on": config.select_on, "kept_step": result.kept_step,
                                         "evaluations": result.evaluations}
    for hook in hooks:
        hook.remove()
    for p in lora:
        p.requires_grad_(False)
    model.eval()
    return metrics


def _freeze_finding_words(model: XrayGPT) -> list:
    """Zero the gradient of the projection's finding columns and bias (AdamW without decay then leaves them)."""
    if model.visual_tokens != "grid+findings":
        raise ValueError("freeze_finding_words needs visual_tokens='grid+findings'")
    grid = model.encoder.config.token_dim

    def keep_grid_columns(grad: torch.Tensor) -> torch.Tensor:
        grad = grad.clone()
        grad[:, grid:] = 0
        return grad

    return [model.projection.weight.register_hook(keep_grid_columns),
            model.projection.bias.register_hook(torch.zeros_like)]


def is_abnormal(labels: dict[str, int]) -> bool:
    return any(v == 1 for k, v in labels.items() if k != "No Finding")


def with_abnormal_repeated(items: Sequence, repeat: int, labels_of: Callable = lambda e: e.labels) -> list:
    """``items`` with every one that has a finding ``repeat`` times (1: unchanged); ``labels_of(item)`` gives its labels."""
    if repeat < 1:
        raise ValueError(f"abnormal_repeat must be at least 1, got {repeat}")
    if repeat == 1:
        return list(items)
    return list(items) + [e for e in items if is_abnormal(labels_of(e))] * (repeat - 1)


SELECT_ON = ("val_loss", "image_gap", "label_questions")


def _selection(model: XrayGPT, val: Sequence[CxrExample], config: ProjectionTrainConfig) -> Selection | None:
    if config.select_every <= 0 or len(val) < 2:
        return None
    if config.select_on not in SELECT_ON:
        raise ValueError(f"select_on must be one of {', '.join(SELECT_ON)}, got {config.select_on!r}")

    def evaluate() -> dict:
        if config.select_on == "label_questions":  # mean ROC AUC of the yes/no margin over the label questions
            found = label_question_auc(model, list(val)[:config.select_examples], sorted(LABEL_QUESTIONS))
            return {"score": found["mean_auc"] if found["mean_auc"] is not None else 0.5, **found}
        found = image_reliance(model, val, config.max_answer_tokens, max_examples=config.select_examples)
        score = -found["val_loss_own_image"] if config.select_on == "val_loss" else found["other_minus_own"]
        return {"score": round(score, 4), **found}

    return Selection(evaluate, config.select_every)


def stage_texts(examples: Sequence[CxrExample], stage: int, rng: random.Random, p_label: float) -> tuple[list[str], list[str]]:
    """(prompts, answers): no prompt in stage 1; a sampled instruction or label question in stage 2."""
    if stage == 1:
        return ["" for _ in examples], [e.summary for e in examples]
    prompts, answers = [], []
    for e in examples:
        turn = sample_instruction_pair(e.summary, e.labels, rng, p_label)
        prompts.append(build_prompt([Turn(turn.question)]))
        answers.append(turn.answer)
    return prompts, answers
