"""``radscribe benchmark cxr``: XrayGPT against three baselines on the test split, in one run.

Systems (all greedy, the same instruction):

* ``xraygpt``            the checkpoint: encoder -> projection -> radiology-tuned (LoRA) SmolLM2
* ``llm-no-image``       (a) the same LLM with the same prompt and no image tokens
* ``nn-retrieval``       (b) the training summary whose image is nearest by encoder embedding
* ``projection-base-llm`` (c) a projection trained on the base SmolLM2 (no radiology tuning)

Scores: ROUGE-1/2/L, BLEU-4, METEOR, CIDEr against the real summaries; per-observation F1, macro-F1
and hallucination rate from the labeler applied to both texts.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import torch

from radscribe.cxr.labeler import label_report
from radscribe.io.writers import atomic_write_json, atomic_write_text
from radscribe.xraygpt.batch_decode import generate_batch
from radscribe.xraygpt.conversation import SUMMARY_INSTRUCTIONS, Turn, build_prompt
from radscribe.xraygpt.data import CxrExample, load_image_batch, split_examples
from radscribe.xraygpt.label_metrics import label_scores
from radscribe.xraygpt.text_metrics import caption_scores

log = logging.getLogger(__name__)

SYSTEM_NOTES = {
    "xraygpt": "encoder -> 1 linear projection -> SmolLM2-135M + radiology LoRA",
    "llm-no-image": "(a) same LLM + LoRA, same prompt, no image",
    "nn-retrieval": "(b) summary of the nearest training image (encoder embedding, cosine)",
    "projection-base-llm": "(c) projection trained on the base SmolLM2 (no LoRA)",
}


@dataclass(frozen=True)
class BenchmarkConfig:
    max_new_tokens: int = 80
    limit: int | None = None  # first N examples of the split (None: all)
    split: str = "test"  # "validate" scores a model whose LoRA text overlapped the test split
    instruction: str = SUMMARY_INSTRUCTIONS[0]
    # image guidance weight for the systems that see the image (xraygpt, (c)); None: each checkpoint's default
    guidance: float | None = None
    guidance_gate: float | None = None  # guide only images the encoder reads a finding in; None: the checkpoint's
    batch_size: int = 16  # images decoded together (the same answers as one by one)

    def to_dict(self) -> dict:
        return asdict(self)


def score_system(predictions: Sequence[str], references: Sequence[str]) -> dict:
    gen_labels = [label_report(p) for p in predictions]
    ref_labels = [label_report(r) for r in references]
    return {**caption_scores(predictions, references), **label_scores(gen_labels, ref_labels)}


def guidance_for(config: BenchmarkConfig, loaded) -> dict[str, float]:
    """The decoding a system uses: the config's guidance weight and gate, else the checkpoint's."""
    return {"guidance": loaded.default_guidance if config.guidance is None else config.guidance,
            "guidance_gate": loaded.default_guidance_gate if config.guidance_gate is None else config.guidance_gate}


def nearest_summaries(encoder, train: Sequence[CxrExample], test_images: torch.Tensor, image_size: int) -> list[str]:
    from radscribe.xraygpt.train_encoder import embed_images

    train_embed = embed_images(encoder, load_image_batch(train, image_size))
    test_embed = embed_images(encoder, test_images)
    nearest = (test_embed @ train_embed.T).argmax(1).tolist()
    return [train[j].summary for j in nearest]


def run_benchmark(examples: Sequence[CxrExample], model_name: str, base_model_name: str | None, out_dir: Path,
                  config: BenchmarkConfig = BenchmarkConfig(), *, threads: int = 2,
                  progress: Callable = lambda it, **_: it) -> dict:
    """Score every system on the test split; write benchmark.json, benchmark.md and predictions.jsonl."""
    from radscribe.xraygpt.checkpoint import load_model

    if config.split == "train":
        from radscribe.errors import ConfigError

        raise ConfigError("--split train: the model trained on it; score test or validate")
    test = split_examples(examples, config.split)[: config.limit] if config.limit else split_examples(examples, config.split)
    train = split_examples(examples, "train")
    if not test or not train:
        from radscribe.errors import InputError

        raise InputError(None, f"the data needs a train and a {config.split} split (found {len(train)} train, "
                               f"{len(test)} {config.split})")
    references = [e.summary for e in test]
    prompt = build_prompt([Turn(config.instruction)])
    loaded = load_model(model_name, threads=threads)
    seen_text = set(loaded.manifest.get("lora_text_report_ids") or [])
    overlap = sum(e.report_id in seen_text for e in test)  # report text the LoRA trained on is not held out
    if overlap:
        log.warning("%s: its LoRA trained on the report text of %d of the %d scored studies", model_name, overlap, len(test))
    size = loaded.image_size
    test_images = load_image_batch(test, size)
    outputs, seconds, weights = {}, {}, {"xraygpt": guidance_for(config, loaded)}
    nulls = {"xraygpt": loaded.model.guidance_null}  # what guidance contrasts with (reported when guiding)

    started = time.perf_counter()
    outputs["xraygpt"] = generate_batch(loaded.model, test_images, prompt, max_new_tokens=config.max_new_tokens,
                                        **weights["xraygpt"], batch_size=config.batch_size, progress=progress,
                                        name="xraygpt")
    seconds["xraygpt"] = time.perf_counter() - started

    started = time.perf_counter()
    no_image = loaded.model.generate(None, prompt, max_new_tokens=config.max_new_tokens)
    outputs["llm-no-image"] = [no_image] * len(test)  # greedy and no image: one answer for every study
    seconds["llm-no-image"] = time.perf_counter() - started

    started = time.perf_counter()
    outputs["nn-retrieval"] = nearest_summaries(loaded.model.encoder, train, test_images, size)
    seconds["nn-retrieval"] = time.perf_counter() - started

    base_manifest = None
    if base_model_name:
        del loaded.model.llm  # free the LoRA LLM before loading a clean copy
        base = load_model(base_model_name, threads=threads)
        base_manifest = base.manifest
        weights["projection-base-llm"] = guidance_for(config, base)
        nulls["projection-base-llm"] = base.model.guidance_null
        started = time.perf_counter()
        outputs["projection-base-llm"] = generate_batch(base.model, load_image_batch(test, base.image_size), prompt,
                                                        max_new_tokens=config.max_new_tokens,
                                                        **weights["projection-base-llm"],
                                                        batch_size=config.batch_size, progress=progress, name="base LLM")
        seconds["projection-base-llm"] = time.perf_counter() - started

    systems = {name: {**score_system(preds, references), "seconds": round(seconds[name], 1), "about": SYSTEM_NOTES[name],
                      **weights.get(name, {}),
                      **({"guidance_null": nulls[name]} if weights.get(name, {}).get("guidance") else {})}
               for name, preds in outputs.items()}
    report = {
        "synthetic": True,
        "note": "SYNTHETIC test images paired with REAL IU-Xray summaries; scores say how well the model reads "
                "radscribe's renderer, not real radiographs." if any(e.synthetic for e in test) else
                "real images",
        "n_test": len(test), "n_train": len(train), "config": config.to_dict(),
        "lora_text_overlap": overlap if seen_text else None,  # None: the manifest does not list its LoRA's reports
        "model": loaded.manifest.get("name", model_name), "base_model": base_manifest.get("name") if base_manifest else None,
        "systems": systems,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out_dir / "benchmark.json", report)
    atomic_write_text(out_dir / "benchmark.md", to_markdown(report))
    lines = [json.dumps({"report_id": e.report_id, "image": str(e.image_path), "reference": e.summary,
                         **{name: outputs[name][i] for name in outputs}, "synthetic": e.synthetic})
             for i, e in enumerate(test)]
    atomic_write_text(out_dir / "predictions.jsonl", "\n".join(lines) + "\n")
    return report


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def to_markdown(report: dict) -> str:
    cols = ["rouge1", "rouge2", "rougeL", "bleu4", "meteor", "cider", "finding_macro_f1", "hallucination_rate"]
    lines = [
        "# Chest-radiograph benchmark" + (" (SYNTHETIC images)" if report["synthetic"] else ""),
        "",
        report["note"],
        "",
        f"Scored studies ({report['config'].get('split', 'test')} split): {report['n_test']}; training studies: "
        f"{report['n_train']}; model: `{report['model']}`; greedy decoding"
        + "".join(f"; `{name}` image guidance {s['guidance']:g}"
                  + (f" where the encoder reads a finding at p >= {s['guidance_gate']:g}" if s.get("guidance_gate") else "")
                  + (f" (null run: a {s['guidance_null']} reading)" if s.get("guidance_null", "uncertain") != "uncertain" else "")
                  for name, s in report["systems"].items() if s.get("guidance"))
        + ".",
        "",
        *([f"**Not held out:** the model's LoRA trained on the report text of {report['lora_text_overlap']} of these "
           "studies.", ""] if report.get("lora_text_overlap") else []),
        "| system | " + " | ".join(cols) + " | seconds |",
        "|---" * (len(cols) + 2) + "|",
    ]
    for name, s in report["systems"].items():
        lines.append(f"| {name} | " + " | ".join(_fmt(s.get(c)) for c in cols) + f" | {s['seconds']} |")
    lines += ["", "Systems:", ""] + [f"- `{name}`: {s['about']}" for name, s in report["systems"].items()]
    main = report["systems"].get("xraygpt", {}).get("per_observation", {})
    if main:
        lines += ["", "Per-observation scores of `xraygpt` (labeler on generated vs reference text; positive = 1):", "",
                  "| observation | support | predicted | precision | recall | F1 |", "|---|---|---|---|---|---|"]
        for name, v in main.items():
            lines.append(f"| {name} | {v['support']} | {v['predicted']} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} |")
    return "\n".join(lines) + "\n"
