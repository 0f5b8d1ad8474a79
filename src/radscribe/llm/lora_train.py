"""Tune a LoRA on caption -> score and caption -> report pairs (CPU, a few minutes), and measure it held out.

    nice -n 10 .venv/bin/python -m radscribe.llm.lora_train --out /tmp/llm-lora --minutes 8

Training pairs use the shipped prompt templates (``caption_to_score``, ``caption_to_report``) so the adapter
learns exactly the prompts the CLI sends. The answers are derived from the (synthetic, protocol-sampled)
annotations by fixed rules. Loss is on the answer tokens only.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import torch

from radscribe.llm.prompts import PROMPTS_VERSION, category_of, needs_repeat, render
from radscribe.llm.score_eval import CaptionExample, make_examples, strip_overall


def score_answer(example: CaptionExample) -> str:
    return f"Score: {example.score:.1f}\nCategory: {example.category}"


def report_answer(example: CaptionExample) -> str:
    """The report a rule-following reader writes from the annotation."""
    from radscribe.quality_report.build import recommendation

    findings = [f"- {aspect}: {severity}" for aspect, severity in example.aspects.items() if severity != "none"]
    lines = ["Findings:", *(findings or ["- no artifacts"]), score_answer(example),
             f"Recommendation: {recommendation(example.score)[1]}"]
    return "\n".join(lines)


def training_pairs(examples: list[CaptionExample], rng: random.Random, report_share: float = 0.2) -> list[tuple[list, str]]:
    """(messages, answer) pairs: score on full and aspects-only captions, some reports."""
    pairs = []
    for example in examples:
        caption = example.caption if rng.random() < 0.5 else strip_overall(example.caption)
        pairs.append((render("caption_to_score", caption=caption), score_answer(example)))
        if rng.random() < report_share:
            pairs.append((render("caption_to_report", caption=example.caption), report_answer(example)))
    rng.shuffle(pairs)
    return pairs


def encode_pair(tokenizer, messages: list, answer: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Input ids and labels (-100 on the prompt) for one pair, via the chat template."""
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=True)["input_ids"]
    full = tokenizer.apply_chat_template(messages + [{"role": "assistant", "content": answer}], tokenize=True,
                                         return_dict=True)["input_ids"]
    ids = torch.tensor(full)
    labels = ids.clone()
    labels[: len(prompt)] = -100
    return ids, labels


def answer_loss(model, ids: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy on the answer tokens, projecting only those positions onto the 49k-word vocabulary."""
    hidden = model.model(input_ids=ids[None]).last_hidden_state[0]
    positions = (labels[1:] != -100).nonzero().squeeze(1)  # position t predicts token t + 1
    logits = model.lm_head(hidden[positions])
    return torch.nn.functional.cross_entropy(logits, labels[1:][positions])


def train(model, tokenizer, pairs, *, minutes: float, lr: float = 1e-3, accumulate: int = 4, log_every: int = 20) -> dict:
    """AdamW on the LoRA parameters until the pairs run out or the time is up; returns a log."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    model.train()
    started, losses, steps = time.monotonic(), [], 0
    for index, (messages, answer) in enumerate(pairs):
        if time.monotonic() - started > minutes * 60:
            break
        ids, labels = encode_pair(tokenizer, messages, answer)
        loss = answer_loss(model, ids, labels) / accumulate
        loss.backward()
        losses.append(loss.item() * accumulate)
        if (index + 1) % accumulate == 0:
            optimizer.step()
            optimizer.zero_grad()
            steps += 1
        if (index + 1) % log_every == 0:
            recent = losses[-log_every:]
            print(f"pair {index + 1}: loss {sum(recent) / len(recent):.3f} ({time.monotonic() - started:.0f} s)", flush=True)
    model.eval()
    return {"pairs_seen": len(losses), "optimizer_steps": steps, "seconds": round(time.monotonic() - started, 1),
            "loss_first_20": sum(losses[:20]) / max(1, len(losses[:20])), "loss_last_20": sum(losses[-20:]) / max(1, len(losses[-20:]))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--minutes", type=float, default=8.0)
    parser.add_argument("--train", type=int, default=1200, help="training captions (seed 1)")
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--alpha", type=float, default=16.0)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--last-layers", type=int, default=8, help="adapt only the last k blocks (CPU speed)")
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    from radscribe.llm.lora import apply_lora, merge_lora, save_adapter
    from radscribe.llm.registry import EMBEDDED_MODEL_NAME
    from radscribe.llm.torch_backend import load_hf_folder
    from radscribe.llm.weights import converted_dir, embedded_gguf

    source = embedded_gguf()
    model, tokenizer = load_hf_folder(converted_dir(source), args.threads, own_cache=True)
    layers = apply_lora(model, rank=args.rank, alpha=args.alpha, last_layers=args.last_layers)
    examples = make_examples(args.train, seed=1)  # held-out evaluation uses seed 2: disjoint draws
    pairs = training_pairs(examples, random.Random(1))
    log = train(model, tokenizer, pairs, minutes=args.minutes, lr=args.lr)
    print(json.dumps(log), flush=True)
    manifest = {
        "kind": "lora-adapter", "base_model": EMBEDDED_MODEL_NAME, "base_gguf_sha256": source.sha256,
        "rank": args.rank, "alpha": args.alpha, "targets": sorted({name.rsplit('.', 1)[-1] for name in layers}),
        "n_layers": len(layers), "last_layers": args.last_layers, "prompts_version": PROMPTS_VERSION,
        "command": "python -m radscribe.llm.lora_train " + " ".join(argv if argv is not None else sys.argv[1:]),
        "data": {"synthetic": True, "source": "protocol-sampled CT-IQA annotations -> radscribe.ctiqa.text.describe",
                 "train_seed": 1, "train_captions": args.train, "pairs_total": len(pairs)},
        "training": log,
    }
    save_adapter(model, args.out, manifest)
    merge_lora(model)
    print(f"saved {args.out}", flush=True)


if __name__ == "__main__":
    main()
