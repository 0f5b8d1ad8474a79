"""`radscribe assess`, `radscribe train captioner` and `radscribe benchmark ctiqa` (IQAGPT, issue 4)."""

from __future__ import annotations

import contextlib
import csv
import json
import shlex
import sys
from pathlib import Path
from typing import Optional

import typer

from radscribe.cli.app import app, console, err_console, handle_errors, report_error, track
from radscribe.cli.options import HU_INTERCEPT_OPTION, HU_OPTION, hu_mapping
from radscribe.errors import EXIT_BAD_INPUT, ConfigError, RadscribeError
from radscribe.io import expand_paths, read_image
from radscribe.io.writers import atomic_open


def group(name: str, help_text: str) -> typer.Typer:
    """The ``radscribe NAME`` sub-command group, created once whichever module asks first."""
    for info in app.registered_groups:
        if info.name == name and info.typer_instance is not None:
            return info.typer_instance
    sub = typer.Typer(help=help_text, no_args_is_help=True)
    app.add_typer(sub, name=name)
    return sub


train_app = group("train", "Train radscribe's models on a dataset folder (CPU, a few minutes to half an hour).")
benchmark_app = group("benchmark", "Measure models against baselines; write markdown, JSON and plots.")

CSV_FIELDS = ("path", "slice", "sop_uid", "score", "category", "caption", "model",
              "noise", "streaks", "metal", "motion", "ring", "blur")


@app.command("assess")
@handle_errors
def assess(
    paths: list[Path] = typer.Argument(..., help="CT files or folders: DICOM, NIfTI, PNG/TIFF (HU). Folders are walked."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON Lines (one object per slice) instead of a table."),
    csv_file: Optional[Path] = typer.Option(None, "--csv", help="Also write one CSV row per slice to this file."),
    heatmap: Optional[Path] = typer.Option(None, "--heatmap", help="Write a PNG per slice: the top words' attention over the slice."),
    model: Optional[Path] = typer.Option(None, "--model", help="Checkpoint folder (default: the shipped ctiqa-captioner)."),
    window: Optional[str] = typer.Option(
        None, "--window", "-w",
        help="For 8-bit screenshots (not HU): the window they were displayed with, e.g. ldct or W350/L40."),
    pixel_spacing: Optional[float] = typer.Option(
        None, "--pixel-spacing", min=0.01,
        help="Pixel spacing in mm for files that carry none (PNG, TIFF); read by models with pixel-size "
             "channels (mm:input, mm:native), the shipped one included. DICOM, NIfTI and radscribe's own HU PNGs "
             "use their own."),
    beams: int = typer.Option(1, "--beams", min=1, max=8, help="Beam width (1 = greedy, fastest)."),
    score_method: str = typer.Option(
        "parse", "--score",
        help="Which read-out is `score`: parse (the number the caption writes), number (expected value over the "
             "score-number words) or expected (Q-Align style, over the category words). All three are in --json."),
    batch_size: int = typer.Option(64, "--batch-size", min=1, help="Slices per batch."),
    hu: bool = HU_OPTION,
    hu_intercept: float = HU_INTERCEPT_OPTION,
) -> None:
    """Judge CT image quality: a caption, a 0-4 score (LDCTIQAC scale) and per-aspect severities per slice.

    The model was trained on SYNTHETIC CT (procedural phantoms and simulated scans): treat its output
    on patient data as a screening aid, not a reading.

    Examples:

      radscribe assess scan.dcm

      radscribe assess study_folder/ --json > quality.jsonl

      radscribe assess slices/ --csv quality.csv --heatmap maps/

      radscribe assess screenshot.png --window ldct --pixel-spacing 0.7

    Bad files are reported one line each on stderr; the others are still assessed; exit status 2 if any was bad.
    """
    from radscribe.iqagpt.assess import load_assessor

    if score_method not in ("parse", "number", "expected"):
        raise ConfigError(f"--score must be parse, number or expected, got {score_method!r}")
    errors: list[RadscribeError] = []
    files = expand_paths(paths, errors)
    for error in errors:
        report_error(error)
    bad = len(errors)
    assessor = load_assessor(model, beams=beams, score_method=score_method, batch_size=batch_size, window=window,
                             pixel_spacing=pixel_spacing)
    mapping = hu_mapping(hu, hu_intercept)
    with contextlib.ExitStack() as stack:
        writer = None
        if csv_file is not None:
            writer = csv.DictWriter(stack.enter_context(atomic_open(csv_file, "w")), fieldnames=CSV_FIELDS,
                                    extrasaction="ignore")
            writer.writeheader()
        pending: list = []
        taken: set[str] = set()  # heat-map file names written so far
        for path in track(files, total=len(files), description="assessing"):
            try:
                images = read_image(path, hu=mapping)
                arrays = assessor.preprocess(images)
            except RadscribeError as error:
                report_error(error)
                bad += 1
                continue
            pending.append((images, arrays))
            if sum(len(i) for i, _ in pending) >= batch_size:
                _flush(assessor, pending, as_json, writer, heatmap, taken)
                pending = []
        _flush(assessor, pending, as_json, writer, heatmap, taken)
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)


