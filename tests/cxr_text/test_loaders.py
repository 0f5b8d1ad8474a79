"""MIMIC-CXR-JPG and Open-i loaders on tiny fixtures built in each dataset's exact on-disk layout."""

from __future__ import annotations

import csv
import gzip
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from radscribe.cxr.loaders import CxrStudy, load_mimic_cxr, load_openi, parse_mimic_report
from radscribe.cxr.reports import iu_xray_archive_path
from radscribe.errors import InputError, NoImagesFoundError

CHEXPERT_COLUMNS = ["Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Enlarged Cardiomediastinum", "Fracture",
                    "Lung Lesion", "Lung Opacity", "No Finding", "Pleural Effusion", "Pleural Other", "Pneumonia",
                    "Pneumothorax", "Support Devices"]

# Laid out like a real MIMIC-CXR free-text report: a title, then upper-case headers with text after blank lines.
MIMIC_REPORT = """                                 FINAL REPORT
 EXAMINATION:  CHEST (PA AND LAT)

 INDICATION:  ___F with new onset ascites  // eval for infection

 TECHNIQUE:  Chest PA and lateral

 COMPARISON:  None.

 FINDINGS:

 There is no focal consolidation, pleural effusion or pneumothorax.  Bilateral
 nodular opacities that most likely represent nipple shadows.  The
 cardiomediastinal silhouette is normal.

 IMPRESSION:

 No acute cardiopulmonary process.
"""

STUDIES = {  # (subject, study): {dicom_id: ViewPosition}
    ("10000032", "50414267"): {"02aa804e-bde0afdd-112c0b34-7bc16630-4e384014": "PA",
                               "174413ec-4ec4c1f7-34ea26b7-c5f994f8-79ef1962": "LATERAL"},
    ("10000032", "53189527"): {"2a2277a9-b0ded155-c0de8eb9-c124d10e-82c5caab": "AP"},
    ("10000764", "57375967"): {"096052b7-d256dc40-453a102b-fa7d01c6-1b22c6b4": "LL",
                               "b79e55c3-735ce5ac-64412506-cdc9ea79-f1af521f": "AP"},
}
SPLITS = {"50414267": "train", "53189527": "validate", "57375967": "test"}


def _write_csv(path: Path, header: list[str], rows: list[list], gz: bool) -> None:
    opener = gzip.open if gz else open
    with opener(path, "wt", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _jpeg(path: Path, value: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8), value, np.uint8)).save(path, "JPEG")


def make_mimic_tree(root: Path, *, gz: bool = True, report_for_last: bool = False) -> Path:
    """A three-study MIMIC-CXR-JPG tree: images, reports and the split / CheXpert / metadata tables."""
    for i, ((subject, study), images) in enumerate(STUDIES.items()):
        study_dir = root / "files" / f"p{subject[:2]}" / f"p{subject}" / f"s{study}"
        for j, dicom_id in enumerate(images):
            _jpeg(study_dir / f"{dicom_id}.jpg", 40 * (i + j))
        if i < 2 or report_for_last:
            study_dir.with_suffix(".txt").write_text(MIMIC_REPORT if i == 0 else "FINDINGS: Small left effusion.\n\n"
                                                     "IMPRESSION: Left pleural effusion.\n")
    suffix = ".csv.gz" if gz else ".csv"
    dicoms = [(d, s, subj, v) for (subj, s), images in STUDIES.items() for d, v in images.items()]
    _write_csv(root / f"mimic-cxr-2.0.0-split{suffix}", ["dicom_id", "study_id", "subject_id", "split"],
               [[d, s, subj, SPLITS[s]] for d, s, subj, _ in dicoms], gz)
    chexpert_rows = [["10000032", "50414267"] + ["" if c != "No Finding" else "1.0" for c in CHEXPERT_COLUMNS],
                     ["10000032", "53189527"] + [{"Pleural Effusion": "1.0", "Pneumothorax": "0.0", "Edema": "-1.0"}
                                                 .get(c, "") for c in CHEXPERT_COLUMNS]]
    _write_csv(root / f"mimic-cxr-2.0.0-chexpert{suffix}", ["subject_id", "study_id"] + CHEXPERT_COLUMNS, chexpert_rows, gz)
    _write_csv(root / f"mimic-cxr-2.0.0-metadata{suffix}",
               ["dicom_id", "subject_id", "study_id", "PerformedProcedureStepDescription", "ViewPosition", "Rows", "Columns"],
               [[d, subj, s, "CHEST (PA AND LAT)", v, 8, 8] for d, s, subj, v in dicoms], gz)
    return root


