"""`radscribe demo` end to end (without the LLM step, which tests/llm covers): every stage writes its results."""

import json

from typer.testing import CliRunner

from radscribe.cli.main import app


def test_demo_runs_every_stage_and_labels_synthetic_output(tmp_path):
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path), "--no-llm"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (tmp_path / "assess.jsonl").read_text().splitlines()]
    assert len(rows) == 9  # six synthetic cases + three real CT slices
    assert sum(r["synthetic"] for r in rows) == 6
    assert all(0.0 <= r["score"] <= 4.0 and r["caption"] for r in rows)
    real = [r for r in rows if not r["synthetic"]]
    assert all(r["sop_uid"] for r in real)
    truth = [json.loads(line) for line in (tmp_path / "ctiqa_examples" / "truth.jsonl").read_text().splitlines()]
    assert {t["case"] for t in truth} == {"clean", "low-dose", "sparse-view", "motion", "ring", "blur"}
    clean = next(t for t in truth if t["case"] == "clean")
    assert clean["true_score"] >= 3.0 and all(v == "none" for v in clean["true_aspects"].values())
    cxr = json.loads((tmp_path / "cxr" / "cxr.json").read_text())
    assert cxr["synthetic"] is True and cxr["summary"] and cxr["xraygpt"]["answer"]
    assert len(list((tmp_path / "previews").glob("*.png"))) == 4
