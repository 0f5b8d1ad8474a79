"""`radscribe info` and `radscribe view`: look at what a file holds before doing anything with it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from radscribe.cli.app import app, console, handle_errors, report_error, track
from radscribe.cli.options import HU_INTERCEPT_OPTION, HU_OPTION, hu_mapping
from radscribe.errors import EXIT_BAD_INPUT, RadscribeError, UnsupportedImageError
from radscribe.io import MedicalImage, expand_paths, read_image, write_png_atomic
from radscribe.io.display import chosen_window, display_unit
from radscribe.io.windowing import to_uint8


def summarize(path: Path, images: list[MedicalImage]) -> dict:
    """One record per file: what a user needs to know before processing it."""
    first = images[0]
    lo = float(min(im.pixels.min() for im in images))
    hi = float(max(im.pixels.max() for im in images))
    meta = first.meta
    return {
        "path": str(path),
        "format": meta.format,
        "modality": meta.modality,
        "body_part": meta.body_part,
        "frames": len(images),
        "rows": first.shape[0],
        "columns": first.shape[1],
        "pixel_spacing_mm": meta.pixel_spacing,
        "slice_thickness_mm": meta.slice_thickness,
        "units": meta.units,
        "min": round(lo, 3),
        "max": round(hi, 3),
        "photometric": meta.photometric,
        "transfer_syntax": meta.transfer_syntax,
        "kvp": meta.kvp,
        "study_uid": meta.study_uid,
        "series_uid": meta.series_uid,
        "sop_uid": meta.sop_uid,
    }


def _table(record: dict) -> Table:
    """A two-column table for one file: it stays readable in an 80-column terminal."""
    r = record
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column("field", style="bold cyan", no_wrap=True)
    table.add_column("value", overflow="fold")
    spacing = " x ".join(f"{v:.4g}" for v in r["pixel_spacing_mm"]) + " mm" if r["pixel_spacing_mm"] else "-"
    rows = [
        ("modality", f"{r['modality'] or '-'}" + (f" ({r['body_part']})" if r["body_part"] else "")),
        ("size", f"{r['columns']} x {r['rows']}" + (f", {r['frames']} slices" if r["frames"] > 1 else "")),
        ("pixel spacing", spacing),
        ("slice thickness", f"{r['slice_thickness_mm']:g} mm" if r["slice_thickness_mm"] else "-"),
        ("value range", f"{r['min']:.6g} .. {r['max']:.6g} {r['units']}"),
        ("photometric", r["photometric"] or "-"),
        ("transfer syntax", r["transfer_syntax"] or "-"),
        ("kVp", f"{r['kvp']:g}" if r["kvp"] else "-"),
    ]
    for field, value in rows:
        table.add_row(field, value)
    return table


@app.command("info")
@handle_errors
def info(
    paths: list[Path] = typer.Argument(..., help="Files or folders (DICOM, NIfTI, PNG/JPEG/TIFF). Folders are walked and series sorted."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per file (JSON Lines) instead of a table."),
    hu: bool = HU_OPTION,
    hu_intercept: float = HU_INTERCEPT_OPTION,
) -> None:
    """Show what each image holds: modality, size, spacing, value range (HU for CT), photometric, transfer syntax.

    Examples:

      radscribe info scan.dcm

      radscribe info study_folder/ --json > info.jsonl

    Bad files are reported one line each on stderr; the others are still shown; exit status 2 if any was bad.
    """
    errors: list[RadscribeError] = []
    files = expand_paths(paths, errors)
    for error in errors:
        report_error(error)
    bad = len(errors)
    mapping = hu_mapping(hu, hu_intercept)
    for path in track(files, total=len(files), description="reading"):
        try:
            result = read_image(path, hu=mapping)
        except RadscribeError as error:
            report_error(error)
            bad += 1
            continue
        record = summarize(path, result)
        if as_json:
            print(json.dumps(record), flush=True)
        else:
            console.print(f"[bold]{record['path']}[/]", highlight=False, soft_wrap=True)
            console.print(_table(record), "")
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)


@app.command("view")
@handle_errors
def view(
    path: Path = typer.Argument(..., help="One image file (DICOM, NIfTI, PNG/JPEG/TIFF)."),
    output: Path = typer.Option(..., "--output", "-o", help="PNG to write (8-bit greyscale)."),
    window: Optional[str] = typer.Option(
        None, "--window", "-w",
        help="Preset (abdomen, ldct, lung, mediastinum, brain, bone) or width/level like W400/L40. Default: abdomen for CT.",
    ),
    frame: int = typer.Option(0, "--frame", "-f", help="Slice or frame index for multi-frame files and volumes."),
    hu: bool = HU_OPTION,
    hu_intercept: float = HU_INTERCEPT_OPTION,
) -> None:
    """Write a preview PNG of one slice through a display window.

    Examples:

      radscribe view chest.dcm --window lung -o chest.png

      radscribe view slice.tif --hu --window ldct -o slice.png   (an LDCTIQAC TIFF holding HU)
    """
    images = read_image(path, hu=hu_mapping(hu, hu_intercept))
    if not 0 <= frame < len(images):
        raise UnsupportedImageError(path, f"frame {frame} requested but the file has {len(images)}")
    image = images[frame]
    unit = display_unit(image, window)
    write_png_atomic(output, to_uint8(unit))
    console.print(f"wrote {output} ({image.shape[1]}x{image.shape[0]}, {describe_window(image, window)})", highlight=False)


def describe_window(image: MedicalImage, window: Optional[str]) -> str:
    chosen = chosen_window(image, window)
    return str(chosen) if chosen else "display values as stored" if image.meta.units == "display" else "auto range"