def _flush(assessor, pending, as_json: bool, writer, heatmap: Optional[Path], taken: set[str]) -> None:
    """Assess the collected slices as one batch and print/write their rows."""
    import numpy as np

    from radscribe.iqagpt.assess import with_source
    from radscribe.iqagpt.heatmap import write_heatmaps

    if not pending:
        return
    images = [im for ims, _ in pending for im in ims]
    arrays = np.concatenate([a for _, a in pending])
    rows = [with_source(image, row) for image, row in
            zip(images, assessor.assess_arrays(arrays, keep_maps=heatmap is not None))]
    if heatmap is not None:
        write_heatmaps(heatmap, images, arrays, assessor, taken=taken)
    for row in rows:
        if as_json:
            print(json.dumps(row), flush=True)
        else:
            score = "-" if row["score"] is None else f"{row['score']:.1f}"
            label = row["path"] + (f"#{row['slice']}" if row["slice"] else "")
            console.print(f"[bold]{label}[/]  score {score} ({row['category'] or '?'})", highlight=False, soft_wrap=True)
            console.print(f"  {row['caption']}", highlight=False, soft_wrap=True)
        if writer is not None:
            writer.writerow({**row, **{a: s for a, s in (row.get("aspects") or {}).items()}})


def parse_windows(text: Optional[str]) -> Optional[tuple[str, ...]]:
    """``"ldct,lung,metal"`` -> a tuple of window specs, each checked (None: the config's)."""
    if text is None:
        return None
    from radscribe.iqagpt.preprocess import resolve_windows

    names = tuple(w.strip() for w in text.split(",") if w.strip())
    if not names:
        raise ConfigError("--windows needs at least one window, e.g. ldct,lung")
    resolve_windows(names)  # an unknown preset, malformed W/L or detail band is a ConfigError naming it
    return names


@train_app.command("captioner")
@handle_errors
def train_captioner_cmd(
    data: Path = typer.Option(..., "--data", help="Dataset folder with annotations.jsonl (train and val splits)."),
    out: Path = typer.Option(Path("runs/ctiqa-captioner"), "--out", help="Checkpoint folder to write (resumes if it holds train_state.pt)."),
    config: str = typer.Option("small", "--config", help="Named config: small (shipped checkpoint) or tiny (seconds; smoke tests)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Override the config's number of epochs."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Override the batch size."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Override the seed (default 0)."),
    threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads (default 2)."),
    transposes: Optional[bool] = typer.Option(None, "--transposes/--no-transposes",
                                              help="Also turn training slices by 90 degrees (default: the config's; on in small)."),
    ring_channel: Optional[bool] = typer.Option(None, "--ring-channel/--no-ring-channel",
                                                help="Give the encoder a third input channel, a fixed ring-artefact map "
                                                     "(circular medians about the centre; default: the config's, on in small)."),
    ema_decay: Optional[float] = typer.Option(None, "--ema-decay",
                                              help="Validate and save an exponential moving average of the weights with "
                                                   "this decay per step, e.g. 0.998 (about the last 500 steps; default: "
                                                   "the config's)."),
    windows: Optional[str] = typer.Option(None, "--windows",
                                          help="Display windows fed to the encoder, one channel each, comma-separated "
                                               "presets or W/L values, soft tissue first (default: the config's; small: ldct,lung,metal,mm:input,mm:native, "
                                               "where metal W1000/L2500 shows implants and nothing below dense bone; tiny: ldct,lung). WINDOW:hv and WINDOW:d add "
                                               "that window's fine detail lost to the 256 grid (edge and diagonal Haar magnitudes "
                                               "at 512), e.g. ldct,lung,metal,ldct:hv,ldct:d,lung:hv,lung:d. mm:input and mm:native add the "
                                               "pixel size (of the 256 input, of the slice) as constant channels; the data then needs "
                                               "each slice's spacing (pixel_spacing_mm in its record, or DICOM/NIfTI)."),
    precision: Optional[str] = typer.Option(None, "--precision",
                                            help="Training arithmetic: auto (bf16 autocast where the CPU has native "
                                                 "bfloat16, e.g. AVX512-BF16 or AMX, else fp32), bf16 or fp32 "
                                                 "(checkpoints made before 2026-12-02 were fp32). Inference is fp32."),
    score_sigma: Optional[float] = typer.Option(None, "--score-sigma",
                                                help="Learn the score number against a Gaussian of this SD (score "
                                                     "units, e.g. 0.3) over neighbouring values instead of one-hot, so "
                                                     "writing 3.4 for 3.6 costs less than 0.0 (default: the config's; "
                                                     "0.3 in small)."),
    aspect_balance: Optional[float] = typer.Option(None, "--aspect-balance",
                                                   help="Weigh each artefact severity in the encoder's auxiliary "
                                                        "aspect head by (commonest count / its count) ** this, e.g. "
                                                        "0.5, so rare mild artefacts count as much as the many 'none' "
                                                        "(default: the config's; off in small)."),
) -> None:
    """Train the IQAGPT captioner (CNN encoder + image-grounded transformer decoder) on a CT-IQA dataset.

    Examples:

      radscribe data make-ctiqa --out ctiqa --n 2000 --size 256

      radscribe train captioner --data ctiqa --out runs/captioner --config small

      radscribe assess scan.dcm --model runs/captioner

    Interrupted runs resume from OUT/train_state.pt when started again with the same command.
    """
    from radscribe.iqagpt.train import get_config, train_captioner

    cfg = get_config(config, epochs=epochs, batch_size=batch_size, seed=seed, threads=threads, transposes=transposes,
                     ring_channel=ring_channel, windows=parse_windows(windows), ema_decay=ema_decay,
                     precision=precision, score_sigma=score_sigma, aspect_balance=aspect_balance)
    command = "radscribe " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    summary = train_captioner(data, out, cfg, command=command,
                              progress=lambda it, total, desc: track(it, total=total, description=desc))
    last = summary["history"][-1] if summary["history"] else {}
    err_console.print(f"wrote {out} (best val loss {summary['best_val_loss']}, last epoch {last})", highlight=False)


