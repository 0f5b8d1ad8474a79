"""A tiny SYNTHETIC dataset in the make-cxr annotations.jsonl schema, and a tiny trained checkpoint.

Images come from radscribe's renderer (synthetic) and texts from real IU-Xray summaries, like
`radscribe data make-cxr`; sizes and step counts are minimal so the whole area runs in seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

TINY_SIZE = 64


def make_tiny_dataset(folder: Path, n: int = 24, size: int = TINY_SIZE) -> Path:
    from radscribe.cxr.labeler import label_report
    from radscribe.cxr.render import render_cxr
    from radscribe.cxr.reports import load_iu_xray_reports
    from radscribe.cxr.summaries import summarize_report

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "images").mkdir(exist_ok=True)
    rows = []
    for report in load_iu_xray_reports():
        result = summarize_report(report)
        if not result.kept:
            continue
        i = len(rows)
        labels = label_report(result.summary)
        rendered = render_cxr(result.summary, seed=i, size=size)
        name = f"images/{i:04d}.png"
        Image.fromarray((rendered.image * 255).round().astype(np.uint8)).save(folder / name)
        split = "test" if i % 6 == 0 else "validate" if i % 6 == 1 else "train"
        rows.append({"image": name, "report_id": report.report_id, "findings": report.findings,
                     "impression": report.impression, "summary": result.summary, "labels": labels,
                     "split": split, "synthetic": True})
        if len(rows) == n:
            break
    (folder / "annotations.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    return make_tiny_dataset(tmp_path_factory.mktemp("cxr"))


TINY_CONFIG = {
    "encoder": {"steps": 3, "batch_size": 8, "warmup": 1,
                "encoder": {"image_size": TINY_SIZE, "widths": [8, 16], "token_dim": 32, "grid": 2, "embed_dim": 16}},
    "llm": {"steps": 2, "batch_size": 2, "warmup": 1, "max_answer_tokens": 16, "lora": {"rank": 2}},
    "projection": {"stage1_steps": 2, "stage2_steps": 2, "batch_size": 2, "warmup": 1, "max_answer_tokens": 16,
                   "select_every": 1, "select_examples": 4},
    "extra_report_text": False,
    "perplexity_examples": 2,
    "guidance": 1.5,  # written to the manifest: chat's and the benchmark's default
}


@pytest.fixture(scope="session")
def tiny_config() -> dict:
    return json.loads(json.dumps(TINY_CONFIG))  # a copy a test may change


@pytest.fixture(scope="session")
def tiny_run(tiny_data, tmp_path_factory) -> Path:
    """Train the whole pipeline with minimal steps through the CLI; returns the output folder."""
    from typer.testing import CliRunner

    from radscribe.cli.main import app

    out = tmp_path_factory.mktemp("run")
    config = out / "tiny.json"
    config.write_text(json.dumps(TINY_CONFIG))
    result = CliRunner().invoke(app, ["xraygpt", "train", "--data", str(tiny_data), "--out", str(out),
                                      "--config", str(config), "--threads", "1"])
    assert result.exit_code == 0, result.output
    return out
