"""`radscribe demo`: the main job on shipped defaults, so a fresh install shows what radscribe does."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from radscribe.cli.app import app, console, handle_errors
from radscribe.cli.io_commands import summarize
from radscribe.io import read_image, write_png_atomic
from radscribe.io.display import display_unit
from radscribe.io.windowing import to_uint8
from radscribe.resources import pydicom_data_dir

# Real DICOMs shipped in pydicom-data: (file, window) pairs for previews.
REAL_EXAMPLES = [
    ("explicit_VR-UN.dcm", "abdomen"),  # contrast-enhanced abdominal CT, JPEG 2000
    ("693_UNCI.dcm", "brain"),  # head CT
    ("bad_sequence.dcm", "mediastinum"),  # neck CT, JPEG lossless
    ("RG1_UNCI.dcm", None),  # PA chest CR, MONOCHROME1
]


def demo_real_images(out: Path) -> list[dict]:
    """Read the real example DICOMs, write their metadata and windowed previews."""
    records = []
    for name, window in REAL_EXAMPLES:
        path = pydicom_data_dir() / name
        [image] = read_image(path)[:1]
        preview = out / "previews" / f"{Path(name).stem}.png"
        write_png_atomic(preview, to_uint8(display_unit(image, window)))
        record = summarize(path, [image]) | {"preview": str(preview.relative_to(out)), "window": window}
        records.append(record)
        console.print(f"  {name}: {record['modality']} {record['columns']}x{record['rows']} -> {preview}", highlight=False)
    return records


@app.command("demo")
@handle_errors
def demo(
    out: Path = typer.Option(Path("demo-out"), "--out", "-o", help="Folder for everything the demo writes."),
    llm: bool = typer.Option(True, "--llm/--no-llm", help="Also ask the embedded LLM and write quality reports."),
) -> None:
    """Run radscribe's main jobs on shipped defaults and real example files; write results under --out.

    1. previews and metadata of real DICOMs from pydicom-data (CT abdomen/head/neck, chest CR);
    2. six SYNTHETIC CT slices (one per degradation) from the physics simulator, with their protocol truth;
    3. `assess` with the shipped captioner on the synthetic slices and on the real CT (held out of training);
    4. an `ask` to the embedded SmolLM2 about the worst slice, and a quality report per real study;
    5. a SYNTHETIC chest radiograph rendered from a REAL IU-Xray report (and XrayGPT's answer when shipped).

    Example:  radscribe demo --out demo-out
    """
    from radscribe.cli import demo_steps

    out.mkdir(parents=True, exist_ok=True)
    console.rule("Real DICOM examples (pydicom-data)")
    records = demo_real_images(out)
    (out / "real_images.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    console.rule("SYNTHETIC CT slices from the acquisition simulator")
    truths = demo_steps.make_synthetic_ct(out)
    console.rule("assess: the shipped quality captioner")
    rows = demo_steps.assess_examples(out, truths)
    if llm:
        console.rule("ask and report: the embedded LLM (SmolLM2-135M)")
        demo_steps.ask_and_report(out, rows)
    console.rule("Chest radiograph: SYNTHETIC image, REAL report text")
    demo_steps.chest_radiograph(out)
    console.print(f"\nDone. Results in {out}/", highlight=False)
