"""Run a Hugging Face causal LM in torch on the CPU: the ``embedded`` and ``local`` backends.

Our own decode loop (not ``model.generate``) so that streaming, stop strings, seeded sampling and the
no-KV-cache baseline of the benchmark share one code path. The prompt is built with the tokenizer's
own chat template.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import Generator, Iterator, Mapping, Sequence

import torch

from radscribe.llm.base import ChatModel, Completion, GenerationParams, TextStream
from radscribe.llm.errors import LLMError, LLMRequestError
from radscribe.llm.messages import text_only, validate_messages
from radscribe.llm.sampling import IncrementalText, pick_next_token

log = logging.getLogger(__name__)


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """No 'Loading weights' progress bar for a sub-second load; restore the user's setting after."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def load_hf_folder(folder: Path, threads: int, *, own_cache: bool = False):
    """Model (eval mode, float32) and tokenizer from a folder with config.json, safetensors and tokenizer files.

    ``own_cache=True`` (folders radscribe wrote itself) takes a fast path: about 0.1 s instead of ~1 s,
    most of which ``from_pretrained`` spends compiling its checkpoint-renaming rules for every architecture.
    """
    if not (folder / "config.json").is_file():
        raise LLMError(f"{folder}: not a Hugging Face model folder (no config.json); give a folder or a .gguf file")
    torch.set_num_threads(threads)  # process-wide: torch has no per-model thread pool
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        with _quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
            model = _load_own_safetensors(folder) if own_cache else None
            if model is None:
                model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, local_files_only=True)
    except (OSError, ValueError, KeyError) as error:
        raise LLMError(f"{folder}: cannot load the model: {error}") from None
    if tokenizer.chat_template is None:
        raise LLMError(f"{folder}: the tokenizer has no chat template; use an instruction-tuned model")
    return model.eval(), tokenizer


def _load_own_safetensors(folder: Path):
    """Build the architecture without random init and assign the saved tensors; None if anything differs."""
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModelForCausalLM
    from transformers.initialization import no_init_weights

    weights = folder / "model.safetensors"
    if not weights.is_file():
        return None
    config = AutoConfig.from_pretrained(folder, local_files_only=True)
    with no_init_weights():
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(load_file(weights), strict=False, assign=True)
    tied = {"lm_head.weight"} if getattr(config, "tie_word_embeddings", False) else set()
    if unexpected or not set(missing) <= tied:
        log.info("%s: fast load does not match the architecture; using from_pretrained", folder)
        return None
    model.tie_weights()
    return model


class TorchChatModel(ChatModel):
    """A causal LM with a chat template, decoded token by token with a KV cache.

    ``kv_cache=False`` recomputes the whole prefix at every step: only the benchmark's baseline uses it.
    ``decoder`` (an :class:`~radscribe.llm.int8_decode.Int8Decoder`) takes over after the prompt is prefilled.
    """

    def __init__(self, model, tokenizer, *, name: str, backend: str, kv_cache: bool = True, decoder=None):
        self.model = model
        self.decoder = decoder
        self.tokenizer = tokenizer
        self.name = name
        self.backend = backend
        self.kv_cache = kv_cache
        self.context_length = int(getattr(model.config, "max_position_embeddings", 2048))
        self._eos_ids = self._end_token_ids()

    def _end_token_ids(self) -> set[int]:
        ids = self.model.generation_config.eos_token_id
        ids = set(ids if isinstance(ids, list) else [ids] if ids is not None else [])
        if self.tokenizer.eos_token_id is not None:
            ids.add(self.tokenizer.eos_token_id)
        return ids

    def encode_chat(self, messages: Sequence[Mapping]) -> list[int]:
        """Token ids of the conversation rendered by the chat template, ending where the assistant answers."""
        flat = text_only(validate_messages(messages), self.name)
        ids = self.tokenizer.apply_chat_template(flat, add_generation_prompt=True, tokenize=True, return_dict=True)
        return list(ids["input_ids"])

    def decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)

    def stream(self, messages: Sequence[Mapping], *, max_new_tokens: int = 256, temperature: float = 0.0,
               top_p: float = 1.0, seed: int | None = None, stop: str | Sequence[str] | None = None) -> TextStream:
        params = GenerationParams.build(max_new_tokens=max_new_tokens, temperature=temperature,
                                        top_p=top_p, seed=seed, stop=stop)
        started = time.perf_counter()
        prompt_ids = self.encode_chat(messages)  # validation errors raise here, before any streaming
        self._check_context(len(prompt_ids), params)
        return TextStream(self._pieces(prompt_ids, params, started))

    def _pieces(self, prompt_ids: list[int], params: GenerationParams, started: float) -> Generator[str, None, Completion]:
        text = IncrementalText(self.decode, params.stop)
        n_new, ttft, finish = 0, None, "length"
        for token_id in self.iter_token_ids(prompt_ids, params):
            if ttft is None:
                ttft = time.perf_counter() - started
            if token_id in self._eos_ids:
                finish = "stop"
                break
            n_new += 1
            piece = text.push(token_id)
            if piece:
                yield piece
            if text.stopped:
                finish = "stop"
                break
        tail = text.flush()
        if tail:
            yield tail
        return Completion(text=text.text, finish_reason=finish, model=self.name, backend=self.backend,
                          prompt_tokens=len(prompt_ids), completion_tokens=n_new,
                          ttft_s=ttft, total_s=time.perf_counter() - started)

    def _check_context(self, n_prompt: int, params: GenerationParams) -> None:
        if n_prompt + params.max_new_tokens > self.context_length:
            raise LLMRequestError(
                f"the prompt is {n_prompt} tokens; with max_new_tokens={params.max_new_tokens} it exceeds "
                f"{self.name}'s context of {self.context_length} tokens"
            )

    def iter_token_ids(self, prompt_ids: list[int], params: GenerationParams) -> Iterator[int]:
        """New token ids up to ``params.max_new_tokens`` (end tokens included: the caller decides to stop)."""
        self._check_context(len(prompt_ids), params)
        generator = None
        if params.temperature > 0:
            generator = torch.Generator().manual_seed(params.seed if params.seed is not None else torch.seed())
        ids = torch.tensor([prompt_ids], dtype=torch.long)
        if self.decoder is not None and self.kv_cache:
            yield from self._prefill_then_int8(ids, params, generator)
            return
        past = None
        with torch.inference_mode():
            for _ in range(params.max_new_tokens):
                step_input = ids if past is None or not self.kv_cache else ids[:, -1:]
                out = self.model(input_ids=step_input, cache=past, use_cache=self.kv_cache, logits_to_keep=1)
                past = out.cache if self.kv_cache else None
                token_id = pick_next_token(out.logits[0, -1], params.temperature, params.top_p, generator)
                yield token_id
                ids = torch.cat([ids, ids.new_tensor([[token_id]])], dim=1)

    def _prefill_then_int8(self, ids: torch.Tensor, params: GenerationParams, generator) -> Iterator[int]:
        """Prompt through the float model, then one int8 step per new token (see radscribe.llm.int8_decode)."""
        with torch.inference_mode():
            out = self.model(input_ids=ids, use_cache=True, logits_to_keep=1)
            logits = out.logits[0, -1].float()
            state = self.decoder.start(out.cache, ids.shape[1], params.max_new_tokens)
            del out
            for step in range(params.max_new_tokens):
                token_id = pick_next_token(logits, params.temperature, params.top_p, generator)
                yield token_id
                if step + 1 < params.max_new_tokens:
                    logits = self.decoder.step(token_id, state)
