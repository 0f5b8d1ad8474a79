"""The dataset card and preview grid, the held-out real split, and --real anatomy, through the CLI."""

from __future__ import annotations

import collections
import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from radscribe.cli.main import app
from radscribe.ctiqa.dataset import read_records
from radscribe.ctiqa.dataset.grid import COLUMNS, ROWS
from radscribe.ctiqa.phantoms import heldout_real_ct_paths

runner = CliRunner()


@pytest.fixture(scope="module")
def card_dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("card") / "ds"
    result = runner.invoke(app, ["data", "make-ctiqa", "--out", str(out), "--n", "4", "--size", "128",
                                 "--anatomies", "head,pelvis", "--per-patient", "1"])
    assert result.exit_code == 0, result.output
    return out


def test_make_ctiqa_cli_writes_card_and_grid(card_dataset):
    out = card_dataset
    records = read_records(out)
    assert [r["anatomy"] for r in records] == ["head", "pelvis", "head", "pelvis"]
    card = (out / "README.md").read_text()
    assert "SYNTHETIC" in card and "ctiqa-annotation" in card and "| head | 2 |" in card
    assert "--anatomies head,pelvis --per-patient 1`" in card  # no flag beyond the defaults
    for png in ("plots/score_hist.png", "plots/aspect_severity.png", "preview_grid.png"):
        assert f"({png})" in card
        assert Image.open(out / png).size[0] > 200
    grid = Image.open(out / "preview_grid.png")
    assert grid.mode == "L"
    stats = json.loads((out / "card.json").read_text())
    assert stats["n"] == 4 and sum(stats["by_split"].values()) == 4


def test_grid_rows_grow_worse_to_the_right(card_dataset):
    info = json.loads((card_dataset / "preview_grid.json").read_text())
    assert len(info["cells"]) == len(ROWS) * len(COLUMNS) and info["synthetic"] is True and info["size"] == 128
    scores = np.array([c["score"] for c in info["cells"]]).reshape(len(ROWS), len(COLUMNS))
    assert (scores[:, 0] >= 3.4).all(), scores  # the "none" column is clean
    assert (np.diff(scores, axis=1) <= 0.2).all(), scores  # and it only gets worse to the right (0.2 = score step)
    # Every row but the sparse-view one ends far worse. At 128 px the streak measure has no room for its
    # 64-px tiles and 90 views nearly suffice for 128 px, so that row is checked at 256 px below.
    streak_row = list(ROWS).index("streaks (sparse view)")
    assert (np.delete(scores[:, -1], streak_row) <= 2.0).all(), scores


def test_grid_sparse_view_row_at_256(tmp_path):
    from radscribe.ctiqa.dataset.grid import preview_grid

    info = preview_grid(tmp_path / "g.png", size=256, crop=1.0, rows=("streaks (sparse view)",))
    scores = [c["score"] for c in info["cells"]]
    aspects = [c["aspects"]["streaks"] for c in info["cells"]]
    assert scores[0] >= 3.4 and scores[-1] < scores[0], scores
    assert aspects[0] == "none" and aspects[-1] != "none", aspects


@pytest.mark.skipif(not heldout_real_ct_paths(), reason="pydicom-data not installed")
def test_heldout_real_split(tmp_path):
    out = tmp_path / "heldout"
    result = runner.invoke(app, ["data", "make-ctiqa-heldout", "--out", str(out), "--per-slice", "1",
                                 "--size", "128", "--no-card"])
    assert result.exit_code == 0, result.output
    records = read_records(out)
    assert len(records) >= 5 and {r["split"] for r in records} == {"test-real"}
    assert all(r["synthetic_anatomy"] is False and r["synthetic"] is True for r in records)
    assert {r["anatomy_id"] for r in records}.isdisjoint({"abdomen-000000", "chest-000001"})
    assert all(r["source"] != "phantom" for r in records)


def test_real_folder_as_anatomy(tmp_path, pydicom_test_dir):
    out = tmp_path / "real"
    result = runner.invoke(app, ["data", "make-ctiqa", "--out", str(out), "--n", "2", "--size", "128",
                                 "--real", str(pydicom_test_dir / "CT_small.dcm"), "--no-card"])
    assert result.exit_code == 0, result.output
    records = read_records(out)
    assert {r["split"] for r in records} == {"real"} and records[0]["anatomy_id"] == records[1]["anatomy_id"]