@benchmark_app.command("ctiqa")
@handle_errors
def benchmark_ctiqa(
    data: Path = typer.Option(..., "--data", help="Dataset folder (annotations.jsonl with train and test splits)."),
    out: Path = typer.Option(..., "--out", help="Report folder: report.md, report.json, plots, trained baselines."),
    real_data: Optional[Path] = typer.Option(None, "--real-data", help="Held-out real-anatomy set (split test-real), "
                                             "e.g. from `radscribe data make-ctiqa-heldout`."),
    model: Optional[Path] = typer.Option(None, "--model", help="Captioner checkpoint (default: the shipped one)."),
    baseline_epochs: Optional[int] = typer.Option(None, "--baseline-epochs", help="Epochs for each trained baseline "
                                                  "(default: as many as the captioner trained, from its manifest)."),
    llm_subset: int = typer.Option(16, "--llm-subset", help="Captions per split scored by the LLM (0 = skip; slow on CPU)."),
    retrain: bool = typer.Option(False, "--retrain", help="Retrain baselines even if OUT/baselines holds matching ones."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Evaluate only the first N slices of each split."),
    tiny: bool = typer.Option(False, "--tiny", help="Tiny baselines (1 epoch, narrow encoder): a smoke test, not a result."),
    threads: int = typer.Option(2, "--threads", help="CPU threads."),
) -> None:
    """Benchmark the captioner's score read-outs against image-only baselines trained here on the same data.

    Methods: captioner (Q-Align expected score, parsed caption, score-number expectation, LLM on a subset),
    multitask classification (plain and with the captioner's ordinal score target), multitask regression,
    CLIP-IQA-style zero-shot, skimage noise sigma.
    Metrics: PLCC, SROCC, KROCC and their absolute sum, MAE, per-aspect accuracy, BLEU-4/METEOR/ROUGE-L/CIDEr,
    slices/s. Everything is labelled SYNTHETIC.

    Example:

      radscribe benchmark ctiqa --data ctiqa --real-data ctiqa-heldout --out reports/ctiqa
    """
    from radscribe.iqagpt.baselines.train import BaselineConfig
    from radscribe.iqagpt.benchmark import BenchmarkConfig, run_benchmark

    if tiny:
        baseline = BaselineConfig(epochs=1, widths=(8, 16, 16), stem_stride=4)
    else:
        baseline = BaselineConfig() if baseline_epochs is None else BaselineConfig(epochs=baseline_epochs)
    cfg = BenchmarkConfig(data=str(data), out=str(out), real_data=str(real_data) if real_data else None,
                          model=str(model) if model else None, baseline=baseline, llm_subset=llm_subset,
                          retrain_baselines=retrain, limit=limit, threads=threads,
                          match_epochs=baseline_epochs is None and not tiny)
    report = run_benchmark(cfg, progress=lambda it, total, desc: track(it, total=total, description=desc))
    for split in report["splits"]:
        console.print(f"[bold]{split['split']}[/] (n={split['n']}, SYNTHETIC): |PLCC|+|SROCC|+|KROCC| per method",
                      highlight=False)
        for m in split["methods"]:
            value = "-" if m["sum_abs"] is None else f"{m['sum_abs']:.3f}"
            console.print(f"  {value:>6}  {m['method']}", highlight=False)
    console.print(f"wrote {out / 'report.md'}")
