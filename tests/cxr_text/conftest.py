"""Fixtures for the chest-radiograph text tests: the real IU-Xray reports, parsed once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from radscribe.cxr.reports import Report, load_iu_xray_reports

DATA_DIR = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def report_cache_dir(tmp_path_factory) -> Path:
    """Where this session caches the parsed reports (a temporary folder, not $HOME)."""
    return tmp_path_factory.mktemp("report-cache")


@pytest.fixture(scope="session")
def iu_reports(report_cache_dir) -> list[Report]:
    """All 3,955 real reports, parsed from the archive once per session."""
    return load_iu_xray_reports(cache_dir=report_cache_dir)


@pytest.fixture(scope="session")
def iu_summaries(iu_reports):
    """Rule summaries (or drop reasons) of all 3,955 reports, computed once (about 5 s on one free core)."""
    from radscribe.cxr.summaries import summarize_reports

    return list(summarize_reports(iu_reports))


@pytest.fixture(scope="session")
def reports_by_id(iu_reports) -> dict[str, Report]:
    return {r.report_id: r for r in iu_reports}
