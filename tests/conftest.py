"""Shared fixtures: locations of the real DICOM files shipped by pydicom and pydicom-data."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.submodule_search_locations, f"package {name} is not installed"
    return Path(list(spec.submodule_search_locations)[0])


@pytest.fixture(scope="session")
def pydicom_data_dir() -> Path:
    """pydicom-data's files (the package installs as `data_store`)."""
    return _package_dir("data_store") / "data"


@pytest.fixture(scope="session")
def pydicom_test_dir() -> Path:
    return _package_dir("pydicom") / "data" / "test_files"
