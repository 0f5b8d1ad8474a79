"""`radscribe chat IMAGE`, `radscribe xraygpt train|info` and `radscribe benchmark cxr`: the XrayGPT-style model."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Optional

import typer

from radscribe.cli.app import app, console, err_console, handle_errors, track
from radscribe.errors import ConfigError

xraygpt_app = typer.Typer(help="Train and inspect the XrayGPT-style chest-radiograph model.", no_args_is_help=True)
app.add_typer(xraygpt_app, name="xraygpt")


def _benchmark_group() -> typer.Typer:
    """The shared `radscribe benchmark` group (created by whichever command module registers first)."""
    for info in app.registered_groups:
        if info.name == "benchmark":
            return info.typer_instance
    group = typer.Typer(help="Score radscribe's models against baselines on held-out data.", no_args_is_help=True)
    app.add_typer(group, name="benchmark")
    return group


benchmark_app = _benchmark_group()

MODEL_OPTION = typer.Option("xraygpt-smollm2-lora", "--model", "-m", help="Shipped checkpoint name or a checkpoint folder.")
SOURCE_OPTION = typer.Option("make-cxr", "--source", help="make-cxr (DIR/annotations.jsonl) | openi | mimic (your own data root).")


def override(config, changes: dict):
    """A copy of dataclass ``config`` with ``changes`` (nested dicts for nested dataclasses) applied."""
    updates = {}
    names = {f.name for f in dataclasses.fields(config)}
    for key, value in changes.items():
        if key not in names:
            raise ConfigError(f"unknown config field {key!r} in {type(config).__name__}; known: {', '.join(sorted(names))}")
        current = getattr(config, key)
        if dataclasses.is_dataclass(current) and isinstance(value, dict):
            value = override(current, value)
        elif isinstance(current, tuple) and isinstance(value, list):
            value = tuple(value)
        updates[key] = value
    return dataclasses.replace(config, **updates)


@app.command("chat")
@handle_errors
def chat(
    image: Path = typer.Argument(..., help="A chest radiograph: DICOM CR/DX, PNG or JPEG."),
    prompt: Optional[str] = typer.Option(None, "--prompt", "-p", help="Ask one question and exit (no interactive loop)."),
    as_json: bool = typer.Option(False, "--json", help="With --prompt: print answer, model, labels (labeler on the answer) and, for a model with finding tokens, encoder_findings (the encoder's probability per observation)."),
    model: str = MODEL_OPTION,
    max_new_tokens: int = typer.Option(160, "--max-new-tokens", help="Answer length limit in tokens."),
    temperature: float = typer.Option(0.0, "--temperature", help="0 = greedy (default); XrayGPT's demo used 1.0."),
    top_p: float = typer.Option(0.9, "--top-p", help="Nucleus mass when temperature > 0."),
    seed: int = typer.Option(0, "--seed", help="Sampling seed (reproducible answers)."),
    guidance: Optional[float] = typer.Option(None, "--guidance", help="Image guidance weight: amplify what the image (or, for a model with finding tokens, the encoder's findings) adds to each next-token score, against a null run; 0 = off. Default: the weight in the checkpoint's manifest (decoding.guidance). See docs/xraygpt.md for what it did."),
    guidance_gate: Optional[float] = typer.Option(None, "--guidance-gate", help="Guide only if the encoder reads a finding (any observation but No Finding) at this probability or more; otherwise decode plainly. 0 = guide every image. Default: the checkpoint's manifest (decoding.guidance_gate)."),
) -> None:
    """Talk about a chest radiograph. Interactive by default: answers stream, the conversation is remembered;
    type /reset to forget it, /quit to leave.

    The shipped model was trained on SYNTHETIC radiographs; real images are out of its training
    distribution and a note says so.

    Examples:

      radscribe chat demo-out/cxr/images/000001.png

      radscribe chat chest.png --prompt "Is there a pleural effusion?" --json

      radscribe chat $(python -c "import radscribe.resources as r; print(r.pydicom_data_dir())")/RG1_UNCI.dcm -p "Describe the image."
    """
    from radscribe.cxr.labeler import label_report
    from radscribe.xraygpt.chat import OUT_OF_DISTRIBUTION_NOTE, ChatSession, is_out_of_distribution, load_chat_image
    from radscribe.xraygpt.checkpoint import load_model

    loaded = load_model(model)
    picture = load_chat_image(image, loaded.image_size)
    ood = is_out_of_distribution(picture, loaded.manifest)
    if ood:
        err_console.print(f"[yellow]note:[/] {image}: {OUT_OF_DISTRIBUTION_NOTE}", highlight=False, soft_wrap=True)
    session = ChatSession(loaded, picture, max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, seed=seed,
                          guidance=guidance, guidance_gate=guidance_gate)
    if prompt is not None:
        if as_json:
            answer = session.answer(prompt)
            record = {"image": str(image), "question": prompt, "answer": answer, "model": loaded.name,
                      "guidance": session.guidance_weight, "guidance_gate": session.gate,
                      "labels": label_report(answer), "synthetic_trained": bool(loaded.manifest.get("synthetic")),
                      "out_of_distribution": ood}
            reading = loaded.model.finding_reading(picture.tensor[None])  # what the LLM was shown (finding tokens)
            if reading is not None:
                from radscribe.cxr.labeler import OBSERVATIONS

                record["encoder_findings"] = {name: round(float(p), 3) for name, p in zip(OBSERVATIONS, reading[0])}
            console.print_json(json.dumps(record))
        else:
            _stream(session, prompt)
        return
    err_console.print(f"[bold]{loaded.name}[/] on {image}. Ask a question; /reset forgets the conversation, /quit leaves.")
    while True:
        try:
            question = console.input("[bold cyan]you>[/] ").strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not question:
            continue
        if question in ("/quit", "/exit"):
            return
        if question == "/reset":
            session.reset()
            err_console.print("(conversation cleared)")
            continue
        console.print("[bold green]doctor>[/] ", end="")
        _stream(session, question)


def _stream(session, question: str) -> None:
    for piece in session.ask(question):
        console.print(piece, end="", markup=False, highlight=False, soft_wrap=True)
    console.print()


@xraygpt_app.command("train")
@handle_errors
def train(
    data: Path = typer.Option(..., "--data", help="Dataset folder (make-cxr output, or your Open-i / MIMIC-CXR root)."),
    out: Path = typer.Option(..., "--out", help="Folder for the checkpoints (and work/ with resumable state)."),
    source: str = SOURCE_OPTION,
    config_file: Optional[Path] = typer.Option(None, "--config", help="JSON overriding PipelineConfig fields (nested)."),
    encoder_steps: Optional[int] = typer.Option(None, "--encoder-steps", help="Contrastive encoder steps."),
    llm_steps: Optional[int] = typer.Option(None, "--llm-steps", help="LoRA steps on report text."),
    stage1_steps: Optional[int] = typer.Option(None, "--stage1-steps", help="Projection steps, stage 1 (image -> summary)."),
    stage2_steps: Optional[int] = typer.Option(None, "--stage2-steps", help="Projection steps, stage 2 (conversations)."),
    threads: int = typer.Option(2, "--threads", help="torch CPU threads."),
    device: Optional[str] = typer.Option(None, "--device",
                                         help="auto (default: the GPU when torch sees one), cpu, cuda or cuda:N."),
    no_resume: bool = typer.Option(False, "--no-resume", help="Start over instead of resuming from out/work/."),
) -> None:
    """Train the whole model: MedCLIP-style encoder, LoRA on SmolLM2, then the linear projection (stages 1, 2),
    and baseline (c) (projection on the base LLM). Rerunning resumes. Under torchrun each rank trains on its shard.

    Examples:

      radscribe data make-cxr --out data/cxr --n 1200 --size 256
      radscribe xraygpt train --data data/cxr --out runs/xraygpt

      radscribe xraygpt train --data ~/openi --source openi --out runs/openi --config my.json

      torchrun --nproc-per-node 2 -m radscribe xraygpt train --data data/cxr --out runs/ddp

      radscribe xraygpt train --data data/cxr --out runs/gpu --device cuda --config gpu.json

    Options beyond the paper (off by default; measured in docs/xraygpt.md), in the --config JSON:
    {"visual_tokens": "grid+findings"} adds the encoder's 14 finding probabilities as visual tokens;
    {"llm": {"abnormal_repeat": 3}} shows summaries with a finding three times per pass of the grounded
    LoRA tuning (the shipped config does); {"projection": {"train_lora": true, "abnormal_repeat": 2}} tunes
    the LoRA with the image and shows studies with a finding twice per pass.
    """
    import torch

    from radscribe.io.writers import atomic_write_json
    from radscribe.xraygpt.data import load_examples
    from radscribe.xraygpt.pipeline import PipelineConfig, train_pipeline

    torch.set_num_threads(threads)
    config = PipelineConfig(threads=threads)
    if config_file is not None:
        try:
            config = override(config, json.loads(config_file.read_text()))
        except (OSError, json.JSONDecodeError) as error:
            raise ConfigError(f"{config_file}: cannot read the config: {error}") from None
    flags = {"encoder": {"steps": encoder_steps}, "llm": {"steps": llm_steps},
             "projection": {"stage1_steps": stage1_steps, "stage2_steps": stage2_steps}, "device": device}
    config = override(config, {k: ({n: v for n, v in d.items() if v is not None} if isinstance(d, dict) else d)
                               for k, d in flags.items() if d is not None})
    examples = load_examples(data, source)
    result = train_pipeline(examples, data, source, out, config, resume=not no_resume)
    atomic_write_json(out / "train_result.json", result)
    console.print_json(json.dumps(result))


@xraygpt_app.command("info")
@handle_errors
def info(model: str = MODEL_OPTION) -> None:
    """Print a checkpoint's manifest: what it was trained on, its config, its measured metrics, file hashes.

    Example:

      radscribe xraygpt info --model xraygpt-smollm2-lora
    """
    from radscribe.xraygpt.checkpoint import read_manifest

    console.print_json(json.dumps(read_manifest(model)))


@benchmark_app.command("cxr")
@handle_errors
def benchmark_cxr(
    data: Path = typer.Option(..., "--data", help="Dataset folder with a test split (make-cxr output or --source root)."),
    out: Path = typer.Option(..., "--out", help="Report folder: benchmark.md, benchmark.json, predictions.jsonl."),
    source: str = SOURCE_OPTION,
    model: str = MODEL_OPTION,
    base_model: Optional[str] = typer.Option("xraygpt-smollm2-base", "--base-model",
                                             help="Checkpoint for baseline (c); '' to skip it."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Score only the first N studies of the split."),
    split: str = typer.Option("test", "--split", help="test (default) or validate."),
    max_new_tokens: int = typer.Option(80, "--max-new-tokens", help="Generation length limit."),
    guidance: Optional[float] = typer.Option(None, "--guidance", help="Image guidance weight for the image systems (xraygpt and (c)); 0 = plain greedy. Default: each checkpoint's manifest weight (decoding.guidance)."),
    guidance_gate: Optional[float] = typer.Option(None, "--guidance-gate", help="Guide only the images whose encoder reads a finding at this probability (0 = every image). Default: each checkpoint's manifest (decoding.guidance_gate)."),
    batch_size: int = typer.Option(16, "--batch-size", help="Images decoded together (same answers as one at a time, faster)."),
    threads: int = typer.Option(2, "--threads", help="torch CPU threads."),
) -> None:
    """Score the chest-radiograph model on the test split against three baselines in the same run:
    (a) the LLM without the image, (b) nearest-neighbour report retrieval by image embedding,
    (c) a projection trained on the base LLM. Metrics: ROUGE-1/2/L, BLEU-4, METEOR, CIDEr, per-observation F1,
    macro-F1 and hallucination rate (labeler on generated and reference text).

    Example:

      radscribe benchmark cxr --data data/cxr --out reports/cxr --limit 100
    """
    import torch

    from radscribe.xraygpt.data import load_examples
    from radscribe.xraygpt.evaluate import BenchmarkConfig, run_benchmark

    torch.set_num_threads(threads)
    examples = load_examples(data, source)
    report = run_benchmark(examples, model, base_model or None, out,
                           BenchmarkConfig(max_new_tokens=max_new_tokens, limit=limit, split=split, guidance=guidance,
                                           guidance_gate=guidance_gate, batch_size=batch_size),
                           threads=threads, progress=track)
    from radscribe.xraygpt.evaluate import to_markdown

    console.print(to_markdown(report), markup=False, highlight=False, soft_wrap=True)
