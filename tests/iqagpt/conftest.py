"""A tiny real CT-IQA dataset (SYNTHETIC: phantoms, simulated scans, the real annotation and caption
code) and a tiny captioner trained on it, built once per test session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    from radscribe.ctiqa.dataset import DatasetConfig, make_dataset

    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("ctiqa") / "data"
    make_dataset(DatasetConfig(out=str(out), n=30, size=128, seed=3))
    # Re-split by index so a 30-slice set surely has test and val slices (the writer splits by patient).
    path = out / "annotations.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for i, r in enumerate(records):
        r["split"] = "test" if i % 6 == 0 else "val" if i % 6 == 1 else "train"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return out


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_data, tmp_path_factory) -> Path:
    from radscribe.iqagpt.train import get_config, train_captioner

    out = tmp_path_factory.mktemp("ckpt") / "captioner"
    train_captioner(tiny_data, out, get_config("tiny", epochs=1, threads=1), command="pytest")
    return out
