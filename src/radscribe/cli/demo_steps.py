"""The steps of `radscribe demo`, each writing its results under the demo folder.

Synthetic inputs are made on the fly from fixed seeds (so nothing large ships in the repo) and are
labelled synthetic in every file written; the real inputs are the CT and CR DICOMs in pydicom-data.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from radscribe.cli.app import console
from radscribe.io import read_image
from radscribe.io.writers import atomic_write_json, atomic_write_text, write_hu_png
from radscribe.resources import pydicom_data_dir

# Real CT slices assessed by the demo: held out of all training (the real-anatomy test split).
REAL_CT = ["explicit_VR-UN.dcm", "693_UNCI.dcm", "bad_sequence.dcm"]
# One synthetic abdomen slice per degradation, strengths from the dataset's preview grid ("moderate").
SYNTHETIC_CASES = {
    "clean": {},
    "low-dose": {"dose_fraction": 0.03},
    "sparse-view": {"n_views": 150},
    "motion": {"motion_mm": 3.0},
    "ring": {"ring_gain_sd": 0.006},
    "blur": {"blur_fwhm_mm": 2.5},
}
QUESTION = "How good is this image? Give a score."
# A real IU-Xray report (text of the Open-i archive) that the CXR step renders and asks about.
CXR_REPORT_INDEX = 0


def make_synthetic_ct(out: Path, *, phantom_seed: int = 11) -> list[dict]:
    """Simulate the SYNTHETIC_CASES on one abdomen phantom; write HU PNGs plus the protocol's truth."""
    from radscribe.ctiqa.annotation import annotate_simulation
    from radscribe.ctiqa.phantoms import make_phantom
    from radscribe.ctiqa.physics import AcquisitionParams, simulate
    from radscribe.ctiqa.text import describe

    phantom = make_phantom("abdomen", seed=phantom_seed, size=512)
    truths = []
    for name, change in SYNTHETIC_CASES.items():
        params = replace(AcquisitionParams(seed=phantom_seed), **change)
        sim = simulate(phantom.hu, phantom.pixel_spacing_mm, params, body_mask=phantom.body_mask)
        annotation = annotate_simulation(sim, phantom)
        path = out / "ctiqa_examples" / f"synthetic-{name}.png"
        write_hu_png(path, sim.degraded_hu, phantom.pixel_spacing_mm)
        truths.append({"image": str(path), "case": name, "synthetic": True, "params": params.to_dict(),
                       "true_score": annotation.score, "true_category": annotation.category,
                       "true_aspects": annotation.aspects,
                       "true_caption": describe(annotation, anatomy="abdomen", seed=phantom_seed)})
        console.print(f"  synthetic {name}: true score {annotation.score:.1f} ({annotation.category})", highlight=False)
    atomic_write_text(out / "ctiqa_examples" / "truth.jsonl", "".join(json.dumps(t) + "\n" for t in truths))
    return truths


def assess_examples(out: Path, truths: list[dict]) -> list[dict]:
    """Run the shipped captioner on the synthetic examples and the real CT; write assess.jsonl."""
    from radscribe.iqagpt import load_assessor

    assessor = load_assessor()
    truth_by_path = {t["image"]: t for t in truths}
    images = [im for t in truths for im in read_image(t["image"])]
    images += [read_image(pydicom_data_dir() / name)[0] for name in REAL_CT]
    rows = assessor.assess(images)
    for image, row in zip(images, rows):
        # What `radscribe report` groups by: the study and series each slice came from.
        row |= {"label": image.label, "study_uid": image.meta.study_uid, "series_uid": image.meta.series_uid,
                "position": image.meta.slice_position}
        truth = truth_by_path.get(str(row["path"]))
        row["synthetic"] = truth is not None
        if truth:
            row["true_score"] = truth["true_score"]
        label = "SYNTHETIC" if truth else "real"
        expected = f" (true {truth['true_score']:.1f})" if truth else ""
        score = "none read from the caption" if row["score"] is None else f"{row['score']:.1f} {row['category']}"
        console.print(f"  {Path(row['path']).name} [{label}]: score {score}{expected}",
                      highlight=False, markup=False)
    atomic_write_text(out / "assess.jsonl", "".join(json.dumps(r, default=str) + "\n" for r in rows))
    return rows


def ask_and_report(out: Path, rows: list[dict]) -> None:
    """Ask the embedded LLM about the worst slice; write a quality report per study."""
    from radscribe.llm import load_chat_model, resolve_llm_config
    from radscribe.llm.ask import ask_about_caption
    from radscribe.quality_report.build import build_reports
    from radscribe.quality_report.render import write_markdown

    chat_model = load_chat_model(resolve_llm_config().config)
    worst = min(rows, key=lambda r: r["score"])
    answer = ask_about_caption(chat_model, worst["caption"], QUESTION) | {"path": str(worst["path"]),
                                                                        "question": QUESTION}
    atomic_write_json(out / "ask.json", answer)
    console.print(f"  Q: {QUESTION}  [{Path(worst['path']).name}]\n  A: {answer['answer']}", highlight=False,
                  markup=False)
    real_rows = [r for r in rows if not r["synthetic"]]
    for report in build_reports(real_rows, chat_model):
        path = write_markdown(report, out / "reports")
        console.print(f"  report: {path}", highlight=False, soft_wrap=True)


def chest_radiograph(out: Path) -> None:
    """Render a SYNTHETIC radiograph from a real IU-Xray report and, when shipped, chat about it."""
    from radscribe.cxr.reports import load_iu_xray_reports
    from radscribe.cxr.render import render_cxr
    from radscribe.cxr.summaries import summarize_report
    from radscribe.io.writers import write_png_atomic
    from radscribe.io.windowing import to_uint8

    reports = [r for r in load_iu_xray_reports() if summarize_report(r).summary]
    report = reports[CXR_REPORT_INDEX]
    summary = summarize_report(report).summary
    rendered = render_cxr(summary, seed=0, size=512)
    image_path = out / "cxr" / "synthetic-cxr.png"
    write_png_atomic(image_path, to_uint8(rendered.image))
    record = {"image": str(image_path), "synthetic": True, "report_id": report.report_id, "summary": summary,
              "note": "SYNTHETIC radiograph rendered to agree with REAL report text"}
    console.print(f"  rendered {image_path} from real report {report.report_id}", highlight=False)
    record |= _chat_about(image_path)
    atomic_write_json(out / "cxr" / "cxr.json", record)


def _chat_about(image_path: Path) -> dict:
    """One XrayGPT answer about the image, from the shipped checkpoint with its decoding defaults (docs/xraygpt.md)."""
    from radscribe.cxr.labeler import label_report
    from radscribe.xraygpt.chat import ChatSession, load_chat_image
    from radscribe.xraygpt.checkpoint import load_model

    loaded = load_model()
    session = ChatSession(loaded, load_chat_image(image_path, loaded.image_size), max_new_tokens=48)
    question = "Summarize this chest radiograph."
    answer = session.answer(question)
    console.print(f"  Q: {question}\n  XrayGPT: {answer}", highlight=False, markup=False)
    return {"xraygpt": {"question": question, "answer": answer, "model": loaded.name, "labels": label_report(answer),
                        "guidance": session.guidance_weight, "guidance_gate": session.gate}}
