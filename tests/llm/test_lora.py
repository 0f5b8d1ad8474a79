"""The hand-written LoRA: wrapping starts as identity, merging keeps outputs, an adapter round-trips and is checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import radscribe
from radscribe.llm import LLMConfig, load_chat_model
from radscribe.llm.errors import LLMError
from radscribe.llm.lora import LoRALinear, apply_lora, load_adapter, merge_lora, save_adapter


def _fresh_model():
    return load_chat_model(LLMConfig(backend="embedded", threads=1, quantize="none"))  # float32: exact comparisons


def _logits(model, ids):
    with torch.inference_mode():
        return model(input_ids=ids).logits


def test_lora_starts_as_identity_and_merge_keeps_outputs(tmp_path):
    chat = _fresh_model()
    ids = torch.tensor([chat.encode_chat([{"role": "user", "content": "Noise is mild."}])])
    before = _logits(chat.model, ids)
    names = apply_lora(chat.model, rank=4, alpha=8.0)
    assert len(names) == 3 * chat.model.config.num_hidden_layers
    assert torch.allclose(_logits(chat.model, ids), before, atol=1e-5)  # B = 0 at start
    torch.manual_seed(0)
    for module in chat.model.modules():
        if isinstance(module, LoRALinear):
            module.lora_b.data.normal_(0, 0.02)
    wrapped = _logits(chat.model, ids)
    assert (wrapped - before).abs().max() > 1e-2  # the adapter changes the model
    save_adapter(chat.model, tmp_path / "adapter", {"rank": 4, "alpha": 8.0})
    assert merge_lora(chat.model) == len(names)
    assert torch.allclose(_logits(chat.model, ids), wrapped, atol=1e-3)

    # A fresh load with the adapter from config gives the same model, and says so in its name.
    adapted = load_chat_model(LLMConfig(backend="embedded", threads=1, quantize="none", adapter=str(tmp_path / "adapter")))
    assert adapted.name.endswith("+adapter")
    assert torch.allclose(_logits(adapted.model, ids), wrapped, atol=1e-3)
    # Loading the adapter must not have changed the cached base weights on disk.
    assert torch.allclose(_logits(_fresh_model().model, ids), before, atol=1e-5)


def test_damaged_adapter_is_refused(tmp_path):
    chat = _fresh_model()
    apply_lora(chat.model, rank=2, alpha=2.0)
    folder = save_adapter(chat.model, tmp_path / "a", {"rank": 2, "alpha": 2.0})
    manifest = json.loads((folder / "manifest.json").read_text())
    assert len(manifest["files"]["adapter.safetensors"]["sha256"]) == 64
    data = bytearray((folder / "adapter.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (folder / "adapter.safetensors").write_bytes(bytes(data))
    with pytest.raises(LLMError, match="sha256 does not match"):
        load_adapter(_fresh_model().model, folder)
    with pytest.raises(LLMError, match="not a LoRA adapter folder"):
        load_adapter(_fresh_model().model, tmp_path / "missing")


def test_training_pairs_mask_the_prompt_and_train_only_the_adapter():
    import random

    from radscribe.llm.lora_train import answer_loss, encode_pair, training_pairs
    from radscribe.llm.score_eval import make_examples

    chat = _fresh_model()
    pairs = training_pairs(make_examples(4, seed=1), random.Random(0), report_share=1.0)
    assert len(pairs) == 8 and any(answer.startswith("Findings:") for _, answer in pairs)
    messages, answer = next(p for p in pairs if p[1].startswith("Score:"))
    ids, labels = encode_pair(chat.tokenizer, messages, answer)
    target = chat.tokenizer.decode(ids[labels != -100])
    assert target.startswith(answer) and (labels[: len(ids) - 20] == -100).all()
    apply_lora(chat.model, rank=2, alpha=4.0, last_layers=2)
    loss = answer_loss(chat.model, ids, labels)
    loss.backward()
    trained = [name for name, p in chat.model.named_parameters() if p.grad is not None]
    assert torch.isfinite(loss) and trained and all("lora_" in name for name in trained)
    assert all(f"layers.{chat.model.config.num_hidden_layers - 1}." in n or f"layers.{chat.model.config.num_hidden_layers - 2}." in n
               for n in trained)


def test_shipped_adapter_describes_itself_and_reads_a_held_out_score():
    from radscribe.llm.prompts import parse_score
    from radscribe.llm.registry import EMBEDDED_MODEL_NAME
    from radscribe.llm.score_eval import llm_score, make_examples

    folder = Path(radscribe.__file__).parent / "checkpoints" / "llm-lora"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["base_model"] == EMBEDDED_MODEL_NAME and manifest["data"]["synthetic"] is True
    assert {"held_out", "command", "files"} <= set(manifest)
    chat = load_chat_model(LLMConfig(backend="embedded", threads=1, adapter="llm-lora"))  # by name
    assert chat.name == f"{EMBEDDED_MODEL_NAME}+llm-lora"
    example = make_examples(1, seed=2)[0]  # held out: training used seed 1
    score, _, text = llm_score(chat, example.caption, few_shot=False)
    assert text.startswith("Score:") and score == pytest.approx(example.score, abs=0.2), text
