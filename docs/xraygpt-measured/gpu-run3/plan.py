"""Device call 1: time one encoder step and one SmolLM2-shaped LoRA step on this machine, then write
the training config (steps sized to a time budget) and train the encoder stage with it.

Usage: python3 plan.py BASE_CONFIG.json OUT_CONFIG.json DATA RUN_DIR [--enc-seconds S] [--llm-seconds S]
"""

import argparse
import json
import time
from pathlib import Path

import torch

from radscribe.cli.xraygpt_commands import override
from radscribe.xraygpt.encoder import augment
from radscribe.xraygpt.lora import LoRAConfig, add_lora, lora_parameters
from radscribe.xraygpt.medclip_loss import semantic_matching_loss
from radscribe.xraygpt.model import Batch, lm_loss
from radscribe.xraygpt.pipeline import PipelineConfig
from radscribe.xraygpt.train_encoder import ContrastivePair
from radscribe.xraygpt.training import autocast, resolve_device


def timed(step, warm=5, n=20):
    for _ in range(warm):
        step()
    torch.cuda.synchronize() if torch.cuda.is_available() else None
    t = time.perf_counter()
    for _ in range(n):
        step()
    torch.cuda.synchronize() if torch.cuda.is_available() else None
    return (time.perf_counter() - t) / n


def encoder_step_seconds(cfg, device):
    pair = ContrastivePair(cfg.encoder).to(device)
    opt = torch.optim.AdamW(pair.parameters(), lr=1e-4)
    b, s = cfg.encoder.batch_size, cfg.encoder.encoder.image_size
    images, text = torch.randn(b, 1, s, s), torch.randn(b, 384, device=device)
    labels = (torch.rand(b, 14, device=device) > 0.8).float()

    def step():
        with autocast(device):
            tokens, img = pair.encoder(augment(images).to(device))
            loss = semantic_matching_loss(img.float(), pair.text_head(text).float(), labels, pair.log_scale.exp(), 0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return timed(step)


def llm_step_seconds(cfg, device, n_tokens=112):
    from transformers import LlamaConfig, LlamaForCausalLM  # SmolLM2-135M's shape, random weights

    shape = LlamaConfig(vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                        num_attention_heads=9, num_key_value_heads=3, tie_word_embeddings=True)
    llm = LlamaForCausalLM(shape).to(device)
    for p in llm.parameters():
        p.requires_grad_(False)
    add_lora(llm, LoRAConfig())
    params = lora_parameters(llm)
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=1e-4)
    b = cfg.projection.batch_size
    ids = torch.randint(0, 49152, (b, n_tokens), device=device)
    batch = Batch(llm.get_input_embeddings()(ids), torch.ones_like(ids), ids.clone())

    def step():
        with autocast(device):
            loss = lm_loss(llm, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return timed(step)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("out")
    ap.add_argument("data")
    ap.add_argument("run")
    ap.add_argument("--enc-seconds", type=float, default=100)
    ap.add_argument("--llm-seconds", type=float, default=380)
    ap.add_argument("--max-steps", type=int, default=100000)
    a = ap.parse_args()
    base = json.loads(Path(a.base).read_text())
    cfg = override(PipelineConfig(), base)
    device = resolve_device("auto")
    t_enc, t_llm = encoder_step_seconds(cfg, device), llm_step_seconds(cfg, device)
    # two encoder lengths, the better on the validation split is kept (more epochs can overfit 2,691 images)
    enc_candidates = sorted({max(50, min(a.max_steps, 1000, int(0.3 * a.enc_seconds / t_enc))),
                             max(50, min(a.max_steps, 3000, int(0.7 * a.enc_seconds / t_enc)))})
    llm_total = a.llm_seconds / t_llm  # LoRA 20%, each projection run (lora, base) 40% = stage 1 + stage 2
    lora_steps = max(20, min(a.max_steps, int(0.2 * llm_total)))
    stage_steps = max(20, min(a.max_steps, int(0.2 * llm_total)))
    base["llm"].update(steps=lora_steps, warmup=max(4, lora_steps // 30))
    base["projection"].update(stage1_steps=stage_steps, stage2_steps=stage_steps, warmup=max(10, stage_steps // 30))
    print(json.dumps({"device": str(device), "encoder_step_s": round(t_enc, 4), "llm_step_s": round(t_llm, 4),
                      "encoder_candidates": enc_candidates, "config": base}), flush=True)

    # the encoder stage now, exactly as the pipeline runs it (the pipeline resumes the finished state)
    from radscribe.xraygpt.data import load_examples, split_examples
    from radscribe.xraygpt.train_encoder import train_encoder

    examples = load_examples(a.data, "make-cxr")
    train, val = split_examples(examples, "train"), split_examples(examples, "validate")
    results = []
    for steps in enc_candidates:
        trial = {**base, "encoder": {**base["encoder"], "steps": steps, "warmup": max(30, steps // 30)}}
        cfg = override(PipelineConfig(), trial)
        t = time.perf_counter()
        _, metrics = train_encoder(train, val, cfg.encoder, Path(a.run) / f"encoder-{steps}", device=device)
        results.append((metrics["val_label_head_macro_auc"] or 0.0, steps, trial))
        print(json.dumps({"encoder_steps": steps, "encoder_metrics": metrics, "seconds": round(time.perf_counter() - t, 1)}),
              flush=True)
    auc, steps, chosen = max(results)
    (Path(a.run) / "work").mkdir(parents=True, exist_ok=True)
    (Path(a.run) / f"encoder-{steps}").rename(Path(a.run) / "work" / "encoder")  # the pipeline resumes this one
    Path(a.out).write_text(json.dumps(chosen, indent=1))
    print(json.dumps({"chosen_encoder_steps": steps, "val_auc": auc, "config": chosen}), flush=True)


if __name__ == "__main__":
    main()
