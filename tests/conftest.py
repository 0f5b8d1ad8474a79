"""Shared fixtures: locations of the real DICOM files shipped by pydicom and pydicom-data."""

from __future__ import annotations

from pathlib import Path

import pytest

from radscribe import resources


@pytest.fixture(scope="session")
def pydicom_data_dir() -> Path:
    """pydicom-data's files (the package installs as `data_store`)."""
    return resources.pydicom_data_dir()


@pytest.fixture(scope="session")
def pydicom_test_dir() -> Path:
    return resources.pydicom_test_files_dir()
