"""``radscribe data make-cxr``: SYNTHETIC chest radiographs paired with REAL IU-Xray report text.

For each real report that passes the XrayGPT-style summary filter, render an image that agrees with
the summary's labels (side and size from the text), and write

* ``images/<report_id>.png`` (8-bit greyscale),
* ``annotations.jsonl``: image, report_id, findings, impression, summary, labels, split, render truth,
  ``synthetic: true`` (the image is synthetic; the text is real),
* ``preview.png`` (a labelled grid) and ``README.md`` (the dataset card).

Resumable: finished records are appended to ``annotations.partial.jsonl`` as they are made; a rerun
skips reports whose image and record both exist, and writes ``annotations.jsonl`` atomically at the end.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
from PIL import Image, ImageDraw

from radscribe.cxr.labeler import label_report
from radscribe.cxr.reports import Report, load_iu_xray_reports
from radscribe.cxr.summaries import summarize_report
from radscribe.io.writers import atomic_write_text, write_png_atomic

ANNOTATIONS = "annotations.jsonl"
PARTIAL = "annotations.partial.jsonl"


@dataclass
class MakeCxrConfig:
    size: int = 512
    seed: int = 0
    n: int | None = None  # None: every report that passes the summary filter
    preview_count: int = 16


def split_for(report_id: str) -> str:
    """80/10/10 by a hash of the report id (IU-Xray has one report per patient study), stable across runs."""
    bucket = int(hashlib.sha1(report_id.encode()).hexdigest(), 16) % 10
    return "train" if bucket < 8 else ("val" if bucket == 8 else "test")


def image_seed(report_id: str, seed: int) -> int:
    return int(hashlib.sha1(f"{seed}:{report_id}".encode()).hexdigest()[:8], 16)


def safe_name(report_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", report_id)


def ordered_reports(reports: list[Report], seed: int) -> list[Report]:
    """A seeded shuffle, so a small ``--n`` still sees a mix of normal and abnormal reports."""
    order = np.random.default_rng(seed).permutation(len(reports))
    return [reports[i] for i in order]


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def make_record(report: Report, summary: str, labels: dict, image_name: str, truth: dict) -> dict:
    return {
        "image": image_name,
        "report_id": report.report_id,
        "source": report.source,
        "findings": report.findings,
        "impression": report.impression,
        "summary": summary,
        "labels": labels,
        "split": split_for(report.report_id),
        "render": _jsonable(truth),
        "synthetic": True,
        "text_synthetic": False,
    }


def _read_partial(path: Path) -> dict[str, dict]:
    done: dict[str, dict] = {}
    if not path.exists():
        return done
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by an interrupted run
        done[record["report_id"]] = record
    return done


def iter_kept(reports: Iterable[Report]) -> Iterator[tuple[Report, str]]:
    for report in reports:
        result = summarize_report(report)
        if result.kept:
            yield report, result.summary


def make_cxr_dataset(out_dir: str | Path, config: MakeCxrConfig = MakeCxrConfig(), *,
                     reports: list[Report] | None = None, progress: Callable | None = None) -> dict:
    """Build the dataset under ``out_dir``; returns counts. ``progress(iterable, total)`` wraps the loop."""
    from radscribe.cxr.render import render_cxr  # the renderer loads lung masks lazily

    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    partial = out / PARTIAL
    done = _read_partial(partial)
    if not done and (out / ANNOTATIONS).exists():  # a finished earlier run: its records count as done
        done = _read_partial(out / ANNOTATIONS)
    pool = ordered_reports(reports if reports is not None else load_iu_xray_reports(), config.seed)
    chosen: list[tuple[Report, str]] = []
    for item in iter_kept(pool):
        chosen.append(item)
        if config.n is not None and len(chosen) >= config.n:
            break
    records: list[dict] = []
    reused = 0
    loop = progress(chosen, len(chosen)) if progress else chosen
    with partial.open("a") as log:
        for report, summary in loop:
            name = f"images/{safe_name(report.report_id)}.png"
            old = done.get(report.report_id)
            if old and (out / name).exists() and old.get("render", {}).get("size") == config.size:
                records.append(old)
                reused += 1
                continue
            labels = label_report(summary)
            rendered = render_cxr(summary, seed=image_seed(report.report_id, config.seed), size=config.size)
            write_png_atomic(out / name, np.clip(np.rint(rendered.image * 255), 0, 255).astype(np.uint8))
            record = make_record(report, summary, labels, name, rendered.truth)
            log.write(json.dumps(record) + "\n")
            log.flush()
            records.append(record)
    atomic_write_text(out / ANNOTATIONS, "".join(json.dumps(r) + "\n" for r in records))
    partial.unlink(missing_ok=True)
    write_preview(out, records[: config.preview_count], out / "preview.png")
    counts = summarize_counts(records)
    atomic_write_text(out / "README.md", dataset_card(counts, config))
    return {"written": len(records) - reused, "reused": reused, **counts}


def summarize_counts(records: list[dict]) -> dict:
    splits: dict[str, int] = {}
    positives: dict[str, int] = {}
    for r in records:
        splits[r["split"]] = splits.get(r["split"], 0) + 1
        for obs, value in r["labels"].items():
            if value == 1:
                positives[obs] = positives.get(obs, 0) + 1
    return {"total": len(records), "splits": splits, "positives": dict(sorted(positives.items(), key=lambda kv: -kv[1]))}


def caption(labels: dict) -> str:
    pos = [k for k, v in labels.items() if v == 1 and k != "No Finding"]
    unc = [k + "?" for k, v in labels.items() if v == -1]
    return ", ".join(pos + unc) or "no finding"


def write_preview(out: Path, records: list[dict], path: Path, thumb: int = 256) -> None:
    """A grid of thumbnails with each one's positive labels written under it, marked SYNTHETIC."""
    if not records:
        return
    cols = 4
    rows = (len(records) + cols - 1) // cols
    pad = 30
    sheet = Image.new("L", (cols * thumb, rows * (thumb + pad) + 20), 0)
    draw = ImageDraw.Draw(sheet)
    draw.text((4, rows * (thumb + pad) + 4), "SYNTHETIC images (radscribe renderer) paired with REAL IU-Xray report text", fill=255)
    for i, record in enumerate(records):
        image = Image.open(out / record["image"]).convert("L").resize((thumb, thumb), Image.BILINEAR)
        x, y = (i % cols) * thumb, (i // cols) * (thumb + pad)
        sheet.paste(image, (x, y))
        text = caption(record["labels"])
        draw.text((x + 3, y + thumb + 2), text[:42], fill=255)
        if len(text) > 42:
            draw.text((x + 3, y + thumb + 14), text[42:84], fill=255)
    write_png_atomic(path, np.asarray(sheet))


def dataset_card(counts: dict, config: MakeCxrConfig) -> str:
    splits = ", ".join(f"{k}: {v}" for k, v in sorted(counts["splits"].items()))
    positives = "\n".join(f"| {k} | {v} |" for k, v in counts["positives"].items())
    return f"""# Synthetic chest radiographs with real report text

**SYNTHETIC images paired with REAL report text.** Every image here was drawn by radscribe's renderer
(`radscribe.cxr.render`); no image comes from a patient. The text (findings, impression) is real
de-identified IU-Xray (Open-i) report text; the summary is radscribe's XrayGPT-style rewrite of it.
Each image was rendered to agree with the labels of its summary (CheXpert observations from
`radscribe.cxr.labeler`; side and size from the text). Lung-field shapes come from real V7 Labs lung
masks shipped in torchxrayvision's wheel.

Use it to train and test the plumbing of an image-text model; do not report clinical accuracy on it.

- records: {counts['total']} ({splits}; split 80/10/10 by a hash of the report id)
- image size: {config.size} x {config.size}, 8-bit PNG, PA view, patient right on image left, dense = bright
- seed: {config.seed}
- `annotations.jsonl`: one record per image: `image`, `report_id`, `findings`, `impression`, `summary`,
  `labels`, `split`, `render` (what was drawn: CTR, findings with side/size/location/bbox, lung-mask source),
  `synthetic: true` (the image), `text_synthetic: false` (the text)
- uncertain (-1) findings are drawn faint with probability 0.5; negated and unmentioned ones are absent
- `preview.png`: the first images with their positive labels

| positive label | images |
|---|---|
{positives}

Made by `radscribe data make-cxr`. See docs/cxr-renderer.md.
"""
