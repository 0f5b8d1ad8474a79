"""Options shared by commands that read images, defined once so their meaning never drifts."""

from __future__ import annotations

from typing import Optional

import typer

from radscribe.io import HUMapping

HU_OPTION = typer.Option(
    False, "--hu", help="PNG/TIFF pixel values are Hounsfield units (e.g. LDCTIQAC TIFFs). DICOM ignores this."
)
HU_INTERCEPT_OPTION = typer.Option(
    0.0, "--hu-intercept", help="With --hu: HU = value + intercept (e.g. -1024 for PNGs storing HU+1024).", show_default=True
)


def hu_mapping(hu: bool, intercept: float) -> Optional[HUMapping]:
    return HUMapping(1.0, intercept) if hu else None
