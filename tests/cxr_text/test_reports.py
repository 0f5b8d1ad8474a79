"""The 3,955 real IU-Xray reports from torchxrayvision's wheel: count, sections, image ids, the JSON cache."""

from __future__ import annotations

import json
import re

import pytest

from radscribe.cxr.reports import (
    IU_XRAY_REPORT_COUNT,
    Report,
    clean_section,
    iter_openi_archive,
    iu_xray_archive_path,
    load_iu_xray_reports,
    parse_openi_xml,
)
from radscribe.errors import InputError

# Open-i image ids: CXR<report>_<series>_IM-<nnnn>-<nnnn>; some lack the series, some add a "-0001".
IMAGE_ID = re.compile(r"CXR(\d+)_(?:\d+_)?IM-\d{4}(?:-\d+)+")


def test_archive_holds_3955_reports(iu_reports):
    assert IU_XRAY_REPORT_COUNT == 3955
    assert len(iu_reports) == 3955
    assert len({r.report_id for r in iu_reports}) == 3955  # one XML per report, ids unique
    assert all(r.source == "iu-xray" for r in iu_reports)


def test_sections_present_for_the_expected_share(iu_reports):
    # Counted once from the archive (torchxrayvision 1.5.7 wheel); the share is what matters, the exact
    # numbers pin the parser: 3,425 reports have FINDINGS, 3,921 IMPRESSION, 3,419 both, 28 neither.
    findings = sum(bool(r.findings) for r in iu_reports)
    impression = sum(bool(r.impression) for r in iu_reports)
    both = sum(bool(r.findings and r.impression) for r in iu_reports)
    assert (findings, impression, both) == (3425, 3921, 3419)
    assert sum(not r.findings and not r.impression for r in iu_reports) == 28
    # Sections are squeezed to single spaces, never the literal "None".
    assert not any(re.search(r"\s{2,}|^\s|\s$", r.findings + "|" + r.impression) for r in iu_reports)
    assert not any(r.findings.lower() == "none" for r in iu_reports)


def test_image_ids_parsed(iu_reports):
    ids = [i for r in iu_reports for i in r.image_ids]
    assert len(ids) == 7470  # the Open-i chest X-ray collection's 7,470 images
    assert sum(bool(r.image_ids) for r in iu_reports) == 3851
    for report in iu_reports:
        for image_id in report.image_ids:
            match = IMAGE_ID.fullmatch(image_id)
            assert match and f"CXR{match.group(1)}" == report.report_id, image_id


def test_first_report_exact(reports_by_id):
    first = reports_by_id["CXR1"]
    assert first.image_ids == ("CXR1_1_IM-0001-3001", "CXR1_1_IM-0001-4001")
    assert first.impression == "Normal chest x-XXXX."
    assert first.indication == "Positive TB test"
    assert first.findings.startswith("The cardiac silhouette and mediastinum size are within normal limits.")
    assert first.text == first.findings + " " + first.impression


def test_cache_round_trip_and_invalidation(tmp_path, report_cache_dir, iu_reports):
    cache_file = report_cache_dir / "iu_xray_reports.json"
    assert cache_file.is_file()  # written when the session fixture parsed the archive
    assert load_iu_xray_reports(cache_dir=report_cache_dir) == iu_reports  # read back from the cache
    (tmp_path / "iu_xray_reports.json").write_text("{not json")  # a broken cache is ignored and rewritten
    assert load_iu_xray_reports(cache_dir=tmp_path) == iu_reports
    assert json.loads((tmp_path / "iu_xray_reports.json").read_text())["key"]["size"] == iu_xray_archive_path().stat().st_size


def test_report_dict_round_trip(iu_reports):
    for report in iu_reports[:50]:
        assert Report.from_dict(report.to_dict()) == report


@pytest.mark.parametrize("raw, expected", [("  None. ", ""), ("n/a", ""), ("Heart  is\n normal.", "Heart is normal."), (None, "")])
def test_clean_section(raw, expected):
    assert clean_section(raw) == expected


def test_parse_openi_xml_bad_input_names_the_file():
    with pytest.raises(InputError) as caught:
        parse_openi_xml(b"<eCitation><unclosed>", name="broken.xml")
    assert "broken.xml" in str(caught.value)


def test_archive_path_points_into_the_wheel_without_importing_it():
    import sys

    path = iu_xray_archive_path()
    assert path.name == "NLMCXR_reports.tgz" and "torchxrayvision" in str(path)
    assert "torchxrayvision" not in sys.modules


def test_unreadable_archive_is_an_input_error(tmp_path):
    bad = tmp_path / "reports.tgz"
    bad.write_bytes(b"not a tar file")
    with pytest.raises(InputError):
        list(iter_openi_archive(bad))