def test_real_folder_without_ct_is_bad_input(tmp_path, pydicom_test_dir):
    result = runner.invoke(app, ["data", "make-ctiqa", "--out", str(tmp_path / "r"), "--n", "2", "--size", "128",
                                 "--real", str(pydicom_test_dir / "MR_small.dcm"), "--no-card"])
    assert result.exit_code == 2 and "MR_small.dcm" in result.output


def test_real_volume_as_training_anatomy(tmp_path):
    """A user's CT volume (here NRRD) becomes training anatomy: its slices are one patient, split by patient."""
    import nrrd

    from radscribe.ctiqa.phantoms import make_phantom

    volume = np.stack([make_phantom("chest", s, 128).hu for s in (3, 4)], axis=-1).transpose(1, 0, 2)  # (x, y, z)
    path = tmp_path / "patient.nrrd"
    nrrd.write(str(path), volume.astype(np.int16), {"space": "left-posterior-superior",
                                                      "space directions": np.diag([2.7, 2.7, 5.0])})
    out = tmp_path / "real-train"
    result = runner.invoke(app, ["data", "make-ctiqa", "--out", str(out), "--n", "4", "--size", "128", "--per-patient",
                                 "1", "--real", str(path), "--real-split", "by-patient", "--no-card"])
    assert result.exit_code == 0, result.output
    records = read_records(out)
    assert {r["split"] for r in records} == {"train"}  # one patient: under 3, all of it trains
    assert {r["anatomy_id"].rsplit("-f", 1)[1] for r in records} == {"0", "1"}
    assert all(r["synthetic_anatomy"] is False and r["source"].endswith(("#0", "#1")) for r in records)


@pytest.mark.skipif(not heldout_real_ct_paths(), reason="pydicom-data not installed")
def test_heldout_slices_cannot_become_training_data(tmp_path):
    held = heldout_real_ct_paths()[0]
    for split in ("train", "by-patient"):
        result = runner.invoke(app, ["data", "make-ctiqa", "--out", str(tmp_path / split), "--n", "2", "--size", "128",
                                     "--real", str(held), "--real-split", split, "--no-card"])
        assert result.exit_code != 0 and "held-out" in result.output and held.name in result.output
        assert not (tmp_path / split).exists()


def test_dicom_slices_of_one_study_are_one_patient(tmp_path, pydicom_test_dir):
    """A user's DICOM series (one file per slice) is one patient for --real-split by-patient, and a copy of a
    held-out slice saved under a new file and SOP UID is still refused (same study)."""
    import pydicom
    from pydicom.uid import generate_uid

    from radscribe.ctiqa.dataset.writer import _refuse_heldout, patient_of
    from radscribe.ctiqa.phantoms.real import real_phantoms
    from radscribe.errors import ConfigError

    source = pydicom.dcmread(pydicom_test_dir / "CT_small.dcm")
    series = tmp_path / "series"
    series.mkdir()
    for study, n in ((generate_uid(), 3), (generate_uid(), 2)):
        for i in range(n):
            source.StudyInstanceUID, source.SOPInstanceUID = study, generate_uid()
            source.save_as(series / f"{study[-6:]}-{i}.dcm")
    phantoms = list(real_phantoms(series, 128))
    assert len({p.anatomy_id for p in phantoms}) == 5  # one id per slice
    assert sorted(collections.Counter(patient_of(p) for p in phantoms).values()) == [2, 3]  # two patients
    _refuse_heldout(phantoms)  # new studies: allowed

    copy = pydicom.dcmread(pydicom_test_dir / "CT_small.dcm")
    copy.SOPInstanceUID = generate_uid()
    copy.save_as(tmp_path / "renamed.dcm")
    with pytest.raises(ConfigError, match="held-out"):
        _refuse_heldout(list(real_phantoms(tmp_path / "renamed.dcm", 128)))


def test_dicom_slices_without_a_study_uid_are_one_patient_per_folder(tmp_path, pydicom_test_dir):
    """Anonymised files with every UID blanked (as TotalSegmentator's example series ships): one folder, one patient."""
    import pydicom

    from radscribe.ctiqa.dataset.writer import patient_of
    from radscribe.ctiqa.phantoms.real import real_phantoms

    source = pydicom.dcmread(pydicom_test_dir / "CT_small.dcm")
    source.StudyInstanceUID = source.SeriesInstanceUID = source.SOPInstanceUID = ""
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        for i in range(2):
            source.save_as(tmp_path / folder / f"CT.{i}.dcm")
    phantoms = list(real_phantoms(tmp_path, 128))
    assert len({p.anatomy_id for p in phantoms}) == 4
    assert sorted(collections.Counter(patient_of(p) for p in phantoms).values()) == [2, 2]
