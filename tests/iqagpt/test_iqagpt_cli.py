"""`radscribe assess` / `train captioner` / `benchmark ctiqa` and the Assessor API on real files
(a tiny SYNTHETIC dataset, the real CT_small.dcm from pydicom, and a broken file)."""

import csv
import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from radscribe.cli.main import app
from radscribe.errors import UnsupportedImageError
from radscribe.io import read_image
from radscribe.iqagpt import load_assessor

runner = CliRunner()
ROW_FIELDS = {"path", "slice", "score", "category", "aspects", "caption", "model"}


def test_assess_cli_batch_with_bad_file_json_csv_heatmaps(tiny_data, tiny_checkpoint, pydicom_test_dir, tmp_path):
    bad = tmp_path / "broken.dcm"
    bad.write_bytes(b"not a dicom at all")
    png = tiny_data / "images" / "000000.png"
    out_csv, maps = tmp_path / "q.csv", tmp_path / "maps"
    result = runner.invoke(app, ["assess", str(pydicom_test_dir / "CT_small.dcm"), str(bad), str(png), "--model",
                                 str(tiny_checkpoint), "--json", "--csv", str(out_csv), "--heatmap", str(maps)])
    assert result.exit_code == 2
    assert "broken.dcm" in result.stderr and result.stderr.count("error:") == 1
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(rows) == 2 and all(ROW_FIELDS <= set(r) for r in rows)
    assert rows[0]["sop_uid"] and "sop_uid" not in rows[1]
    assert set(rows[0]["aspects"]) == {"noise", "streaks", "metal", "motion", "ring", "blur"}
    with open(out_csv) as f:
        assert [r["path"] for r in csv.DictReader(f)] == [rows[0]["path"], rows[1]["path"]]
    pngs = sorted(p.name for p in maps.glob("*.png"))
    assert pngs == ["000000.png", "CT_small.png"]
    assert Image.open(maps / pngs[0]).size[0] > 256


def test_assessor_api_fields_and_score_range(tiny_data, tiny_checkpoint):
    images = read_image(tiny_data / "images" / "000001.png")
    [row] = load_assessor(tiny_checkpoint).assess(images)
    assert ROW_FIELDS <= set(row) and row["path"].endswith("000001.png")
    assert row["score"] is None or 0.0 <= row["score"] <= 4.0
    assert isinstance(row["caption"], str)


def test_screenshot_needs_window(tiny_checkpoint, tmp_path):
    path = tmp_path / "shot.png"
    Image.fromarray(np.full((64, 64), 128, np.uint8)).save(path)
    images = read_image(path)
    with pytest.raises(UnsupportedImageError, match="--window"):
        load_assessor(tiny_checkpoint).assess(images)
    [row] = load_assessor(tiny_checkpoint, window="ldct").assess(images)
    assert row["path"] == str(path)


def test_train_cli_resumes(tiny_data, tmp_path):
    out = tmp_path / "run"
    args = ["train", "captioner", "--data", str(tiny_data), "--out", str(out), "--config", "tiny", "--threads", "1"]
    assert runner.invoke(app, args + ["--epochs", "1"]).exit_code == 0
    first = json.loads((out / "manifest.json").read_text())["history"]
    assert runner.invoke(app, args + ["--epochs", "2"]).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert [h["epoch"] for h in manifest["history"]] == [1, 2] and manifest["history"][0] == first[0]
    assert manifest["train_config"]["epochs"] == 2 and manifest["data"]["synthetic"] is True


def test_benchmark_cli_tiny(tiny_data, tiny_checkpoint, tmp_path):
    out = tmp_path / "report"
    result = runner.invoke(app, ["benchmark", "ctiqa", "--data", str(tiny_data), "--out", str(out), "--model",
                                 str(tiny_checkpoint), "--tiny", "--llm-subset", "0", "--threads", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["synthetic"] is True
    names = [m["method"] for m in report["splits"][0]["methods"]]
    for expected in ("multitask_classification", "multitask_classification_ordinal", "multitask_regression", "clip_iqa",
                     "noise_sigma", "Q-Align"):
        assert any(expected in n for n in names)
    assert "SYNTHETIC" in (out / "report.md").read_text()
    assert all((out / p).is_file() for p in report["plots"])
    assert "bleu4" in report["splits"][0]["methods"][0]["captions"]
