"""`radscribe report`: one report per study from real DICOMs, structured parts from captions, LLM narrative checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from radscribe.cli.main import app
from radscribe.quality_report import RECOMMENDATIONS, add_narrative, build_reports, recommendation, to_markdown
from radscribe.resources import pydicom_data_dir

runner = CliRunner()
POOR = "Severe streaks across the liver; moderate noise; no metal. Overall quality: poor (score 0.8 of 4)."
FAIR = "Moderate noise throughout; mild blurring of edges. Overall quality: fair (score 2.2 of 4)."
GOOD = "Mild noise; no streaks, no metal, no motion. Overall quality: excellent (score 3.6 of 4)."


@pytest.mark.parametrize("score, key", [(0.0, "repeat"), (1.0, "repeat"), (1.2, "limited"), (2.4, "limited"),
                                        (2.6, "diagnostic"), (4.0, "diagnostic")])
def test_recommendation_rule(score, key):
    assert recommendation(score) == (key, RECOMMENDATIONS[key])


def test_slices_group_into_studies_and_structure_comes_from_captions():
    rows = [{"label": "a", "caption": POOR, "study_uid": "1.1", "position": 2.0},
            {"label": "b", "caption": FAIR, "study_uid": "1.1", "position": 1.0},
            {"label": "c", "caption": GOOD, "study_uid": None}]
    reports = {r.study_uid: r for r in build_reports(rows)}
    assert set(reports) == {"1.1", "file:c"}
    study = reports["1.1"]
    assert [s.label for s in study.slices] == ["b", "a"]  # sorted along the slice position
    assert study.score == pytest.approx(1.5) and study.worst_score == pytest.approx(0.8) and study.category == "fair"
    assert study.aspects["streaks"] == {"worst": "severe", "slices": 1}
    assert study.aspects["noise"] == {"worst": "moderate", "slices": 2}
    assert study.recommendation_key == "limited" and reports["file:c"].recommendation_key == "diagnostic"
    assert "| streaks | severe | 1 of 2 |" in to_markdown(study) and "## Narrative" not in to_markdown(study)


def test_llm_narrative_is_marked_and_cannot_change_the_score(embedded_model):
    study = build_reports([{"label": "a", "caption": POOR, "study_uid": "9"}])[0]
    add_narrative(study, embedded_model, max_new_tokens=40)
    assert study.narrative.strip() and study.llm == "embedded:smollm2-135m-instruct"
    assert study.score == pytest.approx(0.8) and study.recommendation_key == "repeat"
    text = to_markdown(study)
    assert "Written by the LLM" in text and "**0.8 of 4 (poor)**" in text


def test_report_cli_writes_one_report_per_study_and_goes_on_after_a_bad_file(tmp_path):
    data = Path(pydicom_data_dir())
    same_study = [data / "693_UNCI.dcm", data / "693_UNCR.dcm"]
    other = data / "eCT_Supplemental.dcm"
    captions = tmp_path / "captions.jsonl"
    captions.write_text("\n".join(json.dumps({"source": str(p), "caption": c})
                                  for p, c in [(same_study[0], POOR), (same_study[1], FAIR), (other, GOOD)]) + "\n")
    out = tmp_path / "reports"
    args = ["report", *map(str, same_study), str(other), str(tmp_path / "missing.dcm"), "--out", str(out),
            "--captions", str(captions), "--no-llm", "--pdf"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "missing.dcm: no such file" in result.stderr
    markdown = sorted(out.glob("*.md"))
    assert len(markdown) == 2 and len(list(out.glob("*.pdf"))) == 2
    assert all(p.read_bytes()[:5] == b"%PDF-" for p in out.glob("*.pdf"))
    by_uid = {json.loads(p.read_text())["study_uid"]: json.loads(p.read_text()) for p in out.glob("*.json")}
    two = by_uid["1.2.276.0.7230010.3.1.2.296485376.1.1521713414.1800996"]
    assert len(two["slices"]) == 2 and two["score"] == pytest.approx(1.5) and two["narrative"] == ""
    assert len(next(v for k, v in by_uid.items() if k != two["study_uid"])["slices"]) == 2  # 2-frame enhanced CT


def test_report_cli_rejects_a_bad_captions_file(tmp_path):
    bad = tmp_path / "c.jsonl"
    bad.write_text("not json\n")
    result = runner.invoke(app, ["report", str(Path(pydicom_data_dir()) / "693_UNCI.dcm"), "--out", str(tmp_path),
                                 "--captions", str(bad), "--no-llm"])
    assert result.exit_code == 2 and "line 1: expected a JSON object" in result.output
