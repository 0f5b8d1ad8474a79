"""Pictures and numbers for docs/cxr-renderer.md (all SYNTHETIC images).

    python -m radscribe.cxr.render.preview docs/img      # writes cxr_findings_grid.png, cxr_report_pairs.png, prints CTR table
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from radscribe.cxr.render.measure import measure_ctr
from radscribe.cxr.render.renderer import render_cxr

FINDING_EXAMPLES = (
    ("normal", "Heart size normal. Lungs clear."),
    ("cardiomegaly", "Marked cardiomegaly."),
    ("L effusion, large", "Large left pleural effusion."),
    ("R effusion, small", "Small right pleural effusion."),
    ("R pneumothorax", "Moderate right pneumothorax."),
    ("RLL consolidation", "Right lower lobe consolidation."),
    ("LUL opacity", "Left upper lobe opacity."),
    ("RUL nodule", "Right upper lobe nodule."),
    ("LLL mass", "Large left lower lobe mass."),
    ("calcified granuloma", "Calcified granuloma in the right upper lobe."),
    ("edema", "Moderate pulmonary edema."),
    ("L basal atelectasis", "Left basilar atelectasis."),
    ("wide mediastinum", "Widened mediastinum."),
    ("R rib fracture", "Right rib fracture."),
    ("ET + NG tubes", "Endotracheal tube and nasogastric tube in place."),
    ("pacer + R IJ line", "Left chest wall pacemaker. Right IJ central venous catheter."),
)


def _to_u8(image: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(np.rint(image * 255), 0, 255).astype(np.uint8))


def save_small(path: str | Path, sheet: np.ndarray, limit: int = 290_000) -> int:
    """Write a docs PNG under ``limit`` bytes: detector noise does not compress, so drop low grey bits if needed."""
    import io

    for bits in (8, 7, 6, 5):
        reduced = (sheet >> (8 - bits)) << (8 - bits)
        buffer = io.BytesIO()
        Image.fromarray(reduced).save(buffer, "PNG", optimize=True)
        if buffer.tell() <= limit or bits == 5:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_bytes(buffer.getvalue())
            return bits
    return 8


def findings_grid(path: str | Path, tile: int = 224, seed: int = 100) -> None:
    """One image per finding type, labelled; rendered at ``tile`` px (what an encoder sees)."""
    cols, head = 4, 14
    rows = (len(FINDING_EXAMPLES) + cols - 1) // cols
    sheet = Image.new("L", (cols * tile, rows * (tile + head) + 14), 0)
    draw = ImageDraw.Draw(sheet)
    for i, (name, text) in enumerate(FINDING_EXAMPLES):
        rendered = render_cxr(text, seed=seed + i, size=tile)
        x, y = (i % cols) * tile, (i // cols) * (tile + head)
        sheet.paste(_to_u8(rendered.image), (x, y + head))
        draw.text((x + 3, y + 1), name, fill=255)
    draw.text((3, rows * (tile + head) + 1), "SYNTHETIC radiographs (radscribe renderer), patient right on image left", fill=255)
    save_small(path, np.asarray(sheet))


def report_pairs(path: str | Path, n: int = 4, tile: int = 256, seed: int = 0) -> list[str]:
    """Real IU-Xray summaries with an abnormal label, each next to the SYNTHETIC image rendered from it."""
    from radscribe.cxr.dataset import image_seed, iter_kept, ordered_reports
    from radscribe.cxr.labeler import label_report
    from radscribe.cxr.reports import load_iu_xray_reports

    wanted = ("Pleural Effusion", "Cardiomegaly", "Pneumothorax", "Lung Opacity", "Atelectasis", "Lung Lesion", "Support Devices", "Edema")
    picked, seen = [], set()
    for report, summary in iter_kept(ordered_reports(load_iu_xray_reports(), seed)):
        labels = label_report(summary)
        hit = next((w for w in wanted if labels.get(w) == 1 and w not in seen), None)
        if hit:
            seen.add(hit)
            picked.append((report, summary))
        if len(picked) >= n:
            break
    text_w = 520
    sheet = Image.new("L", (tile + text_w, n * tile + 16), 0)
    draw = ImageDraw.Draw(sheet)
    ids = []
    for row, (report, summary) in enumerate(picked):
        rendered = render_cxr(summary, seed=image_seed(report.report_id, seed), size=tile)
        sheet.paste(_to_u8(rendered.image), (0, row * tile))
        drawn = "; ".join(f"{f['kind']} ({f['side']}, {f['size']})" for f in rendered.truth["findings"]) or "none"
        lines = [f"IU-Xray {report.report_id} (REAL text):"] + textwrap.wrap(summary, 86)[:13]
        lines += [f"drawn: {drawn}; CTR {rendered.truth['ctr']:.2f}"]
        for k, line in enumerate(lines):
            draw.text((tile + 8, row * tile + 4 + 14 * k), line, fill=255)
        ids.append(report.report_id)
    draw.text((4, n * tile + 2), "Left: SYNTHETIC image rendered from the text on the right (real IU-Xray report, summarised).", fill=255)
    save_small(path, np.asarray(sheet))
    return ids


def ctr_accuracy(ctrs=(0.42, 0.5, 0.6), seeds=range(20), sizes=(256, 512)) -> list[dict]:
    """Measured-from-pixels CTR against the requested one, per requested CTR and size."""
    rows = []
    for size in sizes:
        for ctr in ctrs:
            errors = np.array([measure_ctr(render_cxr({}, seed=s, size=size, ctr=ctr).image) - ctr for s in seeds])
            rows.append({"size": size, "ctr": ctr, "n": len(errors), "mean_error": float(errors.mean()),
                         "mean_abs_error": float(np.abs(errors).mean()), "max_abs_error": float(np.abs(errors).max())})
    return rows


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img")
    findings_grid(out / "cxr_findings_grid.png")
    print("pairs:", report_pairs(out / "cxr_report_pairs.png"))
    print("| size | requested CTR | n | mean error | mean abs error | max abs error |\n|---|---|---|---|---|---|")
    for r in ctr_accuracy():
        print(f"| {r['size']} | {r['ctr']:.2f} | {r['n']} | {r['mean_error']:+.3f} | {r['mean_abs_error']:.3f} | {r['max_abs_error']:.3f} |")
