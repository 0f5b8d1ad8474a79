"""render-cxr and make-cxr from the command line, on real IU-Xray text."""

import json

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from radscribe.cli.main import app

runner = CliRunner()


def test_render_cxr_writes_an_8bit_png_and_truth(tmp_path):
    out, truth = tmp_path / "e.png", tmp_path / "e.json"
    result = runner.invoke(app, ["data", "render-cxr", "--report", "Large left pleural effusion. Heart size is normal.",
                                 "-o", str(out), "--size", "128", "--seed", "1", "--truth", str(truth)])
    assert result.exit_code == 0, result.output
    image = Image.open(out)
    assert image.mode == "L" and image.size == (128, 128)
    record = json.loads(truth.read_text())
    assert record["synthetic"] is True and record["findings"][0]["side"] == "left"
    assert record["labels"]["Pleural Effusion"] == 1


def test_render_cxr_without_text_is_a_one_line_error(tmp_path):
    result = runner.invoke(app, ["data", "render-cxr", "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 2 and "error:" in result.output
    assert not (tmp_path / "x.png").exists()


def test_make_cxr_writes_dataset_and_resumes(tmp_path):
    args = ["data", "make-cxr", "--out", str(tmp_path), "--n", "3", "--size", "96", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "annotations.jsonl").read_text().splitlines()
    assert len(lines) == 3
    for line in lines:
        rec = json.loads(line)
        assert rec["synthetic"] is True and rec["text_synthetic"] is False
        assert rec["split"] in ("train", "val", "test") and rec["summary"] and rec["findings"]
        assert np.asarray(Image.open(tmp_path / rec["image"])).shape == (96, 96)
    assert "SYNTHETIC images paired with REAL report text" in (tmp_path / "README.md").read_text()
    assert (tmp_path / "preview.png").exists()
    stamp = (tmp_path / json.loads(lines[0])["image"]).stat().st_mtime_ns
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and json.loads(again.output)["reused"] == 3
    assert (tmp_path / json.loads(lines[0])["image"]).stat().st_mtime_ns == stamp
