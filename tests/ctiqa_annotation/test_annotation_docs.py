"""docs/ctiqa-annotation.md prints the live thresholds table and version (no silent drift)."""

from __future__ import annotations

from pathlib import Path

from radscribe.ctiqa.annotation import PROTOCOL_VERSION
from radscribe.ctiqa.annotation.protocol import POOLING_P, thresholds_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "ctiqa-annotation.md"


def test_doc_prints_the_thresholds_table_and_version():
    text = DOC.read_text()
    assert thresholds_markdown() in text
    assert PROTOCOL_VERSION in text
    assert f"P = {POOLING_P:g}" in text
