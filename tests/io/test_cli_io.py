"""`radscribe info` and `view` end to end, as a user runs them (a real subprocess)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "radscribe", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def test_info_json_on_real_ct_and_cr(pydicom_data_dir):
    result = run("info", "--json", pydicom_data_dir / "explicit_VR-UN.dcm", pydicom_data_dir / "RG1_J2KR.dcm")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["modality"] for r in records] == ["CT", "CR"]
    assert records[0]["units"] == "HU" and records[0]["min"] == -1024.0
    assert records[1]["photometric"] == "MONOCHROME1" and "JPEG 2000" in records[1]["transfer_syntax"]


def test_info_folder_with_bad_files_reports_each_and_goes_on(tmp_path, pydicom_data_dir, pydicom_test_dir):
    shutil.copy(pydicom_data_dir / "explicit_VR-UN.dcm", tmp_path / "a_good.dcm")
    shutil.copy(pydicom_test_dir / "CT_small.dcm", tmp_path / "c_good.dcm")
    (tmp_path / "b_noise.dcm").write_bytes(b"\x00\x01garbage" * 50)
    shutil.copy(pydicom_test_dir / "rtplan.dcm", tmp_path / "d_plan.dcm")
    result = run("info", "--json", tmp_path)
    assert result.returncode == 2
    good = {json.loads(line)["path"].split("/")[-1] for line in result.stdout.splitlines()}
    assert good == {"a_good.dcm", "c_good.dcm"}
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 2, result.stderr
    assert any("b_noise.dcm" in e and "not a DICOM file" in e for e in errors)
    assert any("d_plan.dcm" in e and "no pixel data" in e for e in errors)
    assert "Traceback" not in result.stderr


def test_info_table(pydicom_data_dir):
    result = run("info", pydicom_data_dir / "eCT_Supplemental.dcm")
    assert result.returncode == 0 and "eCT_Supplemental" in result.stdout and "HU" in result.stdout


def test_view_writes_windowed_png(tmp_path, pydicom_data_dir):
    out = tmp_path / "preview.png"
    result = run("view", pydicom_data_dir / "explicit_VR-UN.dcm", "--window", "abdomen", "-o", out)
    assert result.returncode == 0, result.stderr
    png = np.asarray(Image.open(out))
    assert png.shape == (512, 512) and png.dtype == np.uint8
    assert png[0, 0] == 0  # air below the window
    assert png[256, 256] == round((-27 + 160) / 400 * 255)  # -27 HU in W400/L40


def test_view_bad_window_and_empty_folder_one_line_errors(tmp_path, pydicom_data_dir):
    result = run("view", pydicom_data_dir / "explicit_VR-UN.dcm", "--window", "soft", "-o", tmp_path / "x.png")
    assert result.returncode == 2 and "unknown window 'soft'" in result.stderr and "Traceback" not in result.stderr
    (tmp_path / "empty").mkdir()
    result = run("info", tmp_path / "empty")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1


def test_view_tiff_declared_hu(tmp_path):
    import tifffile

    hu = np.full((64, 64), 40.0, np.float32)  # soft tissue at the ldct level: mid-grey
    tifffile.imwrite(tmp_path / "ldct.tif", hu)
    result = run("view", tmp_path / "ldct.tif", "--hu", "--window", "ldct", "-o", tmp_path / "p.png")
    assert result.returncode == 0, result.stderr
    assert np.asarray(Image.open(tmp_path / "p.png"))[10, 10] == 128
    result = run("info", "--json", "--hu", "--hu-intercept", "-1000", tmp_path / "ldct.tif")
    assert json.loads(result.stdout)["min"] == -960.0 and json.loads(result.stdout)["units"] == "HU"


def test_info_missing_path_does_not_stop_the_batch(tmp_path, pydicom_test_dir):
    result = run("info", "--json", tmp_path / "missing.dcm", pydicom_test_dir / "CT_small.dcm")
    assert result.returncode == 2
    assert "missing.dcm: no such file or folder" in result.stderr
    assert json.loads(result.stdout)["modality"] == "CT"