@pytest.mark.parametrize("gz", [True, False], ids=["csv.gz", "csv"])
def test_mimic_every_field(tmp_path, gz):
    studies = load_mimic_cxr(make_mimic_tree(tmp_path, gz=gz))
    assert [s.study_id for s in studies] == ["s50414267", "s53189527", "s57375967"]
    first, second, third = studies
    assert isinstance(first, CxrStudy)
    ids = sorted(STUDIES[("10000032", "50414267")])
    assert [p.name for p in first.image_paths] == [f"{i}.jpg" for i in ids]
    assert all(p.is_file() for s in studies for p in s.image_paths)
    assert first.report.image_ids == tuple(ids)
    assert first.report.source == "mimic-cxr" and first.report.report_id == "s50414267"
    assert first.report.findings == ("There is no focal consolidation, pleural effusion or pneumothorax. Bilateral nodular "
                                     "opacities that most likely represent nipple shadows. The cardiomediastinal silhouette "
                                     "is normal.")
    assert first.report.impression == "No acute cardiopulmonary process."
    assert first.report.indication == "___F with new onset ascites // eval for infection"
    assert first.report.comparison == ""  # "None." means absent
    assert first.labels == {"No Finding": 1}
    assert second.labels == {"Edema": -1, "Pleural Effusion": 1, "Pneumothorax": 0}
    assert third.labels is None  # no row in the CheXpert table
    assert [s.split for s in studies] == ["train", "validate", "test"]
    assert first.image_views == ("PA", "LATERAL") and first.view == "PA"
    assert second.view == "AP" and second.frontal_image == second.image_paths[0]
    assert third.image_views == ("LL", "AP") and third.view == "AP"
    assert third.frontal_image == third.image_paths[1]  # the AP image, not the first (lateral) one
    assert third.report.findings == "" and third.report.image_ids == tuple(sorted(STUDIES[("10000764", "57375967")]))
    assert second.report.findings == "Small left effusion." and second.report.impression == "Left pleural effusion."


def test_mimic_split_filter_and_missing_tables(tmp_path):
    root = make_mimic_tree(tmp_path, report_for_last=True)
    assert [s.study_id for s in load_mimic_cxr(root, splits={"test", "validate"})] == ["s53189527", "s57375967"]
    for table in root.glob("mimic-cxr-2.0.0-*.csv.gz"):
        table.unlink()
    studies = load_mimic_cxr(root)  # images and reports alone still load
    assert len(studies) == 3
    assert all(s.labels is None and s.split is None and s.view is None for s in studies)
    assert studies[0].frontal_image == studies[0].image_paths[0]


def test_mimic_errors(tmp_path):
    with pytest.raises(NoImagesFoundError):
        load_mimic_cxr(tmp_path)
    root = make_mimic_tree(tmp_path / "m", gz=False)
    (root / "mimic-cxr-2.0.0-split.csv").write_bytes(b"\xff\xfe\x00bad")  # not UTF-8 text
    with pytest.raises(InputError, match="split"):
        load_mimic_cxr(root)


def test_parse_mimic_report_conclusion_and_history():
    report = parse_mimic_report("HISTORY: cough.\nFINDINGS: Lungs clear.\nCONCLUSION: Normal.", "s1")
    assert (report.indication, report.findings, report.impression) == ("cough.", "Lungs clear.", "Normal.")


def _real_xml(number: int) -> bytes:
    with tarfile.open(iu_xray_archive_path()) as archive:
        return archive.extractfile(f"ecgen-radiology/{number}.xml").read()


def test_openi_every_field(tmp_path, reports_by_id):
    xml_dir = tmp_path / "ecgen-radiology"
    xml_dir.mkdir()
    for number in (1, 2, 10):  # real NLM XML files, copied out of the archive
        (xml_dir / f"{number}.xml").write_bytes(_real_xml(number))
    png_dir = tmp_path / "NLMCXR_png"
    png_dir.mkdir()
    wanted = reports_by_id["CXR1"].image_ids + reports_by_id["CXR2"].image_ids[:1]  # CXR10's images are missing
    for image_id in wanted:
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(png_dir / f"{image_id}.png")
    studies = load_openi(tmp_path)
    assert [s.study_id for s in studies] == ["CXR1", "CXR2", "CXR10"]  # numeric order, not text order
    for study in studies:
        real = reports_by_id[study.study_id]
        assert study.report.source == "openi"
        assert (study.report.findings, study.report.impression, study.report.image_ids) == (
            real.findings, real.impression, real.image_ids)
        assert study.labels is None and study.split is None and study.view is None
        assert study.image_views == tuple(None for _ in study.image_paths)
    assert [p.name for p in studies[0].image_paths] == ["CXR1_1_IM-0001-3001.png", "CXR1_1_IM-0001-4001.png"]
    assert len(studies[1].image_paths) == 1 and studies[2].image_paths == ()
    assert [s.study_id for s in load_openi(tmp_path, require_images=True)] == ["CXR1", "CXR2"]


def test_openi_bad_xml_is_reported_and_skipped(tmp_path):
    (tmp_path / "1.xml").write_bytes(_real_xml(1))
    (tmp_path / "2.xml").write_text("<eCitation><broken>")
    from radscribe.cxr.loaders import iter_openi

    errors: list[InputError] = []
    studies = list(iter_openi(tmp_path, on_error=errors.append))
    assert [s.study_id for s in studies] == ["CXR1"]
    assert len(errors) == 1 and errors[0].path.endswith("2.xml")
    with pytest.raises(NoImagesFoundError):
        load_openi(tmp_path / "nothing-here")
